//! [`Value`]s as bytes, for checkpoint files: a tag byte, then little-endian fixed-size
//! numbers, or a u32 length and the bytes, or a u32 count and the items.

use crate::text::Text;
use crate::value::Value;
use std::borrow::Cow;

const NONE: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const BYTES: u8 = 6;
const TUPLE: u8 = 7;
const LIST: u8 = 8;
const DICT: u8 = 9;
const OBJECT: u8 = 10;
const PICKLED: u8 = 11;

/// Nesting deeper than this is refused when reading (a corrupt file must not overflow
/// the stack); values are converted natively only to a smaller depth.
const MAX_DEPTH: usize = 64;

/// Appends `value` to `out`.
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::None => out.push(NONE),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Int(i) => {
            out.push(INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Str(text) => write_bytes(STR, text.as_bytes(), out),
        Value::Bytes(bytes) => write_bytes(BYTES, bytes, out),
        Value::Pickled(bytes) => write_bytes(PICKLED, bytes, out),
        Value::Tuple(items) | Value::List(items) => {
            out.push(if matches!(value, Value::Tuple(_)) {
                TUPLE
            } else {
                LIST
            });
            write_len(items.len(), out);
            for item in items {
                write_value(item, out);
            }
        }
        Value::Dict(pairs) => {
            out.push(DICT);
            write_len(pairs.len(), out);
            for (key, item) in pairs {
                write_value(key, out);
                write_value(item, out);
            }
        }
        Value::Object { class, fields } => {
            write_bytes(OBJECT, class.as_bytes(), out);
            write_len(fields.len(), out);
            for (name, item) in fields {
                write_len(name.len(), out);
                out.extend_from_slice(name.as_bytes());
                write_value(item, out);
            }
        }
    }
}

fn write_len(len: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn write_bytes(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    write_len(bytes.len(), out);
    out.extend_from_slice(bytes);
}

/// What is wrong with bytes that should hold a value.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Reads one value from the front of `input`, advancing it.
pub fn read_value(input: &mut &[u8]) -> Result<Value, Malformed> {
    read_at_depth(input, 0)
}

fn read_at_depth(input: &mut &[u8], depth: usize) -> Result<Value, Malformed> {
    if depth > MAX_DEPTH {
        return Err(Malformed("values nested too deeply"));
    }
    let tag = take(input, 1)?[0];
    Ok(match tag {
        NONE => Value::None,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        INT => Value::Int(i64::from_le_bytes(take_array(input)?)),
        FLOAT => Value::Float(f64::from_le_bytes(take_array(input)?)),
        STR => Value::Str(Text::from(read_str(input)?)),
        BYTES => Value::Bytes(read_bytes(input)?.to_vec()),
        PICKLED => Value::Pickled(read_bytes(input)?.to_vec()),
        TUPLE | LIST => {
            let count = read_len(input)?;
            let items = (0..count)
                .map(|_| read_at_depth(input, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            match tag {
                TUPLE => Value::Tuple(items),
                _ => Value::List(items),
            }
        }
        DICT => {
            let count = read_len(input)?;
            let pairs = (0..count)
                .map(|_| {
                    Ok((
                        read_at_depth(input, depth + 1)?,
                        read_at_depth(input, depth + 1)?,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Value::Dict(pairs)
        }
        OBJECT => {
            let class = Cow::Owned(read_str(input)?.to_string());
            let count = read_len(input)?;
            let fields = (0..count)
                .map(|_| {
                    let name = Cow::Owned(read_str(input)?.to_string());
                    Ok((name, read_at_depth(input, depth + 1)?))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Value::Object { class, fields }
        }
        _ => return Err(Malformed("unknown value tag")),
    })
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], Malformed> {
    if input.len() < n {
        return Err(Malformed("value cut short"));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn take_array<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], Malformed> {
    Ok(take(input, N)?.try_into().expect("N bytes taken"))
}

pub fn read_len(input: &mut &[u8]) -> Result<usize, Malformed> {
    Ok(u32::from_le_bytes(take_array(input)?) as usize)
}

fn read_bytes<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], Malformed> {
    let len = read_len(input)?;
    take(input, len)
}

fn read_str<'a>(input: &mut &'a [u8]) -> Result<&'a str, Malformed> {
    std::str::from_utf8(read_bytes(input)?).map_err(|_| Malformed("text that is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: &Value) -> Value {
        let mut bytes = vec![];
        write_value(value, &mut bytes);
        let mut input = bytes.as_slice();
        let read = read_value(&mut input).expect("reads back");
        assert!(input.is_empty(), "every byte read");
        read
    }

    #[test]
    fn every_kind_of_value_reads_back_as_written() {
        let value = Value::List(vec![
            Value::None,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(-7),
            Value::Float(2.5),
            Value::Str(Text::from("héllo, a text longer than twenty-two bytes")),
            Value::Bytes(vec![0, 255]),
            Value::Tuple(vec![Value::Int(1), Value::Str(Text::from("a"))]),
            Value::Dict(vec![(Value::Str(Text::from("k")), Value::Float(-0.0))]),
            Value::Object {
                class: Cow::Borrowed("app:WordTotal"),
                fields: vec![(Cow::Borrowed("count"), Value::Int(3))],
            },
            Value::Pickled(b"\x80\x04.".to_vec()),
        ]);
        assert_eq!(round_trip(&value), value);
    }

    #[test]
    fn cut_or_corrupt_bytes_are_refused() {
        let mut bytes = vec![];
        write_value(&Value::Str(Text::from("abc")), &mut bytes);
        for cut in 0..bytes.len() {
            assert!(read_value(&mut &bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(
            read_value(&mut &[99u8][..]),
            Err(Malformed("unknown value tag"))
        );
        let deep = [TUPLE, 1, 0, 0, 0].repeat(100);
        assert!(read_value(&mut deep.as_slice()).is_err());
    }
}
