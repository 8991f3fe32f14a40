//! Messages between cores, and the placement that decides which core runs what.

use crate::value::Value;

/// Where messages go: which core owns a key of a state (the engine's partition table),
/// and which core runs a `to_parallel` step.
pub trait Placement {
    fn owner(&self, state: usize, key: &Value) -> usize;

    /// The core to run a parallel step of a message that is on core `here`: `here`, or
    /// another core the engine sees with time to spare while `here` has none.
    fn parallel_runner(&self, here: usize) -> usize {
        here
    }
}

/// Where a message came from and when, carried to the sink for latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Index of the source it entered by (its pipeline, for per-pipeline latency).
    pub source: u32,
    pub ingest_ns: u64,
    /// When the message happened, in ns since the Unix epoch, if its source says (a Kafka
    /// record's timestamp); windows use it as the message's time.
    pub event_ns: Option<i64>,
}

/// A message on its way to the core that owns its state partition, or to a core that
/// runs a parallel step for a busier one.
#[derive(Debug)]
pub struct Routed {
    pub chain: u32,
    /// The step to run on arrival: a state step, or a parallel step.
    pub step: u32,
    pub key: Value,
    pub value: Value,
    pub meta: Meta,
}
