//! A real Kafka-compatible broker for the tests (tansu, in memory, on a free loopback
//! port, installed by scripts/install-broker.sh and stopped by pid on drop), and a real
//! Kafka client (rdkafka) to write the tests' input and read roo's output.

use super::{free_port, wait_until, Proc};
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

/// The tansu binary, built on first use by scripts/install-broker.sh.
fn tansu() -> String {
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

pub struct Broker {
    pub address: String,
    process: Proc,
}

impl Broker {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Broker {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let mut command = Command::new(tansu());
        command.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ]);
        let process = Proc::spawn(format!("tansu broker on {address}"), command);
        wait_until(
            Duration::from_secs(20),
            || format!("tansu listening on {address}"),
            || std::net::TcpStream::connect(&address).is_ok(),
        );
        Broker { address, process }
    }

    /// Starts a Kafka proxy (tansu's) on 127.0.0.1:`port` in front of this broker; it
    /// stops when the returned process drops.
    pub fn start_proxy(&self, port: u16) -> Proc {
        let url = format!("tcp://127.0.0.1:{port}");
        let mut command = Command::new(tansu());
        command.args([
            "proxy",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ]);
        command.args(["--origin-url", &format!("tcp://{}", self.address)]);
        let process = Proc::spawn(format!("tansu proxy on {port}"), command);
        wait_until(
            Duration::from_secs(20),
            || format!("tansu proxy listening on {port}"),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        process
    }

    pub fn create_topic(&self, name: &str, partitions: u32) {
        let output = Command::new(tansu())
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://{}", self.address)])
            .output()
            .expect("run tansu topic create");
        assert!(
            output.status.success(),
            "creating topic {name} failed: {}{}",
            String::from_utf8_lossy(&output.stderr),
            self.process.stderr()
        );
    }

    /// Writes `records` (key, value) to `topic` and waits until the broker has them all.
    pub fn produce(&self, topic: &str, records: &[(Option<&[u8]>, &[u8])]) {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.address)
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "5")
            .create()
            .expect("producer");
        for (key, value) in records {
            let mut record = BaseRecord::<[u8], [u8]>::to(topic).payload(value);
            if let Some(key) = key {
                record = record.key(key);
            }
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
        done: impl Fn(&[(Option<Vec<u8>>, Vec<u8>)]) -> bool,
    ) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.address)
            .set("group.id", format!("test-reader-{}", free_port()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut list = TopicPartitionList::new();
        for partition in 0..partitions as i32 {
            list.add_partition_offset(topic, partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&list).expect("assign");
        let deadline = Instant::now() + within;
        let mut read = vec![];
        while !done(&read) {
            assert!(
                Instant::now() < deadline,
                "topic {topic}: not done within {within:?} after {} records",
                read.len()
            );
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                read.push((
                    message.key().map(<[u8]>::to_vec),
                    message.payload().unwrap_or_default().to_vec(),
                ));
            }
        }
        read
    }

    pub fn stderr(&self) -> String {
        self.process.stderr()
    }
}
