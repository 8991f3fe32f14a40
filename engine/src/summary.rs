//! The per-core report printed at shutdown.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// One core's counters and latency histograms (ns, per pipeline).
pub struct CoreSummary {
    pub core: usize,
    pub frames_in: u64,
    pub decoded: u64,
    pub messages_out: u64,
    pub routed_out: u64,
    pub routed_in: u64,
    /// Of routed_out: messages whose parallel step another core ran.
    pub handed_over: u64,
    /// None items of compute_multi lists, skipped.
    pub none_outputs: u64,
    pub errors: BTreeMap<String, u64>,
    pub sink_reconnects: u64,
    pub latency: Vec<Histogram<u64>>,
    /// Pipeline name per latency histogram.
    pub pipelines: Vec<String>,
}

impl CoreSummary {
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn micros(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// Text of the summary: a line per core, its error places, and latency per pipeline.
pub fn render(summaries: &[CoreSummary]) -> String {
    let mut text = String::new();
    for s in summaries {
        text.push_str(&format!(
            "core {}: frames in {}, decoded {}, messages out {}, routed out {} ({} parallel steps handed over), routed in {}, errors {}, sink reconnects {}\n",
            s.core, s.frames_in, s.decoded, s.messages_out, s.routed_out, s.handed_over, s.routed_in, s.error_total(), s.sink_reconnects
        ));
        if s.none_outputs > 0 {
            text.push_str(&format!(
                "core {}:   {} None items of compute_multi lists skipped\n",
                s.core, s.none_outputs
            ));
        }
        for (place, count) in &s.errors {
            text.push_str(&format!("core {}:   {count} errors in {place}\n", s.core));
        }
        for (pipeline, histogram) in s.pipelines.iter().zip(&s.latency) {
            if histogram.is_empty() {
                continue;
            }
            text.push_str(&format!(
                "core {}:   pipeline '{pipeline}' ingest->sink latency us: p50 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ({} messages)\n",
                s.core,
                micros(histogram, 0.5),
                micros(histogram, 0.99),
                micros(histogram, 0.999),
                histogram.max() as f64 / 1000.0,
                histogram.len()
            ));
        }
    }
    let total = |f: fn(&CoreSummary) -> u64| summaries.iter().map(f).sum::<u64>();
    text.push_str(&format!(
        "total: frames in {}, messages out {}, errors {}\n",
        total(|s| s.frames_in),
        total(|s| s.messages_out),
        total(CoreSummary::error_total)
    ));
    text
}
