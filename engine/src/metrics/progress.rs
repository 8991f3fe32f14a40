//! `--progress`: a line on stderr every `flow::PROGRESS_EVERY` with what changed since
//! the last one: messages in and out per second, p99 latency, backlog, sink bytes
//! pending and errors. During a drain the line says it is draining, so its backlog and
//! pending bytes are what the drain still waits for.

use super::{Metrics, Reading};
use crate::flow;
use crate::lifecycle::Lifecycle;
use model::counters::LatencyFigures;
use std::sync::Arc;
use std::time::Instant;

/// Prints progress lines on a thread of its own until the engine is done.
pub fn start(metrics: Arc<Metrics>, lifecycle: Arc<Lifecycle>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("roo-progress".into())
        .spawn(move || {
            let mut last = (Instant::now(), Totals::of(&metrics.read()));
            while !lifecycle.done() {
                std::thread::sleep(flow::PHASE_POLL);
                if last.0.elapsed() < flow::PROGRESS_EVERY {
                    continue;
                }
                let now = (Instant::now(), Totals::of(&metrics.read()));
                let seconds = now.0.duration_since(last.0).as_secs_f64();
                let phase = if lifecycle.running() {
                    ""
                } else {
                    " (draining)"
                };
                eprintln!("roo: progress{phase}: {}", now.1.since(&last.1, seconds));
                last = now;
            }
        })
        .map(|_| ())
        .map_err(|error| format!("cannot start the progress thread: {error}"))
}

/// Sums over every core and source of one reading.
struct Totals {
    messages_in: u64,
    messages_out: u64,
    latency: LatencyFigures,
    backlog: u64,
    sink_pending: u64,
    errors: u64,
}

impl Totals {
    fn of(reading: &Reading) -> Totals {
        let mut totals = Totals {
            messages_in: 0,
            messages_out: 0,
            latency: LatencyFigures::default(),
            backlog: 0,
            sink_pending: 0,
            errors: 0,
        };
        for core in &reading.cores {
            totals.messages_in += core.figures.messages_in();
            totals.messages_out += core.figures.messages_out();
            totals.backlog += core.backlog;
            totals.sink_pending += core.figures.sink_pending();
            totals.errors += core.figures.error_total();
            for source in &core.figures.sources {
                totals.latency.merge(&source.latency, true);
            }
        }
        totals
    }

    /// The progress line for what changed since `earlier`, `seconds` ago.
    fn since(&self, earlier: &Totals, seconds: f64) -> String {
        let rate = |now: u64, then: u64| (now.saturating_sub(then) as f64 / seconds).round();
        let mut latency = self.latency.clone();
        latency.merge(&earlier.latency, false);
        format!(
            "in {} msg/s, out {} msg/s, p99 {}, backlog {} messages, sink bytes pending {}, errors {} (+{})",
            rate(self.messages_in, earlier.messages_in),
            rate(self.messages_out, earlier.messages_out),
            p99(&latency),
            self.backlog,
            self.sink_pending,
            self.errors,
            self.errors.saturating_sub(earlier.errors)
        )
    }
}

/// The p99 of what was recorded, as the bound of its bucket: "<= 2.5 ms".
fn p99(latency: &LatencyFigures) -> String {
    if latency.count() == 0 {
        return "-".into();
    }
    match latency.quantile_bound(0.99) {
        Some(ns) if ns < 1_000_000 => format!("<= {} us", ns / 1000),
        Some(ns) if ns < 1_000_000_000 => format!("<= {} ms", ns as f64 / 1e6),
        Some(ns) => format!("<= {} s", ns as f64 / 1e9),
        None => format!(
            "> {} s",
            model::counters::LATENCY_BOUNDS_NS[model::counters::LATENCY_BOUNDS_NS.len() - 1]
                / 1_000_000_000
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_gives_rates_since_the_last_and_the_bucket_of_p99() {
        let mut earlier = Totals::of(&Reading { cores: vec![] });
        earlier.messages_in = 100;
        let mut now = Totals::of(&Reading { cores: vec![] });
        now.messages_in = 300;
        now.messages_out = 50;
        now.backlog = 7;
        now.latency.buckets[3] = 100;
        let line = now.since(&earlier, 2.0);
        assert_eq!(
            line,
            "in 100 msg/s, out 25 msg/s, p99 <= 100 us, backlog 7 messages, sink bytes pending 0, errors 0 (+0)"
        );
    }
}
