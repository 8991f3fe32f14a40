//! Word count throughput end to end (roo send -> roo run -> roo receive on loopback), at 1
//! core and at every core, against the bare Python loop of the same user functions
//! (benches/bare_word_count.py) measured in the same run. Each figure is the median of
//! several runs, with min and max.
//!
//! `cargo bench --bench word_count` (env ROO_BENCH_LINES, ROO_BENCH_RUNS to resize).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::*;

const ROO: &str = env!("CARGO_BIN_EXE_roo");

/// A deterministic English-like text: `lines` lines of 10 words drawn with Zipf's law
/// (s = 1) from 5000 made-up words, some followed by punctuation. As in real text, the top
/// word is about 11% of all words; first letters are spread over the alphabet.
fn write_text(path: &Path, lines: usize) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let vocabulary: Vec<String> = (0..5000)
        .map(|_| {
            let length = 2 + (next() % 8) as usize;
            (0..length)
                .map(|_| (b'a' + (next() % 26) as u8) as char)
                .collect()
        })
        .collect();
    let mut cumulative = Vec::with_capacity(vocabulary.len());
    let mut total = 0.0;
    for rank in 1..=vocabulary.len() {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..lines {
        let mut line = String::new();
        for w in 0..10 {
            let target = (next() % 1_000_000) as f64 / 1_000_000.0 * total;
            let rank = cumulative
                .partition_point(|&c| c < target)
                .min(vocabulary.len() - 1);
            if w > 0 {
                line.push(' ');
            }
            line.push_str(&vocabulary[rank]);
            if next() % 10 == 0 {
                line.push(',');
            }
        }
        writeln!(file, "{line}").unwrap();
    }
}

fn wait_ready(child: &mut Child) -> BufReader<std::process::ChildStderr> {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("roo run exited before it was ready");
        }
        if line.contains("roo: ready") {
            return stderr;
        }
    }
    panic!("roo run not ready in 60 s");
}

/// What one end-to-end run measured.
struct RunFigures {
    /// From the first byte sent to the last output line received.
    seconds: f64,
    /// CPU time roo used over the whole run (start-up included).
    roo_cpu_seconds: f64,
    /// Share of the machine's CPU time the host stole during the run, %.
    steal_percent: f64,
}

fn roo_run(text: &Path, words: usize, cores: usize) -> RunFigures {
    let (in_port, out_port) = (free_port(), free_port());
    let receiver = roo_tool(cores)
        .args([
            "receive",
            "--listen",
            &format!("127.0.0.1:{out_port}"),
            "--expect",
            &words.to_string(),
            "--timeout",
            "600",
            "--quiet",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut receiver = Guard(receiver);
    let worker = Command::new(ROO)
        .args(["run", "--cores", &cores.to_string(), "--exit-when-idle"])
        .arg(root().join("examples/word_count.py"))
        .args([
            "--in",
            &format!("127.0.0.1:{in_port}"),
            "--out",
            &format!("127.0.0.1:{out_port}"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut worker = Guard(worker);
    let _stderr = wait_ready(&mut worker.0);
    let ticks = machine_ticks();
    let start = Instant::now();
    let sent = roo_tool(cores)
        .args([
            "send",
            "--to",
            &format!("127.0.0.1:{in_port}"),
            "--connections",
            &cores.max(2).to_string(),
            "--quiet",
            "--file",
        ])
        .arg(text)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(sent.success(), "roo send failed");
    let received = receiver.0.wait().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let steal_percent = steal_percent_since(ticks);
    assert!(
        received.success(),
        "roo receive did not get all {words} lines"
    );
    // With --exit-when-idle roo ends on its own once the sender's connections closed.
    let roo_cpu_seconds = cpu_seconds_at_exit(&mut worker.0, Duration::from_secs(30));
    RunFigures {
        seconds,
        roo_cpu_seconds,
        steal_percent,
    }
}

/// (words, seconds) of the bare Python loop.
fn bare_loop(text: &Path) -> (usize, f64) {
    let output = Command::new(python())
        .arg(root().join("benches/bare_word_count.py"))
        .arg(root().join("examples/word_count.py"))
        .arg(text)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let field = |name: &str| {
        stdout
            .split_whitespace()
            .find_map(|f| f.strip_prefix(name))
            .unwrap()
            .to_string()
    };
    (
        field("words=").parse().unwrap(),
        field("seconds=").parse().unwrap(),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list
    }
    let lines = env_or("ROO_BENCH_LINES", 100_000);
    let runs = env_or("ROO_BENCH_RUNS", 5);
    let cpus = cpus();
    let dir = std::env::temp_dir().join(format!("roo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("text.txt");
    write_text(&text, lines);

    // Rounds of (bare loop, roo at 1 core, roo at all cores) back to back: this VM's speed
    // drifts by 2x over minutes, so each ratio is taken within a round, then the median.
    let core_counts: Vec<usize> = if cpus == 1 { vec![1] } else { vec![1, cpus] };
    let words = bare_loop(&text).0;
    let mut bare = vec![];
    let mut figures: Vec<Vec<RunFigures>> = core_counts.iter().map(|_| vec![]).collect();
    for _ in 0..runs {
        let (_, seconds) = bare_loop(&text);
        bare.push(words as f64 / seconds);
        for (i, &cores) in core_counts.iter().enumerate() {
            figures[i].push(roo_run(&text, words, cores));
        }
    }
    let (bare_median, bare_min, bare_max) = median_min_max(bare.clone());
    println!(
        "word count, {lines} lines, {words} words, {} ({runs} rounds of bare loop, 1 core, {cpus} cores)",
        python()
    );
    println!(
        "bare Python loop, 1 core: {:>10.0} words/s (min {:.0}, max {:.0})",
        bare_median, bare_min, bare_max
    );
    let rate = |f: &RunFigures| words as f64 / f.seconds;
    let per_cpu_second = |f: &RunFigures| words as f64 / f.roo_cpu_seconds;
    // The median over rounds of a ratio between two measurements of the same round.
    let ratio = |a: &dyn Fn(usize) -> f64, b: &dyn Fn(usize) -> f64| {
        let ratios = (0..runs).map(|r| a(r) / b(r)).collect();
        median_min_max(ratios)
    };
    for (i, &cores) in core_counts.iter().enumerate() {
        let runs_here = &figures[i];
        let (median, min, max) = median_min_max(runs_here.iter().map(rate).collect());
        let (vs_bare, _, _) = ratio(&|r| rate(&runs_here[r]), &|r| bare[r]);
        let (vs_one, vs_one_min, vs_one_max) =
            ratio(&|r| rate(&runs_here[r]), &|r| rate(&figures[0][r]));
        let (cpu_vs_one, _, _) = ratio(&|r| per_cpu_second(&runs_here[r]), &|r| {
            per_cpu_second(&figures[0][r])
        });
        let (per_cpu, _, _) = median_min_max(runs_here.iter().map(per_cpu_second).collect());
        let (steal, _, _) = median_min_max(runs_here.iter().map(|f| f.steal_percent).collect());
        println!(
            "roo, {cores} core(s):          {median:>10.0} words/s (min {min:.0}, max {max:.0}); {vs_bare:.2}x the bare loop, {:.2}x per core; {vs_one:.2}x of 1 core (min {vs_one_min:.2}, max {vs_one_max:.2})",
            vs_bare / cores as f64,
        );
        println!(
            "    {}; roo used {per_cpu:.0} words per CPU-second ({cpu_vs_one:.2}x of 1 core's); host steal {steal:.0}% of all CPU time",
            tool_placement(cores),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
