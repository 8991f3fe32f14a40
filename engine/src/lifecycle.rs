//! Start, drain and stop, agreed between the cores and the main thread through a few
//! atomics touched once per batch (never per message).
//!
//! Running -> Draining (a signal, or every source closed with `--exit-when-idle`): the
//! acceptor stops and sources stop reading; what was read is finished. Once no routed
//! batch is in flight and every sink queue is empty, an app with tick hooks (windows)
//! goes through Flushing: every core runs its final ticks once, and their output is
//! drained the same way. Then Done: sinks close and the cores return their summaries.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const FLUSHING: u8 = 2;
const DONE: u8 = 3;

#[derive(Default)]
pub struct Lifecycle {
    phase: AtomicU8,
    /// Set by SIGINT/SIGTERM.
    signalled: Arc<AtomicBool>,
    connections_accepted: AtomicU64,
    connections_closed: AtomicU64,
    routed_sent: AtomicU64,
    routed_done: AtomicU64,
    /// Bytes handed to sink queues and not yet written to a socket, over all cores.
    sink_bytes_pending: AtomicU64,
    /// Cores that ran their final ticks.
    cores_flushed: AtomicU64,
}

impl Lifecycle {
    pub fn new() -> Arc<Lifecycle> {
        let lifecycle = Arc::new(Lifecycle::default());
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration only fails for forbidden signals; these two are allowed.
            let _ = signal_hook::flag::register(signal, lifecycle.signalled.clone());
        }
        lifecycle
    }

    pub fn running(&self) -> bool {
        self.phase.load(Ordering::Acquire) == RUNNING
    }

    pub fn done(&self) -> bool {
        self.phase.load(Ordering::Acquire) == DONE
    }

    /// Draining, and not yet told to flush (or stop).
    pub fn draining(&self) -> bool {
        self.phase.load(Ordering::Acquire) == DRAINING
    }

    pub fn flushing(&self) -> bool {
        self.phase.load(Ordering::Acquire) == FLUSHING
    }

    /// A core ran its final ticks and handed their output on.
    pub fn core_flushed(&self) {
        self.cores_flushed.fetch_add(1, Ordering::AcqRel);
    }

    pub fn connection_opened(&self) {
        self.connections_accepted.fetch_add(1, Ordering::AcqRel);
    }

    pub fn connection_closed(&self) {
        self.connections_closed.fetch_add(1, Ordering::AcqRel);
    }

    pub fn routed_sent(&self, messages: u64) {
        self.routed_sent.fetch_add(messages, Ordering::AcqRel);
    }

    pub fn routed_done(&self, messages: u64) {
        self.routed_done.fetch_add(messages, Ordering::AcqRel);
    }

    pub fn sink_bytes_queued(&self, bytes: u64) {
        self.sink_bytes_pending.fetch_add(bytes, Ordering::AcqRel);
    }

    pub fn sink_bytes_written(&self, bytes: u64) {
        self.sink_bytes_pending.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Asks every core to stop (used when start-up fails on one of them).
    pub fn abort(&self) {
        self.phase.store(DONE, Ordering::Release);
    }

    fn idle(&self) -> bool {
        let accepted = self.connections_accepted.load(Ordering::Acquire);
        accepted > 0 && self.connections_closed.load(Ordering::Acquire) == accepted
    }

    fn drained(&self) -> bool {
        self.connections_closed.load(Ordering::Acquire)
            == self.connections_accepted.load(Ordering::Acquire)
            && self.routed_done.load(Ordering::Acquire) == self.routed_sent.load(Ordering::Acquire)
            && self.sink_bytes_pending.load(Ordering::Acquire) == 0
    }

    /// The main thread's loop: returns once the cores may stop, and whether everything was
    /// delivered (false when `give_up` passed while sinks still held data). `flush_cores`:
    /// how many cores must run final ticks once input is drained (0: the app has none).
    pub fn supervise(&self, exit_when_idle: bool, give_up: Duration, flush_cores: u64) -> bool {
        while self.running() {
            if self.signalled.load(Ordering::Acquire) || (exit_when_idle && self.idle()) {
                self.phase.store(DRAINING, Ordering::Release);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut last_progress = Instant::now();
        let mut last_pending = u64::MAX;
        let mut quiet_checks = 0;
        while !self.done() {
            if self.drained() {
                // Twice in a row: a batch could be between a queue and a counter.
                quiet_checks += 1;
                if quiet_checks >= 2 {
                    if flush_cores > 0 && self.draining() {
                        self.phase.store(FLUSHING, Ordering::Release);
                        quiet_checks = 0;
                    } else if self.cores_flushed.load(Ordering::Acquire) >= flush_cores {
                        break;
                    }
                }
            } else {
                quiet_checks = 0;
            }
            let pending = self.sink_bytes_pending.load(Ordering::Acquire);
            if pending != last_pending {
                last_pending = pending;
                last_progress = Instant::now();
            } else if last_progress.elapsed() > give_up {
                eprintln!(
                    "roo: giving up on {pending} bytes that no sink accepted in {} s",
                    give_up.as_secs()
                );
                self.phase.store(DONE, Ordering::Release);
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.phase.store(DONE, Ordering::Release);
        true
    }
}
