//! Error-line text: where in the app a message failed (a step, a key function, an
//! encoder, with the user's `file:line`) and the key it carried.

use model::topology::Topology;
use model::Value;

/// Where a key is taken from a message, for error lines.
#[derive(Clone, Copy)]
pub enum KeyAt {
    /// The pipeline API's key_by standing before a step.
    Before { chain: usize, step: usize },
    /// A state step's own partition function.
    PartitionOf { chain: usize, step: usize },
    /// A key_by after a chain's last step, before the merge it continues into.
    EndOf { chain: usize },
}

/// `key extractor before step ...`, `partition function of step ...`: the place of a key function.
pub fn key_place(topology: &Topology, at: KeyAt) -> String {
    match at {
        KeyAt::Before { chain, step } => {
            format!("key extractor before {}", step_place(topology, chain, step))
        }
        KeyAt::PartitionOf { chain, step } => {
            format!(
                "partition function of {}",
                step_place(topology, chain, step)
            )
        }
        KeyAt::EndOf { chain } => format!(
            "key extractor at the end of pipeline '{}'",
            topology.chains[chain].name
        ),
    }
}

pub fn encoder_place(topology: &Topology, chain: usize, sink: usize) -> String {
    let sink = &topology.sinks[sink];
    format!(
        "encoder of sink {} ({}) of pipeline '{}'",
        sink.address(),
        sink.encoder_location,
        topology.chains[chain].name
    )
}

pub fn step_place(topology: &Topology, chain: usize, step: usize) -> String {
    let chain = &topology.chains[chain];
    let step = &chain.steps[step];
    format!(
        "step '{}' ({}) of pipeline '{}'",
        step.name, step.location, chain.name
    )
}

/// The key a message carries, for error lines: none before any key_by.
pub fn carried_for_errors(key: &Value) -> Option<&Value> {
    (*key != Value::None).then_some(key)
}

pub fn with_key(key: Option<&Value>, text: &str) -> String {
    match key {
        Some(key) => format!("key {key}: message dropped:\n{text}"),
        None => format!("message dropped:\n{text}"),
    }
}
