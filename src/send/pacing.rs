//! Paced sending: the pacing `--rate`, `--interval` and `--batch` ask for, and the one
//! thread that sends every connection's messages at their scheduled times.

use super::conn::{Conn, Scratch};
use super::Plan;
use std::thread;
use std::time::{Duration, Instant};

/// giles sender's pacing defaults: messages per batch, and nanoseconds between batches.
const GILES_BATCH: u64 = 500;
const GILES_INTERVAL_NS: u64 = 5_000_000;

/// The per-connection messages per second and batch size that `--rate`, `--interval` and
/// `--batch` ask for over `connections` connections (`None`: unpaced).
pub(super) fn pacing(
    rate: Option<f64>,
    interval: Option<u64>,
    batch: Option<u64>,
    connections: u64,
) -> Result<Option<(f64, u64)>, String> {
    // giles's sender always paced: a batch of 500 every 5 ms unless told otherwise.
    let giles_pacing = |batch: Option<u64>, interval_ns: u64| {
        let batch = batch.unwrap_or(GILES_BATCH);
        (batch as f64 * 1e9 / interval_ns as f64, batch)
    };
    Ok(match (rate, interval, batch) {
        (Some(r), _, _) if !(r.is_finite() && r > 0.0) => {
            return Err(format!("--rate must be a positive number, not {r}"))
        }
        (Some(r), _, batch) => Some((r / connections as f64, batch.unwrap_or(1))),
        (None, Some(0), _) => return Err("--interval must be at least 1 nanosecond".into()),
        (None, Some(ns), batch) => Some(giles_pacing(batch, ns)),
        (None, None, Some(batch)) => Some(giles_pacing(Some(batch), GILES_INTERVAL_NS)),
        (None, None, None) => None,
    })
}

/// Paced: one thread drives every connection, so that only one spins however many there
/// are. Burst `b` is due `b x batch / per-connection rate` after the start and gives each
/// connection its next `batch` messages (message `i` on connection `i % N`), all stamped
/// with that time. A peer that stops reading holds back the others (their messages keep
/// their scheduled stamps, so the wait counts as latency).
pub(super) fn run_paced(
    mut conns: Vec<Conn>,
    plan: &Plan,
    start: Instant,
    start_nanos: u64,
) -> Result<(), String> {
    let (per_conn_rate, batch) = plan.pacing.expect("paced");
    let interval = batch as f64 / per_conn_rate;
    let burst_len = batch * plan.connections;
    let mut scratch = Scratch::default();
    let mut i = 0;
    'send: for burst in 0u64.. {
        let due = Duration::from_secs_f64(burst as f64 * interval);
        if start.elapsed() < due {
            for conn in &mut conns {
                conn.flush()?;
            }
            wait_until(start + due, plan.spin);
        }
        if plan.deadline.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        let stamp_at = start_nanos + due.as_nanos() as u64;
        for _ in 0..burst_len {
            if plan.total.is_some_and(|t| i >= t) {
                break 'send;
            }
            conns[(i % plan.connections) as usize].push(plan, i, Some(stamp_at), &mut scratch)?;
            i += 1;
        }
    }
    for conn in conns {
        conn.finish()?;
    }
    Ok(())
}

/// Sleeps until `spin` before `due`, then spins (yielding the CPU to anything
/// else runnable) until it.
fn wait_until(due: Instant, spin: Duration) {
    let now = Instant::now();
    if due > now + spin {
        thread::sleep(due - now - spin);
    }
    while Instant::now() < due {
        thread::yield_now();
    }
}
