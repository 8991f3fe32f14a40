//! Cost of crossing the Rust/Python boundary, against the same calls made by a bare
//! Python loop in the same interpreter and run.
//!
//! - `compute_call`: one `compute(data)` through a cached bound method, 1000 per attach.
//! - `bare_python_loop`: the same 1000 calls made by a Python `for` loop.
//! - `str_to_value_and_back`: a short str converted to a cross-core Value and rebuilt.
//! - `object_to_value_and_back`: the same for a plain app object of 5 fields
//!   (examples/market_spread.py's Order).
//! - `worker_batch`: 1000 frames through decode -> compute -> encode in one Worker batch.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model::{clock, Meta, Placement, Value};
use pybridge::{Interpreter, Outputs, PyObj, PythonMode, ValueCodec, Worker};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

const BATCH: usize = 1000;

const SETUP: &std::ffi::CStr = c"
import time
class Step:
    def compute(self, data):
        return data
step = Step()
compute = step.compute
data = [b'x' * 20 for _ in range(1000)]
import sys
sys.path.insert(0, EXAMPLES)
from market_spread import Order
order = Order('ABC', 12345, 'B', 100, 17.25)
def bare_loop(n):
    start = time.perf_counter_ns()
    for _ in range(n):
        for d in data:
            compute(d)
    return time.perf_counter_ns() - start
";

struct Everywhere;
impl Placement for Everywhere {
    fn owner(&self, _: usize, _: &Value) -> usize {
        0
    }
}

fn bench(c: &mut Criterion) {
    let interpreter = Interpreter::new(PythonMode::Subinterpreters).unwrap();
    let (compute, data, bare_loop, codec, order) = interpreter.with(|py| {
        pybridge::api_package::install(py).unwrap();
        let globals = PyDict::new(py);
        let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
        globals
            .set_item("EXAMPLES", examples.display().to_string())
            .unwrap();
        py.run(SETUP, Some(&globals), None).unwrap();
        let get = |name: &str| PyObj::new(globals.get_item(name).unwrap().unwrap());
        (
            get("compute"),
            get("data"),
            get("bare_loop"),
            ValueCodec::new(py).unwrap(),
            get("order"),
        )
    });
    let mut group = c.benchmark_group("bridge");
    // What a batch pays once, however small: attaching the core's interpreter and detaching.
    group.bench_function("attach_detach", |b| b.iter(|| interpreter.with(|_| ())));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("compute_call", |b| {
        b.iter(|| {
            interpreter.with(|py| {
                let compute = compute.bind(py);
                for item in data.bind(py).try_iter().unwrap() {
                    std::hint::black_box(compute.call1((item.unwrap(),)).unwrap());
                }
            })
        })
    });
    group.bench_function("bare_python_loop", |b| {
        b.iter_custom(|iterations| {
            let ns: u64 = interpreter.with(|py| {
                bare_loop
                    .bind(py)
                    .call1((iterations,))
                    .unwrap()
                    .extract()
                    .unwrap()
            });
            std::time::Duration::from_nanos(ns)
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("str_to_value_and_back", |b| {
        interpreter.with(|py| {
            let word = pyo3::types::PyString::new(py, "streaming").into_any();
            b.iter(|| {
                let value = codec.to_value(&word).unwrap();
                std::hint::black_box(codec.to_python(py, &value).unwrap());
            })
        })
    });
    group.bench_function("object_to_value_and_back", |b| {
        interpreter.with(|py| {
            let order = order.bind(py).clone();
            let value = codec.to_value(&order).unwrap();
            assert!(matches!(value, Value::Object { .. }), "{value:?}");
            b.iter(|| {
                let value = codec.to_value(&order).unwrap();
                std::hint::black_box(codec.to_python(py, &value).unwrap());
            })
        })
    });
    group.finish();
    interpreter.with(|_| drop((compute, data, bare_loop, codec, order)));
    drop(interpreter);

    let app = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/apps/identity.py");
    let mut worker = Worker::start(
        0,
        PythonMode::Subinterpreters,
        &app,
        &[app.display().to_string()],
        pybridge::OutputFds::PROCESS,
    )
    .unwrap();
    let mut outputs = Outputs::new(worker.topology(), 1);
    let frames: Vec<Bytes> = (0..BATCH)
        .map(|i| Bytes::from(format!("message number {i:08}")))
        .collect();
    let mut group = c.benchmark_group("worker");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("worker_batch_decode_compute_encode", |b| {
        b.iter(|| {
            outputs.sinks[0].bytes.clear();
            worker.run_frames(
                0,
                &frames,
                Meta {
                    source: 0,
                    ingest_ns: clock::now_ns(),
                    event_ns: None,
                },
                &Everywhere,
                &mut outputs,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
