//! Arbitrary bytes through the source path of a core (framing, a Python decoder, the
//! steps): never a panic, and every complete frame is either decoded or counted as an
//! error. The cargo-fuzz target fuzz/fuzz_targets/source_path.rs does the same unbounded.

mod common;

use bytes::Bytes;
use common::{app, ByHash};
use model::{clock, Meta};
use proptest::prelude::*;
use protocol::{FrameDecoder, Framing, LengthWidth};
use pybridge::{OutputFds, Outputs, PythonMode, Worker};
use std::cell::RefCell;

thread_local! {
    /// One core's worker per test thread, reused across cases (dropped, with its
    /// interpreter attached, when the thread ends).
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

const ARGS: [&str; 4] = [
    "--in",
    "127.0.0.1:7000,127.0.0.1:7001",
    "--out",
    "127.0.0.1:7002",
];

/// Feeds `bytes` in `chunk`-sized reads to `source` with a small frame limit; returns
/// (frames cut, messages decoded, errors counted).
fn feed(source: usize, bytes: &[u8], chunk: usize) -> (u64, u64, u64) {
    WORKER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let worker = cell.get_or_insert_with(|| {
            let path = app("counting.py");
            let mut args = vec![path.display().to_string()];
            args.extend(ARGS.iter().map(|a| a.to_string()));
            Worker::start(
                0,
                PythonMode::Subinterpreters,
                &path,
                &args,
                OutputFds::PROCESS,
            )
            .unwrap()
        });
        let framing = if source == 0 {
            Framing::LengthPrefixed(LengthWidth::U32)
        } else {
            Framing::Raw
        };
        let mut decoder = FrameDecoder::new(framing, 256);
        let mut outputs = Outputs::new(worker.topology(), 1);
        let counters = worker.counters().clone();
        let figures = || counters.read();
        let (decoded_before, errors_before) = (figures().messages_in(), figures().error_total());
        let mut frames_cut = 0;
        for piece in bytes.chunks(chunk.max(1)) {
            decoder.read_buf().extend_from_slice(piece);
            let mut frames: Vec<Bytes> = vec![];
            let framed = worker.take_frames(source, &mut decoder, &mut frames);
            frames_cut += frames.len() as u64;
            let meta = Meta {
                source: source as u32,
                ingest_ns: clock::now_ns(),
                event_ns: None,
            };
            worker.run_frames(
                source,
                &frames,
                meta,
                &ByHash {
                    cores: 1,
                    hand_over: false,
                },
                &mut outputs,
            );
            if framed.is_err() {
                break; // the engine closes such a connection
            }
        }
        (
            frames_cut,
            figures().messages_in() - decoded_before,
            figures().error_total() - errors_before,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_crash_and_every_frame_is_accounted(
        source in 0usize..2,
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
    ) {
        let (frames, decoded, errors) = feed(source, &bytes, chunk);
        // A frame is decoded, or its decoder failed (and was counted); errors further down
        // the steps are counted too, so errors can exceed frames - decoded.
        prop_assert!(decoded <= frames);
        prop_assert!(errors >= frames - decoded);
    }

    #[test]
    fn well_formed_frames_of_arbitrary_text_decode(
        texts in proptest::collection::vec("[a-z ]{0,40}", 0..20),
        chunk in 1usize..64,
    ) {
        let bytes: Vec<u8> = texts.iter().flat_map(|t| common::frame(t)).collect();
        let (frames, decoded, _) = feed(0, &bytes, chunk);
        prop_assert_eq!(frames, texts.len() as u64);
        prop_assert_eq!(decoded, texts.len() as u64);
    }
}
