//! Control of a running roo from outside: Wallaroo's external channel (`external`), and
//! the questions it and the metrics port's `/state` ask the cores about their state
//! partitions (`StateQueries`), answered on each core's own thread between batches
//! (`CoreQuery`, see `shard::answer_queries`).

pub mod external;

use crate::flow;
use crate::partition_table::PartitionTable;
use model::{Placement, Topology, Value};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

/// A question for one core.
pub enum CoreQuery {
    /// The keys of the state partitions the core holds, per state.
    Keys(Sender<Vec<Vec<Value>>>),
    /// The state of one partition as JSON (None: the core does not hold it).
    State {
        state: usize,
        key: Value,
        reply: Sender<Option<String>>,
    },
}

/// Each core's end of the queries (by core), and the senders that ask them.
pub fn links(cores: usize) -> (Vec<Sender<CoreQuery>>, Vec<Receiver<CoreQuery>>) {
    (0..cores).map(|_| mpsc::channel()).unzip()
}

/// A way to ask the cores about their state partitions; the external channel and the
/// metrics port each hold one.
#[derive(Clone)]
pub struct StateQueries {
    cores: Vec<Sender<CoreQuery>>,
    table: Arc<PartitionTable>,
    topology: Arc<Topology>,
}

impl StateQueries {
    pub fn new(
        cores: Vec<Sender<CoreQuery>>,
        table: Arc<PartitionTable>,
        topology: Arc<Topology>,
    ) -> StateQueries {
        StateQueries {
            cores,
            table,
            topology,
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Every core's keys per state, in core order; Err if a core does not answer within
    /// `flow::QUERY_WAIT`.
    pub fn keys(&self) -> Result<Vec<Vec<Value>>, String> {
        let mut keys: Vec<Vec<Value>> = self.topology.states.iter().map(|_| vec![]).collect();
        for (core, ask) in self.cores.iter().enumerate() {
            let (reply, answer) = mpsc::channel();
            ask.send(CoreQuery::Keys(reply))
                .map_err(|_| format!("core {core} has stopped"))?;
            for (all, some) in keys.iter_mut().zip(wait(core, &answer)?) {
                all.extend(some);
            }
        }
        Ok(keys)
    }

    /// The state of partition `key` (its text) of the state named `state` as JSON, asked
    /// of the core that owns it; the key is looked for as that string, and as a number
    /// when it is one. Ok(None): the state has no such partition. Err: no state of that
    /// name, or the core did not answer.
    pub fn state_json(&self, state: &str, key: &str) -> Result<Option<String>, String> {
        let index = self
            .topology
            .states
            .iter()
            .position(|spec| spec.name == state)
            .ok_or_else(|| format!("the app has no state named '{state}'"))?;
        let mut candidates = vec![Value::Str(model::Text::from(key))];
        if let Ok(number) = key.parse::<i64>() {
            candidates.push(Value::Int(number));
        }
        for key in candidates {
            let core = self.table.owner(index, &key);
            let (reply, answer) = mpsc::channel();
            self.cores[core]
                .send(CoreQuery::State {
                    state: index,
                    key,
                    reply,
                })
                .map_err(|_| format!("core {core} has stopped"))?;
            if let Some(json) = wait(core, &answer)? {
                return Ok(Some(json));
            }
        }
        Ok(None)
    }
}

/// Core `core`'s answer, waited for at most `flow::QUERY_WAIT`.
fn wait<T>(core: usize, answer: &Receiver<T>) -> Result<T, String> {
    answer
        .recv_timeout(flow::QUERY_WAIT)
        .map_err(|_| format!("core {core} did not answer within {:?}", flow::QUERY_WAIT))
}

/// A key as the external channel shows it: a string as itself, anything else as Python
/// would print it.
pub fn key_text(key: &Value) -> String {
    match key {
        Value::Str(text) => text.as_str().to_string(),
        other => other.to_string(),
    }
}
