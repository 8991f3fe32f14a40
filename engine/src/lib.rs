//! engine: Roo's thread-per-core runtime.
//!
//! Each core runs a glommio executor pinned to its CPU with its own Python worker
//! (pybridge). Core 0 accepts source connections and deals them out; the owning core reads
//! frames, decodes, runs the stateless steps and computes partition keys; a message whose
//! partition another core owns crosses the channel mesh to it; the owning core runs the
//! state step and the rest of the pipeline and writes the encoder output to its own sink
//! connections. See ARCHITECTURE.md.
//!
//! Without the default `python` feature the crate builds only its parts that run no
//! Python (partition table, backlogs, flow limits, mesh, lifecycle, TCP sources and
//! sinks behind their handles, the metrics endpoint), so they build and test without
//! libpython.
#![cfg_attr(not(feature = "python"), allow(dead_code))]

mod backlog;
mod checkpoint;
mod control;
mod flow;
mod generator_source;
mod input_budget;
mod intake;
mod kafka;
mod lifecycle;
mod mesh;
mod metrics;
pub mod partition_table;
mod sink_queue;
pub mod summary;
mod tcp_sink;
mod tcp_source;

#[cfg(feature = "python")]
mod app_output;
#[cfg(feature = "python")]
mod runner;
#[cfg(feature = "python")]
mod shard;

pub use checkpoint::Resilience;
pub use kafka::KafkaOptions;
pub use lifecycle::DrainEnd;
#[cfg(feature = "python")]
pub use runner::{run, EngineConfig, RunReport};
pub use summary::CoreSummary;
