//! The length header: a big-endian unsigned integer of 2, 4 or 8 bytes
//! holding the payload length (the header itself is not counted).

use nom::number::streaming::{be_u16, be_u32, be_u64};

/// Width of a big-endian length header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthWidth {
    /// 2-byte header, payloads up to 65 535 bytes.
    U16,
    /// 4-byte header.
    U32,
    /// 8-byte header.
    U64,
}

impl LengthWidth {
    /// Maps a header length in bytes (2, 4 or 8) to a width; anything else is `None`.
    pub fn from_header_length(n: usize) -> Option<LengthWidth> {
        match n {
            2 => Some(LengthWidth::U16),
            4 => Some(LengthWidth::U32),
            8 => Some(LengthWidth::U64),
            _ => None,
        }
    }

    /// Number of header bytes on the wire.
    #[inline]
    pub fn header_length(self) -> usize {
        match self {
            LengthWidth::U16 => 2,
            LengthWidth::U32 => 4,
            LengthWidth::U64 => 8,
        }
    }

    /// Largest payload length this header can express.
    #[inline]
    pub fn max_payload_len(self) -> u64 {
        match self {
            LengthWidth::U16 => u16::MAX as u64,
            LengthWidth::U32 => u32::MAX as u64,
            LengthWidth::U64 => u64::MAX,
        }
    }
}

/// Parses a length header at the start of `input`.
///
/// Returns `None` while fewer than `width.header_length()` bytes are
/// available (nom's `Incomplete`), so callers simply wait for more input.
/// Any other nom failure is impossible for a fixed-width integer.
#[inline]
pub fn parse_header(input: &[u8], width: LengthWidth) -> Option<u64> {
    // `()` as the nom error type: the only failure is Incomplete, and a
    // unit error keeps the parse to a bounds check plus a byte swap.
    let parsed: nom::IResult<&[u8], u64, ()> = match width {
        LengthWidth::U16 => be_u16(input).map(|(rest, n)| (rest, u64::from(n))),
        LengthWidth::U32 => be_u32(input).map(|(rest, n)| (rest, u64::from(n))),
        LengthWidth::U64 => be_u64(input),
    };
    parsed.ok().map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_round_trip() {
        for w in [LengthWidth::U16, LengthWidth::U32, LengthWidth::U64] {
            assert_eq!(LengthWidth::from_header_length(w.header_length()), Some(w));
        }
        for n in [0, 1, 3, 5, 6, 7, 9, 16] {
            assert_eq!(LengthWidth::from_header_length(n), None);
        }
    }

    #[test]
    fn parses_big_endian() {
        assert_eq!(
            parse_header(&[0x01, 0x02, 0xff], LengthWidth::U16),
            Some(0x0102)
        );
        assert_eq!(parse_header(&[0, 0, 1, 0], LengthWidth::U32), Some(256));
        assert_eq!(
            parse_header(&[1, 2, 3, 4, 5, 6, 7, 8], LengthWidth::U64),
            Some(0x0102_0304_0506_0708)
        );
    }

    #[test]
    fn short_input_is_incomplete() {
        assert_eq!(parse_header(&[0], LengthWidth::U16), None);
        assert_eq!(parse_header(&[0, 0, 0], LengthWidth::U32), None);
        assert_eq!(parse_header(&[0; 7], LengthWidth::U64), None);
        assert_eq!(parse_header(&[], LengthWidth::U64), None);
    }
}
