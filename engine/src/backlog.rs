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

use std::sync::atomic::{AtomicUsize, Ordering};

/// A core with more routed messages than this waiting for it is behind...
const BEHIND: usize = 2048;
/// ...and hands its parallel steps to a core with at most this many waiting.
const KEEPING_UP: usize = 512;

pub struct Backlogs {
    routed_in: Vec<AtomicUsize>,
}

impl Backlogs {
    pub fn new(cores: usize) -> Backlogs {
        Backlogs {
            routed_in: (0..cores).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// `messages` were routed to core `to`.
    pub fn sent(&self, to: usize, messages: usize) {
        self.routed_in[to].fetch_add(messages, Ordering::Relaxed);
    }

    /// Core `on` ran `messages` routed to it.
    pub fn ran(&self, on: usize, messages: usize) {
        self.routed_in[on].fetch_sub(messages, Ordering::Relaxed);
    }

    /// Messages routed to `core` that it has not run yet.
    pub fn waiting(&self, core: usize) -> usize {
        self.routed_in[core].load(Ordering::Relaxed)
    }

    /// The most messages waiting for any one core other than `here`.
    pub fn most_waiting_for_others(&self, here: usize) -> usize {
        (0..self.routed_in.len())
            .filter(|&core| core != here)
            .map(|core| self.waiting(core))
            .max()
            .unwrap_or(0)
    }

    /// The core to run a parallel step of a message on core `here`: `here`, unless it is
    /// behind and the least loaded other core is keeping up.
    pub fn parallel_runner(&self, here: usize) -> usize {
        if self.waiting(here) <= BEHIND {
            return here;
        }
        (0..self.routed_in.len())
            .filter(|&core| core != here)
            .min_by_key(|&core| self.waiting(core))
            .filter(|&core| self.waiting(core) <= KEEPING_UP)
            .unwrap_or(here)
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
    fn one_core_runs_everything() {
        let backlogs = Backlogs::new(1);
        backlogs.sent(0, 10 * BEHIND);
        assert_eq!(backlogs.parallel_runner(0), 0);
    }
}
