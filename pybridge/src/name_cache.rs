//! [`NameCache`]: values looked up by a class's or field's travel name, per core.

use model::value::{Fnv1a, TravelName, WordHasher};
use std::borrow::Cow;
use std::collections::HashMap;

/// Names a core leaks and caches at most.
pub const MAX_NAMES: usize = 4096;

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv1a>>;

/// Maps keyed by an address, or an address and a length, looked up several times per
/// object that changes cores: hashed a word at a time.
pub type AddressMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<WordHasher>>;

/// Values looked up by travel name: a leaked name by its address and length (leaked names
/// are never freed, so an address is never reused), an owned one by its text.
pub struct NameCache<V> {
    by_address: AddressMap<(usize, usize), V>,
    by_text: FnvMap<Box<str>, V>,
}

impl<V> Default for NameCache<V> {
    fn default() -> Self {
        NameCache {
            by_address: AddressMap::default(),
            by_text: FnvMap::default(),
        }
    }
}

impl<V> NameCache<V> {
    pub fn get(&self, name: &TravelName) -> Option<&V> {
        match name {
            Cow::Borrowed(text) => self.by_address.get(&(text.as_ptr() as usize, text.len())),
            Cow::Owned(text) => self.by_text.get(text.as_str()),
        }
    }

    /// Keeps `value` for `name`, unless [`MAX_NAMES`] are kept already.
    pub fn insert(&mut self, name: &TravelName, value: V) {
        if self.by_address.len() + self.by_text.len() >= MAX_NAMES {
            return;
        }
        match name {
            Cow::Borrowed(text) => {
                self.by_address
                    .insert((text.as_ptr() as usize, text.len()), value);
            }
            Cow::Owned(text) => {
                self.by_text.insert(text.as_str().into(), value);
            }
        }
    }
}
