//! Counting every error, and logging only a bounded number per window, so a flood of bad
//! input or a failing hook cannot become a flood of log lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(10);
const LINES_PER_WINDOW: u32 = 20;

/// Per-core error counters by place ("step 'Split' of pipeline 'P'", ...) and a log limiter.
pub struct ErrorLog {
    core: usize,
    counts: BTreeMap<String, u64>,
    window_start: Instant,
    logged_in_window: u32,
    suppressed: u64,
}

impl ErrorLog {
    pub fn new(core: usize) -> ErrorLog {
        ErrorLog {
            core,
            counts: BTreeMap::new(),
            window_start: Instant::now(),
            logged_in_window: 0,
            suppressed: 0,
        }
    }

    /// Counts one error at `place`; true when it should also be logged (see [`ErrorLog::log`]).
    pub fn count(&mut self, place: &str) -> bool {
        match self.counts.get_mut(place) {
            Some(count) => *count += 1,
            None => {
                self.counts.insert(place.to_string(), 1);
            }
        }
        if self.window_start.elapsed() >= WINDOW {
            if self.suppressed > 0 {
                eprintln!(
                    "roo: core {}: {} more errors were not logged",
                    self.core, self.suppressed
                );
            }
            self.window_start = Instant::now();
            self.logged_in_window = 0;
            self.suppressed = 0;
        }
        if self.logged_in_window < LINES_PER_WINDOW {
            self.logged_in_window += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }

    /// Writes one error line naming the core and the place.
    pub fn log(&self, place: &str, detail: &str) {
        eprintln!("roo: core {}: error in {place}: {detail}", self.core);
    }

    /// Counts and, within the log budget, logs.
    pub fn record(&mut self, place: &str, detail: impl FnOnce() -> String) {
        if self.count(place) {
            self.log(place, &detail());
        }
    }

    /// Errors counted so far, by place.
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}
