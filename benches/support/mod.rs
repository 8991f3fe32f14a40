//! What the end-to-end benchmarks share: paths, settings, ports, child processes, medians,
//! deterministic random numbers.
// Each bench uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The deterministic random numbers of generated data: roo send's own generator.
#[path = "../../src/rng.rs"]
pub mod rng;

const ROO: &str = env!("CARGO_BIN_EXE_roo");

/// The repository root (examples/ and benches/ live there).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A setting from the environment, or `default` when unset or unparsable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The Python that roo was built against (from .cargo/config.toml or the environment).
pub fn python() -> String {
    option_env!("PYO3_PYTHON")
        .unwrap_or("/root/.pyenv/versions/3.13.0/bin/python3.13")
        .to_string()
}

/// CPUs this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Whether roo on `cores` cores leaves CPUs to the load tools.
pub fn spare_cpus(cores: usize) -> bool {
    cores < cpus()
}

/// A `roo` command for a load tool (`roo send`, `roo receive`) while roo runs on `cores`
/// cores. `roo run` pins core i to CPU i; when CPUs are left over the tool is pinned to
/// them (with `taskset`), so it does not take time from roo's cores, as in a deployment
/// where the load comes from elsewhere. With no CPU to spare (or no taskset) it is unpinned.
pub fn roo_tool(cores: usize) -> Command {
    let cpus = cpus();
    // Whether taskset runs here, found out once per bench.
    static TASKSET: OnceLock<bool> = OnceLock::new();
    let taskset = *TASKSET.get_or_init(|| {
        Command::new("taskset")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if spare_cpus(cores) && taskset {
        let mut command = Command::new("taskset");
        command.args(["-c", &format!("{cores}-{}", cpus - 1), ROO]);
        command
    } else {
        Command::new(ROO)
    }
}

/// Where the load tools run, for the bench's header line.
pub fn tool_placement(cores: usize) -> String {
    let cpus = cpus();
    if spare_cpus(cores) {
        format!("sender and receiver pinned to CPUs {cores}-{}", cpus - 1)
    } else {
        "sender and receiver share roo's CPUs".to_string()
    }
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the process when dropped, so an early return never leaves it running.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (median, min, max) of repeated measurements.
pub fn median_min_max(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(|a, b| a.total_cmp(b));
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

/// Waits (up to `timeout`) for `child` to exit on its own, and returns the user plus
/// system CPU seconds it used: read from /proc/PID/stat while it is a zombie, before it is
/// reaped (after that the figures are gone). NaN if it did not exit in time.
pub fn cpu_seconds_at_exit(child: &mut Child, timeout: std::time::Duration) -> f64 {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): state, then utime and
        // stime as the 12th and 13th, in USER_HZ (100 per second on Linux).
        let fields: Vec<&str> = stat
            .rsplit(") ")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if fields.first() == Some(&"Z") {
            let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
            let seconds = match (ticks(11), ticks(12)) {
                (Some(user), Some(system)) => (user + system) / 100.0,
                _ => f64::NAN,
            };
            let _ = child.wait();
            return seconds;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    f64::NAN
}

/// The machine's CPU time so far, in USER_HZ ticks: (all, stolen by the host), from /proc/stat.
pub fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let all = fields.iter().take(8).sum();
    (all, fields.get(7).copied().unwrap_or(0))
}

/// Percentage of the machine's CPU time the host stole since `before` (from machine_ticks).
pub fn steal_percent_since(before: (u64, u64)) -> f64 {
    let now = machine_ticks();
    let all = now.0.saturating_sub(before.0);
    if all == 0 {
        return 0.0;
    }
    100.0 * now.1.saturating_sub(before.1) as f64 / all as f64
}

/// A deterministic English-like text: `lines` lines of 10 words drawn with Zipf's law
/// (s = 1) from 5000 made-up words, some followed by punctuation. As in real text, the top
/// word is about 11% of all words; first letters are spread over the alphabet.
pub fn write_text(path: &Path, lines: usize) {
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

/// Reads `roo run`'s stderr until it says `roo: ready`; returns the rest of it to read,
/// and what it said until then.
pub fn wait_ready(child: &mut Child) -> (BufReader<std::process::ChildStderr>, String) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut said = String::new();
    while Instant::now() < deadline {
        let start = said.len();
        if stderr.read_line(&mut said).unwrap() == 0 {
            panic!("roo run exited before it was ready: {said}");
        }
        if said[start..].contains("roo: ready") {
            return (stderr, said);
        }
    }
    panic!("roo run not ready in 60 s");
}

/// What one end-to-end run measured.
pub struct RunFigures {
    /// From the first byte sent to the last output line received.
    pub seconds: f64,
    /// CPU time roo used over the whole run (start-up included).
    pub roo_cpu_seconds: f64,
    /// Share of the machine's CPU time the host stole during the run, %.
    pub steal_percent: f64,
}

/// One run of examples/word_count.py (with `extra` roo run options) over `text`, which
/// holds `words` words; also returns what roo printed after `roo: ready`.
pub fn word_count_run(
    text: &Path,
    words: usize,
    cores: usize,
    extra: &[&str],
) -> (RunFigures, String) {
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
        .args(extra)
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
    let (mut stderr, _) = wait_ready(&mut worker.0);
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
    let mut said = String::new();
    let _ = stderr.read_to_string(&mut said);
    let figures = RunFigures {
        seconds,
        roo_cpu_seconds,
        steal_percent,
    };
    (figures, said)
}
