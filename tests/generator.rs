//! End-to-end tests of generator sources (Wallaroo 0.6's `GenSourceConfig`): the app makes
//! its own input (`tests/apps/generated.py`, numbers 1..N into a keyed running sum), and
//! `roo run --exit-when-idle` stops once the generator has ended. Real `roo` processes on
//! loopback, stopped when their guards drop; every wait is bounded.

mod common;

use common::*;
use std::time::Duration;

const RUN_WITHIN: Duration = Duration::from_secs(60);

/// Outputs `n key sum` for numbers 1..=n: keys n % 7, sums running per key in order.
fn expected(n: u64) -> Vec<String> {
    let mut sums = [0u64; 7];
    (1..=n)
        .map(|i| {
            let key = (i % 7) as usize;
            sums[key] += i;
            format!("{i} {key} {}", sums[key])
        })
        .collect()
}

fn generated(cores: usize, n: u64) {
    let dir = TempDir::new(&format!("generator-{cores}"));
    let out_addr = free_addr();
    let out = dir.path("out.txt");
    let want = expected(n);
    let mut receiver = start_receiver(&out_addr, &out, want.len());
    let mut worker = start_worker(
        &test_app("generated.py"),
        cores,
        true,
        &[],
        &["--out", &out_addr, &n.to_string()],
    );
    expect_success(&mut worker, RUN_WITHIN, &[&receiver]);
    expect_success(&mut receiver, RUN_WITHIN, &[&worker]);
    assert!(
        worker
            .stderr()
            .contains("generator of source 'numbers' ended"),
        "{}",
        worker.stderr()
    );
    assert_output(cores, read_out(&out), want, "generated numbers");
}

fn generator_source(cores: usize) {
    generated(cores, 20_000);
}
at_core_counts!(generator_source);

/// A generator that raises is reported by name; what it made before is all delivered and
/// roo still exits cleanly.
#[test]
fn generator_that_raises_is_reported_and_stops() {
    let dir = TempDir::new("generator-raises");
    let out_addr = free_addr();
    let out = dir.path("out.txt");
    let want = expected(500);
    let mut receiver = start_receiver(&out_addr, &out, want.len());
    let mut worker = start_worker(
        &test_app("generated.py"),
        2,
        true,
        &[],
        &["--out", &out_addr, "raise-at", "500", "1000"],
    );
    expect_success(&mut worker, RUN_WITHIN, &[&receiver]);
    expect_success(&mut receiver, RUN_WITHIN, &[&worker]);
    let stderr = worker.stderr();
    assert!(
        stderr.contains("generator of source 'numbers' (it stops)")
            && stderr.contains("RuntimeError: generator broke after 500"),
        "{stderr}"
    );
    assert_eq!(
        errors_at(&stderr, "generator of source 'numbers'"),
        1,
        "{stderr}"
    );
    assert_output(2, read_out(&out), want, "numbers before the error");
}
