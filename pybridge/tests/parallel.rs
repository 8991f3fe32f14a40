//! Own-GIL subinterpreters run CPU-bound Python at the same time. Judged by overlap of the
//! execution intervals and by each thread's CPU time over its interval (a thread waiting
//! for a shared GIL burns no CPU), not by wall-clock speed.

use pybridge::{GilKind, Interpreter, PythonMode};
use pyo3::prelude::*;
use std::sync::{Arc, Barrier};

const BUSY_LOOP: &std::ffi::CStr = c"
import time
start, cpu_start = time.monotonic(), time.thread_time()
total = 0
for i in range(3_000_000):
    total += i * i
result = (start, time.monotonic(), time.thread_time() - cpu_start)
";

/// (start, end, cpu seconds) of the busy loop in a fresh interpreter on its own thread.
fn run_busy_loops(threads: usize) -> (GilKind, Vec<(f64, f64, f64)>) {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let interpreter = Interpreter::new(PythonMode::Subinterpreters).unwrap();
                barrier.wait();
                let interval = interpreter.with(|py| {
                    let globals = pyo3::types::PyDict::new(py);
                    py.run(BUSY_LOOP, Some(&globals), None).unwrap();
                    globals
                        .get_item("result")
                        .unwrap()
                        .unwrap()
                        .extract::<(f64, f64, f64)>()
                        .unwrap()
                });
                (interpreter.kind(), interval)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (
        results[0].0,
        results.into_iter().map(|(_, interval)| interval).collect(),
    )
}

/// Whether the two loops ran at the same time, each executing (not waiting for a GIL) for
/// most of its interval; with the reason when not.
fn ran_in_parallel(intervals: &[(f64, f64, f64)]) -> Result<(), String> {
    let latest_start = intervals.iter().map(|i| i.0).fold(f64::MIN, f64::max);
    let earliest_end = intervals.iter().map(|i| i.1).fold(f64::MAX, f64::min);
    if latest_start >= earliest_end {
        return Err(format!("the loops did not overlap: {intervals:?}"));
    }
    for (start, end, cpu) in intervals {
        let busy = cpu / (end - start);
        if busy < 0.6 {
            return Err(format!(
                "a thread ran only {busy:.2} of its interval: {intervals:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn own_gil_interpreters_run_python_in_parallel() {
    let (kind, intervals) = run_busy_loops(2);
    eprintln!("{kind}: intervals (start, end, cpu) {intervals:?}");
    match kind {
        // Another process on a 2-core machine can take a CPU for a while: a few attempts.
        GilKind::OwnGil => {
            let mut outcome = ran_in_parallel(&intervals);
            for _ in 0..4 {
                if outcome.is_ok() {
                    break;
                }
                outcome = ran_in_parallel(&run_busy_loops(2).1);
            }
            outcome.unwrap();
        }
        // Python 3.11: subinterpreters share one GIL, so they take turns.
        GilKind::SharedGil => {
            let cpu: f64 = intervals.iter().map(|i| i.2).sum();
            let first_start = intervals.iter().map(|i| i.0).fold(f64::MAX, f64::min);
            let last_end = intervals.iter().map(|i| i.1).fold(f64::MIN, f64::max);
            let span = last_end - first_start;
            assert!(
                cpu < span * 1.3,
                "shared-GIL interpreters used {cpu:.2} s of CPU in {span:.2} s"
            );
        }
        GilKind::MainInterpreter => unreachable!("asked for subinterpreters"),
    }
}
