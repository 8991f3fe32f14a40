//! How far behind each core is, and where a `to_parallel` step runs because of it.
//!
//! A core's backlog is the number of messages other cores routed to it that it has not
//! run yet: counted up by the sender when a batch leaves, down by the owner once it ran
//! the batch (one relaxed atomic update per batch each way). Partitions are rarely equal
//! in weight (the word count's first letters put well over half the words on one of two
//! cores), so the core owning the heavier ones falls behind, its peers' outboxes to it
//! fill, and they stop reading: idle time beside an overloaded core. Wallaroo let
//! parallel steps run on any worker; here a core that is behind hands its parallel steps
//! to a core that is not, and they are run there.
//!
//! A core is also behind while its own input waits (its last read filled the buffer) and
//! another core's does not: the word count's lighter core finishes its connection first
//! and would idle through the other's last lines.
//!
//! The counts also bound how far behind a core gets: the channels to it could otherwise
//! hold hundreds of thousands of messages, and a core that hands its parallel steps over
//! reads faster than it runs what comes back to it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A core with more routed messages than this waiting for it is behind...
const BEHIND: usize = 2048;
/// ...and hands its parallel steps to a core with at most this many waiting.
const KEEPING_UP: usize = 512;
/// Every other core stops reading while one core has more than this waiting...
const OTHERS_PAUSE_AT: usize = 32 * 1024;
/// ...and the core itself only beyond this: until then it reads on, running its own
/// input or handing its parallel steps over.
const OWN_PAUSE_AT: usize = 128 * 1024;

/// One core's figures, on a cache line of their own: every core writes these.
#[repr(align(128))]
#[derive(Default)]
struct Load {
    routed_in: AtomicUsize,
    /// Its last read filled the buffer: more input is waiting in the socket.
    input_waiting: AtomicBool,
}

pub struct Backlogs {
    cores: Vec<Load>,
}

impl Backlogs {
    pub fn new(cores: usize) -> Backlogs {
        Backlogs {
            cores: (0..cores).map(|_| Load::default()).collect(),
        }
    }

    /// Core `on` read its socket: `full`, the read filled the buffer.
    pub fn read(&self, on: usize, full: bool) {
        self.cores[on].input_waiting.store(full, Ordering::Relaxed);
    }

    fn input_waiting(&self, core: usize) -> bool {
        self.cores[core].input_waiting.load(Ordering::Relaxed)
    }

    /// `messages` were routed to core `to`.
    pub fn sent(&self, to: usize, messages: usize) {
        self.cores[to]
            .routed_in
            .fetch_add(messages, Ordering::Relaxed);
    }

    /// Core `on` ran `messages` routed to it.
    pub fn ran(&self, on: usize, messages: usize) {
        self.cores[on]
            .routed_in
            .fetch_sub(messages, Ordering::Relaxed);
    }

    /// Messages routed to `core` that it has not run yet.
    fn waiting(&self, core: usize) -> usize {
        self.cores[core].routed_in.load(Ordering::Relaxed)
    }

    /// Whether core `here` should stop reading its sources for now: another core is far
    /// behind, or `here` itself is very far behind.
    pub fn should_pause(&self, here: usize) -> bool {
        (0..self.cores.len()).any(|core| {
            let limit = if core == here {
                OWN_PAUSE_AT
            } else {
                OTHERS_PAUSE_AT
            };
            self.waiting(core) > limit
        })
    }

    /// The core to run a parallel step of a message on core `here`: `here`, unless it is
    /// behind and the least loaded other core is keeping up. Behind with routed input, a
    /// core that keeps up with its routed input will do (its own input may be paused
    /// because of `here`); behind with its own input only, the other core's must not wait.
    pub fn parallel_runner(&self, here: usize) -> usize {
        let routed_behind = self.waiting(here) > BEHIND;
        if !routed_behind && !self.input_waiting(here) {
            return here;
        }
        (0..self.cores.len())
            .filter(|&core| core != here && (routed_behind || !self.input_waiting(core)))
            .map(|core| (self.waiting(core), core))
            .min()
            .filter(|&(waiting, _)| waiting <= KEEPING_UP)
            .map_or(here, |(_, core)| core)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_keeping_up_runs_its_own_parallel_steps() {
        let backlogs = Backlogs::new(2);
        assert_eq!(backlogs.parallel_runner(0), 0);
        backlogs.sent(0, BEHIND);
        assert_eq!(backlogs.parallel_runner(0), 0);
    }

    #[test]
    fn a_core_behind_hands_them_to_the_least_loaded_core_keeping_up() {
        let backlogs = Backlogs::new(3);
        backlogs.sent(0, BEHIND + 1);
        backlogs.sent(1, KEEPING_UP);
        backlogs.sent(2, KEEPING_UP + 1);
        assert_eq!(backlogs.parallel_runner(0), 1);
        backlogs.sent(1, 2);
        // Nobody keeping up: the step stays.
        assert_eq!(backlogs.parallel_runner(0), 0);
        backlogs.ran(0, BEHIND + 1);
        assert_eq!(backlogs.parallel_runner(0), 0);
    }

    #[test]
    fn a_core_whose_input_waits_hands_steps_only_to_a_core_whose_input_does_not() {
        let backlogs = Backlogs::new(2);
        backlogs.read(0, true);
        backlogs.read(1, true);
        assert_eq!(backlogs.parallel_runner(0), 0);
        backlogs.read(1, false);
        assert_eq!(backlogs.parallel_runner(0), 1);
        assert_eq!(backlogs.parallel_runner(1), 1);
        // Behind with routed input, it hands over whatever the other core's input.
        backlogs.read(1, true);
        backlogs.sent(0, BEHIND + 1);
        assert_eq!(backlogs.parallel_runner(0), 1);
    }

    #[test]
    fn others_pause_sooner_than_the_core_behind() {
        let backlogs = Backlogs::new(2);
        backlogs.sent(0, OTHERS_PAUSE_AT + 1);
        assert!(backlogs.should_pause(1));
        assert!(!backlogs.should_pause(0));
        backlogs.sent(0, OWN_PAUSE_AT);
        assert!(backlogs.should_pause(0));
        backlogs.ran(0, OWN_PAUSE_AT + OTHERS_PAUSE_AT + 1);
        assert!(!backlogs.should_pause(0) && !backlogs.should_pause(1));
    }

    #[test]
    fn one_core_runs_everything() {
        let backlogs = Backlogs::new(1);
        backlogs.sent(0, 10 * BEHIND);
        assert_eq!(backlogs.parallel_runner(0), 0);
    }
}
