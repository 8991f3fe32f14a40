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
    /// Batches (of any kind) the cores started and ended: how the drain sees cores still
    /// working.
    batches_started: AtomicU64,
    batches_ended: AtomicU64,
    /// Cores that ran their final ticks.
    cores_flushed: AtomicU64,
}

impl Lifecycle {
    pub fn new() -> Arc<Lifecycle> {
        let lifecycle = Arc::new(Lifecycle::default());
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration only fails for forbidden signals; these two are allowed. A
            // signal during the drain changes nothing: wrappers such as `timeout` deliver
            // one signal twice (to the process and to its group), so "a second signal
            // stops at once" would cut short the drain the first one asked for.
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

    /// A core starts a batch (once per batch, never per message); it ends when the mark
    /// drops, also if the batch panics, so a dead core does not look busy forever.
    pub fn batch_running(&self) -> BatchMark<'_> {
        self.batches_started.fetch_add(1, Ordering::AcqRel);
        BatchMark(self)
    }

    /// Some core is inside a batch now.
    fn in_batch(&self) -> bool {
        self.batches_ended.load(Ordering::Acquire) != self.batches_started.load(Ordering::Acquire)
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

    /// ", and N routed messages not run" when some are, for the give-up message.
    fn routed_not_run(&self) -> String {
        let sent = self.routed_sent.load(Ordering::Acquire);
        let done = self.routed_done.load(Ordering::Acquire);
        match sent.saturating_sub(done) {
            0 => String::new(),
            waiting => format!(", and {waiting} routed messages not run"),
        }
    }

    fn drained(&self) -> bool {
        self.connections_closed.load(Ordering::Acquire)
            == self.connections_accepted.load(Ordering::Acquire)
            && self.routed_done.load(Ordering::Acquire) == self.routed_sent.load(Ordering::Acquire)
            && self.sink_bytes_pending.load(Ordering::Acquire) == 0
    }

    /// What changes while the drain moves: batches ended, sink bytes queued or written.
    fn progress(&self) -> (u64, u64) {
        (
            self.batches_ended.load(Ordering::Acquire),
            self.sink_bytes_pending.load(Ordering::Acquire),
        )
    }

    /// The main thread's loop: returns once the cores may stop, and whether everything was
    /// delivered (false when for `give_up` no core was inside a batch, none ended one and
    /// no sink accepted a byte). A drain whose cores are still running batches (slow app
    /// code, routed messages waiting) is waited for, however long it takes.
    /// `flush_cores`: how many cores must run final ticks once input is drained (0: the app
    /// has none).
    pub fn supervise(&self, exit_when_idle: bool, give_up: Duration, flush_cores: u64) -> bool {
        while self.running() {
            if self.signalled.load(Ordering::Acquire) || (exit_when_idle && self.idle()) {
                self.phase.store(DRAINING, Ordering::Release);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut last_change = Instant::now();
        let mut last_progress = self.progress();
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
            let progress = self.progress();
            if progress != last_progress || self.in_batch() {
                last_progress = progress;
                last_change = Instant::now();
            } else if last_change.elapsed() > give_up {
                eprintln!(
                    "roo: giving up on {} bytes that no sink accepted in {} s{}",
                    progress.1,
                    give_up.as_secs(),
                    self.routed_not_run()
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

/// A batch a core is running; dropping it ends the batch.
pub struct BatchMark<'a>(&'a Lifecycle);

impl Drop for BatchMark<'_> {
    fn drop(&mut self) {
        self.0.batches_ended.fetch_add(1, Ordering::AcqRel);
    }
}
