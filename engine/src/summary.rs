//! The per-core report printed at shutdown: the core's counters (the same ones the
//! metrics endpoint reads) and its exact latency histograms.

use hdrhistogram::Histogram;
use model::counters::CoreFigures;

/// One core's counters at the end and latency histograms (ns, per source).
pub struct CoreSummary {
    pub figures: CoreFigures,
    pub latency: Vec<Histogram<u64>>,
    /// Pipeline name per latency histogram.
    pub pipelines: Vec<String>,
}

fn micros(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// Text of the summary: a line per core, its error places, and latency per pipeline.
pub fn render(summaries: &[CoreSummary]) -> String {
    let mut text = String::new();
    for summary in summaries {
        let s = &summary.figures;
        text.push_str(&format!(
            "core {}: frames in {}, decoded {}, messages out {}, routed out {} ({} parallel steps handed over), routed in {}, errors {}, sink reconnects {}\n",
            s.core, s.frames_in(), s.messages_in(), s.messages_out(), s.routed_out, s.handed_over, s.routed_in, s.error_total(), s.sink_reconnects()
        ));
        if s.none_outputs > 0 {
            text.push_str(&format!(
                "core {}:   {} None items of compute_multi lists skipped\n",
                s.core, s.none_outputs
            ));
        }
        let mut errors = s.errors.clone();
        errors.sort();
        for (place, count) in errors {
            text.push_str(&format!("core {}:   {count} errors in {place}\n", s.core));
        }
        for (pipeline, histogram) in summary.pipelines.iter().zip(&summary.latency) {
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
    let total = |f: fn(&CoreFigures) -> u64| summaries.iter().map(|s| f(&s.figures)).sum::<u64>();
    text.push_str(&format!(
        "total: frames in {}, messages out {}, errors {}\n",
        total(CoreFigures::frames_in),
        total(CoreFigures::messages_out),
        total(CoreFigures::error_total)
    ));
    text
}
