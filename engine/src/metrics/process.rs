//! The process's own figures for the scrape: resident memory and CPU time used.

use nix::sys::resource::{getrusage, UsageWho};

/// Resident set size in bytes (`VmRSS` of /proc/self/status), if it can be read.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User and system CPU time of every thread so far, in seconds.
pub fn cpu_seconds() -> Option<f64> {
    let usage = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let seconds =
        |time: nix::sys::time::TimeVal| time.tv_sec() as f64 + time.tv_usec() as f64 / 1_000_000.0;
    Some(seconds(usage.user_time()) + seconds(usage.system_time()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_memory_and_used_some_cpu() {
        assert!(super::resident_bytes().unwrap() > 1024 * 1024);
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_millis(20) {}
        assert!(super::cpu_seconds().unwrap() > 0.0);
    }
}
