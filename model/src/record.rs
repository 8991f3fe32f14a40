//! Records: what a Kafka source brings in ([`Record`]) and how a batch's encoder output
//! for a record sink is laid out ([`SinkBuffer`]).

use bytes::{Bytes, BytesMut};

/// A record read from a Kafka partition, on its way to the core that decodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub value: Bytes,
    pub key: Option<Bytes>,
    /// The record's timestamp (ms since the epoch), when it has one.
    pub timestamp_ms: Option<i64>,
}

/// One batch's encoder output for one sink. A byte-stream sink (TCP) takes `bytes` as
/// they are; for a record sink (Kafka) each record appends its value, then its key, to
/// `bytes`, and says in `records` how long they are.
#[derive(Debug, Default)]
pub struct SinkBuffer {
    pub bytes: BytesMut,
    pub records: Vec<RecordBounds>,
}

/// Where one record of a [`SinkBuffer`] lies: `value_len` bytes of value, then
/// `key_len` bytes of key (none: no key), for `partition` (none: the producer picks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordBounds {
    pub value_len: u32,
    pub key_len: Option<u32>,
    pub partition: Option<i32>,
}

/// A record of a [`SinkBuffer`], with its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct OutRecord<'a> {
    pub value: &'a [u8],
    pub key: Option<&'a [u8]>,
    pub partition: Option<i32>,
}

impl SinkBuffer {
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.records.is_empty()
    }

    /// Appends one record (for a record sink).
    pub fn push_record(&mut self, value: &[u8], key: Option<&[u8]>, partition: Option<i32>) {
        self.bytes.extend_from_slice(value);
        if let Some(key) = key {
            self.bytes.extend_from_slice(key);
        }
        self.records.push(RecordBounds {
            value_len: value.len() as u32,
            key_len: key.map(|key| key.len() as u32),
            partition,
        });
    }

    /// Moves everything in `other` to the end of this buffer, leaving `other` empty.
    pub fn append(&mut self, other: &mut SinkBuffer) {
        if self.is_empty() {
            std::mem::swap(self, other);
            return;
        }
        self.bytes.extend_from_slice(&other.bytes);
        self.records.append(&mut other.records);
        other.bytes.clear();
    }

    /// The records in order (for a record sink).
    pub fn records(&self) -> impl Iterator<Item = OutRecord<'_>> {
        let mut at = 0usize;
        self.records.iter().map(move |bounds| {
            let value = &self.bytes[at..at + bounds.value_len as usize];
            at += bounds.value_len as usize;
            let key = bounds.key_len.map(|len| {
                let key = &self.bytes[at..at + len as usize];
                at += len as usize;
                key
            });
            OutRecord {
                value,
                key,
                partition: bounds.partition,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_pushed_also_after_appending() {
        let mut first = SinkBuffer::default();
        first.push_record(b"a 1", Some(b"a"), None);
        first.push_record(b"b 2", None, Some(3));
        let mut second = SinkBuffer::default();
        second.push_record(b"", Some(b""), Some(0));
        first.append(&mut second);
        assert!(second.is_empty());
        let records: Vec<_> = first.records().collect();
        assert_eq!(
            records,
            [
                OutRecord {
                    value: b"a 1",
                    key: Some(b"a"),
                    partition: None
                },
                OutRecord {
                    value: b"b 2",
                    key: None,
                    partition: Some(3)
                },
                OutRecord {
                    value: b"",
                    key: Some(b""),
                    partition: Some(0)
                },
            ]
        );
    }
}
