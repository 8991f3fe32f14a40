//! Counting every error, and logging only a bounded number per window, so a flood of bad
//! input or a failing hook cannot become a flood of log lines.
//!
//! Each place (a step, a source, an encoder) has a budget of its own, so one noisy kind of
//! error cannot hide the others; a total cap bounds them together. When a window ends,
//! each place that had errors not logged says how many.

use model::counters::CoreCounters;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(10);
/// Lines logged per place per window.
const LINES_PER_PLACE: u32 = 10;
/// Lines logged per window over every place.
const LINES_PER_WINDOW: u32 = 50;

struct PlaceErrors {
    /// The place's counter in the core's counters (where its total is kept).
    slot: usize,
    logged_in_window: u32,
    not_logged_in_window: u64,
}

/// Counts errors by place ("step 'Split' of pipeline 'P'", ...) in the core's counters,
/// and limits what is logged.
pub struct ErrorLog {
    counters: Arc<CoreCounters>,
    places: BTreeMap<String, PlaceErrors>,
    window_start: Instant,
    logged_in_window: u32,
}

impl ErrorLog {
    pub fn new(counters: Arc<CoreCounters>) -> ErrorLog {
        ErrorLog {
            counters,
            places: BTreeMap::new(),
            window_start: Instant::now(),
            logged_in_window: 0,
        }
    }

    /// Counts one error at `place`; true when it should also be logged (see [`ErrorLog::log`]).
    pub fn count(&mut self, place: &str) -> bool {
        self.end_window_if_over();
        let counters = &self.counters;
        let errors = match self.places.get_mut(place) {
            Some(errors) => errors,
            None => self.places.entry(place.to_string()).or_insert(PlaceErrors {
                slot: counters.error_slot(place),
                logged_in_window: 0,
                not_logged_in_window: 0,
            }),
        };
        counters.errors_at(errors.slot).add(1);
        if errors.logged_in_window < LINES_PER_PLACE && self.logged_in_window < LINES_PER_WINDOW {
            errors.logged_in_window += 1;
            self.logged_in_window += 1;
            true
        } else {
            errors.not_logged_in_window += 1;
            false
        }
    }

    /// Once the window is over: says, per place, how many errors were not logged in it,
    /// and starts a new one. Called with each error and by the core's timer, so the count
    /// comes also when no later error does.
    pub fn end_window_if_over(&mut self) {
        if self.window_start.elapsed() < WINDOW {
            return;
        }
        for (place, errors) in &mut self.places {
            if errors.not_logged_in_window > 0 {
                eprintln!(
                    "roo: core {}: {} more errors in {place} not logged in the last {} s",
                    self.counters.core,
                    errors.not_logged_in_window,
                    WINDOW.as_secs()
                );
            }
            errors.logged_in_window = 0;
            errors.not_logged_in_window = 0;
        }
        self.window_start = Instant::now();
        self.logged_in_window = 0;
    }

    /// Writes one error line naming the core and the place.
    pub fn log(&self, place: &str, detail: &str) {
        eprintln!(
            "roo: core {}: error in {place}: {detail}",
            self.counters.core
        );
    }

    /// Counts and, within the log budget, logs.
    pub fn record(&mut self, place: &str, detail: impl FnOnce() -> String) {
        if self.count(place) {
            self.log(place, &detail());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Topology;

    fn log() -> ErrorLog {
        let topology = Topology {
            name: "none".into(),
            sources: vec![],
            chains: vec![],
            sinks: vec![],
            states: vec![],
        };
        ErrorLog::new(Arc::new(CoreCounters::new(0, &topology)))
    }

    #[test]
    fn one_noisy_place_leaves_budget_for_the_others() {
        let mut log = log();
        let logged = (0..1000).filter(|_| log.count("noisy")).count();
        assert_eq!(logged, LINES_PER_PLACE as usize);
        assert!(log.count("quiet"), "another place still logs");
        let figures = log.counters.read();
        assert_eq!(figures.errors[0], ("noisy".to_string(), 1000));
        assert_eq!(figures.error_total(), 1001);
    }

    #[test]
    fn every_place_together_is_capped() {
        let mut log = log();
        let logged = (0..1000)
            .filter(|i| log.count(&format!("place {i}")))
            .count();
        assert_eq!(logged, LINES_PER_WINDOW as usize);
    }

    #[test]
    fn a_new_window_logs_again() {
        let mut log = log();
        for _ in 0..100 {
            log.count("noisy");
        }
        log.window_start -= WINDOW;
        log.end_window_if_over();
        assert_eq!(log.places["noisy"].not_logged_in_window, 0);
        assert!(log.count("noisy"));
    }
}
