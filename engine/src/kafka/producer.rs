//! A Kafka sink's producer, shared by every core: librdkafka batches, sends and retries
//! on its own threads; each delivery (or final failure) is taken off the lifecycle's
//! pending sink bytes, so a drain or a commit point waits for the broker's
//! acknowledgement.
//!
//! With checkpoints the producer is transactional: what the cores produce between two
//! checkpoints is one transaction, committed by the checkpointer together with the Kafka
//! sources' offsets once the checkpoint is durable (`commit_epoch`). Consumers reading
//! committed records (librdkafka's default) see each epoch's output once or not at all.

use super::batch::TopicHandle;
use super::{ClientLog, KafkaOptions};
use crate::flow;
use crate::lifecycle::Lifecycle;
use model::topology::{kafka_place, KafkaSink};
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct KafkaProducer {
    /// The sink's topic; declared before `producer`, so that it is dropped first.
    pub topic: TopicHandle,
    pub producer: ThreadedProducer<Deliveries>,
    pub max_message_size: usize,
    pub place: String,
}

/// Counts deliveries and reports failures.
pub struct Deliveries {
    lifecycle: Arc<Lifecycle>,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// Records never handed to the producer (too large, or refused).
    refused: AtomicU64,
    pub log: ClientLog,
}

impl Deliveries {
    /// A record of `bytes` that is not sent: counted, logged (`why`, under `facility`)
    /// and taken off the pending sink bytes.
    pub fn refuse(&self, bytes: usize, facility: &str, why: &str) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.log.print(facility, why);
        self.lifecycle.sink_bytes_written(bytes as u64);
    }
}

impl ClientContext for Deliveries {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.log.client_log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.log.client_error(error, reason);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let message = match result {
            Ok(message) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                message
            }
            Err((error, message)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.log
                    .print("delivery", &format!("a record was not delivered: {error}"));
                message
            }
        };
        let bytes = message.payload_len() + message.key().map_or(0, <[u8]>::len);
        self.lifecycle.sink_bytes_written(bytes as u64);
    }
}

impl KafkaProducer {
    /// The producer of Kafka sink `spec` (made on the main thread, which no core is
    /// pinned to, so librdkafka's threads are not pinned either).
    /// With `transactional` (its transactional id and transaction timeout), the producer
    /// fences off an earlier producer of that id (aborting its open transaction) and opens
    /// the first transaction.
    pub fn start(
        spec: &KafkaSink,
        options: &KafkaOptions,
        lifecycle: Arc<Lifecycle>,
        transactional: Option<(String, std::time::Duration)>,
    ) -> Result<Arc<KafkaProducer>, String> {
        let place = format!("sink {}", kafka_place(&spec.topic, &spec.brokers));
        let deliveries = Deliveries {
            lifecycle,
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            log: ClientLog::new(place.clone()),
        };
        let linger = spec.max_produce_buffer_ms.to_string();
        let mut defaults = vec![
            ("linger.ms", linger.as_str()),
            // The Java client's key -> partition mapping.
            ("partitioner", "murmur2_random"),
        ];
        let timeout_ms = transactional
            .as_ref()
            .map(|(_, timeout)| timeout.as_millis().to_string());
        if let (Some((id, _)), Some(timeout_ms)) = (&transactional, &timeout_ms) {
            defaults.push(("transactional.id", id));
            defaults.push(("transaction.timeout.ms", timeout_ms));
        }
        let config = options.client_config(&spec.brokers, &defaults);
        let producer: ThreadedProducer<Deliveries> = config
            .create_with_context(deliveries)
            .map_err(|e| format!("{place}: cannot create a producer: {e}"))?;
        if transactional.is_some() {
            producer
                .init_transactions(flow::KAFKA_TRANSACTION_WAIT)
                .and_then(|()| producer.begin_transaction())
                .map_err(|e| format!("{place}: cannot start a transaction: {e}"))?;
        }
        let topic =
            TopicHandle::new(&producer, &spec.topic).map_err(|e| format!("{place}: {e}"))?;
        Ok(Arc::new(KafkaProducer {
            topic,
            producer,
            max_message_size: spec.max_message_size,
            place,
        }))
    }

    /// Commits the open transaction with the consumer offsets of `sources` (per source:
    /// its topic, group and next offset per partition) and opens the next one.
    pub fn commit_epoch(
        &self,
        sources: &[(&str, &ConsumerGroupMetadata, &BTreeMap<i32, i64>)],
    ) -> Result<(), String> {
        let wait = flow::KAFKA_TRANSACTION_WAIT;
        for (topic, group, offsets) in sources {
            if offsets.is_empty() {
                continue;
            }
            let mut list = TopicPartitionList::new();
            for (&partition, &next) in offsets.iter() {
                let _ = list.add_partition_offset(topic, partition, Offset::Offset(next));
            }
            self.producer
                .send_offsets_to_transaction(&list, group, wait)
                .map_err(|e| {
                    format!(
                        "{}: cannot add topic '{topic}''s offsets to the transaction: {e}",
                        self.place
                    )
                })?;
        }
        self.producer
            .commit_transaction(wait)
            .map_err(|e| format!("{}: cannot commit the transaction: {e}", self.place))?;
        self.producer
            .begin_transaction()
            .map_err(|e| format!("{}: cannot open the next transaction: {e}", self.place))
    }

    /// `sink kafka topic 'T' on B: N records delivered` (and failures), for the summary.
    pub fn report(&self) -> String {
        let context = self.producer.context();
        let mut line = format!(
            "{}: {} records delivered",
            self.place,
            context.delivered.load(Ordering::Relaxed)
        );
        let failed = context.failed.load(Ordering::Relaxed);
        let refused = context.refused.load(Ordering::Relaxed);
        if failed + refused > 0 {
            line += &format!(", {failed} not delivered, {refused} not sent");
        }
        line
    }
}
