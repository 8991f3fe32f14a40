//! End-to-end latency under open-loop load (roo send --stamp -> roo run -> roo receive
//! --latency on loopback), at 1 core and at every core.
//!
//! The application is `examples/stamped_count.py`: it decodes `<ns> <text>`, routes by the
//! first letter of the text to a partitioned state that counts messages per key, and emits
//! `<ns> <key> <count>`, so the receiver measures `now - scheduled send time` per message.
//! Because the stamp is the sender's *schedule*, not the time the message actually left,
//! waiting caused by backpressure is counted (no coordinated omission).
//!
//! For each core count the bench first measures the maximum sustainable rate (unpaced send
//! of N messages, N / seconds from the first byte sent to the last result received, median
//! of the runs), then drives the app open loop at 10%, 50% and 90% of that maximum. Each
//! point is a fresh `roo run` and receiver: an unstamped warm-up at the point's rate (its
//! output is counted by the receiver as unstamped and kept out of the histogram), then the
//! stamped measurement. Each point runs several times; the table shows the median of each
//! percentile and min-max of p99.
//!
//! `cargo bench --bench latency`. Environment (defaults in brackets):
//! ROO_LAT_SECONDS [5] measured seconds per point, ROO_LAT_RUNS [3] runs per point,
//! ROO_LAT_WARMUP_MS [500] warm-up per point (0: none), ROO_LAT_MAX_MESSAGES [300000]
//! messages per max-rate run, ROO_LAT_PERCENTS [10,50,90] load points, ROO_LAT_CORES
//! [1,<all>] core counts, ROO_LAT_FLOOR [1] also run the tools alone at 50%,
//! ROO_LAT_STALL_SECONDS [5] length of the machine-floor probe.
//!
//! Where roo leaves CPUs free (1 core on a 2-CPU machine), the sender and receiver are
//! pinned to them and the receiver busy-polls, and roo runs with `--poll-us 500` (its
//! core reads its sockets directly instead of sleeping); `roo send --rate` sends every message at its
//! own scheduled time, spinning for the last 150 µs before it. Where roo takes every CPU,
//! the tools share them and the receiver blocks in read. (A sender pacing by sleep alone,
//! `--spin-us 0`, leaves more CPU to roo but sends late bursts: at 2 cores and 150 k msg/s
//! it gave a p50 of 1.8 ms against 0.27 ms spinning.) The machine floor at the end measures how much of the time the host
//! takes a CPU away from a thread that wants it all, which bounds every tail percentile.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod support;

use support::*;

const ROO: &str = env!("CARGO_BIN_EXE_roo");
/// `roo run --poll-us` where roo has CPUs to itself (as a latency-minded deployment
/// pinned per core would run it).
const ROO_POLL_US: &str = "500";
/// Longest a single `roo send` of the bench may take.
const SEND_LIMIT: Duration = Duration::from_secs(300);

fn env_list(name: &str, default: Vec<usize>) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => {
            let list: Vec<usize> = v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
            if list.is_empty() {
                default
            } else {
                list
            }
        }
        Err(_) => default,
    }
}

/// Reads a child's stderr to the end on a thread (so the child never blocks on a full pipe).
fn drain<R: Read + Send + 'static>(r: R) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(r).read_to_string(&mut s);
        s
    })
}

/// A `roo run` of the benchmark app on `cores` cores, ready to read `in_port`.
struct Worker {
    guard: Guard,
    log: Option<JoinHandle<String>>,
}

impl Worker {
    fn start(cores: usize, in_port: u16, out_port: u16) -> Worker {
        let mut command = Command::new(ROO);
        command.args(["run", "--cores", &cores.to_string()]);
        if spare_cpus(cores) {
            // roo's cores are its own: they poll their sockets instead of sleeping.
            command.args(["--poll-us", ROO_POLL_US]);
        }
        let child = command
            .arg(root().join("examples/stamped_count.py"))
            .args([
                "--in",
                &format!("127.0.0.1:{in_port}"),
                "--out",
                &format!("127.0.0.1:{out_port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start roo run");
        let mut guard = Guard(child);
        let mut stderr = BufReader::new(guard.0.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("roo run exited before it was ready:\n{seen}");
            }
            seen.push_str(&line);
            if line.contains("roo: ready") {
                break;
            }
            if Instant::now() > deadline {
                panic!("roo run not ready in 60 s:\n{seen}");
            }
        }
        Worker {
            guard,
            log: Some(drain(stderr)),
        }
    }

    /// Stops it with SIGINT (it drains and prints its summary; SIGKILL after 15 s) and
    /// returns its log.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.guard.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.guard.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.guard.0.kill();
        let _ = self.guard.0.wait();
        self.log
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

/// Roo's own ingest->sink latency (read to encode) from its summary, in µs: the largest
/// p50 and p99 over its cores (the summary has one histogram per core). NaN if absent.
fn engine_latency(log: &str) -> (f64, f64) {
    let (mut p50, mut p99) = (f64::NAN, f64::NAN);
    for line in log
        .lines()
        .filter(|l| l.contains("ingest->sink latency us:"))
    {
        let field = |name: &str| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == name)?;
            words.next()?.parse::<f64>().ok()
        };
        if let Some(v) = field("p50") {
            p50 = if p50.is_nan() { v } else { p50.max(v) };
        }
        if let Some(v) = field("p99") {
            p99 = if p99.is_nan() { v } else { p99.max(v) };
        }
    }
    (p50, p99)
}

struct Receiver {
    guard: Guard,
    log: Option<JoinHandle<String>>,
}

impl Receiver {
    /// Pinned like the sender (see `roo_tool`); with a CPU of its own it busy-polls its
    /// connections (`--poll`), so its own wake-ups do not count as roo's latency.
    fn start(cores: usize, out_port: u16, extra: &[&str]) -> Receiver {
        let mut command = roo_tool(cores);
        command.args([
            "receive",
            "--quiet",
            "--listen",
            &format!("127.0.0.1:{out_port}"),
        ]);
        if spare_cpus(cores) {
            command.arg("--poll");
        }
        let mut child = command
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start roo receive");
        let log = Some(drain(child.stderr.take().unwrap()));
        Receiver {
            guard: Guard(child),
            log,
        }
    }

    /// Waits for it to exit; (success, its report).
    fn finish(mut self) -> (bool, String) {
        let ok = self.guard.0.wait().map(|s| s.success()).unwrap_or(false);
        let log = self
            .log
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (ok, log)
    }
}

/// Runs `roo send` to completion; returns its final report line.
fn send(cores: usize, in_port: u16, connections: usize, extra: &[String]) -> String {
    let mut command = roo_tool(cores);
    command.args([
        "send",
        "--quiet",
        "--to",
        &format!("127.0.0.1:{in_port}"),
        "--connections",
        &connections.to_string(),
        "--generate",
        "words",
    ]);
    let child = command
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roo send");
    let mut sender = Guard(child);
    let log = drain(sender.0.stderr.take().expect("piped"));
    // A sender held back forever (a receiver that died, a stuck roo) fails the bench
    // instead of hanging it.
    let deadline = Instant::now() + SEND_LIMIT;
    let status = loop {
        if let Some(status) = sender.0.try_wait().expect("roo send status") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "roo send did not finish within {SEND_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let log = log.join().unwrap_or_default();
    assert!(status.success(), "roo send failed:\n{log}");
    log.lines().last().unwrap_or("").to_string()
}

/// Messages per second end to end, unpaced: N / seconds from the start of `roo send` to
/// the receiver having all N results.
fn max_rate_run(cores: usize, messages: usize) -> f64 {
    let (in_port, out_port) = (free_port(), free_port());
    let receiver = Receiver::start(
        cores,
        out_port,
        &["--expect", &messages.to_string(), "--timeout", "300"],
    );
    let worker = Worker::start(cores, in_port, out_port);
    let start = Instant::now();
    send(
        cores,
        in_port,
        cores,
        &["--stamp".into(), "--messages".into(), messages.to_string()],
    );
    let (ok, log) = receiver.finish();
    let seconds = start.elapsed().as_secs_f64();
    let worker_log = worker.stop();
    assert!(
        ok,
        "max-rate run: roo receive did not get {messages} results\n{log}\n{worker_log}"
    );
    messages as f64 / seconds
}

/// The receiver's latency percentiles, in µs: p50, p90, p99, p99.9, p99.99, max.
#[derive(Clone, Copy, Debug, Default)]
struct Latency {
    q: [f64; 6],
    stamped: u64,
}

fn parse_latency(report: &str) -> Option<Latency> {
    let line = report
        .lines()
        .rev()
        .find(|l| l.starts_with("latency_us "))?;
    let mut lat = Latency::default();
    for (i, name) in ["p50=", "p90=", "p99=", "p99.9=", "p99.99=", "max="]
        .iter()
        .enumerate()
    {
        lat.q[i] = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix(name))?
            .parse()
            .ok()?;
    }
    lat.stamped = line
        .split('(')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(lat)
}

/// Sent messages per second from `roo send`'s final line ("... in S s: R msg/s").
fn sent_rate(line: &str) -> f64 {
    line.rsplit(": ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// What one open-loop run measured.
#[derive(Clone, Copy, Debug)]
struct Run {
    latency: Latency,
    /// Messages per second `roo send` achieved.
    sent: f64,
    /// Roo's own ingest->sink p50 and p99 (worst core), µs; NaN for the tools-only floor.
    engine: (f64, f64),
}

/// One open-loop point: warm-up, then `seconds` stamped at `rate`.
fn latency_run(cores: usize, rate: f64, seconds: f64, warmup_ms: u64) -> Run {
    let (in_port, out_port) = (free_port(), free_port());
    let receiver = Receiver::start(cores, out_port, &["--latency", "--idle-exit", "2"]);
    let worker = Worker::start(cores, in_port, out_port);
    let rate_arg = format!("{rate:.0}");
    if warmup_ms > 0 {
        // Unstamped: its results start with a word, so the receiver counts them apart.
        send(
            cores,
            in_port,
            cores,
            &[
                "--rate".into(),
                rate_arg.clone(),
                "--duration".into(),
                format!("{:.3}", warmup_ms as f64 / 1000.0),
                "--seed".into(),
                "2".into(),
            ],
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let sent = send(
        cores,
        in_port,
        cores,
        &[
            "--stamp".into(),
            "--rate".into(),
            rate_arg,
            "--duration".into(),
            format!("{seconds}"),
        ],
    );
    let (_, log) = receiver.finish();
    let worker_log = worker.stop();
    let latency = parse_latency(&log).unwrap_or_else(|| {
        panic!("no latency line from roo receive:\n{log}\nroo run:\n{worker_log}")
    });
    Run {
        latency,
        sent: sent_rate(&sent),
        engine: engine_latency(&worker_log),
    }
}

/// The floor: the same stamped load from `roo send` straight into `roo receive --framed
/// --latency`, no application in between.
fn tools_only_run(cores: usize, connections: usize, rate: f64, seconds: f64) -> Run {
    let out_port = free_port();
    let receiver = Receiver::start(
        cores,
        out_port,
        &["--framed", "--latency", "--idle-exit", "1"],
    );
    let sent = send(
        cores,
        out_port,
        connections,
        &[
            "--stamp".into(),
            "--rate".into(),
            format!("{rate:.0}"),
            "--duration".into(),
            format!("{seconds}"),
        ],
    );
    let (_, log) = receiver.finish();
    let latency =
        parse_latency(&log).unwrap_or_else(|| panic!("no latency line from roo receive:\n{log}"));
    Run {
        latency,
        sent: sent_rate(&sent),
        engine: (f64::NAN, f64::NAN),
    }
}

/// How much of the time a CPU is not available to a thread that wants it all: a thread
/// pinned to CPU 0 (where roo's core 0 runs) reads the clock in a loop for `seconds`; every
/// interval between two reads longer than `STALL_NS` is a stall (the host ran something
/// else: another vCPU, an interrupt, another process).
struct Stalls {
    seconds: f64,
    /// Stall lengths in ns.
    gaps: Vec<u64>,
}

/// Shortest interval counted as a stall (a loop iteration takes ~30 ns).
const STALL_NS: u64 = 2_000;

impl Stalls {
    fn measure(seconds: f64) -> Stalls {
        std::thread::spawn(move || {
            if let Some(cpu) = core_affinity::get_core_ids().and_then(|ids| ids.first().copied()) {
                core_affinity::set_for_current(cpu);
            }
            let start = Instant::now();
            let end = Duration::from_secs_f64(seconds);
            let mut gaps = vec![];
            let mut last = start.elapsed();
            while last < end {
                let now = start.elapsed();
                let gap = (now - last).as_nanos() as u64;
                if gap > STALL_NS {
                    gaps.push(gap);
                }
                last = now;
            }
            Stalls { seconds, gaps }
        })
        .join()
        .expect("stall probe")
    }

    fn lost_fraction(&self) -> f64 {
        self.gaps.iter().sum::<u64>() as f64 / (self.seconds * 1e9)
    }

    /// The wait, in µs, that a message arriving at a uniformly random moment has with
    /// probability 1 - `q` or more before this CPU runs anything at all: P(wait > x) is
    /// the summed (gap - x) over gaps longer than x, divided by the whole time.
    fn wait_quantile(&self, q: f64) -> f64 {
        let total = self.seconds * 1e9;
        let beyond = |x: f64| -> f64 {
            self.gaps
                .iter()
                .map(|&g| (g as f64 - x).max(0.0))
                .sum::<f64>()
                / total
        };
        let (mut lo, mut hi) = (0.0, self.gaps.iter().copied().max().unwrap_or(0) as f64);
        if beyond(0.0) <= 1.0 - q {
            return 0.0;
        }
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if beyond(mid) > 1.0 - q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi / 1000.0
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// One table row: medians over the runs of one point.
struct Row {
    label: String,
    rate: String,
    sent: f64,
    q: [f64; 6],
    p99_min: f64,
    p99_max: f64,
    engine: (f64, f64),
    pct: Option<usize>,
    cores: usize,
}

fn row(label: String, rate: String, pct: Option<usize>, cores: usize, runs: &[Run]) -> Row {
    let med = |f: &dyn Fn(&Run) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        median(&mut v)
    };
    let mut q = [0.0; 6];
    for (i, m) in q.iter_mut().enumerate() {
        *m = med(&|r: &Run| r.latency.q[i]);
    }
    let p99 = runs.iter().map(|r| r.latency.q[2]);
    Row {
        label,
        rate,
        sent: med(&|r: &Run| r.sent),
        q,
        p99_min: p99.clone().fold(f64::INFINITY, f64::min),
        p99_max: p99.fold(0.0, f64::max),
        engine: (med(&|r: &Run| r.engine.0), med(&|r: &Run| r.engine.1)),
        pct,
        cores,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list
    }
    let seconds: f64 = env_or("ROO_LAT_SECONDS", 5.0);
    let runs: usize = env_or("ROO_LAT_RUNS", 3).max(1);
    let warmup_ms: u64 = env_or("ROO_LAT_WARMUP_MS", 500);
    let max_messages: usize = env_or("ROO_LAT_MAX_MESSAGES", 300_000);
    let floor: bool = env_or("ROO_LAT_FLOOR", 1) != 0;
    let stall_seconds: f64 = env_or("ROO_LAT_STALL_SECONDS", 5.0);
    let percents = env_list("ROO_LAT_PERCENTS", vec![10, 50, 90]);
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut core_counts = env_list("ROO_LAT_CORES", vec![1, cpus]);
    core_counts.dedup();

    println!(
        "latency, examples/stamped_count.py fed by roo send --generate words --stamp (open loop, \
         --connections = cores), {seconds} s per point after {warmup_ms} ms unstamped warm-up, \
         {runs} runs per point, {cpus} CPUs"
    );
    let mut rows = vec![];
    for &cores in &core_counts {
        let mut rates: Vec<f64> = (0..runs)
            .map(|_| max_rate_run(cores, max_messages))
            .collect();
        let lo = rates.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = rates.iter().cloned().fold(0.0, f64::max);
        let max = median(&mut rates);
        println!(
            "max sustainable rate, {cores} core(s): {max:.0} msg/s (unpaced, {max_messages} messages, \
             first byte sent to last result received; min {lo:.0}, max {hi:.0}); {}",
            tool_placement(cores)
        );
        for &pct in &percents {
            let rate = max * pct as f64 / 100.0;
            let results: Vec<Run> = (0..runs)
                .map(|_| latency_run(cores, rate, seconds, warmup_ms))
                .collect();
            rows.push(row(
                format!("{cores}"),
                format!("{rate:.0} ({pct}%)"),
                Some(pct),
                cores,
                &results,
            ));
            if floor && pct == 50 {
                let results: Vec<Run> = (0..runs)
                    .map(|_| tools_only_run(cores, cores, rate, seconds))
                    .collect();
                rows.push(row(
                    "tools".into(),
                    format!("{rate:.0} ({pct}%)"),
                    None,
                    cores,
                    &results,
                ));
            }
        }
    }
    println!();
    println!(
        "{:>5} {:>15} {:>8} {:>8} {:>8} {:>8} {:>19} {:>8} {:>8} {:>8} {:>17}",
        "cores",
        "rate msg/s",
        "sent/s",
        "p50",
        "p90",
        "p99",
        "(p99 min-max)",
        "p99.9",
        "p99.99",
        "max",
        "roo p50/p99"
    );
    for r in &rows {
        let engine = if r.engine.0.is_nan() {
            "-".to_string()
        } else {
            format!("{:.0}/{:.0}", r.engine.0, r.engine.1)
        };
        println!(
            "{:>5} {:>15} {:>8.0} {:>8.1} {:>8.1} {:>8.1} {:>19} {:>8.1} {:>8.1} {:>8.1} {:>17}",
            r.label,
            r.rate,
            r.sent,
            r.q[0],
            r.q[1],
            r.q[2],
            format!("({:.0}-{:.0})", r.p99_min, r.p99_max),
            r.q[3],
            r.q[4],
            r.q[5],
            engine
        );
    }
    println!(
        "latencies in µs (scheduled send -> received), median of {runs} runs; sent/s: rate roo \
         send achieved; tools: roo send straight into roo receive at that rate (the floor, \
         no roo run); roo p50/p99: roo run's own ingest->sink figures (worst core, warm-up \
         included)"
    );
    println!();
    let stalls = Stalls::measure(stall_seconds);
    println!(
        "machine floor: a thread spinning alone on CPU 0 for {stall_seconds} s (nothing else of \
         the bench running) lost {:.2}% of the time in {} stalls > {} µs, longest {:.0} µs; a \
         message arriving at a random moment waits for the CPU p99 {:.1} µs, p99.9 {:.1} µs, \
         p99.99 {:.1} µs (one hop; a message here crosses three processes)",
        100.0 * stalls.lost_fraction(),
        stalls.gaps.len(),
        STALL_NS / 1000,
        stalls.gaps.iter().copied().max().unwrap_or(0) as f64 / 1000.0,
        stalls.wait_quantile(0.99),
        stalls.wait_quantile(0.999),
        stalls.wait_quantile(0.9999)
    );
    println!();
    println!("targets at 50% of max: p50 <= 50 us, p99 <= 250 us, p99.99 <= 1000 us");
    for r in rows.iter().filter(|r| r.pct == Some(50)) {
        let check = |v: f64, limit: f64| if v <= limit { "met" } else { "MISSED" };
        println!(
            "  {} core(s): p50 {:.1} {}, p99 {:.1} {}, p99.99 {:.1} {}",
            r.cores,
            r.q[0],
            check(r.q[0], 50.0),
            r.q[2],
            check(r.q[2], 250.0),
            r.q[4],
            check(r.q[4], 1000.0)
        );
    }
}
