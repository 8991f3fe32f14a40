//! The core side of a Kafka sink: hands the records a core's batches encoded to the
//! shared producer, in order, waiting while the producer's queue is full (the core's
//! sources then pause on the sink queue's high-water mark, as with a slow TCP sink).

use super::producer::KafkaProducer;
use crate::flow;
use crate::sink_queue::SinkHandle;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, Producer};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Produces what is queued in `sink.queue` until the core stops and the queue is empty.
pub async fn produce(sink: SinkHandle, producer: Arc<KafkaProducer>) {
    let SinkHandle {
        queue,
        doorbell,
        lifecycle,
        ..
    } = sink;
    let context = producer.producer.context();
    loop {
        let buffer = queue.take();
        if buffer.is_empty() {
            if doorbell.recv().await.is_none() {
                break;
            }
            continue;
        }
        for record in buffer.records() {
            let bytes = record.value.len() + record.key.map_or(0, <[u8]>::len);
            if record.value.len() > producer.max_message_size {
                context.refused.fetch_add(1, Ordering::Relaxed);
                context.log.print(
                    "too large",
                    &format!(
                        "a record of {} bytes is larger than --kafka_sink_max_message_size \
                         ({}): dropped",
                        record.value.len(),
                        producer.max_message_size
                    ),
                );
                lifecycle.sink_bytes_written(bytes as u64);
                continue;
            }
            let mut to_send = BaseRecord::<[u8], [u8]>::to(&producer.topic).payload(record.value);
            if let Some(key) = record.key {
                to_send = to_send.key(key);
            }
            if let Some(partition) = record.partition {
                to_send = to_send.partition(partition);
            }
            loop {
                match producer.producer.send(to_send) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        to_send = back;
                        glommio::timer::sleep(flow::PAUSED_POLL).await;
                    }
                    Err((error, _)) => {
                        context.refused.fetch_add(1, Ordering::Relaxed);
                        context
                            .log
                            .print("send", &format!("a record was not sent: {error}"));
                        lifecycle.sink_bytes_written(bytes as u64);
                        break;
                    }
                }
            }
        }
        queue.handed_over(buffer.bytes.len());
    }
}
