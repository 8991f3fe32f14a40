//! What the end-to-end benchmarks share: paths, settings, ports, child processes, medians,
//! deterministic random numbers.
// Each bench uses part of this module.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

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
