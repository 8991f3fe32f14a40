//! Frames -> bytes. Everything appends to a caller-owned `BytesMut` so a
//! connection can batch many frames into one write buffer.

use bytes::{BufMut, BytesMut};

use crate::header::LengthWidth;

/// Writes a header for a payload of `len` bytes (for callers that write the
/// payload themselves).
///
/// # Panics
/// If `len` does not fit in `width` (e.g. 70 000 with [`LengthWidth::U16`]):
/// a truncated length would silently desynchronise the peer.
#[inline]
pub fn encode_header(out: &mut BytesMut, width: LengthWidth, len: usize) {
    let len = len as u64;
    assert!(
        len <= width.max_payload_len(),
        "payload of {len} bytes does not fit a {:?} length header",
        width
    );
    match width {
        LengthWidth::U16 => out.put_u16(len as u16),
        LengthWidth::U32 => out.put_u32(len as u32),
        LengthWidth::U64 => out.put_u64(len),
    }
}

/// Appends header + payload to `out` (no allocation beyond growing `out`).
///
/// # Panics
/// If the payload is too long for `width`, see [`encode_header`].
#[inline]
pub fn encode_frame(out: &mut BytesMut, width: LengthWidth, payload: &[u8]) {
    // One reserve so header and payload never cause two reallocations.
    out.reserve(width.header_length() + payload.len());
    encode_header(out, width, payload.len());
    out.extend_from_slice(payload);
}

/// Appends payload + `b'\n'`. The payload should not itself contain `b'\n'`,
/// or the peer will see it as two frames.
#[inline]
pub fn encode_line(out: &mut BytesMut, payload: &[u8]) {
    out.reserve(payload.len() + 1);
    out.extend_from_slice(payload);
    out.put_u8(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_layout() {
        let mut out = BytesMut::new();
        encode_frame(&mut out, LengthWidth::U16, b"ab");
        encode_frame(&mut out, LengthWidth::U32, b"");
        encode_frame(&mut out, LengthWidth::U64, b"x");
        assert_eq!(
            &out[..],
            &[0, 2, b'a', b'b', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'x'][..]
        );
    }

    #[test]
    fn header_only() {
        let mut out = BytesMut::new();
        encode_header(&mut out, LengthWidth::U32, 0x0102_0304);
        assert_eq!(&out[..], &[1, 2, 3, 4]);
    }

    #[test]
    fn line_layout() {
        let mut out = BytesMut::new();
        encode_line(&mut out, b"hi\r");
        encode_line(&mut out, b"");
        assert_eq!(&out[..], b"hi\r\n\n");
    }

    #[test]
    fn u16_max_fits() {
        let mut out = BytesMut::new();
        encode_header(&mut out, LengthWidth::U16, 65_535);
        assert_eq!(&out[..], &[0xff, 0xff]);
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn oversized_u16_header_panics() {
        encode_header(&mut BytesMut::new(), LengthWidth::U16, 65_536);
    }
}
