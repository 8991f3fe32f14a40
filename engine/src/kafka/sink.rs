//! The core side of a Kafka sink: hands the records a core's batches encoded to the
//! shared producer, in order, a buffer at a time, waiting while the producer's queue is
//! full (the core's sources then pause on the sink queue's high-water mark, as with a
//! slow TCP sink).

use super::batch::Scratch;
use super::producer::KafkaProducer;
use crate::flow;
use crate::sink_queue::SinkHandle;
use model::record::OutRecord;
use rdkafka::producer::Producer;
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
    let limit = producer.max_message_size;
    let fits = |record: &OutRecord<'_>| record.value.len() <= limit;
    let mut scratch = Scratch::default();
    loop {
        let buffer = queue.take();
        if buffer.is_empty() {
            if doorbell.recv().await.is_none() {
                break;
            }
            continue;
        }
        for record in buffer.records().filter(|record| !fits(record)) {
            context.refused.fetch_add(1, Ordering::Relaxed);
            context.log.print(
                "too large",
                &format!(
                    "a record of {} bytes is larger than --kafka_sink_max_message_size \
                     ({limit}): dropped",
                    record.value.len(),
                ),
            );
            lifecycle.sink_bytes_written(
                (record.value.len() + record.key.map_or(0, <[u8]>::len)) as u64,
            );
        }
        let total = buffer.records().filter(fits).count();
        let mut offered = 0;
        loop {
            let records = buffer.records().filter(fits).skip(offered);
            offered += producer
                .topic
                .produce(records, &mut scratch, |bytes, error| {
                    context.refused.fetch_add(1, Ordering::Relaxed);
                    context
                        .log
                        .print("send", &format!("a record was not sent: {error}"));
                    lifecycle.sink_bytes_written(bytes as u64);
                });
            if offered == total {
                break;
            }
            glommio::timer::sleep(flow::PAUSED_POLL).await;
        }
        queue.handed_over(buffer.bytes.len());
    }
}
