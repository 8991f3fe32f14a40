//! Arbitrary bytes, split in two at a position taken from the first byte,
//! through every framing with a small limit: the decoder must not panic and
//! must never emit a payload larger than the limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{FrameDecoder, FrameError, Framing, LengthWidth};

/// Small so that the fuzzer easily produces both valid frames and
/// over-limit headers.
const MAX: usize = 64;

const FRAMINGS: [Framing; 5] = [
    Framing::LengthPrefixed(LengthWidth::U16),
    Framing::LengthPrefixed(LengthWidth::U32),
    Framing::LengthPrefixed(LengthWidth::U64),
    Framing::Newline,
    Framing::Raw,
];

/// Drains every complete frame with `next` (which yields payload lengths),
/// checking each against the limit and checking that an error poisons.
fn drain(
    dec: &mut FrameDecoder,
    mut next: impl FnMut(&mut FrameDecoder) -> Result<Option<usize>, FrameError>,
) {
    loop {
        match next(dec) {
            Ok(Some(len)) => assert!(len <= MAX, "emitted {len} bytes, limit {MAX}"),
            Ok(None) => return,
            Err(e) => {
                // Poisoned: the same error forever, nothing more emitted.
                assert_eq!(next(dec), Err(e));
                return;
            }
        }
    }
}

/// Feeds both parts through one decoder, using the built-in header parser
/// or (`custom_header`) an equivalent big-endian closure.
fn feed(framing: Framing, parts: [&[u8]; 2], custom_header: bool) {
    let mut dec = FrameDecoder::new(framing, MAX);
    let mut emitted = 0usize;
    for part in parts {
        dec.read_buf().extend_from_slice(part);
        drain(&mut dec, |d| {
            let frame = match (custom_header, framing) {
                (true, Framing::LengthPrefixed(w)) => d.next_frame_with(w.header_length(), |h| {
                    let n = h.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
                    usize::try_from(n).map_err(|_| format!("{n} does not fit usize"))
                }),
                _ => d.next_frame(),
            }?;
            Ok(frame.map(|f| {
                emitted += f.len();
                f.len()
            }))
        });
    }
    // Payloads come out of the input; nothing is invented or duplicated.
    let input: usize = parts.iter().map(|p| p.len()).sum();
    assert!(emitted + dec.pending_bytes() <= input);
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(first).min(rest.len());
    let parts = [&rest[..split], &rest[split..]];
    for framing in FRAMINGS {
        feed(framing, parts, false);
        feed(framing, parts, true);
    }
});
