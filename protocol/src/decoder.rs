//! Bytes -> frames. The decoder owns the read buffer so that payloads can be
//! handed out as `Bytes` views split off that buffer instead of copies.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::error::FrameError;
use crate::framing::Framing;
use crate::header::{parse_header, LengthWidth};

/// Most spare capacity the decoder makes room for when it runs out of
/// complete frames: one socket read's worth. Reserving only when the buffer
/// is drained of whole frames lets `BytesMut` move the partial tail to the
/// front and reuse the allocation, so the buffer does not grow without
/// bound.
pub const READ_CHUNK: usize = 64 * 1024;

/// Spare capacity made room for while a frame is still missing bytes is at
/// most what the buffer holds already (at least this much): a buffer grows
/// with the data its peer really sent, so a header announcing a large frame
/// costs no more than the bytes that came with it.
const LEAST_RESERVE: usize = 4 * 1024;

/// Streaming decoder. Owns its read buffer; callers read from the socket
/// straight into [`read_buf`](Self::read_buf).
pub struct FrameDecoder {
    framing: Framing,
    max_frame_size: usize,
    buf: BytesMut,
    /// `(header_length, payload_length)` of a header already parsed and
    /// validated whose payload has not fully arrived; saves re-parsing (and,
    /// for `next_frame_with`, re-calling a possibly expensive closure).
    pending: Option<(usize, usize)>,
    /// Newline mode: bytes at the front of `buf` already known to contain
    /// no `'\n'`, so a long line arriving in pieces is scanned once.
    scanned: usize,
    /// Set on the first error; the stream position is lost after that.
    error: Option<FrameError>,
}

impl FrameDecoder {
    /// A decoder for `framing` that rejects payloads over `max_frame_size`
    /// bytes. The read buffer is allocated lazily on the first reserve.
    pub fn new(framing: Framing, max_frame_size: usize) -> Self {
        FrameDecoder {
            framing,
            max_frame_size,
            buf: BytesMut::new(),
            pending: None,
            scanned: 0,
            error: None,
        }
    }

    /// The framing this decoder was built with.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The largest payload this decoder accepts.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The buffer to append socket bytes to (callers `reserve` + write, or
    /// use `extend_from_slice`).
    #[inline]
    pub fn read_buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes held that do not yet form a complete frame (a partial frame at
    /// disconnect is reported with this).
    #[inline]
    pub fn pending_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The error that poisoned this decoder, if any.
    pub fn error(&self) -> Option<&FrameError> {
        self.error.as_ref()
    }

    /// Next complete payload as a `Bytes` split off the read buffer (no
    /// copy), `Ok(None)` if more bytes are needed.
    ///
    /// After an `Err`, the decoder is poisoned: every later call returns the
    /// same error and nothing more is emitted.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.framing {
            Framing::LengthPrefixed(width) => self.next_length_prefixed(width),
            Framing::Newline => self.next_line(),
            Framing::Raw => self.next_raw(),
        }
    }

    /// Like [`next_frame`](Self::next_frame), but with a caller-supplied
    /// header: `header_length` bytes are passed to `payload_len`, which
    /// returns the payload length or a message that becomes
    /// [`FrameError::BadHeader`]. Used when a Python decoder's
    /// `payload_length()` must be called. Ignores the configured framing.
    ///
    /// `payload_len` is called once per frame: if the payload is still
    /// incomplete, the length is remembered for the next call.
    pub fn next_frame_with<F>(
        &mut self,
        header_length: usize,
        mut payload_len: F,
    ) -> Result<Option<Bytes>, FrameError>
    where
        F: FnMut(&[u8]) -> Result<usize, String>,
    {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let (header_length, len) = match self.pending {
            Some(pending) => pending,
            None => {
                if self.buf.len() < header_length {
                    self.reserve_for(header_length);
                    return Ok(None);
                }
                match payload_len(&self.buf[..header_length]) {
                    Ok(len) => (header_length, self.check_len(len as u64)?),
                    Err(msg) => return Err(self.poison(FrameError::BadHeader(msg))),
                }
            }
        };
        Ok(self.take_payload(header_length, len))
    }

    #[inline]
    fn next_length_prefixed(&mut self, width: LengthWidth) -> Result<Option<Bytes>, FrameError> {
        let (header_length, len) = match self.pending {
            Some(pending) => pending,
            None => match parse_header(&self.buf, width) {
                Some(len) => (width.header_length(), self.check_len(len)?),
                None => {
                    self.reserve_for(width.header_length());
                    return Ok(None);
                }
            },
        };
        Ok(self.take_payload(header_length, len))
    }

    /// Splits off one frame whose header is validated, or remembers the
    /// header and waits for the rest of the payload.
    #[inline]
    fn take_payload(&mut self, header_length: usize, len: usize) -> Option<Bytes> {
        // Cannot overflow in practice: len <= max_frame_size and a buffer of
        // usize::MAX bytes cannot exist, so saturating just means "wait".
        let total = header_length.saturating_add(len);
        if self.buf.len() < total {
            self.pending = Some((header_length, len));
            self.reserve_for(total);
            return None;
        }
        self.pending = None;
        self.buf.advance(header_length);
        Some(self.buf.split_to(len).freeze())
    }

    fn next_line(&mut self) -> Result<Option<Bytes>, FrameError> {
        // A line may be max_frame_size bytes plus its '\n', so only that
        // much needs scanning: anything longer is an error either way.
        let window = self.buf.len().min(self.max_frame_size.saturating_add(1));
        let start = self.scanned.min(window);
        match self.buf[start..window].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let end = start + i;
                self.scanned = 0;
                let line = self.buf.split_to(end).freeze();
                self.buf.advance(1);
                Ok(Some(line))
            }
            None if window > self.max_frame_size => {
                // Error path only: look further so the message names the
                // real line length when its end has already arrived.
                let size = self.buf[window..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.buf.len(), |i| window + i);
                Err(self.poison(FrameError::TooLarge {
                    size: size as u64,
                    limit: self.max_frame_size,
                }))
            }
            None => {
                self.scanned = window;
                self.reserve_for(self.buf.len() + 1);
                Ok(None)
            }
        }
    }

    fn next_raw(&mut self) -> Result<Option<Bytes>, FrameError> {
        if self.buf.is_empty() {
            self.reserve_for(1);
            return Ok(None);
        }
        if self.max_frame_size == 0 {
            // Cutting into zero-byte frames would never make progress.
            return Err(self.poison(FrameError::TooLarge {
                size: self.buf.len() as u64,
                limit: 0,
            }));
        }
        let n = self.buf.len().min(self.max_frame_size);
        Ok(Some(self.buf.split_to(n).freeze()))
    }

    /// Validates an announced payload length against the limit.
    #[inline]
    fn check_len(&mut self, len: u64) -> Result<usize, FrameError> {
        if len > self.max_frame_size as u64 {
            return Err(self.poison(FrameError::TooLarge {
                size: len,
                limit: self.max_frame_size,
            }));
        }
        Ok(len as usize)
    }

    /// Called only when no complete frame is left: makes room for what the
    /// current frame still misses, but no more than the buffer already holds
    /// (see [`LEAST_RESERVE`]) and one socket read.
    #[inline]
    fn reserve_for(&mut self, needed_total: usize) {
        let missing = needed_total.saturating_sub(self.buf.len());
        let grown = self.buf.len().clamp(LEAST_RESERVE, READ_CHUNK);
        self.buf.reserve(missing.min(grown));
    }

    #[cold]
    fn poison(&mut self, e: FrameError) -> FrameError {
        self.error = Some(e.clone());
        e
    }
}

impl fmt::Debug for FrameDecoder {
    // Buffer contents are omitted: they can be megabytes of payload.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("framing", &self.framing)
            .field("max_frame_size", &self.max_frame_size)
            .field("pending_bytes", &self.buf.len())
            .field("capacity", &self.buf.capacity())
            .field("error", &self.error)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{encode_frame, encode_line};
    use crate::DEFAULT_MAX_FRAME_SIZE;

    const WIDTHS: [LengthWidth; 3] = [LengthWidth::U16, LengthWidth::U32, LengthWidth::U64];

    /// Feeds `input` one byte at a time, collecting every frame.
    fn decode_bytewise(dec: &mut FrameDecoder, input: &[u8]) -> Result<Vec<Bytes>, FrameError> {
        let mut out = Vec::new();
        for &b in input {
            dec.read_buf().extend_from_slice(&[b]);
            while let Some(f) = dec.next_frame()? {
                out.push(f);
            }
        }
        Ok(out)
    }

    fn payloads() -> Vec<Vec<u8>> {
        vec![
            b"hello".to_vec(),
            Vec::new(),
            vec![0xAB; 300],
            b"x".to_vec(),
            Vec::new(),
        ]
    }

    #[test]
    fn length_prefixed_each_width() {
        for w in WIDTHS {
            let mut wire = BytesMut::new();
            for p in payloads() {
                encode_frame(&mut wire, w, &p);
            }
            let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), 1024);
            let got = decode_bytewise(&mut dec, &wire).unwrap();
            assert_eq!(got, payloads(), "{w:?}");
            assert_eq!(dec.pending_bytes(), 0);
        }
    }

    #[test]
    fn whole_buffer_at_once() {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U32), 1024);
        for p in payloads() {
            encode_frame(dec.read_buf(), LengthWidth::U32, &p);
        }
        let mut got = Vec::new();
        while let Some(f) = dec.next_frame().unwrap() {
            got.push(f);
        }
        assert_eq!(got, payloads());
    }

    #[test]
    fn empty_frames() {
        for w in WIDTHS {
            let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), 16);
            dec.read_buf()
                .extend_from_slice(&vec![0; w.header_length() * 3]);
            for _ in 0..3 {
                assert_eq!(dec.next_frame().unwrap(), Some(Bytes::new()));
            }
            assert_eq!(dec.next_frame().unwrap(), None);
        }
        let mut dec = FrameDecoder::new(Framing::Newline, 16);
        dec.read_buf().extend_from_slice(b"\n\n");
        assert_eq!(dec.next_frame().unwrap(), Some(Bytes::new()));
        assert_eq!(dec.next_frame().unwrap(), Some(Bytes::new()));
        assert_eq!(dec.next_frame().unwrap(), None);
    }

    #[test]
    fn exact_limit_frame_is_accepted() {
        for w in WIDTHS {
            let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), 100);
            encode_frame(dec.read_buf(), w, &[7; 100]);
            assert_eq!(dec.next_frame().unwrap().unwrap().len(), 100);
        }
        let mut dec = FrameDecoder::new(Framing::Newline, 100);
        encode_line(dec.read_buf(), &[7; 100]);
        assert_eq!(dec.next_frame().unwrap().unwrap().len(), 100);
        // Also when the line arrives in pieces and the limit is reached
        // before the newline.
        let mut dec = FrameDecoder::new(Framing::Newline, 100);
        dec.read_buf().extend_from_slice(&[7; 100]);
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.read_buf().extend_from_slice(b"\n");
        assert_eq!(dec.next_frame().unwrap().unwrap().len(), 100);
    }

    #[test]
    fn one_over_limit_is_rejected() {
        for w in WIDTHS {
            let mut wire = BytesMut::new();
            encode_frame(&mut wire, w, &[7; 101]);
            let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), 100);
            let err = decode_bytewise(&mut dec, &wire).unwrap_err();
            assert_eq!(
                err,
                FrameError::TooLarge {
                    size: 101,
                    limit: 100
                }
            );
        }
    }

    #[test]
    fn too_large_is_reported_as_soon_as_the_header_is_complete() {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U32), 10);
        dec.read_buf().extend_from_slice(&[0, 0, 0]);
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.read_buf().extend_from_slice(&[11]);
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::TooLarge {
                size: 11,
                limit: 10
            })
        );
    }

    #[test]
    fn too_large_message_names_size_and_limit() {
        let mut dec = FrameDecoder::new(
            Framing::LengthPrefixed(LengthWidth::U32),
            DEFAULT_MAX_FRAME_SIZE,
        );
        dec.read_buf().extend_from_slice(&[0xff; 4]);
        let err = dec.next_frame().unwrap_err();
        assert_eq!(
            err.to_string(),
            "frame of 4294967295 bytes exceeds the 16777216-byte limit"
        );
    }

    #[test]
    fn huge_u64_headers() {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U64), 1 << 20);
        dec.read_buf().extend_from_slice(&[0xff; 8]);
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::TooLarge {
                size: u64::MAX,
                limit: 1 << 20
            })
        );
        // With an effectively unlimited limit, a huge header must just wait
        // for data rather than try to allocate it up front.
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U64), usize::MAX);
        dec.read_buf().extend_from_slice(&[0x7f; 8]);
        match dec.next_frame() {
            Ok(None) => assert!(dec.read_buf().capacity() <= 2 * READ_CHUNK),
            Err(FrameError::TooLarge { .. }) => {} // 32-bit usize
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_header_alone_reserves_no_more_than_one_read() {
        for framing in [Framing::LengthPrefixed(LengthWidth::U32), Framing::Raw] {
            let mut dec = FrameDecoder::new(framing, DEFAULT_MAX_FRAME_SIZE);
            dec.read_buf().extend_from_slice(&[0x00, 0xff, 0xff, 0xff]);
            let announced = |h: &[u8]| Ok(u32::from_be_bytes(h.try_into().unwrap()) as usize);
            let next = match framing {
                Framing::Raw => dec.next_frame_with(4, announced),
                _ => dec.next_frame(),
            };
            assert_eq!(next, Ok(None));
            assert!(
                dec.read_buf().capacity() <= LEAST_RESERVE + 4,
                "{framing:?}: {} bytes reserved for a 4-byte header",
                dec.read_buf().capacity()
            );
        }
    }

    #[test]
    fn poisoned_after_error() {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U16), 4);
        encode_frame(dec.read_buf(), LengthWidth::U16, b"ok");
        encode_frame(dec.read_buf(), LengthWidth::U16, b"too long");
        encode_frame(dec.read_buf(), LengthWidth::U16, b"ok");
        assert_eq!(dec.next_frame().unwrap().as_deref(), Some(&b"ok"[..]));
        let err = dec.next_frame().unwrap_err();
        assert_eq!(err, FrameError::TooLarge { size: 8, limit: 4 });
        for _ in 0..3 {
            encode_frame(dec.read_buf(), LengthWidth::U16, b"ok");
            assert_eq!(dec.next_frame(), Err(err.clone()));
            assert_eq!(dec.next_frame_with(2, |_| Ok(0)), Err(err.clone()));
        }
        assert_eq!(dec.error(), Some(&err));
    }

    #[test]
    fn newline_mode() {
        let mut dec = FrameDecoder::new(Framing::Newline, 64);
        let got = decode_bytewise(&mut dec, b"one\r\ntwo\n\nthree").unwrap();
        assert_eq!(got, vec![&b"one\r"[..], b"two", b""]);
        assert_eq!(dec.pending_bytes(), 5);
        dec.read_buf().extend_from_slice(b"!\n");
        assert_eq!(dec.next_frame().unwrap().as_deref(), Some(&b"three!"[..]));
        assert_eq!(dec.pending_bytes(), 0);
    }

    #[test]
    fn newline_mode_limit() {
        // No newline within max + 1 bytes: rejected without waiting for it.
        let mut dec = FrameDecoder::new(Framing::Newline, 4);
        dec.read_buf().extend_from_slice(b"abcd");
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.read_buf().extend_from_slice(b"e");
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::TooLarge { size: 5, limit: 4 })
        );
        // The newline has arrived, but too late: the size is the line's.
        let mut dec = FrameDecoder::new(Framing::Newline, 4);
        dec.read_buf().extend_from_slice(b"abcdefg\nxy\n");
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::TooLarge { size: 7, limit: 4 })
        );
        assert!(dec.next_frame().is_err());
    }

    #[test]
    fn raw_mode() {
        let mut dec = FrameDecoder::new(Framing::Raw, 4);
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.read_buf().extend_from_slice(b"ab");
        assert_eq!(dec.next_frame().unwrap().as_deref(), Some(&b"ab"[..]));
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.read_buf().extend_from_slice(b"abcdefghij");
        let got: Vec<Bytes> = std::iter::from_fn(|| dec.next_frame().unwrap()).collect();
        assert_eq!(got, vec![&b"abcd"[..], b"efgh", b"ij"]);
        assert_eq!(dec.pending_bytes(), 0);

        let mut dec = FrameDecoder::new(Framing::Raw, 0);
        assert_eq!(dec.next_frame().unwrap(), None);
        dec.read_buf().extend_from_slice(b"a");
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::TooLarge { size: 1, limit: 0 })
        );
    }

    #[test]
    fn next_frame_with_custom_header() {
        // A 3-byte header: one tag byte then a little-endian u16 length.
        let mut dec = FrameDecoder::new(Framing::Raw, 100);
        let calls = std::cell::Cell::new(0);
        let mut header_fn = |h: &[u8]| {
            calls.set(calls.get() + 1);
            assert_eq!(h.len(), 3);
            if h[0] != b'T' {
                return Err(format!("bad tag {}", h[0]));
            }
            Ok(usize::from(u16::from_le_bytes([h[1], h[2]])))
        };
        let wire = b"T\x03\x00abcT\x00\x00T\x02\x00xy";
        let mut got = Vec::new();
        for &b in wire.iter() {
            dec.read_buf().extend_from_slice(&[b]);
            while let Some(f) = dec.next_frame_with(3, &mut header_fn).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, vec![&b"abc"[..], b"", b"xy"]);
        // Called once per frame even though payloads arrived byte by byte.
        assert_eq!(calls.get(), 3);

        dec.read_buf().extend_from_slice(b"X\x00\x00");
        let err = dec.next_frame_with(3, &mut header_fn).unwrap_err();
        assert_eq!(err, FrameError::BadHeader("bad tag 88".into()));
        assert_eq!(err.to_string(), "bad frame header: bad tag 88");
        assert_eq!(dec.next_frame_with(3, &mut header_fn), Err(err));
    }

    #[test]
    fn next_frame_with_enforces_limit() {
        let mut dec = FrameDecoder::new(Framing::Raw, 10);
        dec.read_buf().extend_from_slice(&[0; 4]);
        assert_eq!(
            dec.next_frame_with(4, |_| Ok(11)),
            Err(FrameError::TooLarge {
                size: 11,
                limit: 10
            })
        );
    }

    #[test]
    fn payloads_are_not_copied() {
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U32), 100);
        encode_frame(dec.read_buf(), LengthWidth::U32, b"abcdef");
        let start = dec.read_buf().as_ptr();
        let frame = dec.next_frame().unwrap().unwrap();
        assert_eq!(frame.as_ptr(), start.wrapping_add(4));
    }

    #[test]
    fn read_buffer_stays_bounded() {
        let mut wire = BytesMut::new();
        for i in 0..20_000u32 {
            encode_frame(
                &mut wire,
                LengthWidth::U32,
                &vec![i as u8; (i % 500) as usize],
            );
        }
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U32), 1000);
        let mut frames = 0;
        for chunk in wire.chunks(READ_CHUNK) {
            dec.read_buf().extend_from_slice(chunk);
            while let Some(f) = dec.next_frame().unwrap() {
                drop(f);
                frames += 1;
            }
            assert!(dec.read_buf().capacity() <= 4 * READ_CHUNK, "{dec:?}");
        }
        assert_eq!(frames, 20_000);
    }

    #[test]
    fn accessors_and_debug() {
        let dec = FrameDecoder::new(Framing::Newline, 9);
        assert_eq!(dec.framing(), Framing::Newline);
        assert_eq!(dec.max_frame_size(), 9);
        assert_eq!(dec.error(), None);
        assert!(format!("{dec:?}").contains("Newline"));
    }
}
