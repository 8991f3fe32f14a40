//! A real Kafka-compatible broker for the tests (nisshi, in memory or on a SQLite file,
//! on a free loopback port, installed by scripts/install-broker.sh and stopped by pid on
//! drop), and a real Kafka client (rdkafka) to write the tests' input and read roo's
//! output.

use super::{free_port, start_worker, wait_until, Proc};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use std::process::Command;
use std::time::{Duration, Instant};

/// librdkafka settings the tests give roo: a group join takes seconds with these, not
/// the 20 s or more of the defaults.
pub const ROO_KAFKA_OPTIONS: [&str; 4] = [
    "--kafka-option",
    "session.timeout.ms=6000",
    "--kafka-option",
    "heartbeat.interval.ms=500",
];

/// The broker's binary (nisshi), built on first use by scripts/install-broker.sh.
fn broker_binary() -> String {
    let script = format!("{}/scripts/install-broker.sh", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(script)
        .output()
        .expect("run install-broker.sh");
    assert!(
        output.status.success(),
        "install-broker.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The arguments of a Kafka word count (examples/word_count_kafka.py) reading topic
/// `lines` and writing topic `counts` of `broker`.
pub fn word_count_args(broker: &Broker) -> Vec<String> {
    [
        "--kafka_source_topic",
        "lines",
        "--kafka_source_brokers",
        &broker.address,
        "--kafka_sink_topic",
        "counts",
        "--kafka_sink_brokers",
        &broker.address,
    ]
    .map(String::from)
    .to_vec()
}

/// Starts `roo run` of `app` with the tests' Kafka settings and `options`.
pub fn start_kafka_worker(app: &str, cores: usize, options: &[&str], app_args: &[String]) -> Proc {
    let mut all: Vec<&str> = ROO_KAFKA_OPTIONS.to_vec();
    all.extend_from_slice(options);
    let args: Vec<&str> = app_args.iter().map(String::as_str).collect();
    start_worker(app, cores, false, &all, &args)
}

/// A record read back: its key (if any) and value.
pub type KeyValue = (Option<Vec<u8>>, Vec<u8>);

/// The value of the records `read_sealed_for` writes.
pub const SEAL: &[u8] = b"~seal";

pub struct Broker {
    pub address: String,
    /// Where it keeps its data: `memory://nisshi/`, or a SQLite file that outlives it.
    storage: String,
    process: Proc,
}

impl Broker {
    /// Starts a broker keeping its data in memory and waits until it accepts connections.
    pub fn start() -> Broker {
        Broker::start_with_storage("memory://nisshi/".to_string())
    }

    /// Starts a broker keeping its data in `file` (SQLite), so that a restarted broker
    /// has the topics, records and committed offsets of the one before.
    pub fn start_stored(file: &std::path::Path) -> Broker {
        Broker::start_with_storage(format!("sqlite:///{}", file.display()))
    }

    fn start_with_storage(storage: String) -> Broker {
        let address = format!("127.0.0.1:{}", free_port());
        let process = Broker::spawn(&address, &storage);
        Broker {
            address,
            storage,
            process,
        }
    }

    /// Stops the broker (`kill -9`) and, after `down`, starts it again on the same address
    /// and storage.
    pub fn restart_after(&mut self, down: Duration) {
        self.process.signal("KILL");
        let _ = self.process.wait();
        std::thread::sleep(down);
        self.process = Broker::spawn(&self.address, &self.storage);
    }

    fn spawn(address: &str, storage: &str) -> Proc {
        let url = format!("tcp://{address}");
        let mut command = Command::new(broker_binary());
        command.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            storage,
            // A group's first join is not held for more members (Kafka holds it 3 s).
            "--group-initial-rebalance-delay",
            "0s",
        ]);
        let process = Proc::spawn(format!("nisshi broker on {address}"), command);
        wait_until(
            Duration::from_secs(20),
            || format!("nisshi listening on {address}"),
            || std::net::TcpStream::connect(address).is_ok(),
        );
        process
    }

    pub fn create_topic(&self, name: &str, partitions: u32) {
        let output = Command::new(broker_binary())
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://{}", self.address)])
            .output()
            .expect("run nisshi topic create");
        assert!(
            output.status.success(),
            "creating topic {name} failed: {}{}",
            String::from_utf8_lossy(&output.stderr),
            self.process.stderr()
        );
    }

    /// Writes `records` (key, value) to `topic` and waits until the broker has them all.
    pub fn produce(&self, topic: &str, records: &[(Option<&[u8]>, &[u8])]) {
        self.produce_records(records.iter().map(|(key, value)| {
            let record = BaseRecord::<[u8], [u8]>::to(topic).payload(*value);
            match key {
                Some(key) => record.key(*key),
                None => record,
            }
        }));
    }

    /// Writes `records` (value, timestamp in ms since the epoch) to `topic`, like
    /// `produce`.
    pub fn produce_at(&self, topic: &str, records: &[(&[u8], i64)]) {
        self.produce_records(records.iter().map(|(value, at)| {
            BaseRecord::<[u8], [u8]>::to(topic)
                .payload(*value)
                .timestamp(*at)
        }));
    }

    fn produce_records<'a>(&self, records: impl Iterator<Item = BaseRecord<'a, [u8], [u8]>>) {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.address)
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "5")
            .create()
            .expect("producer");
        for record in records {
            let mut record = Some(record);
            while let Some(to_send) = record.take() {
                if let Err((_, back)) = producer.send(to_send) {
                    producer.poll(Duration::from_millis(10));
                    record = Some(back);
                }
            }
            producer.poll(Duration::ZERO);
        }
        producer
            .flush(Duration::from_secs(30))
            .expect("all records delivered");
    }

    /// Reads `topic` from its beginning until `done` holds of what was read (or panics
    /// after `within`); returns (key, value) of every record read.
    pub fn read_until(
        &self,
        topic: &str,
        partitions: u32,
        within: Duration,
        done: impl Fn(&[KeyValue]) -> bool,
    ) -> Vec<KeyValue> {
        let (read, finished) = self.read_for(topic, partitions, within, done);
        assert!(
            finished,
            "topic {topic}: not done within {within:?} after {} records",
            read.len()
        );
        read
    }

    /// Every record `topic` holds now: read until none comes for `QUIET`.
    pub fn read_all(&self, topic: &str, partitions: u32) -> Vec<KeyValue> {
        self.read_once(
            topic,
            0..partitions as i32,
            Duration::from_secs(120),
            &|_| false,
        )
    }

    /// Per partition of `topic`, every record it holds but the seals, after sealing it
    /// (see `read_sealed_for`).
    pub fn read_sealed_partitions(&self, topic: &str, partitions: u32) -> Vec<Vec<KeyValue>> {
        self.seal(topic, partitions);
        (0..partitions as i32)
            .map(|partition| {
                let range = partition..partition + 1;
                let mut read = self.read_once(topic, range, Duration::from_secs(120), &|_| false);
                read.retain(|(_, value)| value != SEAL);
                read
            })
            .collect()
    }

    /// Reads `topic` like `read_until`, for at most `within`: returns what was read and
    /// whether `done` held. A fetch that runs while records are still being written may
    /// leave some of them out (seen with tansu), so each attempt reads the topic from
    /// its beginning again, with a new consumer.
    pub fn read_for(
        &self,
        topic: &str,
        partitions: u32,
        within: Duration,
        done: impl Fn(&[KeyValue]) -> bool,
    ) -> (Vec<KeyValue>, bool) {
        self.read_passes(topic, partitions, within, false, done)
    }

    /// Like `read_for`, for a topic whose last writes may be all there is: tansu 0.6.0
    /// reported the start of a partition's last batch (plus one) as its high-water mark,
    /// so consumers did not see the rest of that batch until more was written. Before
    /// each pass this writes a `SEAL` record to every partition, which brings the records
    /// before it into view; `done` gets the records without the seals.
    pub fn read_sealed_for(
        &self,
        topic: &str,
        partitions: u32,
        within: Duration,
        done: impl Fn(&[KeyValue]) -> bool,
    ) -> (Vec<KeyValue>, bool) {
        self.read_passes(topic, partitions, within, true, done)
    }

    /// Reads `topic` from its beginning again and again (sealing it first, with `seal`)
    /// until `done` holds or `within` has passed.
    fn read_passes(
        &self,
        topic: &str,
        partitions: u32,
        within: Duration,
        seal: bool,
        done: impl Fn(&[KeyValue]) -> bool,
    ) -> (Vec<KeyValue>, bool) {
        let deadline = Instant::now() + within;
        loop {
            if seal {
                self.seal(topic, partitions);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let mut read = match seal {
                true => self.read_once(topic, 0..partitions as i32, left, &|_| false),
                false => self.read_once(topic, 0..partitions as i32, left, &done),
            };
            read.retain(|(_, value)| value != SEAL);
            if done(&read) {
                return (read, true);
            }
            if Instant::now() >= deadline {
                return (read, false);
            }
        }
    }

    /// Every record of `topic` but the seals, after sealing it (see `read_sealed_for`).
    pub fn read_sealed_all(&self, topic: &str, partitions: u32) -> Vec<KeyValue> {
        self.seal(topic, partitions);
        let mut read = self.read_all(topic, partitions);
        read.retain(|(_, value)| value != SEAL);
        read
    }

    /// Writes a `SEAL` record to every partition of `topic`.
    fn seal(&self, topic: &str, partitions: u32) {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.address)
            .create()
            .expect("producer");
        for partition in 0..partitions as i32 {
            let record = BaseRecord::<[u8], [u8]>::to(topic)
                .payload(SEAL)
                .partition(partition);
            producer
                .send(record)
                .map_err(|(e, _)| e)
                .expect("seal sent");
        }
        producer
            .flush(Duration::from_secs(30))
            .expect("seals delivered");
    }

    /// One pass over `topic` from its beginning: until `done` holds, no record comes for
    /// `QUIET`, or `within` is over.
    fn read_once(
        &self,
        topic: &str,
        partitions: std::ops::Range<i32>,
        within: Duration,
        done: &dyn Fn(&[KeyValue]) -> bool,
    ) -> Vec<KeyValue> {
        // A restarted broker under load was seen pausing over 1 s between fetches.
        const QUIET: Duration = Duration::from_secs(3);
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.address)
            .set("group.id", format!("test-reader-{}", free_port()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut list = TopicPartitionList::new();
        for partition in partitions {
            list.add_partition_offset(topic, partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&list).expect("assign");
        let deadline = Instant::now() + within;
        let mut last_record = Instant::now();
        let mut read = vec![];
        while !done(&read) && Instant::now() < deadline && last_record.elapsed() < QUIET {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                read.push((
                    message.key().map(<[u8]>::to_vec),
                    message.payload().unwrap_or_default().to_vec(),
                ));
                last_record = Instant::now();
            }
        }
        read
    }

    pub fn stderr(&self) -> String {
        self.process.stderr()
    }
}

/// `lines` lines of 1 to 8 words from a vocabulary of 40 (`w0` .. `w39`).
pub fn lines_of_words(rng: &mut super::rng::Rng, lines: usize) -> Vec<String> {
    (0..lines)
        .map(|_| {
            let words = 1 + rng.below(8);
            (0..words)
                .map(|_| format!("w{}", rng.below(40)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The highest count read for each word, from `word count` records.
pub fn highest_counts(records: &[KeyValue]) -> std::collections::BTreeMap<String, usize> {
    let mut highest = std::collections::BTreeMap::new();
    for (_, value) in records {
        let text = String::from_utf8_lossy(value);
        let (word, count) = text.split_once(' ').expect("'word count'");
        let count: usize = count.trim().parse().expect("a count");
        let entry = highest.entry(word.to_string()).or_insert(0);
        *entry = count.max(*entry);
    }
    highest
}

/// How `got` differs from `want` (word -> count), for a failure message: how many words
/// are short, over or missing, and a few of each.
pub fn count_differences(
    got: &std::collections::BTreeMap<String, usize>,
    want: &std::collections::BTreeMap<String, usize>,
) -> String {
    let mut short = vec![];
    let mut over = vec![];
    for (word, &wanted) in want {
        let counted = got.get(word).copied().unwrap_or(0);
        match counted.cmp(&wanted) {
            std::cmp::Ordering::Less => short.push(format!("{word} {counted}/{wanted}")),
            std::cmp::Ordering::Greater => over.push(format!("{word} {counted}/{wanted}")),
            std::cmp::Ordering::Equal => {}
        }
    }
    let unwanted = got.keys().filter(|word| !want.contains_key(*word)).count();
    format!(
        "{} words short (e.g. {:?}), {} over (e.g. {:?}), {unwanted} not in the input",
        short.len(),
        &short[..short.len().min(5)],
        over.len(),
        &over[..over.len().min(5)],
    )
}
