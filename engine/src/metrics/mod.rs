//! Live metrics: every core's counters (`model::counters`, one block per core that only
//! the core writes), the routed backlog per core and the process's own figures, read on
//! another thread whenever `/metrics` is scraped (`collector`, served by `http`) or a
//! progress line is due (`progress`). Reading takes no lock and the cores never wait for it.

mod collector;
pub mod http;
mod process;
pub mod progress;
mod topology_json;

use crate::backlog::Backlogs;
use model::counters::{CoreCounters, CoreFigures};
use model::Topology;
use std::sync::Arc;

/// What a reader of the metrics needs: the app's shape (for labels) and where to read.
pub struct Metrics {
    pub topology: Topology,
    cores: Vec<Arc<CoreCounters>>,
    backlogs: Arc<Backlogs>,
}

/// Every core's counters at one moment, with its routed backlog.
pub struct Reading {
    pub cores: Vec<CoreReading>,
}

pub struct CoreReading {
    pub figures: CoreFigures,
    /// Routed messages sent to this core and not yet run.
    pub backlog: u64,
}

impl Metrics {
    pub fn new(
        topology: Topology,
        cores: Vec<Arc<CoreCounters>>,
        backlogs: Arc<Backlogs>,
    ) -> Metrics {
        Metrics {
            topology,
            cores,
            backlogs,
        }
    }

    pub fn read(&self) -> Reading {
        Reading {
            cores: self
                .cores
                .iter()
                .map(|counters| CoreReading {
                    figures: counters.read(),
                    backlog: self.backlogs.waiting(counters.core) as u64,
                })
                .collect(),
        }
    }

    /// The pipeline a source's messages enter.
    pub fn pipeline_of(&self, source: usize) -> &str {
        &self.topology.chains[self.topology.sources[source].chain].name
    }
}

/// Counters for unit tests of sources and sinks: these sources, `sinks` TCP sinks.
#[cfg(test)]
pub fn test_counters(sources: Vec<model::topology::SourceSpec>, sinks: usize) -> Arc<CoreCounters> {
    use model::topology::{SinkOutput, SinkSpec};
    let topology = Topology {
        name: "test".into(),
        sources,
        chains: vec![],
        sinks: (0..sinks)
            .map(|sink| SinkSpec {
                output: SinkOutput::Tcp {
                    host: "127.0.0.1".into(),
                    port: sink.to_string(),
                },
                encoder_location: String::new(),
            })
            .collect(),
        states: vec![],
    };
    Arc::new(CoreCounters::new(0, &topology))
}
