//! Arbitrary bytes through the source path of a core: framing, the Python decoder and the
//! steps of pybridge/tests/apps/counting.py (source 0: big-endian u32 headers framed
//! natively; source 1: little-endian u16 headers framed by calling payload_length()).
//! Run: `cargo +nightly fuzz run source_path` (from this folder).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use protocol::{FrameDecoder, Framing, LengthWidth};
use pybridge::{clock, Meta, Outputs, Placement, PythonMode, Value, Worker};
use std::cell::RefCell;
use std::path::PathBuf;

struct OneCore;
impl Placement for OneCore {
    fn owner(&self, _: usize, _: &Value) -> usize {
        0
    }
}

thread_local! {
    static WORKER: RefCell<Worker> = RefCell::new({
        let app = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../pybridge/tests/apps/counting.py");
        let args: Vec<String> = [app.display().to_string(), "--in".into(), "h:1,h:2".into(), "--out".into(), "h:3".into()].into();
        Worker::start(0, PythonMode::Subinterpreters, &app, &args).expect("the fuzz app loads")
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else { return };
    let source = usize::from(control & 1);
    let chunk = usize::from(control >> 1).max(1);
    WORKER.with(|worker| {
        let mut worker = worker.borrow_mut();
        let framing = if source == 0 { Framing::LengthPrefixed(LengthWidth::U32) } else { Framing::Raw };
        let mut decoder = FrameDecoder::new(framing, 512);
        let mut outputs = Outputs::new(worker.topology(), 1);
        for piece in bytes.chunks(chunk) {
            decoder.read_buf().extend_from_slice(piece);
            let mut frames: Vec<Bytes> = vec![];
            let framed = worker.take_frames(source, &mut decoder, &mut frames);
            worker.run_frames(source, &frames, Meta { source: source as u32, ingest_ns: clock::now_ns() }, &OneCore, &mut outputs);
            if framed.is_err() {
                break;
            }
        }
    });
});
