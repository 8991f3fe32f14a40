//! Word count throughput end to end (roo send -> roo run -> roo receive on loopback), at 1
//! core and at every core, against the bare Python loop of the same user functions
//! (benches/bare_word_count.py) measured in the same run. Each figure is the median of
//! several runs, with min and max.
//!
//! `cargo bench --bench word_count` (env ROO_BENCH_LINES, ROO_BENCH_RUNS to resize).

use std::path::Path;
use std::process::Command;

mod support;

use support::*;

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
            figures[i].push(word_count_run(&text, words, cores, &[]).0);
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
