//! What checkpoints cost, and how fast roo recovers (`cargo bench --bench checkpoints`):
//! - word count throughput (roo send -> roo run -> roo receive on loopback) with a
//!   checkpoint every second against none, in rounds of one run each back to back: the
//!   median of the rounds' ratios, and the sources' pause per checkpoint (p50, p99, max,
//!   from roo's summary);
//! - recovery: a word count over `ROO_BENCH_KEYS` distinct words (1 M by default) stops
//!   cleanly, so its final checkpoint holds that many keys; then the time from starting
//!   roo on that directory to `roo: ready`, against starting on an empty one.
//!
//! Env: ROO_BENCH_LINES (throughput text, 300 000 lines), ROO_BENCH_RUNS (rounds, 5),
//! ROO_BENCH_KEYS, ROO_BENCH_CORES (1).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

mod support;

use support::*;

const ROO: &str = env!("CARGO_BIN_EXE_roo");
/// Wallaroo's unit: nanoseconds.
const EVERY_SECOND: &str = "1000000000";

/// `(p50, p99, max)` ms of the sources' pauses, from roo's checkpoint summary line.
fn pauses(said: &str) -> Option<(f64, f64, f64)> {
    let line = said.lines().find(|l| l.contains("checkpoints written"))?;
    let after = |name: &str| -> Option<f64> {
        let rest = &line[line.find(name)? + name.len()..];
        rest.split_whitespace().next()?.parse().ok()
    };
    Some((after("p50 ")?, after("p99 ")?, after("max ")?))
}

/// `keys` distinct words, ten to a line.
fn write_distinct_words(path: &Path, keys: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for line in 0..keys.div_ceil(10) {
        let words: Vec<String> = (line * 10..(line * 10 + 10).min(keys))
            .map(|k| format!("k{k:07}"))
            .collect();
        writeln!(file, "{}", words.join(" ")).unwrap();
    }
}

/// Seconds from starting roo on `state` to its `roo: ready` (then it is killed).
fn seconds_to_ready(cores: usize, state: &Path, expect_restore: bool) -> f64 {
    let started = Instant::now();
    let child = Command::new(ROO)
        .args(["run", "--cores", &cores.to_string(), "--resilience-dir"])
        .arg(state)
        .arg(root().join("examples/word_count.py"))
        .args([
            "--in",
            &format!("127.0.0.1:{}", free_port()),
            "--out",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Guard(child);
    let (_stderr, said) = wait_ready(&mut child.0);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        said.contains("roo: restoring checkpoint"),
        expect_restore,
        "{said}"
    );
    seconds
}

fn throughput(dir: &Path, cores: usize, runs: usize) {
    let lines = env_or("ROO_BENCH_LINES", 300_000);
    let text = dir.join("text.txt");
    write_text(&text, lines);
    let words = lines * 10;
    let mut ratios = vec![];
    let mut p99s = vec![];
    let mut maxes = vec![];
    let mut taken = vec![];
    for round in 0..runs {
        let (none, _) = word_count_run(&text, words, cores, &[]);
        let state = dir.join(format!("state-{round}"));
        let options = [
            "--resilience-dir",
            state.to_str().unwrap(),
            "--time-between-checkpoints",
            EVERY_SECOND,
        ];
        let (with, said) = word_count_run(&text, words, cores, &options);
        ratios.push(none.seconds / with.seconds);
        let (_, p99, max) = pauses(&said).expect("a checkpoint summary");
        p99s.push(p99);
        maxes.push(max);
        taken.push(with.seconds);
    }
    let (ratio, ratio_min, ratio_max) = median_min_max(ratios);
    let (p99, p99_min, p99_max) = median_min_max(p99s);
    let (max, _, _) = median_min_max(maxes);
    let (seconds, _, _) = median_min_max(taken);
    println!(
        "word count, {lines} lines, {words} words, {cores} core(s), {runs} rounds, {}",
        python()
    );
    println!(
        "throughput with a checkpoint every 1 s: {ratio:.3}x of none (min {ratio_min:.3}, max {ratio_max:.3}); runs of {seconds:.1} s"
    );
    println!(
        "sources paused per checkpoint: p99 {p99:.2} ms (min {p99_min:.2}, max {p99_max:.2} over rounds), longest {max:.2} ms"
    );
}

fn recovery(dir: &Path, cores: usize, runs: usize) {
    let keys = env_or("ROO_BENCH_KEYS", 1_000_000);
    let text = dir.join("distinct.txt");
    write_distinct_words(&text, keys);
    let state = dir.join("state-keys");
    let options = ["--resilience-dir", state.to_str().unwrap()];
    let (_, said) = word_count_run(&text, keys, cores, &options);
    assert!(said.contains("checkpoints written"), "{said}");
    let size: u64 = std::fs::read_dir(&state)
        .unwrap()
        .flatten()
        .flat_map(|epoch| std::fs::read_dir(epoch.path()).unwrap().flatten())
        .map(|file| file.metadata().unwrap().len())
        .sum();
    let empty = dir.join("state-empty");
    let mut restored = vec![];
    let mut fresh = vec![];
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&empty);
        fresh.push(seconds_to_ready(cores, &empty, false));
        restored.push(seconds_to_ready(cores, &state, true));
    }
    let (restore, restore_min, restore_max) = median_min_max(restored);
    let (start, _, _) = median_min_max(fresh);
    println!(
        "recovery of {keys} keys ({:.1} MB on disk, both epochs), {cores} core(s): {restore:.2} s to ready (min {restore_min:.2}, max {restore_max:.2}); {start:.2} s with no checkpoint",
        size as f64 / 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list
    }
    let runs = env_or("ROO_BENCH_RUNS", 5);
    let cores = env_or("ROO_BENCH_CORES", 1);
    let dir = std::env::temp_dir().join(format!("roo-bench-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    throughput(&dir, cores, runs);
    recovery(&dir, cores, runs);
    let _ = std::fs::remove_dir_all(&dir);
}
