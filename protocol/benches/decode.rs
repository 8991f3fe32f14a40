//! Decode throughput with u32 headers, fed the way a socket would feed the
//! decoder: 64 KiB reads appended to `read_buf`, drained after each read.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use protocol::{encode_frame, FrameDecoder, Framing, LengthWidth, DEFAULT_MAX_FRAME_SIZE};

const STREAM_BYTES: usize = 4 << 20;
const READ_SIZE: usize = 64 * 1024;
const SIZES: [usize; 3] = [16, 100, 4096];

/// About 4 MiB of back-to-back frames of `payload` bytes; returns the
/// encoded stream and the frame count.
fn stream(payload: usize) -> (BytesMut, u64) {
    let frame = vec![0x5a; payload];
    let count = STREAM_BYTES / (payload + 4);
    let mut wire = BytesMut::with_capacity(count * (payload + 4));
    for _ in 0..count {
        encode_frame(&mut wire, LengthWidth::U32, &frame);
    }
    (wire, count as u64)
}

/// Decodes the whole stream with a decoder that is reused across
/// iterations, as a long-lived connection would be.
fn decode_all(dec: &mut FrameDecoder, wire: &[u8]) -> u64 {
    let mut frames = 0;
    for read in wire.chunks(READ_SIZE) {
        dec.read_buf().extend_from_slice(read);
        while let Some(frame) = dec.next_frame().unwrap() {
            black_box(&frame);
            frames += 1;
        }
    }
    frames
}

fn bench(c: &mut Criterion) {
    let framing = Framing::LengthPrefixed(LengthWidth::U32);
    for (group_name, by_bytes) in [("decode_bytes", true), ("decode_frames", false)] {
        let mut group = c.benchmark_group(group_name);
        for size in SIZES {
            let (wire, count) = stream(size);
            group.throughput(if by_bytes {
                Throughput::Bytes(wire.len() as u64)
            } else {
                Throughput::Elements(count)
            });
            let mut dec = FrameDecoder::new(framing, DEFAULT_MAX_FRAME_SIZE);
            group.bench_with_input(BenchmarkId::from_parameter(size), &wire, |b, wire| {
                b.iter(|| assert_eq!(decode_all(&mut dec, wire), count));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
