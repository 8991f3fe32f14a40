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
use std::sync::Arc;

/// Produces what is queued in `sink.queue` until the core stops and the queue is empty.
pub async fn produce(sink: SinkHandle, producer: Arc<KafkaProducer>) {
    let SinkHandle {
        queue, doorbell, ..
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
        let mut total = 0;
        for record in buffer.records() {
            if fits(&record) {
                total += 1;
                continue;
            }
            let why = format!(
                "a record of {} bytes is larger than --kafka_sink_max_message_size ({limit}): \
                 dropped",
                record.value.len(),
            );
            context.refuse(
                record.value.len() + record.key.map_or(0, <[u8]>::len),
                "too large",
                &why,
            );
        }
        let mut offered = 0;
        loop {
            let records = buffer.records().filter(fits).skip(offered);
            offered += producer
                .topic
                .produce(records, &mut scratch, |bytes, error| {
                    context.refuse(bytes, "send", &format!("a record was not sent: {error}"));
                });
            if offered == total {
                break;
            }
            glommio::timer::sleep(flow::PAUSED_POLL).await;
        }
        queue.handed_over(buffer.bytes.len());
    }
}
