//! Partition keys already converted to [`Value`]s, found again by the identity of their
//! Python object.
//!
//! A partition function mostly returns the same few objects: one-letter strings are
//! CPython singletons, literals are interned, a key read from a dict or an attribute is
//! shared. Remembering the conversion (type checks, UTF-8, copy) spares it on every
//! message. A key some other reference also holds is remembered with its
//! `Value`; a fresh temporary (the call's result is its only reference) is not, as it
//! would not come back. Remembering holds a reference, so the address cannot be reused
//! by another object while the entry lives, and only immutable types are remembered, so
//! the `Value` stays true. The entry also remembers which core owns the key (for one state
//! at a time), which spares the partition table's lookup too.

use crate::subinterpreter::{is_shared, PyObj};
use model::Value;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyString};

/// Entries, one per slot picked by address: a handful of hot keys rarely collide, and a
/// collision only costs a conversion.
const SLOTS: usize = 64;

/// One core's remembered keys; its objects are dropped with the core's other Python
/// objects, while its interpreter is attached.
pub struct KeyCache {
    slots: Vec<Option<Entry>>,
    /// The slot of the key `value_of` gave last, if remembered.
    last: Option<usize>,
}

struct Entry {
    object: PyObj,
    value: Value,
    /// (state, core owning this key in it), once asked.
    owner: Option<(usize, usize)>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache {
            slots: (0..SLOTS).map(|_| None).collect(),
            last: None,
        }
    }
}

impl KeyCache {
    /// The `Value` of `key`: remembered, or made by `convert` (and remembered if `key` is
    /// shared and immutable).
    pub fn value_of(
        &mut self,
        key: &Bound<'_, PyAny>,
        convert: impl FnOnce(&Bound<'_, PyAny>) -> Result<Value, String>,
    ) -> Result<Value, String> {
        // Objects are at least 16-byte aligned: the low bits say nothing.
        let slot = (key.as_ptr() as usize >> 4) % SLOTS;
        self.last = None;
        if let Some(entry) = &self.slots[slot] {
            if entry.object.bind(key.py()).as_ptr() == key.as_ptr() {
                self.last = Some(slot);
                return Ok(entry.value.clone());
            }
        }
        let value = convert(key)?;
        let immutable = key.is_exact_instance_of::<PyString>()
            || key.is_exact_instance_of::<PyInt>()
            || key.is_exact_instance_of::<PyBytes>();
        if immutable && is_shared(key) {
            self.slots[slot] = Some(Entry {
                object: PyObj::new(key.clone()),
                value: value.clone(),
                owner: None,
            });
            self.last = Some(slot);
        }
        Ok(value)
    }

    /// The core owning `key` in state `state`: remembered with the key `value_of` gave
    /// last if it is `key`, else found by `find` (and remembered).
    pub fn owner(&mut self, state: usize, key: &Value, find: impl FnOnce() -> usize) -> usize {
        let last = self.last.take();
        let Some(entry) = last.and_then(|slot| self.slots[slot].as_mut()) else {
            return find();
        };
        if entry.value != *key {
            return find();
        }
        match entry.owner {
            Some((remembered, core)) if remembered == state => core,
            _ => {
                let core = find();
                entry.owner = Some((state, core));
                core
            }
        }
    }
}
