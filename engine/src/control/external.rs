//! Wallaroo's external control channel (`roo run --external HOST:PORT`): a TCP listener
//! on its own thread, one thread per connection (at most `flow::EXTERNAL_CONNECTIONS`,
//! each closed after `flow::EXTERNAL_READ_WAIT` with nothing coming), messages framed as in
//! `protocol::external`. Roo is one worker, named `initializer` as Wallaroo's first
//! worker is. Answers:
//! - CleanShutdown: the drain a first SIGTERM starts (no answer); Print: the payload on
//!   stdout as `$$$ ExternalPrint: TEXT $$$` (no answer).
//! - ClusterStatusQuery: `{"worker_count":1,"worker_names":["initializer"],
//!   "processing_messages":B}` (false while draining or during a checkpoint's pause).
//! - SourceIdsQuery: `{"source_ids":[...]}`, each source's index in the app as text.
//! - PartitionQuery / PartitionCountQuery: `{"state_partitions":{STATE:{"initializer":
//!   [KEY...] or N}},"stateless_partitions":{}}`; StateEntityQuery /
//!   StateEntityCountQuery: `{STATE:[KEY...] or N}`; ClusterStateEntityCountQuery:
//!   `{"initializer":{STATE:{STATE:N}}}`; the stateless ones: `{}`. States by name, keys as
//!   text (Wallaroo's answers before its step ids replaced state names).
//! - Anything else (shrink, log rotation, unknown ids) is logged and not answered, and
//!   the connection stays open, as Wallaroo does.

use super::{key_text, StateQueries};
use crate::flow;
use crate::lifecycle::Lifecycle;
use bytes::BytesMut;
use model::json::{array, object, quoted};
use model::Topology;
use protocol::external::{encode_external, parse_external, ExternalId, EXTERNAL_MAX_FRAME};
use protocol::{FrameDecoder, Framing, LengthWidth};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Roo's one worker, as Wallaroo named its first.
const WORKER: &str = "initializer";

/// Keys as a JSON array of their texts.
fn key_list(keys: &[model::Value]) -> String {
    array(keys.iter().map(|key| quoted(&key_text(key))))
}

/// What the channel needs to answer: the lifecycle, and a way to ask the cores.
#[derive(Clone)]
pub struct Channel {
    pub lifecycle: Arc<Lifecycle>,
    pub queries: StateQueries,
}

/// Listens on `address` and serves the channel on a thread of its own (until the process
/// ends). Err if the address cannot be listened on.
pub fn start(address: &str, channel: Channel) -> Result<(), String> {
    let listener = TcpListener::bind(address)
        .map_err(|e| format!("--external {address}: cannot listen: {e}"))?;
    eprintln!(
        "roo: external channel listening on {}",
        listener
            .local_addr()
            .map_or(address.to_string(), |a| a.to_string())
    );
    std::thread::Builder::new()
        .name("roo-external".into())
        .spawn(move || {
            let open = Arc::new(AtomicUsize::new(0));
            for stream in listener.incoming().flatten() {
                if open.load(Ordering::Acquire) >= flow::EXTERNAL_CONNECTIONS {
                    eprintln!(
                        "roo: external channel: {} connections open already: one more refused",
                        flow::EXTERNAL_CONNECTIONS
                    );
                    continue;
                }
                open.fetch_add(1, Ordering::AcqRel);
                let (channel, open) = (channel.clone(), open.clone());
                let _ = std::thread::Builder::new()
                    .name("roo-external-conn".into())
                    .spawn(move || {
                        channel.serve(stream);
                        open.fetch_sub(1, Ordering::AcqRel);
                    });
            }
        })
        .map_err(|e| format!("cannot start the external channel's thread: {e}"))?;
    Ok(())
}

impl Channel {
    /// Reads messages from one connection and answers them, until it closes.
    fn serve(&self, mut stream: TcpStream) {
        let peer = stream
            .peer_addr()
            .map_or("?".to_string(), |a| a.to_string());
        let _ = stream.set_read_timeout(Some(flow::EXTERNAL_READ_WAIT));
        let mut decoder = FrameDecoder::new(
            Framing::LengthPrefixed(LengthWidth::U32),
            EXTERNAL_MAX_FRAME,
        );
        let mut chunk = [0u8; 4096];
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    if let Some(answer) = self.answer(&frame, &peer) {
                        if stream.write_all(&answer).is_err() {
                            return;
                        }
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    eprintln!("roo: external channel, from {peer}: {error}: connection closed");
                    return;
                }
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => decoder.read_buf().extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The answer's frame to one message (None: it gets none).
    fn answer(&self, frame: &[u8], peer: &str) -> Option<BytesMut> {
        if frame.is_empty() {
            return None; // Wallaroo skips empty frames
        }
        let Some((number, payload)) = parse_external(frame) else {
            eprintln!("roo: external channel, from {peer}: a message shorter than its id");
            return None;
        };
        let text = String::from_utf8_lossy(payload);
        let (id, body) = match ExternalId::from_u16(number) {
            Some(ExternalId::Print) => {
                println!("$$$ ExternalPrint: {text} $$$");
                return None;
            }
            Some(ExternalId::CleanShutdown) => {
                self.lifecycle.ask_drain();
                return None;
            }
            Some(ExternalId::ClusterStatusQuery) => (
                ExternalId::ClusterStatusQueryResponse,
                self.cluster_status(),
            ),
            Some(ExternalId::SourceIdsQuery) => {
                let ids = (0..self.topology().sources.len()).map(|i| quoted(&i.to_string()));
                (
                    ExternalId::SourceIdsQueryResponse,
                    object([("source_ids", array(ids))]),
                )
            }
            Some(ExternalId::PartitionQuery) => (
                ExternalId::PartitionQueryResponse,
                self.partitions(false, peer)?,
            ),
            Some(ExternalId::PartitionCountQuery) => (
                ExternalId::PartitionCountQueryResponse,
                self.partitions(true, peer)?,
            ),
            Some(ExternalId::StateEntityQuery) => (
                ExternalId::StateEntityQueryResponse,
                self.per_state(peer, |_, keys| key_list(keys))?,
            ),
            Some(ExternalId::StateEntityCountQuery) => (
                ExternalId::StateEntityCountQueryResponse,
                self.per_state(peer, |_, keys| keys.len().to_string())?,
            ),
            Some(ExternalId::ClusterStateEntityCountQuery) => {
                let per_state =
                    self.per_state(peer, |name, keys| object([(name, keys.len().to_string())]))?;
                (
                    ExternalId::ClusterStateEntityCountQueryResponse,
                    object([(WORKER, per_state)]),
                )
            }
            Some(ExternalId::StatelessPartitionQuery) => {
                (ExternalId::StatelessPartitionQueryResponse, "{}".into())
            }
            Some(ExternalId::StatelessPartitionCountQuery) => (
                ExternalId::StatelessPartitionCountQueryResponse,
                "{}".into(),
            ),
            Some(other) => {
                eprintln!(
                    "roo: external channel, from {peer}: {other:?} is not something roo does \
                     (one worker, no log rotation): not answered"
                );
                return None;
            }
            None => {
                eprintln!(
                    "roo: external channel, from {peer}: unknown message id {number}: not \
                     answered"
                );
                return None;
            }
        };
        let mut out = BytesMut::new();
        encode_external(&mut out, id, body.as_bytes());
        Some(out)
    }

    fn topology(&self) -> &Topology {
        self.queries.topology()
    }

    fn cluster_status(&self) -> String {
        let processing = self.lifecycle.running() && !self.lifecycle.sources_paused();
        object([
            ("worker_count", "1".to_string()),
            ("worker_names", array([quoted(WORKER)])),
            ("processing_messages", processing.to_string()),
        ])
    }

    /// Every state's keys, from every core; None (logged) if a core does not answer.
    fn keys(&self, peer: &str) -> Option<Vec<Vec<model::Value>>> {
        match self.queries.keys() {
            Ok(keys) => Some(keys),
            Err(why) => {
                eprintln!("roo: external channel, from {peer}: not answered: {why}");
                None
            }
        }
    }

    /// `{STATE: show(STATE, keys)}` over every state.
    fn per_state(
        &self,
        peer: &str,
        show: impl Fn(&str, &[model::Value]) -> String,
    ) -> Option<String> {
        let keys = self.keys(peer)?;
        Some(object(self.topology().states.iter().zip(&keys).map(
            |(state, keys)| (state.name.as_str(), show(&state.name, keys)),
        )))
    }

    /// The partition answer: per state, this worker's keys (or their count).
    fn partitions(&self, counts: bool, peer: &str) -> Option<String> {
        let states = self.per_state(peer, |_, keys| {
            let shown = match counts {
                true => keys.len().to_string(),
                false => key_list(keys),
            };
            object([(WORKER, shown)])
        })?;
        Some(object([
            ("state_partitions", states),
            ("stateless_partitions", "{}".to_string()),
        ]))
    }
}
