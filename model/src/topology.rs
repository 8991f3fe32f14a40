//! The application's shape as plain Rust data: what every interpreter must agree on, and
//! what the engine needs to listen, connect and route. Built from the description the
//! Python API returns (see `python/roo/topology.py`), validated here.

use crate::value::Value;
use protocol::LengthWidth;

#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    pub name: String,
    pub sources: Vec<SourceSpec>,
    pub chains: Vec<ChainSpec>,
    pub sinks: Vec<SinkSpec>,
    pub states: Vec<StateSpec>,
}

/// How a source finds the payload length in a frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderDecoding {
    /// The decoder's payload_length() was found to read a big-endian unsigned integer of
    /// the whole header, so Roo parses it natively and never calls Python for headers.
    BigEndian(LengthWidth),
    /// Anything else: payload_length() is called for every header of this many bytes.
    Python { header_length: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceSpec {
    pub name: String,
    /// The chain its decoded messages enter.
    pub chain: usize,
    pub input: SourceInput,
}

/// Where a source's messages come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceInput {
    /// TCPSourceConfig: framed input on a listening socket.
    Tcp {
        host: String,
        port: String,
        header: HeaderDecoding,
    },
    /// GenSourceConfig: the app's generator object makes the messages (initial_value(),
    /// then apply(previous)), on one core.
    Generator,
    /// KafkaSourceConfig: records of a topic, read by a consumer group; each record's
    /// value is decoded by the app's `decode`.
    Kafka(KafkaSource),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaSource {
    pub topic: String,
    /// `host:port,host:port`, as librdkafka's `bootstrap.servers` takes them.
    pub brokers: String,
    /// The consumer group; the app's name when the app names none.
    pub group: String,
    /// What `decode` is called with: 1 (value), 2 (value, key), 3 (value, key, timestamp).
    pub decode_arguments: u8,
}

/// A run of steps. Messages leaving the last step go to every sink listed and on into
/// `next` (several chains joining one `next` is how a merge looks).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSpec {
    pub name: String,
    pub steps: Vec<StepSpec>,
    pub next: Option<usize>,
    pub sinks: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Stateless,
    State,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepSpec {
    pub name: String,
    pub kind: StepKind,
    /// compute_multi: the step returns a list, each element continues separately.
    pub multi: bool,
    /// to_parallel: may run on any core, no order guarantee.
    pub parallel: bool,
    /// `file:line` of the user's class or function.
    pub location: String,
    /// A state step of Wallaroo's 0.2-0.5 builder API: a 2-tuple ending in a bool that it
    /// returns is `(output, persist_flag)`.
    pub reads_persist_flag: bool,
    /// For state steps: the state group, and whether a partition function picks the key
    /// (otherwise the whole state is one partition, as with to_stateful).
    pub state: Option<usize>,
    pub partitioned: bool,
    /// A state step with a tick hook (windows): called on every partition of the core
    /// once at shutdown, and every `tick_ns` if set.
    pub ticks: bool,
    pub tick_ns: Option<u64>,
    /// A state step that also takes the message's event time (ns since the Unix epoch,
    /// or None when its source gives none) as a third argument: windows.
    pub event_time: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkSpec {
    pub output: SinkOutput,
    /// `file:line` of the encoder, for error lines.
    pub encoder_location: String,
}

/// Where a sink's encoded messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkOutput {
    /// TCPSinkConfig: every core connects to host:port and writes the encoder's bytes.
    Tcp { host: String, port: String },
    /// KafkaSinkConfig: each encoded message is a record produced to the topic.
    Kafka(KafkaSink),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaSink {
    pub topic: String,
    pub brokers: String,
    /// librdkafka's `linger.ms`: how long records wait to be sent in one request.
    pub max_produce_buffer_ms: u64,
    /// The largest record value; a larger one is dropped and counted.
    pub max_message_size: usize,
}

impl SinkSpec {
    /// `host:port` of a TCP sink, `kafka topic 'T' (brokers)` of a Kafka one: for
    /// messages, and for TCP, for connecting.
    pub fn address(&self) -> String {
        match &self.output {
            SinkOutput::Tcp { host, port } => format!("{host}:{port}"),
            SinkOutput::Kafka(kafka) => kafka_place(&kafka.topic, &kafka.brokers),
        }
    }

    pub fn is_kafka(&self) -> bool {
        matches!(self.output, SinkOutput::Kafka(_))
    }
}

/// How error lines and logs name a Kafka topic.
pub fn kafka_place(topic: &str, brokers: &str) -> String {
    format!("kafka topic '{topic}' on {brokers}")
}

impl SourceSpec {
    /// `host:port` of a TCP source (for messages and for binding), or what else it reads.
    pub fn address(&self) -> String {
        match &self.input {
            SourceInput::Tcp { host, port, .. } => format!("{host}:{port}"),
            SourceInput::Generator => "a generator".to_string(),
            SourceInput::Kafka(kafka) => kafka_place(&kafka.topic, &kafka.brokers),
        }
    }

    /// How a TCP source's frame headers are read (None for other sources).
    pub fn header(&self) -> Option<HeaderDecoding> {
        match self.input {
            SourceInput::Tcp { header, .. } => Some(header),
            SourceInput::Generator | SourceInput::Kafka(_) => None,
        }
    }

    pub fn kafka(&self) -> Option<&KafkaSource> {
        match &self.input {
            SourceInput::Kafka(kafka) => Some(kafka),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StateSpec {
    pub name: String,
    /// Keys the app listed up front (spread evenly over cores); others are placed by hash.
    pub keys: Vec<Value>,
    /// The builder takes the partition's key (window states keep it for their output).
    pub keyed: bool,
}

impl Topology {
    /// How often the engine must run the periodic tick hooks (the shortest), if any.
    pub fn tick_interval(&self) -> Option<std::time::Duration> {
        self.chains
            .iter()
            .flat_map(|chain| &chain.steps)
            .filter_map(|step| step.tick_ns)
            .min()
            .map(std::time::Duration::from_nanos)
    }

    /// Whether any step has a tick hook, to be flushed at shutdown.
    pub fn has_ticks(&self) -> bool {
        self.chains
            .iter()
            .flat_map(|chain| &chain.steps)
            .any(|step| step.ticks)
    }

    /// Sink index -> connection index, and each connection's address: sinks with the same
    /// address share one connection (and its order).
    pub fn sink_connections(&self) -> (Vec<usize>, Vec<String>) {
        let mut addresses: Vec<String> = vec![];
        let connection = self
            .sinks
            .iter()
            .map(|sink| {
                let address = sink.address();
                match addresses.iter().position(|a| *a == address) {
                    Some(index) => index,
                    None => {
                        addresses.push(address);
                        addresses.len() - 1
                    }
                }
            })
            .collect();
        (connection, addresses)
    }

    /// Checks the cross references the Python side could get wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.sources.is_empty() {
            return Err(format!("application '{}' has no source", self.name));
        }
        for source in &self.sources {
            if source.chain >= self.chains.len() {
                return Err(format!(
                    "source '{}' feeds a pipeline that does not exist",
                    source.name
                ));
            }
        }
        for chain in &self.chains {
            if chain.next.is_some_and(|next| next >= self.chains.len()) {
                return Err(format!(
                    "pipeline '{}' continues into a pipeline that does not exist",
                    chain.name
                ));
            }
            if let Some(sink) = chain.sinks.iter().find(|&&sink| sink >= self.sinks.len()) {
                return Err(format!(
                    "pipeline '{}' names sink {sink}, which does not exist",
                    chain.name
                ));
            }
            for step in &chain.steps {
                if step.kind == StepKind::State && step.state.is_none_or(|s| s >= self.states.len())
                {
                    return Err(format!(
                        "step '{}' in pipeline '{}' has no state",
                        step.name, chain.name
                    ));
                }
            }
        }
        self.check_acyclic()
    }

    /// A `next` cycle would send messages around forever.
    fn check_acyclic(&self) -> Result<(), String> {
        for start in 0..self.chains.len() {
            let mut chain = start;
            for _ in 0..=self.chains.len() {
                match self.chains[chain].next {
                    Some(next) if next == start => {
                        return Err(format!(
                            "pipeline '{}' feeds back into itself",
                            self.chains[start].name
                        ))
                    }
                    Some(next) => chain = next,
                    None => break,
                }
            }
        }
        Ok(())
    }
}
