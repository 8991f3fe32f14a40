//! Property tests: the decoder must reassemble exactly what the encoder
//! wrote, however the bytes are split on the way, and must never mistake
//! missing data for an error (or vice versa).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use protocol::{
    encode_frame, encode_header, encode_line, FrameDecoder, FrameError, Framing, LengthWidth,
};

const WIDTHS: [LengthWidth; 3] = [LengthWidth::U16, LengthWidth::U32, LengthWidth::U64];
const LIMIT: usize = 1024;

fn width() -> impl Strategy<Value = LengthWidth> {
    prop::sample::select(WIDTHS.to_vec())
}

fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..50)
}

/// Payloads that can be newline-framed: any `'\n'` is replaced.
fn lines() -> impl Strategy<Value = Vec<Vec<u8>>> {
    payloads().prop_map(|ps| {
        ps.into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|b| if b == b'\n' { b'N' } else { b })
                    .collect()
            })
            .collect()
    })
}

/// Arbitrary cut points, mapped into `0..=len` and sorted.
fn cuts() -> impl Strategy<Value = Vec<prop::sample::Index>> {
    prop::collection::vec(any::<prop::sample::Index>(), 0..20)
}

fn chunks<'a>(wire: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
    at.push(0);
    at.push(wire.len());
    at.sort_unstable();
    at.windows(2).map(|w| &wire[w[0]..w[1]]).collect()
}

/// Feeds the chunks in order, draining frames after each one with `next`.
/// Returns every result observed, stopping at the first error.
fn run(
    dec: &mut FrameDecoder,
    chunks: &[&[u8]],
    mut next: impl FnMut(&mut FrameDecoder) -> Result<Option<Bytes>, FrameError>,
) -> (Vec<Bytes>, Option<FrameError>) {
    let mut frames = Vec::new();
    for chunk in chunks {
        dec.read_buf().extend_from_slice(chunk);
        loop {
            match next(dec) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

fn encode_all(width: LengthWidth, payloads: &[Vec<u8>]) -> BytesMut {
    let mut wire = BytesMut::new();
    for p in payloads {
        encode_frame(&mut wire, width, p);
    }
    wire
}

/// A big-endian header closure equivalent to the built-in parser.
fn be_len(h: &[u8]) -> Result<usize, String> {
    let mut n: u64 = 0;
    for &b in h {
        n = (n << 8) | u64::from(b);
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

proptest! {
    #[test]
    fn length_prefixed_round_trip(w in width(), ps in payloads(), cuts in cuts()) {
        let wire = encode_all(w, &ps);
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), LIMIT);
        let (frames, err) = run(&mut dec, &chunks(&wire, &cuts), FrameDecoder::next_frame);
        prop_assert_eq!(err, None);
        prop_assert_eq!(frames, ps);
        prop_assert_eq!(dec.pending_bytes(), 0);
    }

    #[test]
    fn newline_round_trip(ps in lines(), cuts in cuts()) {
        let mut wire = BytesMut::new();
        for p in &ps {
            encode_line(&mut wire, p);
        }
        let mut dec = FrameDecoder::new(Framing::Newline, LIMIT);
        let (frames, err) = run(&mut dec, &chunks(&wire, &cuts), FrameDecoder::next_frame);
        prop_assert_eq!(err, None);
        prop_assert_eq!(frames, ps);
        prop_assert_eq!(dec.pending_bytes(), 0);
    }

    #[test]
    fn truncated_length_prefixed_waits(
        w in width(),
        ps in payloads(),
        last in prop::collection::vec(any::<u8>(), 0..300),
        cut in any::<prop::sample::Index>(),
        cuts in cuts(),
    ) {
        // Complete frames, then a strict prefix of one more.
        let mut wire = encode_all(w, &ps);
        let full = wire.len();
        encode_frame(&mut wire, w, &last);
        let end = full + cut.index(wire.len() - full);
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), LIMIT);
        let (frames, err) = run(&mut dec, &chunks(&wire[..end], &cuts), FrameDecoder::next_frame);
        prop_assert_eq!(err, None);
        prop_assert_eq!(frames, ps);
        prop_assert_eq!(dec.pending_bytes(), end - full);
        prop_assert_eq!(dec.next_frame(), Ok(None));
    }

    #[test]
    fn truncated_line_waits(
        ps in lines(),
        last in lines().prop_map(|l| l.concat()),
        cut in any::<prop::sample::Index>(),
        cuts in cuts(),
    ) {
        let mut wire = BytesMut::new();
        for p in &ps {
            encode_line(&mut wire, p);
        }
        let full = wire.len();
        let last = &last[..last.len().min(LIMIT)];
        wire.extend_from_slice(last);
        let end = full + cut.index(last.len() + 1);
        let mut dec = FrameDecoder::new(Framing::Newline, LIMIT);
        let (frames, err) = run(&mut dec, &chunks(&wire[..end], &cuts), FrameDecoder::next_frame);
        prop_assert_eq!(err, None);
        prop_assert_eq!(frames, ps);
        prop_assert_eq!(dec.pending_bytes(), end - full);
    }

    #[test]
    fn headers_over_limit_are_rejected(
        w in width(),
        limit in 0usize..70_000,
        over in any::<u64>(),
        cuts in cuts(),
    ) {
        let max = w.max_payload_len();
        prop_assume!((limit as u64) < max);
        // A size in limit+1 ..= max for this width.
        let size = limit as u64 + 1 + over % (max - limit as u64);
        let mut wire = BytesMut::new();
        match w {
            LengthWidth::U16 => wire.extend_from_slice(&(size as u16).to_be_bytes()),
            LengthWidth::U32 => wire.extend_from_slice(&(size as u32).to_be_bytes()),
            LengthWidth::U64 => wire.extend_from_slice(&size.to_be_bytes()),
        }
        wire.extend_from_slice(b"some payload bytes");
        let mut dec = FrameDecoder::new(Framing::LengthPrefixed(w), limit);
        let (frames, err) = run(&mut dec, &chunks(&wire, &cuts), FrameDecoder::next_frame);
        prop_assert!(frames.is_empty());
        let expected = FrameError::TooLarge { size, limit };
        prop_assert_eq!(err.as_ref(), Some(&expected));
        prop_assert_eq!(dec.next_frame(), Err(expected));
    }

    #[test]
    fn encode_header_matches_frame_prefix(w in width(), p in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut a = BytesMut::new();
        encode_header(&mut a, w, p.len());
        a.extend_from_slice(&p);
        prop_assert_eq!(a, encode_all(w, &[p]));
    }

    #[test]
    fn next_frame_with_equals_next_frame(w in width(), ps in payloads(), cuts in cuts()) {
        let wire = encode_all(w, &ps);
        let parts = chunks(&wire, &cuts);
        let framing = Framing::LengthPrefixed(w);
        let hl = w.header_length();
        let builtin = run(&mut FrameDecoder::new(framing, LIMIT), &parts, FrameDecoder::next_frame);
        let custom = run(&mut FrameDecoder::new(framing, LIMIT), &parts, |d| d.next_frame_with(hl, be_len));
        prop_assert_eq!(builtin, custom);
    }

    #[test]
    fn next_frame_with_equals_next_frame_on_garbage(
        w in width(),
        wire in prop::collection::vec(any::<u8>(), 0..2000),
        limit in 0usize..600,
        cuts in cuts(),
    ) {
        // Arbitrary bytes hit both valid frames and over-limit headers.
        let parts = chunks(&wire, &cuts);
        let framing = Framing::LengthPrefixed(w);
        let hl = w.header_length();
        let builtin = run(&mut FrameDecoder::new(framing, limit), &parts, FrameDecoder::next_frame);
        let custom = run(&mut FrameDecoder::new(framing, limit), &parts, |d| d.next_frame_with(hl, be_len));
        prop_assert_eq!(builtin, custom);
    }
}
