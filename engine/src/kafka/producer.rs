//! A Kafka sink's producer, shared by every core: librdkafka batches, sends and retries
//! on its own threads; each delivery (or final failure) is taken off the lifecycle's
//! pending sink bytes, so a drain or a commit point waits for the broker's
//! acknowledgement.

use super::{ClientLog, KafkaOptions};
use crate::lifecycle::Lifecycle;
use model::topology::{kafka_place, KafkaSink};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct KafkaProducer {
    pub producer: ThreadedProducer<Deliveries>,
    pub topic: String,
    pub max_message_size: usize,
    pub place: String,
}

/// Counts deliveries and reports failures.
pub struct Deliveries {
    lifecycle: Arc<Lifecycle>,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// Records never handed to the producer (too large, or refused).
    pub refused: AtomicU64,
    pub log: ClientLog,
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
    pub fn start(
        spec: &KafkaSink,
        options: &KafkaOptions,
        lifecycle: Arc<Lifecycle>,
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
        let config = options.client_config(
            &spec.brokers,
            &[
                ("linger.ms", &linger),
                // The Java client's key -> partition mapping.
                ("partitioner", "murmur2_random"),
            ],
        );
        let producer = config
            .create_with_context(deliveries)
            .map_err(|e| format!("{place}: cannot create a producer: {e}"))?;
        Ok(Arc::new(KafkaProducer {
            producer,
            topic: spec.topic.clone(),
            max_message_size: spec.max_message_size,
            place,
        }))
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
