//! Start, drain and stop, agreed between the cores and the main thread through a few
//! atomics touched once per batch (never per message).
//!
//! Running -> Draining (a signal, or every source closed with `--exit-when-idle`): the
//! acceptor stops and sources stop reading; what was read is finished. Once no routed
//! batch is in flight and every sink queue is empty, an app with tick hooks (windows)
//! goes through Flushing: every core runs its final ticks once, and their output is
//! drained the same way. Then Done: sinks close and the cores return their summaries.

use crate::flow;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Signals within this long of the one that started the drain change nothing: wrappers
/// such as `timeout` deliver one signal twice (to the process and to its group). A later
/// one stops roo without finishing the drain.
const REPEAT_SIGNAL_AFTER: Duration = Duration::from_secs(2);
/// How often a drain that is still waiting says what for.
const DRAIN_REPORT_EVERY: Duration = Duration::from_secs(5);

const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const FLUSHING: u8 = 2;
const DONE: u8 = 3;

#[derive(Default)]
pub struct Lifecycle {
    phase: AtomicU8,
    /// SIGINT, SIGTERM and SIGHUP received so far, and the last of them.
    stop_signals: AtomicU64,
    last_signal: AtomicI32,
    /// SIGUSR1 received so far: each asks for a status line.
    status_requests: AtomicU64,
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
    /// Commit points under way (see `pause_sources`): while any is, sources do not read.
    pauses: AtomicU64,
    /// A clean shutdown asked for on the external channel.
    drain_asked: AtomicBool,
}

impl Lifecycle {
    /// A lifecycle that hears SIGINT, SIGTERM and SIGHUP (drain, then stop) and SIGUSR1
    /// (print a status line) on a thread of its own.
    pub fn new() -> Result<Arc<Lifecycle>, String> {
        let lifecycle = Arc::new(Lifecycle::default());
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGUSR1])
            .map_err(|e| format!("cannot handle signals: {e}"))?;
        let heard = lifecycle.clone();
        std::thread::Builder::new()
            .name("roo-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    if signal == SIGUSR1 {
                        heard.status_requests.fetch_add(1, Ordering::AcqRel);
                    } else {
                        heard.last_signal.store(signal, Ordering::Release);
                        heard.stop_signals.fetch_add(1, Ordering::AcqRel);
                    }
                }
            })
            .map_err(|e| format!("cannot start the signal thread: {e}"))?;
        Ok(lifecycle)
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
        self.cores_in_batch() > 0
    }

    /// Cores inside a batch now (each runs one batch at a time).
    fn cores_in_batch(&self) -> u64 {
        // Ended first: a batch that starts between the two loads then counts.
        let ended = self.batches_ended.load(Ordering::Acquire);
        self.batches_started
            .load(Ordering::Acquire)
            .saturating_sub(ended)
    }

    /// Routed messages sent and not yet run.
    fn routed_waiting(&self) -> u64 {
        self.routed_sent
            .load(Ordering::Acquire)
            .saturating_sub(self.routed_done.load(Ordering::Acquire))
    }

    pub fn sink_bytes_queued(&self, bytes: u64) {
        self.sink_bytes_pending.fetch_add(bytes, Ordering::AcqRel);
    }

    pub fn sink_bytes_written(&self, bytes: u64) {
        self.sink_bytes_pending.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Stops every source from reading (at its next batch boundary) until `resume_sources`,
    /// so that what was read can run to its end: a commit point. Routed messages and sink
    /// writes go on.
    pub fn pause_sources(&self) {
        self.pauses.fetch_add(1, Ordering::AcqRel);
    }

    pub fn resume_sources(&self) {
        self.pauses.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn sources_paused(&self) -> bool {
        self.pauses.load(Ordering::Acquire) > 0
    }

    /// Whether everything that was read has run and been written out: no core is inside a
    /// batch, no routed message waits, no sink byte is pending (a Kafka sink's bytes count
    /// until the broker acknowledged them). With sources paused this stays true.
    pub fn settled(&self) -> bool {
        self.cores_in_batch() == 0
            && self.routed_waiting() == 0
            && self.sink_bytes_pending.load(Ordering::Acquire) == 0
    }

    /// Waits, with sources paused, until `settled` holds twice in a row with no batch
    /// started in between (a source that had passed its pause check may still be
    /// starting one); false if that takes longer than `flow::COMMIT_SETTLE_LIMIT`.
    pub fn settle(&self) -> bool {
        let deadline = Instant::now() + flow::COMMIT_SETTLE_LIMIT;
        while Instant::now() < deadline {
            if self.settled() {
                let started = self.batches_started.load(Ordering::Acquire);
                std::thread::sleep(flow::COMMIT_SETTLE_CHECK);
                if self.settled() && self.batches_started.load(Ordering::Acquire) == started {
                    return true;
                }
            }
            std::thread::sleep(flow::COMMIT_SETTLE_CHECK);
        }
        self.done()
    }

    /// Asks for the drain a first SIGTERM starts (the external channel's CleanShutdown).
    pub fn ask_drain(&self) {
        self.drain_asked.store(true, Ordering::Release);
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
        match self.routed_waiting() {
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

    /// The main thread's loop: returns once the cores may stop, and how the drain ended.
    /// A drain whose cores are still running batches (slow app code, routed messages
    /// waiting) is waited for, however long it takes, unless `drain_timeout` passes or a
    /// second signal comes (see [`REPEAT_SIGNAL_AFTER`]); it gives up when for `give_up` no
    /// core was inside a batch, none ended one and no sink accepted a byte.
    /// `flush_cores`: how many cores must run final ticks once input is drained (0: the app
    /// has none).
    pub fn supervise(
        &self,
        exit_when_idle: bool,
        limits: DrainLimits,
        flush_cores: u64,
    ) -> DrainEnd {
        let mut statuses = 0;
        let mut signals = SignalWatch::default();
        while self.running() {
            self.report_status(&mut statuses, "running");
            if signals.heard(self) == Heard::First {
                eprintln!(
                    "roo: {}: draining: finishing what was read (a second signal {} s or more \
                     later, or --drain-timeout {} s, stops without finishing); waiting for {}",
                    signal_name(self.last_signal.load(Ordering::Acquire)),
                    REPEAT_SIGNAL_AFTER.as_secs(),
                    limits.drain_timeout.as_secs(),
                    self.unfinished()
                );
                self.phase.store(DRAINING, Ordering::Release);
            } else if self.drain_asked.load(Ordering::Acquire) {
                eprintln!(
                    "roo: clean shutdown asked on the external channel: draining: finishing \
                     what was read"
                );
                self.phase.store(DRAINING, Ordering::Release);
            } else if exit_when_idle && self.idle() {
                self.phase.store(DRAINING, Ordering::Release);
            }
            std::thread::sleep(crate::flow::PHASE_POLL);
        }
        let drain_start = Instant::now();
        let mut next_report = drain_start + DRAIN_REPORT_EVERY;
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
            self.report_status(&mut statuses, "draining");
            let cut = if drain_start.elapsed() >= limits.drain_timeout {
                Some(format!(
                    "the drain took longer than --drain-timeout {} s",
                    limits.drain_timeout.as_secs()
                ))
            } else if signals.heard(self) == Heard::Repeated {
                Some(format!(
                    "{} during the drain",
                    signal_name(self.last_signal.load(Ordering::Acquire))
                ))
            } else {
                None
            };
            if let Some(why) = cut {
                self.phase.store(DONE, Ordering::Release);
                return DrainEnd::Cut(format!(
                    "roo: stopping without finishing: {why}; not finished: {}",
                    self.unfinished()
                ));
            }
            if Instant::now() >= next_report {
                next_report += DRAIN_REPORT_EVERY;
                eprintln!(
                    "roo: draining for {} s, waiting for {}",
                    drain_start.elapsed().as_secs(),
                    self.unfinished()
                );
            }
            let progress = self.progress();
            if progress != last_progress || self.in_batch() {
                last_progress = progress;
                last_change = Instant::now();
            } else if last_change.elapsed() > limits.give_up {
                eprintln!(
                    "roo: giving up on {} bytes that no sink accepted in {} s{}",
                    progress.1,
                    limits.give_up.as_secs(),
                    self.routed_not_run()
                );
                self.phase.store(DONE, Ordering::Release);
                return DrainEnd::GaveUp;
            }
            std::thread::sleep(crate::flow::PHASE_POLL);
        }
        self.phase.store(DONE, Ordering::Release);
        DrainEnd::Complete
    }

    /// Prints a status line for each SIGUSR1 not yet answered.
    fn report_status(&self, answered: &mut u64, phase: &str) {
        let asked = self.status_requests.load(Ordering::Acquire);
        if asked > *answered {
            *answered = asked;
            eprintln!(
                "roo: status ({phase}): {} source connections open ({} accepted so far), {} \
                 batches run, {}",
                self.connections_open(),
                self.connections_accepted.load(Ordering::Acquire),
                self.batches_ended.load(Ordering::Acquire),
                self.unfinished()
            );
        }
    }

    /// Source connections (and generators) opened and not yet closed.
    pub fn connections_open(&self) -> u64 {
        let accepted = self.connections_accepted.load(Ordering::Acquire);
        accepted.saturating_sub(self.connections_closed.load(Ordering::Acquire))
    }

    /// What is still in progress: connections being read, routed messages not run, cores
    /// inside a batch, sink bytes not written.
    fn unfinished(&self) -> String {
        format!(
            "{} source connections still being read, {} routed messages not run, {} cores \
             inside a batch (app code running), {} sink bytes not written",
            self.connections_open(),
            self.routed_waiting(),
            self.cores_in_batch(),
            self.sink_bytes_pending.load(Ordering::Acquire)
        )
    }
}

/// What a look at the stop signals found.
#[derive(PartialEq)]
enum Heard {
    Nothing,
    /// The first stop signal (or one delivered twice).
    First,
    /// A stop signal at least `REPEAT_SIGNAL_AFTER` after the first.
    Repeated,
}

/// The stop signals seen so far by the main thread's loop.
#[derive(Default)]
struct SignalWatch {
    seen: u64,
    first_at: Option<Instant>,
}

impl SignalWatch {
    fn heard(&mut self, lifecycle: &Lifecycle) -> Heard {
        let count = lifecycle.stop_signals.load(Ordering::Acquire);
        if count == self.seen {
            return Heard::Nothing;
        }
        self.seen = count;
        match self.first_at {
            None => {
                self.first_at = Some(Instant::now());
                Heard::First
            }
            // A signal delivered twice (`timeout` does) is one request.
            Some(first) if first.elapsed() < REPEAT_SIGNAL_AFTER => Heard::Nothing,
            Some(_) => Heard::Repeated,
        }
    }
}

/// How long a drain may take.
#[derive(Clone, Copy)]
pub struct DrainLimits {
    /// The drain stops without finishing after this long.
    pub drain_timeout: Duration,
    /// ... or after this long without any progress.
    pub give_up: Duration,
}

/// How a drain ended.
#[derive(Debug, PartialEq)]
pub enum DrainEnd {
    /// Everything read was run and every output written.
    Complete,
    /// No sink accepted the output left for `give_up`.
    GaveUp,
    /// A second signal or the drain timeout: what was left is named in the text.
    Cut(String),
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// A batch a core is running; dropping it ends the batch.
pub struct BatchMark<'a>(&'a Lifecycle);

impl Drop for BatchMark<'_> {
    fn drop(&mut self) {
        self.0.batches_ended.fetch_add(1, Ordering::AcqRel);
    }
}
