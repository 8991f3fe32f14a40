//! Send timestamps carried inside messages, shared by `roo send --stamp` and
//! `roo receive --latency`.
//!
//! # Form
//!
//! A stamped message's payload is
//!
//! ```text
//! <T> <original payload>
//! ```
//!
//! where `T` is the decimal number of nanoseconds since the Unix epoch
//! (`CLOCK_REALTIME`, i.e. [`SystemTime`]) at which the message was *scheduled*
//! to be sent, written as ASCII digits without sign or leading zeros, followed
//! by a single space. With `roo send --rate` the time is the pacing schedule's
//! time for the message's batch, so a sender held back by backpressure still
//! stamps the time the message should have left, and the latency measured by
//! the receiver includes that wait (no coordinated omission). Unpaced, it is the
//! time the message was written to the send buffer.
//!
//! The stamp is part of the payload: with length-prefixed framing the frame's
//! length covers it, with newline framing it is the start of the line. A
//! receiver on the same host (or with synchronised clocks) computes
//! `latency = now - T`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Most digits a `u64` has in decimal.
const MAX_DIGITS: usize = 20;

/// Nanoseconds since the Unix epoch, now (`CLOCK_REALTIME`).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Appends the stamp `"<nanos> "` (decimal digits and one space) to `out`.
pub fn write_stamp<B: Extend<u8>>(out: &mut B, nanos: u64) {
    let mut digits = [0u8; MAX_DIGITS];
    let mut at = MAX_DIGITS;
    let mut n = nanos;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().copied().chain(std::iter::once(b' ')));
}

/// Reads the stamp at the start of `msg`: leading ASCII digits terminated by a
/// space. `None` if the message does not start with one (no digits, no space
/// after them, or a number that does not fit in a `u64`).
pub fn parse_stamp(msg: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for (i, &b) in msg.iter().enumerate().take(MAX_DIGITS + 1) {
        match b {
            b'0'..=b'9' => {
                value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            }
            b' ' if i > 0 => return Some(value),
            _ => return None,
        }
    }
    None
}

/// Length in bytes of the stamp `write_stamp` writes for `nanos`, space included.
#[cfg(test)]
fn stamp_len(nanos: u64) -> usize {
    let mut n = nanos;
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn write_then_parse_round_trips() {
        for nanos in [0, 7, 10, 1_700_000_000_123_456_789, u64::MAX] {
            let mut v = Vec::new();
            write_stamp(&mut v, nanos);
            assert_eq!(v, format!("{nanos} ").into_bytes());
            assert_eq!(v.len(), stamp_len(nanos));
            v.extend_from_slice(b"payload 12 x");
            assert_eq!(parse_stamp(&v), Some(nanos));
        }
    }

    #[test]
    fn writes_into_bytes_mut_after_existing_content() {
        let mut b = BytesMut::from(&b"ab"[..]);
        write_stamp(&mut b, 42);
        assert_eq!(&b[..], b"ab42 ");
    }

    #[test]
    fn rejects_messages_without_a_stamp() {
        assert_eq!(parse_stamp(b""), None);
        assert_eq!(parse_stamp(b" 12"), None);
        assert_eq!(parse_stamp(b"12"), None);
        assert_eq!(parse_stamp(b"12x 3"), None);
        assert_eq!(parse_stamp(b"hello world"), None);
        assert_eq!(parse_stamp(b"-5 x"), None);
        // 20 digits but over u64::MAX, and 21 digits
        assert_eq!(parse_stamp(b"18446744073709551616 x"), None);
        assert_eq!(parse_stamp(b"000000000000000000001 x"), None);
    }

    #[test]
    fn parses_a_stamp_alone_with_empty_payload() {
        assert_eq!(parse_stamp(b"123 "), Some(123));
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now_nanos() > 1_577_836_800_000_000_000);
    }
}
