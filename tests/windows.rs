//! End-to-end tests of Wallaroo 0.6's windows (`examples/alerts_windowed.py`): count
//! windows give exact per-user totals; time windows end while `roo run` keeps running
//! (the engine's ticks) and windows still open are output when it stops, so every
//! transaction is counted once per window that holds it. Real `roo` processes on
//! loopback, fed by `roo send`, collected by `roo receive --out`; every process is
//! stopped when its guard drops, and every wait is bounded.

mod common;

use common::rng::Rng;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

const SEND_WITHIN: Duration = Duration::from_secs(30);
/// Bound on outputs reaching the receiver's --out file while roo runs.
const OUTPUT_WITHIN: Duration = Duration::from_secs(20);

const USERS: [&str; 7] = [
    "fido",
    "rex",
    "whiskers",
    "feathers",
    "mountaineer",
    "élan",
    "b",
];

/// `n` transactions `user amount` (amounts in -1500..1500), deterministic.
fn transactions(seed: u64, n: usize) -> Vec<(String, i64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let user = rng.pick(&USERS).to_string();
            (user, rng.below(3000) as i64 - 1500)
        })
        .collect()
}

fn write_transactions(path: &Path, txs: &[(String, i64)]) {
    let lines: Vec<String> = txs.iter().map(|(u, a)| format!("{u} {a}")).collect();
    write_lines(path, &lines);
}

/// One output line as the app writes it: `user total transactions[ ALERT]`.
fn line(user: &str, total: i64, transactions: usize) -> String {
    let alert = if total.abs() > 2000 { " ALERT" } else { "" };
    format!("{user} {total} {transactions}{alert}")
}

/// Per user: (sum of window totals, sum of window transaction counts), checking that
/// each line is well formed and carries the alert mark exactly when it should.
fn sums(lines: &[String]) -> BTreeMap<String, (i64, usize)> {
    let mut sums = BTreeMap::new();
    for l in lines {
        let fields: Vec<&str> = l.split(' ').collect();
        assert!(fields.len() == 3 || fields.len() == 4, "bad line {l:?}");
        let (total, count): (i64, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        assert_eq!(*l, line(fields[0], total, count), "alert mark in {l:?}");
        let entry = sums.entry(fields[0].to_string()).or_insert((0, 0));
        entry.0 += total;
        entry.1 += count;
    }
    sums
}

/// Per user: (sum of amounts, transactions), each multiplied by `windows_per_transaction`.
fn expected_sums(
    txs: &[(String, i64)],
    windows_per_transaction: usize,
) -> BTreeMap<String, (i64, usize)> {
    let mut sums = BTreeMap::new();
    for (user, amount) in txs {
        let entry = sums.entry(user.clone()).or_insert((0, 0));
        entry.0 += amount * windows_per_transaction as i64;
        entry.1 += windows_per_transaction;
    }
    sums
}

/// The output lines of count windows of `n` over `txs`: each user's transactions in
/// order, cut into windows of n; the last, partial window is output at shutdown.
fn count_window_lines(txs: &[(String, i64)], n: usize) -> Vec<String> {
    let mut per_user: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (user, amount) in txs {
        per_user.entry(user).or_default().push(*amount);
    }
    per_user
        .iter()
        .flat_map(|(user, amounts)| {
            amounts
                .chunks(n)
                .map(|w| line(user, w.iter().sum(), w.len()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn count_windows(cores: usize) {
    let dir = TempDir::new(&format!("count-windows-{cores}"));
    let input = dir.path("in.txt");
    let txs = transactions(7, 500);
    write_transactions(&input, &txs);
    const N: usize = 4;
    let want = count_window_lines(&txs, N);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let mut receiver = start_receiver(&out_addr, &out, want.len());
    let mut worker = start_worker(
        &example("alerts_windowed.py"),
        cores,
        true,
        &[],
        &[
            "--in",
            &in_addr,
            "--out",
            &out_addr,
            "--count",
            &N.to_string(),
        ],
    );
    send(&in_addr, &input, &[], SEND_WITHIN, &[&worker, &receiver]);
    expect_success(&mut worker, Duration::from_secs(30), &[&receiver]);
    expect_success(&mut receiver, Duration::from_secs(40), &[&worker]);
    assert_same_multiset(read_out(&out), want, "count windows");
}

at_core_counts!(count_windows = count_windows);

/// Waits until `out` holds `n` lines; panics after OUTPUT_WITHIN.
fn wait_for_lines(out: &Path, n: usize, others: &[&Proc]) {
    let deadline = Instant::now() + OUTPUT_WITHIN;
    while read_out(out).len() < n {
        assert!(
            Instant::now() < deadline,
            "{} of {n} lines{}",
            read_out(out).len(),
            others_stderr(others)
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Count windows with checkpoints: after the first half of the input has run and been
/// checkpointed, roo is killed with SIGKILL and started again (at another core count);
/// the windows still open come back from the checkpoint, so with the second half every
/// window holds exactly the transactions it would have without the kill.
fn windows_survive_a_kill(cores: usize) {
    let dir = TempDir::new(&format!("windows-kill-{cores}"));
    let (first, second) = (dir.path("first.txt"), dir.path("second.txt"));
    let txs = transactions(17, 400);
    write_transactions(&first, &txs[..200]);
    write_transactions(&second, &txs[200..]);
    const N: usize = 6;
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let state = dir.path("state");
    let receiver = start_receiver_with(&out_addr, &out, None, "0", &[]);
    let start = |cores: usize| {
        start_worker(
            &example("alerts_windowed.py"),
            cores,
            false,
            &[
                "--resilience-dir",
                s(&state),
                "--time-between-checkpoints",
                "100000000",
            ],
            &[
                "--in",
                &in_addr,
                "--out",
                &out_addr,
                "--count",
                &N.to_string(),
            ],
        )
    };
    let worker = start(cores);
    send(&in_addr, &first, &[], SEND_WITHIN, &[&worker, &receiver]);
    // The full windows of the first half are out, and a checkpoint taken after them.
    let full_windows: usize = count_window_lines(&txs[..200], N)
        .iter()
        .filter(|l| l.split(' ').nth(2) == Some(&N.to_string()))
        .count();
    wait_for_lines(&out, full_windows, &[&worker, &receiver]);
    thread::sleep(Duration::from_millis(800));
    worker.signal("KILL");
    drop(worker);
    let mut worker = start(3 - cores);
    send(&in_addr, &second, &[], SEND_WITHIN, &[&worker, &receiver]);
    thread::sleep(Duration::from_millis(500));
    worker.signal("TERM");
    expect_success(&mut worker, Duration::from_secs(30), &[&receiver]);
    let want = count_window_lines(&txs, N);
    wait_for_lines(&out, want.len(), &[&worker, &receiver]);
    assert_same_multiset(read_out(&out), want, "count windows across a kill");
    assert!(worker.stderr().contains("roo: restoring checkpoint"));
}

at_core_counts!(windows_survive_a_kill, one_core = 1, two_cores = 2);

/// Waits until the lines in `out` sum, per user, to `want`; panics after OUTPUT_WITHIN.
fn wait_for_sums(out: &Path, want: &BTreeMap<String, (i64, usize)>, others: &[&Proc]) {
    let deadline = Instant::now() + OUTPUT_WITHIN;
    loop {
        let got = sums(&read_out(out));
        if got == *want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "window outputs sum to {got:?}, want {want:?}{}",
            others_stderr(others)
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Tumbling 200 ms windows: the first half's windows end (and are output) while roo runs
/// and its input connection is closed; after the second half, SIGTERM flushes the rest.
/// Every transaction is in exactly one window.
fn tumbling_windows(cores: usize) {
    let dir = TempDir::new(&format!("tumbling-windows-{cores}"));
    let (first, second) = (dir.path("first.txt"), dir.path("second.txt"));
    let txs = transactions(11, 400);
    write_transactions(&first, &txs[..200]);
    write_transactions(&second, &txs[200..]);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let receiver = start_receiver_with(&out_addr, &out, None, "0", &[]);
    let mut worker = start_worker(
        &example("alerts_windowed.py"),
        cores,
        false,
        &[],
        &["--in", &in_addr, "--out", &out_addr, "--window-ms", "200"],
    );
    send(&in_addr, &first, &[], SEND_WITHIN, &[&worker, &receiver]);
    wait_for_sums(&out, &expected_sums(&txs[..200], 1), &[&worker, &receiver]);
    send(&in_addr, &second, &[], SEND_WITHIN, &[&worker, &receiver]);
    // SIGTERM finishes what roo has read, not what waits in the socket: under a loaded
    // test run the second connection's core may not have read it yet.
    thread::sleep(Duration::from_millis(500));
    worker.signal("TERM");
    expect_success(&mut worker, Duration::from_secs(30), &[&receiver]);
    wait_for_sums(&out, &expected_sums(&txs, 1), &[&worker, &receiver]);
}

at_core_counts!(tumbling_windows_end_while_running = tumbling_windows);

/// The default 9 s windows sliding by 3 s: each transaction is in three windows, all
/// still open when the input ends, so all are output at shutdown (--exit-when-idle).
#[test]
fn sliding_windows_are_flushed_at_shutdown() {
    let dir = TempDir::new("sliding-windows");
    let input = dir.path("in.txt");
    let txs = transactions(13, 300);
    write_transactions(&input, &txs);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let receiver = start_receiver_with(&out_addr, &out, None, "0", &[]);
    let mut worker = start_io_worker(
        &example("alerts_windowed.py"),
        2,
        &in_addr,
        &out_addr,
        true,
        &[],
    );
    send(&in_addr, &input, &[], SEND_WITHIN, &[&worker, &receiver]);
    expect_success(&mut worker, Duration::from_secs(30), &[&receiver]);
    wait_for_sums(&out, &expected_sums(&txs, 3), &[&worker, &receiver]);
    let lines = read_out(&out);
    assert!(
        lines.len() <= 4 * USERS.len(),
        "at most 4 windows of 9 s per user hold a burst of input: {lines:?}"
    );
}
