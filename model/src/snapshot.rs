//! What a checkpoint holds of one core: its state partitions and its generators'
//! positions, as plain values, written to and read from bytes.

use crate::value::Value;
use crate::value_bytes::{read_len, read_value, write_value, Malformed};

/// One entry of a core's snapshot.
#[derive(Clone, Debug, PartialEq)]
pub enum Saved {
    /// The state object of `key` in state group `state`.
    State {
        state: u32,
        key: Value,
        value: Value,
    },
    /// The last message generator source `source` made (what `apply` gets next).
    Generator { source: u32, last: Value },
}

const STATE: u8 = 0;
const GENERATOR: u8 = 1;

impl Saved {
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Saved::State { state, key, value } => {
                out.push(STATE);
                out.extend_from_slice(&state.to_le_bytes());
                write_value(key, out);
                write_value(value, out);
            }
            Saved::Generator { source, last } => {
                out.push(GENERATOR);
                out.extend_from_slice(&source.to_le_bytes());
                write_value(last, out);
            }
        }
    }

    /// Reads every entry of `bytes` (a snapshot's body).
    pub fn read_all(mut bytes: &[u8]) -> Result<Vec<Saved>, Malformed> {
        let mut entries = vec![];
        while let Some((&kind, rest)) = bytes.split_first() {
            bytes = rest;
            let index = read_len(&mut bytes)? as u32;
            entries.push(match kind {
                STATE => Saved::State {
                    state: index,
                    key: read_value(&mut bytes)?,
                    value: read_value(&mut bytes)?,
                },
                GENERATOR => Saved::Generator {
                    source: index,
                    last: read_value(&mut bytes)?,
                },
                _ => return Err(Malformed("unknown snapshot entry")),
            });
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;

    #[test]
    fn entries_read_back_as_written() {
        let entries = vec![
            Saved::State {
                state: 2,
                key: Value::Str(Text::from("roo")),
                value: Value::Int(41),
            },
            Saved::Generator {
                source: 1,
                last: Value::Tuple(vec![Value::Int(9)]),
            },
        ];
        let mut bytes = vec![];
        for entry in &entries {
            entry.write(&mut bytes);
        }
        assert_eq!(Saved::read_all(&bytes).unwrap(), entries);
        assert!(Saved::read_all(&bytes[..bytes.len() - 1]).is_err());
    }
}
