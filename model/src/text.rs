//! [`Text`]: a Python str as plain data, without an allocation when it is short.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes kept inline.
const INLINE: usize = 22;

/// A str as it crosses cores. Partition keys and most words fit in 22 bytes and are kept
/// inline, so routing them allocates nothing (and frees nothing on the receiving core's
/// thread); longer text is on the heap. Compares and hashes exactly as the `str` it holds.
#[derive(Clone)]
pub enum Text {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Inline { .. } => std::str::from_utf8(self.as_bytes()).expect("made from a str"),
            Text::Heap(text) => text,
        }
    }

    /// The UTF-8 bytes, without the validation `as_str` does on inline text: comparing,
    /// hashing and rebuilding the Python str need no more.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Text::Heap(text) => text.as_bytes(),
        }
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        if text.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Text::Inline {
                len: text.len() as u8,
                bytes,
            }
        } else {
            Text::Heap(text.into())
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        if text.len() <= INLINE {
            Text::from(text.as_str())
        } else {
            Text::Heap(text.into_boxed_str())
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Hash for Text {
    /// What `str`'s hash writes (its bytes, then 0xff), so a Text hashes as its str.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
        state.write_u8(0xff);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn short_and_long_text_behave_as_their_str() {
        for text in [
            "",
            "a",
            "héllo wörld",
            "exactly twenty-two b!!",
            "twenty-three bytes long",
            &"x".repeat(1000),
        ] {
            let made = Text::from(text);
            assert_eq!(made.as_str(), text);
            assert_eq!(&*Text::from(text.to_string()), text);
            assert_eq!(hash_of(&made), hash_of(text), "{text:?}");
            assert!(made == *text);
            assert_eq!(format!("{made:?}"), format!("{text:?}"));
            assert_eq!(matches!(made, Text::Inline { .. }), text.len() <= INLINE);
        }
        assert_ne!(Text::from("a"), Text::from("b"));
    }
}
