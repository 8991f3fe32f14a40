//! Control of a running roo from outside: Wallaroo's external channel (`external`), and
//! the questions it asks the cores about their state partitions, answered on each core's
//! own thread between batches (`CoreQuery`, see `shard::answer_queries`).

pub mod external;

use crate::flow;
use model::Value;
use std::sync::mpsc::{self, Receiver, Sender};

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

/// Every core's keys per state (`states` of them), in core order; Err if a core does not
/// answer within `flow::QUERY_WAIT`.
pub fn all_keys(cores: &[Sender<CoreQuery>], states: usize) -> Result<Vec<Vec<Value>>, String> {
    let mut keys: Vec<Vec<Value>> = (0..states).map(|_| vec![]).collect();
    for (core, ask) in cores.iter().enumerate() {
        let (reply, answer) = mpsc::channel();
        ask.send(CoreQuery::Keys(reply))
            .map_err(|_| format!("core {core} has stopped"))?;
        let held = answer
            .recv_timeout(flow::QUERY_WAIT)
            .map_err(|_| format!("core {core} did not answer within {:?}", flow::QUERY_WAIT))?;
        for (all, some) in keys.iter_mut().zip(held) {
            all.extend(some);
        }
    }
    Ok(keys)
}

/// The state of partition `key` (its text) of state `state` as JSON, asked of the core
/// that owns it (`owner`); the key is looked for as that string, and as a number when it
/// is one. None: no such partition. Err: the core did not answer.
pub fn state_json(
    cores: &[Sender<CoreQuery>],
    owner: impl Fn(&Value) -> usize,
    state: usize,
    key: &str,
) -> Result<Option<String>, String> {
    let mut candidates = vec![Value::Str(model::Text::from(key))];
    if let Ok(number) = key.parse::<i64>() {
        candidates.push(Value::Int(number));
    }
    for key in candidates {
        let core = owner(&key);
        let (reply, answer) = mpsc::channel();
        cores[core]
            .send(CoreQuery::State { state, key, reply })
            .map_err(|_| format!("core {core} has stopped"))?;
        let found = answer
            .recv_timeout(flow::QUERY_WAIT)
            .map_err(|_| format!("core {core} did not answer within {:?}", flow::QUERY_WAIT))?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// A key as the external channel shows it: a string as itself, anything else as Python
/// would print it.
pub fn key_text(key: &Value) -> String {
    match key {
        Value::Str(text) => text.as_str().to_string(),
        other => other.to_string(),
    }
}
