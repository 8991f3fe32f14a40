//! Python values as plain Rust data: what crosses from one core's interpreter to another's
//! and what keys state partitions. pybridge converts them to and from Python objects.

pub use crate::text::Text;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// A Python value as plain data. Exact builtin types only: a subclass of `str` is pickled
/// so that it arrives as the same subclass.
#[derive(Clone, Debug)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// An instance of a plain app class (see python/roo/transfer.py): its class as
    /// 'module:qualname' and its `__dict__`.
    Object {
        class: TravelName,
        fields: Vec<(TravelName, Value)>,
    },
    /// `pickle.dumps` (or the app's `serialize`) of anything else.
    Pickled(Vec<u8>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) | (Pickled(a), Pickled(b)) => a == b,
            (Tuple(a), Tuple(b)) | (List(a), List(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            (
                Object {
                    class: a,
                    fields: x,
                },
                Object {
                    class: b,
                    fields: y,
                },
            ) => a == b && x == y,
            (Bool(_) | Int(_) | Float(_), Bool(_) | Int(_) | Float(_)) => {
                matches!((self.as_integer(), other.as_integer()), (Some(a), Some(b)) if a == b)
            }
            _ => false,
        }
    }
}

/// Keys compare by content as Python compares dict keys: `True`, `1` and `1.0` are one key
/// (and `0.0` and `-0.0`), other floats compare by bits (so NaN is a key equal to itself).
impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if let Some(integer) = self.as_integer() {
            std::mem::discriminant(&Value::Int(0)).hash(state);
            return integer.hash(state);
        }
        std::mem::discriminant(self).hash(state);
        match self {
            Value::None => {}
            Value::Bool(_) | Value::Int(_) => unreachable!("hashed as integers above"),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Str(s) => s.hash(state),
            Value::Bytes(b) | Value::Pickled(b) => b.hash(state),
            Value::Tuple(items) | Value::List(items) => items.hash(state),
            Value::Dict(pairs) => pairs.hash(state),
            Value::Object { class, fields } => {
                class.hash(state);
                fields.hash(state);
            }
        }
    }
}

impl Value {
    /// The integer a bool, an int or a float with an integral value equals in Python.
    #[inline]
    fn as_integer(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Bool(b) => Some(b as i64),
            Value::Float(f) if f.fract() == 0.0 && (-9.2e18..9.2e18).contains(&f) => Some(f as i64),
            _ => None,
        }
    }

    /// A hash that is the same on every core and in every run (unlike `std`'s RandomState),
    /// used to place keys on cores.
    pub fn stable_hash(&self) -> u64 {
        let mut hasher = Fnv1a::default();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

impl std::fmt::Display for Value {
    /// Python-like text, for error messages that name a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
            Value::Tuple(items) | Value::List(items) => {
                let (open, close) = if matches!(self, Value::Tuple(_)) {
                    ("(", ")")
                } else {
                    ("[", "]")
                };
                f.write_str(open)?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(close)
            }
            Value::Dict(pairs) => write!(f, "<dict of {}>", pairs.len()),
            Value::Object { class, .. } => write!(f, "<{class} object>"),
            Value::Pickled(b) => write!(f, "<pickled, {} bytes>", b.len()),
        }
    }
}

/// A map keyed by [`Value`]s (state partitions, listed keys), looked up once or twice per
/// message: hashed a word at a time, as SipHash's flood resistance buys nothing for keys
/// an app chose, and a word at a time is cheaper than FNV-1a's byte at a time.
pub type ValueMap<V> = HashMap<Value, V, std::hash::BuildHasherDefault<WordHasher>>;

/// 64-bit FNV-1a: tiny, deterministic, good enough to spread keys over partitions.
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The name of a plain class or of one of its fields as it crosses cores. Almost always a
/// copy the sending core leaked once (an app has few such names), so a routed object
/// carries pointers, not allocations whose frees would land on another core's thread;
/// past [`MAX_NAMES`] per core (an app generating attribute names), an owned copy.
pub type TravelName = Cow<'static, str>;

/// A multiply-and-rotate hash of whole words, for hash maps within one core (not for
/// placing keys: that is [`Value::stable_hash`]). Addresses are aligned, so their low
/// bits say little; the multiply carries every bit up and the rotate brings the mixed
/// high bits down to where a hash table takes its bucket index.
#[derive(Default)]
pub struct WordHasher(u64);

// Inlined across crates: the engine's partition table hashes with it once per message.
impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }
    #[inline]
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_equal_in_python_are_one_key() {
        let one = [Value::Int(1), Value::Float(1.0), Value::Bool(true)];
        for a in &one {
            for b in &one {
                assert_eq!(a, b);
                assert_eq!(a.stable_hash(), b.stable_hash());
            }
        }
        assert_eq!(Value::Float(0.0), Value::Float(-0.0));
        assert_eq!(
            Value::Float(0.0).stable_hash(),
            Value::Bool(false).stable_hash()
        );
        assert_ne!(Value::Float(1.5), Value::Int(1));
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        let tuple = |x| Value::Tuple(vec![x, Value::Str(Text::from("a"))]);
        assert_eq!(tuple(Value::Int(2)), tuple(Value::Float(2.0)));
        assert_eq!(
            tuple(Value::Int(2)).stable_hash(),
            tuple(Value::Float(2.0)).stable_hash()
        );
        assert_ne!(Value::Str(Text::from("1")), Value::Int(1));
    }
}
