//! One core's counters: what its batches, sources and sinks did, kept as atomics so a
//! metrics scrape on another thread reads them while the core runs, and the shutdown
//! summary reads the same ones at the end.
//!
//! Every counter has one writer, its core's thread, so adding is a relaxed load and store
//! (a plain `mov` pair, no locked read-modify-write); readers on other threads see a value
//! that is at most a few adds old. A core's counters lie in one block of 128-byte lines
//! of its own, so two cores never write to one cache line.
//!
//! Latency is counted into fixed Prometheus buckets (`LATENCY_BOUNDS_NS`) as it is
//! recorded: a scrape merges the cores' buckets by adding, and rates over any window are
//! differences of two scrapes. The core's own hdrhistogram (exact percentiles for the
//! shutdown summary) cannot be read from another thread without a lock or a copy of the
//! histogram, which would cost the core a lock per batch or the scrape a hand-over.

use crate::topology::Topology;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// Upper bounds of the latency buckets, in ns (10 µs to 10 s); one more bucket holds the rest.
pub const LATENCY_BOUNDS_NS: [u64; 19] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];
/// Buckets per latency histogram: one per bound and the one above the last bound.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_NS.len() + 1;
/// Error places counted apart per core; errors of further places count in the last slot.
pub const ERROR_PLACES: usize = 32;
/// The place errors beyond `ERROR_PLACES - 1` other places are counted at.
pub const OTHER_PLACES: &str = "other places";

/// A counter (or a gauge, with `sub`) written by one thread and read by any.
#[derive(Default, Debug)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning core's thread adds, so no locked add is needed.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Takes `n` off a gauge.
    #[inline]
    pub fn sub(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_sub(n), Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

const PER_LINE: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Line([Counter; PER_LINE]);

// Scalars of the core, then per source, per step, per sink connection, per error place.
const ROUTED_IN: usize = 0;
const ROUTED_OUT: usize = 1;
const HANDED_OVER: usize = 2;
const NONE_OUTPUTS: usize = 3;
const SOURCE_PAUSES: usize = 4;
const SCALARS: usize = 5;
// Within a source's stretch.
const FRAMES: usize = 0;
const BYTES: usize = 1;
const MESSAGES_IN: usize = 2;
const MESSAGES_OUT: usize = 3;
const LATENCY_SUM_NS: usize = 4;
const BUCKETS_AT: usize = 5;
const PER_SOURCE: usize = BUCKETS_AT + LATENCY_BUCKETS;
// Within a sink connection's stretch.
const SINK_PENDING: usize = 0;
const SINK_PAUSES: usize = 1;
const SINK_RECONNECTS: usize = 2;
const PER_SINK: usize = 3;

/// One core's counter block; see the module doc.
pub struct CoreCounters {
    pub core: usize,
    lines: Box<[Line]>,
    sources: usize,
    /// Index of each chain's first step counter.
    chain_steps: Vec<usize>,
    steps: usize,
    sinks: usize,
    /// The place each error slot counts, set once by the owning core.
    places: Box<[OnceLock<String>]>,
}

impl CoreCounters {
    /// Zeroed counters for `topology` on core `core`.
    pub fn new(core: usize, topology: &Topology) -> CoreCounters {
        let mut chain_steps = vec![];
        let mut steps = 0;
        for chain in &topology.chains {
            chain_steps.push(steps);
            steps += chain.steps.len();
        }
        let sources = topology.sources.len();
        let sinks = topology.sink_connections().1.len();
        let total = SCALARS + sources * PER_SOURCE + steps + sinks * PER_SINK + ERROR_PLACES;
        CoreCounters {
            core,
            lines: (0..total.div_ceil(PER_LINE))
                .map(|_| Line::default())
                .collect(),
            sources,
            chain_steps,
            steps,
            sinks,
            places: (0..ERROR_PLACES).map(|_| OnceLock::new()).collect(),
        }
    }

    #[inline]
    fn at(&self, index: usize) -> &Counter {
        &self.lines[index / PER_LINE].0[index % PER_LINE]
    }

    fn source_at(&self, source: usize, field: usize) -> &Counter {
        debug_assert!(source < self.sources);
        self.at(SCALARS + source * PER_SOURCE + field)
    }

    fn steps_start(&self) -> usize {
        SCALARS + self.sources * PER_SOURCE
    }

    fn sink_at(&self, connection: usize, field: usize) -> &Counter {
        debug_assert!(connection < self.sinks);
        self.at(self.steps_start() + self.steps + connection * PER_SINK + field)
    }

    fn errors_start(&self) -> usize {
        self.steps_start() + self.steps + self.sinks * PER_SINK
    }

    /// Messages other cores routed here and this core ran.
    pub fn routed_in(&self) -> &Counter {
        self.at(ROUTED_IN)
    }

    /// Messages this core routed to others (for a state step or a parallel step).
    pub fn routed_out(&self) -> &Counter {
        self.at(ROUTED_OUT)
    }

    /// Of `routed_out`: messages whose parallel step another core ran.
    pub fn handed_over(&self) -> &Counter {
        self.at(HANDED_OVER)
    }

    /// None items of compute_multi lists, skipped.
    pub fn none_outputs(&self) -> &Counter {
        self.at(NONE_OUTPUTS)
    }

    /// Times a source of this core waited for room (congested queues or a commit point).
    pub fn source_pauses(&self) -> &Counter {
        self.at(SOURCE_PAUSES)
    }

    /// Frames (or Kafka records) source `source` brought to this core.
    pub fn frames_in(&self, source: usize) -> &Counter {
        self.source_at(source, FRAMES)
    }

    /// Bytes source `source`'s connections read on this core.
    pub fn bytes_in(&self, source: usize) -> &Counter {
        self.source_at(source, BYTES)
    }

    /// Messages source `source`'s decoder (or generator) made on this core.
    pub fn messages_in(&self, source: usize) -> &Counter {
        self.source_at(source, MESSAGES_IN)
    }

    /// Outputs handed to sinks on this core of messages that came in by source `source`.
    pub fn messages_out(&self, source: usize) -> &Counter {
        self.source_at(source, MESSAGES_OUT)
    }

    /// Counts `count` outputs of source `source`'s messages that took `latency_ns`.
    #[inline]
    pub fn record_latency(&self, source: usize, latency_ns: u64, count: u64) {
        let bucket = LATENCY_BOUNDS_NS
            .iter()
            .position(|&bound| latency_ns <= bound)
            .unwrap_or(LATENCY_BOUNDS_NS.len());
        self.source_at(source, BUCKETS_AT + bucket).add(count);
        self.source_at(source, LATENCY_SUM_NS)
            .add(latency_ns.saturating_mul(count));
    }

    /// Messages step `step` of chain `chain` ran on this core.
    #[inline]
    pub fn step_messages(&self, chain: usize, step: usize) -> &Counter {
        self.at(self.steps_start() + self.chain_steps[chain] + step)
    }

    /// Bytes queued for sink connection `connection` and not yet written (a gauge).
    pub fn sink_pending(&self, connection: usize) -> &Counter {
        self.sink_at(connection, SINK_PENDING)
    }

    /// Times sink connection `connection`'s queue went over its high-water mark.
    pub fn sink_pauses(&self, connection: usize) -> &Counter {
        self.sink_at(connection, SINK_PAUSES)
    }

    /// Times sink connection `connection` was connected again.
    pub fn sink_reconnects(&self, connection: usize) -> &Counter {
        self.sink_at(connection, SINK_RECONNECTS)
    }

    /// The error counter of `place` (the first time a place is seen it takes a free slot;
    /// once none is left, `OTHER_PLACES`'s). Called by the owning core only.
    pub fn error_slot(&self, place: &str) -> usize {
        let last = ERROR_PLACES - 1;
        for (slot, name) in self.places[..last].iter().enumerate() {
            match name.get() {
                Some(name) if name == place => return slot,
                Some(_) => {}
                None => {
                    let _ = name.set(place.to_string());
                    return slot;
                }
            }
        }
        let _ = self.places[last].set(OTHER_PLACES.to_string());
        last
    }

    /// The errors counted at `slot` (see [`CoreCounters::error_slot`]).
    pub fn errors_at(&self, slot: usize) -> &Counter {
        self.at(self.errors_start() + slot)
    }

    /// A copy of every counter now.
    pub fn read(&self) -> CoreFigures {
        let sources = (0..self.sources)
            .map(|source| {
                let mut buckets = [0; LATENCY_BUCKETS];
                for (bucket, count) in buckets.iter_mut().enumerate() {
                    *count = self.source_at(source, BUCKETS_AT + bucket).get();
                }
                SourceFigures {
                    frames: self.frames_in(source).get(),
                    bytes: self.bytes_in(source).get(),
                    messages_in: self.messages_in(source).get(),
                    messages_out: self.messages_out(source).get(),
                    latency: LatencyFigures {
                        buckets,
                        sum_ns: self.source_at(source, LATENCY_SUM_NS).get(),
                    },
                }
            })
            .collect();
        let steps = self
            .chain_steps
            .iter()
            .enumerate()
            .map(|(chain, &start)| {
                let end = self
                    .chain_steps
                    .get(chain + 1)
                    .copied()
                    .unwrap_or(self.steps);
                (start..end)
                    .map(|step| self.at(self.steps_start() + step).get())
                    .collect()
            })
            .collect();
        let sinks = (0..self.sinks)
            .map(|connection| SinkFigures {
                pending: self.sink_pending(connection).get(),
                pauses: self.sink_pauses(connection).get(),
                reconnects: self.sink_reconnects(connection).get(),
            })
            .collect();
        let errors = self
            .places
            .iter()
            .enumerate()
            .filter_map(|(slot, place)| Some((place.get()?.clone(), self.errors_at(slot).get())))
            .collect();
        CoreFigures {
            core: self.core,
            routed_in: self.routed_in().get(),
            routed_out: self.routed_out().get(),
            handed_over: self.handed_over().get(),
            none_outputs: self.none_outputs().get(),
            source_pauses: self.source_pauses().get(),
            sources,
            steps,
            sinks,
            errors,
        }
    }
}

/// One core's counters at one moment (see [`CoreCounters::read`]).
#[derive(Clone, Debug, Default)]
pub struct CoreFigures {
    pub core: usize,
    pub routed_in: u64,
    pub routed_out: u64,
    pub handed_over: u64,
    pub none_outputs: u64,
    pub source_pauses: u64,
    /// Per source, in topology order.
    pub sources: Vec<SourceFigures>,
    /// Per chain, per step: messages the step ran.
    pub steps: Vec<Vec<u64>>,
    /// Per sink connection (`Topology::sink_connections`).
    pub sinks: Vec<SinkFigures>,
    /// Errors by place, in the order the places first had one.
    pub errors: Vec<(String, u64)>,
}

impl CoreFigures {
    pub fn frames_in(&self) -> u64 {
        self.sources.iter().map(|s| s.frames).sum()
    }

    pub fn messages_in(&self) -> u64 {
        self.sources.iter().map(|s| s.messages_in).sum()
    }

    pub fn messages_out(&self) -> u64 {
        self.sources.iter().map(|s| s.messages_out).sum()
    }

    pub fn error_total(&self) -> u64 {
        self.errors.iter().map(|(_, count)| count).sum()
    }

    pub fn sink_reconnects(&self) -> u64 {
        self.sinks.iter().map(|s| s.reconnects).sum()
    }

    pub fn sink_pending(&self) -> u64 {
        self.sinks.iter().map(|s| s.pending).sum()
    }
}

#[derive(Clone, Debug, Default)]
pub struct SourceFigures {
    pub frames: u64,
    pub bytes: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub latency: LatencyFigures,
}

#[derive(Clone, Debug, Default)]
pub struct SinkFigures {
    /// Bytes queued and not yet written (or, for Kafka, not yet handed to the producer).
    pub pending: u64,
    pub pauses: u64,
    pub reconnects: u64,
}

/// A latency histogram's buckets (not cumulative) and sum.
#[derive(Clone, Debug, Default)]
pub struct LatencyFigures {
    pub buckets: [u64; LATENCY_BUCKETS],
    pub sum_ns: u64,
}

impl LatencyFigures {
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Adds another histogram's counts (another core's), or with `add` false takes an
    /// older read of the same histogram away (what came in between).
    pub fn merge(&mut self, other: &LatencyFigures, add: bool) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine = if add {
                *mine + theirs
            } else {
                mine.saturating_sub(theirs)
            };
        }
        self.sum_ns = if add {
            self.sum_ns + other.sum_ns
        } else {
            self.sum_ns.saturating_sub(other.sum_ns)
        };
    }

    /// The upper bound (ns) of the bucket the `quantile` falls in; None when empty or in
    /// the bucket above the last bound.
    pub fn quantile_bound(&self, quantile: f64) -> Option<u64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = (quantile * count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return LATENCY_BOUNDS_NS.get(bucket).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::StepSpec;
    use crate::topology::{ChainSpec, SinkOutput, SinkSpec, SourceInput, SourceSpec, StepKind};

    /// Two sources into chains of two steps and one step; two sinks on one address.
    fn topology() -> Topology {
        let step = |name: &str| StepSpec {
            name: name.into(),
            kind: StepKind::Stateless,
            multi: false,
            parallel: false,
            location: String::new(),
            reads_persist_flag: false,
            state: None,
            partitioned: false,
            ticks: false,
            tick_ns: None,
            event_time: false,
        };
        let chain = |name: &str, steps| ChainSpec {
            name: name.into(),
            steps,
            next: None,
            sinks: vec![0, 1],
        };
        let source = |chain| SourceSpec {
            name: format!("in {chain}"),
            chain,
            input: SourceInput::Generator,
        };
        let sink = || SinkSpec {
            output: SinkOutput::Tcp {
                host: "localhost".into(),
                port: "7".into(),
            },
            encoder_location: String::new(),
        };
        Topology {
            name: "counted".into(),
            sources: vec![source(0), source(1)],
            chains: vec![
                chain("a", vec![step("x"), step("y")]),
                chain("b", vec![step("z")]),
            ],
            sinks: vec![sink(), sink()],
            states: vec![],
        }
    }

    #[test]
    fn counters_of_sources_steps_sinks_and_errors_do_not_overlap() {
        let counters = CoreCounters::new(3, &topology());
        counters.frames_in(1).add(2);
        counters.messages_out(0).add(5);
        counters.step_messages(1, 0).add(7);
        counters.sink_pending(0).add(9);
        let slot = counters.error_slot("decoder");
        counters.errors_at(slot).add(4);
        assert_eq!(counters.error_slot("decoder"), slot);
        let figures = counters.read();
        assert_eq!(figures.core, 3);
        assert_eq!(figures.frames_in(), 2);
        assert_eq!(figures.sources[1].frames, 2);
        assert_eq!(figures.messages_out(), 5);
        assert_eq!(figures.steps, vec![vec![0, 0], vec![7]]);
        assert_eq!(figures.sink_pending(), 9);
        assert_eq!(figures.errors, vec![("decoder".to_string(), 4)]);
    }

    #[test]
    fn places_beyond_the_slots_count_together() {
        let counters = CoreCounters::new(0, &topology());
        for place in 0..ERROR_PLACES + 5 {
            let slot = counters.error_slot(&format!("place {place}"));
            counters.errors_at(slot).add(1);
        }
        let figures = counters.read();
        assert_eq!(figures.errors.len(), ERROR_PLACES);
        assert_eq!(
            figures.errors.last().unwrap(),
            &(OTHER_PLACES.to_string(), 6)
        );
        assert_eq!(figures.error_total(), ERROR_PLACES as u64 + 5);
    }

    #[test]
    fn latency_lands_in_the_bucket_of_its_bound_and_quantiles_name_bounds() {
        let counters = CoreCounters::new(0, &topology());
        counters.record_latency(0, 10_000, 98);
        counters.record_latency(0, 10_001, 1);
        counters.record_latency(0, 60_000_000_000, 1);
        let latency = counters.read().sources[0].latency.clone();
        assert_eq!(latency.buckets[0], 98);
        assert_eq!(latency.buckets[1], 1);
        assert_eq!(latency.buckets[LATENCY_BUCKETS - 1], 1);
        assert_eq!(latency.quantile_bound(0.5), Some(10_000));
        assert_eq!(latency.quantile_bound(0.99), Some(25_000));
        assert_eq!(latency.quantile_bound(1.0), None);
        let mut later = latency.clone();
        later.merge(&latency, true);
        later.merge(&latency, false);
        assert_eq!(later.count(), 100);
    }
}
