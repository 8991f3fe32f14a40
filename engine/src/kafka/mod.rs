//! Kafka sources and sinks, on librdkafka (the `rdkafka` crate, no async runtime).
//!
//! - [`consumer`]: one consumer thread per Kafka source (unpinned, so librdkafka's own
//!   threads are not pinned to a core): it polls the group's partitions, deals records
//!   to the cores by partition (`partition % cores`, so each partition stays in order),
//!   and commits the offsets of what has run at commit points.
//! - [`source`]: the core-side task that runs the records it is dealt.
//! - [`producer`]: one producer per Kafka sink, shared by the cores; deliveries are
//!   counted against the lifecycle's pending sink bytes.
//! - [`sink`]: the core-side task that hands a core's encoded records to the producer,
//!   a buffer at a time (`batch`).
//!
//! Without checkpoints, offsets are at-least-once: a commit point pauses every source,
//! waits until what was read has run and every sink has written it (Kafka: the broker
//! acknowledged it), then commits the offset after the last record run of each
//! partition, and lets the sources go on. Records dealt to a core but not run when roo
//! stops are read again next time. With checkpoints, see `checkpoint`: offsets live in
//! the checkpoint, and Kafka sinks are transactional.

mod batch;
pub mod consumer;
pub mod producer;
pub mod sink;
pub mod source;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::ConsumerGroupMetadata;
use std::collections::BTreeMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
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
    producers: Vec<Arc<producer::KafkaProducer>>,
    /// Whether the producers are transactional (checkpoints commit them).
    transactional: bool,
}

/// A Kafka source in checkpoints: its index and topic, the offsets run, its consumer's
/// group (for a sink's transaction), and where its consumer hears a durable
/// checkpoint's offsets (to commit them itself when no sink's transaction does).
pub struct CheckpointedSource {
    pub source: usize,
    pub topic: String,
    pub offsets: Arc<consumer::RunOffsets>,
    pub group: Option<ConsumerGroupMetadata>,
    pub commits: Sender<BTreeMap<i32, i64>>,
}

/// One core's share of the Kafka clients (see `shard::Go`).
pub struct CoreShare {
    pub sources: Vec<(
        usize,
        std::sync::mpsc::Receiver<Vec<model::Record>>,
        Arc<consumer::RunOffsets>,
    )>,
    pub producers: Vec<Option<Arc<producer::KafkaProducer>>>,
}

/// How Kafka sinks are transactional (with checkpoints): the start of their
/// transactional ids, and how long a transaction may stay open.
pub struct Transactions {
    pub id: String,
    pub timeout: Duration,
}

/// Per Kafka source (by index): the offsets its group committed.
pub type GroupOffsets = BTreeMap<usize, BTreeMap<i32, i64>>;

/// The offsets each Kafka source's group of `topology` has committed.
pub fn committed_offsets(
    topology: &model::Topology,
    options: &KafkaOptions,
) -> Result<GroupOffsets, String> {
    let mut committed = BTreeMap::new();
    for (index, source) in topology.sources.iter().enumerate() {
        if let Some(spec) = source.kafka() {
            committed.insert(
                index,
                consumer::committed_offsets(&source.name, spec, options)?,
            );
        }
    }
    Ok(committed)
}

impl Clients {
    /// Starts a producer for every Kafka sink of `topology` and deals them to the cores'
    /// shares. With `transactions` the producers are transactional: each fences off the
    /// producer of its id in an earlier run.
    pub fn start_producers(
        topology: &model::Topology,
        cores: usize,
        options: &KafkaOptions,
        lifecycle: &Arc<crate::lifecycle::Lifecycle>,
        transactions: Option<&Transactions>,
    ) -> Result<(Clients, Vec<CoreShare>), String> {
        let mut shares: Vec<CoreShare> = (0..cores)
            .map(|_| CoreShare {
                sources: vec![],
                producers: vec![None; topology.sinks.len()],
            })
            .collect();
        let mut producers = vec![];
        for (index, sink) in topology.sinks.iter().enumerate() {
            let model::topology::SinkOutput::Kafka(spec) = &sink.output else {
                continue;
            };
            let transactional = transactions.map(|t| (format!("{}-sink-{index}", t.id), t.timeout));
            let producer =
                producer::KafkaProducer::start(spec, options, lifecycle.clone(), transactional)?;
            for share in &mut shares {
                share.producers[index] = Some(producer.clone());
            }
            producers.push(producer);
        }
        let clients = Clients {
            consumers: vec![],
            transactional: transactions.is_some() && !producers.is_empty(),
            producers,
        };
        Ok((clients, shares))
    }

    /// The producers, when they are transactional.
    pub fn transactional_producers(&self) -> Vec<Arc<producer::KafkaProducer>> {
        match self.transactional {
            true => self.producers.clone(),
            false => vec![],
        }
    }

    /// Starts a consumer for every Kafka source of `topology` and deals its records to
    /// the cores' shares. With `checkpoints` (the restored offsets per source) partitions
    /// go on from there, and offsets are committed only as part of durable checkpoints:
    /// what the checkpointer needs for that is returned, per Kafka source.
    pub fn start_consumers(
        &mut self,
        shares: &mut [CoreShare],
        topology: &model::Topology,
        options: &KafkaOptions,
        lifecycle: &Arc<crate::lifecycle::Lifecycle>,
        checkpoints: Option<&GroupOffsets>,
    ) -> Result<Vec<CheckpointedSource>, String> {
        let mut checkpointed = vec![];
        for (index, source) in topology.sources.iter().enumerate() {
            let Some(spec) = source.kafka() else { continue };
            let (commit_tx, commits) = std::sync::mpsc::channel();
            let part = checkpoints.map(|restored| consumer::Checkpointed {
                resume: restored.get(&index).cloned().unwrap_or_default(),
                commits,
            });
            let (thread, dealt) = consumer::start(
                &source.name,
                spec,
                shares.len(),
                options,
                lifecycle.clone(),
                part,
            )?;
            checkpointed.push(CheckpointedSource {
                source: index,
                topic: spec.topic.clone(),
                offsets: dealt.offsets.clone(),
                group: dealt.group,
                commits: commit_tx,
            });
            self.consumers.push(thread);
            for (share, batches) in shares.iter_mut().zip(dealt.batches) {
                share.sources.push((index, batches, dealt.offsets.clone()));
            }
        }
        Ok(checkpointed)
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
