//! A sink buffer's records handed to librdkafka in one `rd_kafka_produce_batch` call on a
//! topic handle made once. rust-rdkafka only sends record by record, and each of its sends
//! copies the topic name, looks the topic up under the client's lock and reads the clock
//! three times; a batch does that once. This is the engine's only unsafe code.

use model::record::OutRecord;
use rdkafka::bindings as rd;
use rdkafka::producer::{Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use std::ffi::CString;
use std::ptr::{self, NonNull};

/// librdkafka's `RD_KAFKA_PARTITION_UA`: no partition chosen, the partitioner picks one.
const UNASSIGNED_PARTITION: i32 = -1;

/// librdkafka's handle of one topic of one producer. It is declared before the producer
/// it was made from wherever both are kept, so that it is dropped first.
pub struct TopicHandle {
    raw: NonNull<rd::rd_kafka_topic_t>,
}

// SAFETY: librdkafka's topic handles are reference counted and lock their own state;
// its API may be called on them from any thread.
unsafe impl Send for TopicHandle {}
// SAFETY: as above: `rd_kafka_produce_batch` may run on one handle from several threads.
unsafe impl Sync for TopicHandle {}

impl TopicHandle {
    /// The handle of `topic` in `producer`.
    pub fn new<C: ProducerContext, P: Producer<C>>(
        producer: &P,
        topic: &str,
    ) -> Result<TopicHandle, String> {
        let name = CString::new(topic).map_err(|_| format!("topic '{topic}' has a NUL byte"))?;
        // SAFETY: the client pointer is live while `producer` is, `name` is a NUL-ended
        // string that librdkafka copies, and a null configuration means the defaults.
        let raw = unsafe {
            rd::rd_kafka_topic_new(
                producer.client().native_ptr(),
                name.as_ptr(),
                ptr::null_mut(),
            )
        };
        NonNull::new(raw)
            .map(|raw| TopicHandle { raw })
            .ok_or_else(|| format!("librdkafka made no handle of topic '{topic}'"))
    }

    /// Offers `records` to the producer in order, with their partitions (librdkafka's
    /// partitioner chooses where there is none) and copies of their bytes. Calls
    /// `refused(bytes, error)` for each record the producer refused. Returns how many
    /// records, from the front, were taken or refused before the producer's queue was
    /// full: the rest are to be offered again.
    pub fn produce<'r>(
        &self,
        records: impl Iterator<Item = OutRecord<'r>>,
        scratch: &mut Scratch,
        mut refused: impl FnMut(usize, RDKafkaErrorCode),
    ) -> usize {
        let messages = &mut scratch.messages;
        messages.clear();
        messages.extend(records.map(|record| {
            let (key, key_len) = record.key.map_or((ptr::null_mut(), 0), |key| {
                (key.as_ptr() as *mut _, key.len())
            });
            rd::rd_kafka_message_t {
                err: rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR,
                rkt: ptr::null_mut(),
                partition: record.partition.unwrap_or(UNASSIGNED_PARTITION),
                payload: record.value.as_ptr() as *mut _,
                len: record.value.len(),
                key,
                key_len,
                offset: 0,
                _private: ptr::null_mut(),
            }
        }));
        let count = i32::try_from(messages.len()).expect("a sink buffer of under 2^31 records");
        // SAFETY: the handle is live (dropped before its producer), and every message
        // points at bytes of `records` that outlive this call; with RD_KAFKA_MSG_F_COPY
        // librdkafka copies them before it returns and keeps no pointer into the array.
        // A null `_private` is the `()` delivery opaque of `producer::Deliveries`.
        unsafe {
            rd::rd_kafka_produce_batch(
                self.raw.as_ptr(),
                UNASSIGNED_PARTITION,
                rd::RD_KAFKA_MSG_F_COPY | rd::RD_KAFKA_MSG_F_PARTITION,
                messages.as_mut_ptr(),
                count,
            );
        }
        let mut offered = messages.len();
        for (at, message) in messages.iter().enumerate() {
            let error = RDKafkaErrorCode::from(message.err);
            match error {
                RDKafkaErrorCode::NoError => {}
                // The queue filled up here: this one and every later one were not taken.
                RDKafkaErrorCode::QueueFull => {
                    offered = at;
                    break;
                }
                _ => refused(message.len + message.key_len, error),
            }
        }
        messages.clear();
        offered
    }
}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the handle came from `rd_kafka_topic_new` and is released once, before
        // the producer it belongs to is destroyed.
        unsafe { rd::rd_kafka_topic_destroy(self.raw.as_ptr()) }
    }
}

/// The message array of `TopicHandle::produce`, kept by a sink task from one buffer to
/// the next so that a batch allocates nothing. It is empty between calls: no pointer
/// into a buffer outlives the call that made it.
#[derive(Default)]
pub struct Scratch {
    messages: Vec<rd::rd_kafka_message_t>,
}
