//! Kafka sources and sinks, on librdkafka (the `rdkafka` crate, no async runtime).
//!
//! - [`consumer`]: one consumer thread per Kafka source (unpinned, so librdkafka's own
//!   threads are not pinned to a core): it polls the group's partitions, deals records
//!   to the cores by partition (`partition % cores`, so each partition stays in order),
//!   and commits the offsets of what has run at commit points.
//! - [`source`]: the core-side task that runs the records it is dealt.
//! - [`producer`]: one producer per Kafka sink, shared by the cores; deliveries are
//!   counted against the lifecycle's pending sink bytes.
//! - [`sink`]: the core-side task that hands a core's encoded records to the producer.
//!
//! Offsets are at-least-once: a commit point pauses every source, waits until what was
//! read has run and every sink has written it (Kafka: the broker acknowledged it), then
//! commits the offset after the last record run of each partition, and lets the sources
//! go on. Records dealt to a core but not run when roo stops are read again next time.

pub mod consumer;
pub mod producer;
pub mod sink;
pub mod source;

use rdkafka::config::ClientConfig;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Settings for every Kafka client roo makes: `--kafka-option KEY=VALUE`s, given to
/// librdkafka after roo's own defaults, so they can override them.
#[derive(Clone, Debug, Default)]
pub struct KafkaOptions {
    pub overrides: Vec<(String, String)>,
    /// Time between commit points.
    pub commit_interval: Duration,
}

impl KafkaOptions {
    /// A client configuration for `brokers` with roo's defaults and the overrides.
    fn client_config(&self, brokers: &str, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", brokers);
        for (key, value) in defaults {
            config.set(*key, *value);
        }
        for (key, value) in &self.overrides {
            config.set(key, value);
        }
        config
    }
}

/// librdkafka's warning that a `--kafka-option` is a setting of the other kind of client
/// (a consumer's, given to a producer): every option goes to both, so it says nothing.
fn is_other_clients_setting(facility: &str) -> bool {
    facility == "CONFWARN"
}

/// librdkafka's log lines and errors for one client, printed as `roo: PLACE: ...`, at
/// most one line per `LOG_EVERY` per kind of message (a broker that is down is retried
/// by librdkafka every second, and says so each time).
pub struct ClientLog {
    place: String,
    last: Mutex<Vec<(String, Instant, u64)>>,
}

/// How often the same kind of client message is printed.
const LOG_EVERY: Duration = Duration::from_secs(10);

impl ClientLog {
    pub fn new(place: String) -> ClientLog {
        ClientLog {
            place,
            last: Mutex::new(vec![]),
        }
    }

    /// A librdkafka log line: warnings and worse are printed.
    pub fn client_log(
        &self,
        level: rdkafka::config::RDKafkaLogLevel,
        facility: &str,
        message: &str,
    ) {
        use rdkafka::config::RDKafkaLogLevel::*;
        if matches!(level, Emerg | Alert | Critical | Error | Warning)
            && !is_other_clients_setting(facility)
        {
            self.print(facility, message);
        }
    }

    /// A librdkafka error (a broker down, say).
    pub fn client_error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.print(&error.to_string(), &format!("{error}: {reason}"));
    }

    /// Prints `message` unless a message of the same `kind` was printed within
    /// `LOG_EVERY`; then says how many were left out.
    pub fn print(&self, kind: &str, message: &str) {
        let mut last = self.last.lock().expect("log lock");
        let now = Instant::now();
        match last.iter_mut().find(|(k, ..)| k == kind) {
            Some((_, at, skipped)) if now.duration_since(*at) < LOG_EVERY => *skipped += 1,
            Some((_, at, skipped)) => {
                let more = match *skipped {
                    0 => String::new(),
                    n => format!(" ({n} more like it not shown)"),
                };
                eprintln!("roo: {}: {message}{more}", self.place);
                *at = now;
                *skipped = 0;
            }
            None => {
                eprintln!("roo: {}: {message}", self.place);
                last.push((kind.to_string(), now, 0));
            }
        }
    }
}

/// The Kafka clients of a run: each Kafka source's consumer thread and each Kafka
/// sink's producer.
pub struct Clients {
    consumers: Vec<std::thread::JoinHandle<()>>,
    producers: Vec<std::sync::Arc<producer::KafkaProducer>>,
}

/// A Kafka source's index, its run offsets, and where its consumer hears a durable
/// checkpoint's offsets.
pub type CheckpointedSource = (
    usize,
    std::sync::Arc<consumer::RunOffsets>,
    std::sync::mpsc::Sender<BTreeMap<i32, i64>>,
);

/// One core's share of the Kafka clients (see `shard::Go`).
pub struct CoreShare {
    pub sources: Vec<(
        usize,
        std::sync::mpsc::Receiver<Vec<model::Record>>,
        std::sync::Arc<consumer::RunOffsets>,
    )>,
    pub producers: Vec<Option<std::sync::Arc<producer::KafkaProducer>>>,
}

impl Clients {
    /// Starts a consumer for every Kafka source and a producer for every Kafka sink of
    /// `topology`, and deals them to the cores.
    /// With `checkpoints` (the restored offsets per source), offsets are committed only
    /// when the checkpointer says a checkpoint is durable: the third value holds, per
    /// Kafka source, what the checkpointer needs for that.
    #[allow(clippy::type_complexity)]
    pub fn start(
        topology: &model::Topology,
        cores: usize,
        options: &KafkaOptions,
        lifecycle: &std::sync::Arc<crate::lifecycle::Lifecycle>,
        checkpoints: Option<&BTreeMap<usize, BTreeMap<i32, i64>>>,
    ) -> Result<(Clients, Vec<CoreShare>, Vec<CheckpointedSource>), String> {
        let mut shares: Vec<CoreShare> = (0..cores)
            .map(|_| CoreShare {
                sources: vec![],
                producers: vec![None; topology.sinks.len()],
            })
            .collect();
        let mut clients = Clients {
            consumers: vec![],
            producers: vec![],
        };
        let mut checkpointed = vec![];
        for (index, source) in topology.sources.iter().enumerate() {
            let Some(spec) = source.kafka() else { continue };
            let (commit_tx, commits) = std::sync::mpsc::channel();
            let part = checkpoints.map(|restored| consumer::Checkpointed {
                resume: restored.get(&index).cloned().unwrap_or_default(),
                commits,
            });
            let (thread, dealt) =
                consumer::start(&source.name, spec, cores, options, lifecycle.clone(), part)?;
            checkpointed.push((index, dealt.offsets.clone(), commit_tx));
            clients.consumers.push(thread);
            for (share, batches) in shares.iter_mut().zip(dealt.batches) {
                share.sources.push((index, batches, dealt.offsets.clone()));
            }
        }
        for (index, sink) in topology.sinks.iter().enumerate() {
            let model::topology::SinkOutput::Kafka(spec) = &sink.output else {
                continue;
            };
            let producer = producer::KafkaProducer::start(spec, options, lifecycle.clone())?;
            for share in &mut shares {
                share.producers[index] = Some(producer.clone());
            }
            clients.producers.push(producer);
        }
        Ok((clients, shares, checkpointed))
    }

    /// Waits for the consumers' last commits and prints what each producer delivered.
    pub fn finish(self) {
        for consumer in self.consumers {
            let _ = consumer.join();
        }
        for producer in &self.producers {
            eprintln!("roo: {}", producer.report());
        }
    }
}
