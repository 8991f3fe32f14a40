//! What a batch hands back to the engine: encoder output per sink, messages for other
//! cores, and latency per pipeline.

use bytes::BytesMut;
use hdrhistogram::Histogram;
use model::counters::CoreCounters;
use model::topology::Topology;
use model::{clock, Meta, Routed, SinkBuffer};

/// What a batch produced, for the engine to write out and send on.
pub struct Outputs {
    /// Encoder output per sink, in order.
    pub sinks: Vec<SinkBuffer>,
    /// Messages for other cores, per destination core.
    pub routed: Vec<Vec<Routed>>,
    /// Ingest-to-sink latency in ns, per source (pipeline): from the read that brought a
    /// message in to the end of the batch that handed its output to the sink queue.
    pub latency: Vec<Histogram<u64>>,
    /// Outputs of the running batch whose latency is not recorded yet, counted per
    /// ingest (consecutive outputs of one read share one entry): the clock is read once
    /// per batch, not per message.
    unclocked: Vec<(Meta, u64)>,
}

impl Outputs {
    pub fn new(topology: &Topology, cores: usize) -> Outputs {
        let histogram =
            || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
        Outputs {
            sinks: topology
                .sinks
                .iter()
                .map(|_| SinkBuffer {
                    bytes: BytesMut::with_capacity(64 * 1024),
                    records: Vec::new(),
                })
                .collect(),
            routed: (0..cores).map(|_| Vec::new()).collect(),
            latency: topology.sources.iter().map(|_| histogram()).collect(),
            unclocked: Vec::new(),
        }
    }

    /// Counts one output of a message that came in with `meta`.
    pub(crate) fn sunk_one(&mut self, meta: Meta, counters: &CoreCounters) {
        counters.messages_out(meta.source as usize).add(1);
        match self.unclocked.last_mut() {
            Some((last, count)) if *last == meta => *count += 1,
            _ => self.unclocked.push((meta, 1)),
        }
    }

    /// The batch is over: records the latency of its outputs, in the core's histograms
    /// and its counters' buckets.
    pub(crate) fn clock_batch(&mut self, counters: &CoreCounters) {
        if self.unclocked.is_empty() {
            return;
        }
        let now = clock::now_ns();
        for (meta, count) in self.unclocked.drain(..) {
            let latency = now.saturating_sub(meta.ingest_ns).max(1);
            self.latency[meta.source as usize].saturating_record_n(latency, count);
            counters.record_latency(meta.source as usize, latency, count);
        }
    }
}
