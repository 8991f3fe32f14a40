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
//! The counts also bound how far behind a core gets: the channels to it could otherwise
//! hold hundreds of thousands of messages, and a core that hands its parallel steps over
//! reads faster than it runs what comes back to it.

use crate::flow::{BEHIND, KEEPING_UP, OTHERS_PAUSE_AT, OWN_PAUSE_AT};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A counter on a cache line of its own: every core writes these.
#[repr(align(128))]
struct Counter(AtomicUsize);

pub struct Backlogs {
    routed_in: Vec<Counter>,
}

impl Backlogs {
    pub fn new(cores: usize) -> Backlogs {
        Backlogs {
            routed_in: (0..cores).map(|_| Counter(AtomicUsize::new(0))).collect(),
        }
    }

    /// `messages` were routed to core `to`.
    pub fn sent(&self, to: usize, messages: usize) {
        self.routed_in[to].0.fetch_add(messages, Ordering::Relaxed);
    }

    /// Core `on` ran `messages` routed to it.
    pub fn ran(&self, on: usize, messages: usize) {
        self.routed_in[on].0.fetch_sub(messages, Ordering::Relaxed);
    }

    /// Messages routed to `core` that it has not run yet.
    pub fn waiting(&self, core: usize) -> usize {
        self.routed_in[core].0.load(Ordering::Relaxed)
    }

    /// Whether core `here` should stop reading its sources for now: another core is far
    /// behind, or `here` itself is very far behind.
    pub fn should_pause(&self, here: usize) -> bool {
        (0..self.routed_in.len()).any(|core| {
            let limit = if core == here {
                OWN_PAUSE_AT
            } else {
                OTHERS_PAUSE_AT
            };
            self.waiting(core) > limit
        })
    }

    /// The core to run a parallel step of a message on core `here`: `here`, unless it is
    /// behind and the least loaded other core is keeping up.
    pub fn parallel_runner(&self, here: usize) -> usize {
        if self.waiting(here) <= BEHIND {
            return here;
        }
        (0..self.routed_in.len())
            .filter(|&core| core != here)
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
