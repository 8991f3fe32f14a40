//! Values that cross from one core's interpreter to another's.
//!
//! Python objects never leave their interpreter: a message routed to another core is
//! converted to a [`Value`] (plain Rust data, `Send`) and rebuilt on arrival. The common
//! types have a native form; anything else goes through `pickle`, which works because every
//! interpreter imported the same application module.

use crate::subinterpreter::{discard, error_text, str_utf8, PyObj};
pub use crate::text::Text;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyNone, PyString, PyTuple};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Nesting deeper than this is pickled whole rather than converted natively.
const MAX_NATIVE_DEPTH: usize = 32;

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
/// an app chose, and FNV-1a's byte at a time was 1.4% of the word count's CPU (perf).
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

/// Names a core leaks and caches at most.
const MAX_NAMES: usize = 4096;

/// A class kept alive (so its address stays its own) and its travel name, if plain.
type SeenClass = (PyObj, Option<TravelName>);

/// A class found by its travel name, and its `__new__`.
type FoundClass = (PyObj, PyObj);

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv1a>>;

/// Maps keyed by an address, or an address and a length, looked up several times per
/// object that changes cores: FNV-1a's byte-at-a-time loop over a 16-byte key was a
/// large part of that conversion (perf, market spread at 2 cores).
type AddressMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<WordHasher>>;

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

/// Values looked up by travel name: a leaked name by its address and length (leaked names
/// are never freed, so an address is never reused), an owned one by its text.
struct NameCache<V> {
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
    fn get(&self, name: &TravelName) -> Option<&V> {
        match name {
            Cow::Borrowed(text) => self.by_address.get(&(text.as_ptr() as usize, text.len())),
            Cow::Owned(text) => self.by_text.get(text.as_str()),
        }
    }

    /// Keeps `value` for `name`, unless [`MAX_NAMES`] are kept already.
    fn insert(&mut self, name: &TravelName, value: V) {
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

/// Converts between Python objects and [`Value`]s inside one interpreter (holds that
/// interpreter's `pickle.dumps`/`pickle.loads`).
pub struct ValueCodec {
    dumps: PyObj,
    loads: PyObj,
    /// roo.transfer's plain_class_name and find_class, when the roo package is installed.
    transfer: Option<(PyObj, PyObj)>,
    /// Per class seen (keyed by its address, kept alive by the PyObj): its name when its
    /// instances travel as Value::Object.
    plain_classes: RefCell<AddressMap<usize, SeenClass>>,
    /// Field names of objects sent, per Python str (keyed by its address, kept alive).
    sent_field_names: RefCell<AddressMap<usize, (PyObj, TravelName)>>,
    /// Names this core leaked.
    leaked_names: Cell<usize>,
    /// Classes found by name for rebuilding Value::Objects.
    classes_by_name: RefCell<NameCache<FoundClass>>,
    /// The attribute name "__dict__" (made once: pyo3 would make a new string per lookup).
    dict_name: PyObj,
    /// Field names of rebuilt objects, as interned Python strings (hash computed once).
    field_names: RefCell<NameCache<PyObj>>,
}

impl ValueCodec {
    /// A codec that pickles what has no native form.
    pub fn new(py: Python<'_>) -> Result<ValueCodec, String> {
        let pickle = py.import("pickle").map_err(|e| error_text(py, e))?;
        let get = |name: &str| {
            pickle
                .getattr(name)
                .map(PyObj::new)
                .map_err(|e| error_text(py, e))
        };
        Ok(ValueCodec::with_functions(
            py,
            get("dumps")?,
            get("loads")?,
            true,
        ))
    }

    /// As Wallaroo did, an app module that defines both `serialize(obj) -> bytes` and
    /// `deserialize(bytes) -> obj` replaces pickle with them.
    pub fn for_app(module: &Bound<'_, PyAny>) -> Result<ValueCodec, String> {
        let py = module.py();
        let function = |name: &str| match module.getattr(name) {
            Ok(f) if f.is_callable() => Some(PyObj::new(f)),
            Ok(_) => None,
            Err(e) => {
                discard(py, e);
                None
            }
        };
        match (function("serialize"), function("deserialize")) {
            (Some(dumps), Some(loads)) => Ok(ValueCodec::with_functions(py, dumps, loads, false)),
            _ => ValueCodec::new(py),
        }
    }

    /// `plain_objects`: move plain app objects as Value::Object (off when the app chose its
    /// own serialize/deserialize, which then see every non-native value).
    fn with_functions(
        py: Python<'_>,
        dumps: PyObj,
        loads: PyObj,
        plain_objects: bool,
    ) -> ValueCodec {
        let transfer = match py.import("roo.transfer") {
            Ok(module) if plain_objects => match (
                module.getattr("plain_class_name"),
                module.getattr("find_class"),
            ) {
                (Ok(name), Ok(find)) => Some((PyObj::new(name), PyObj::new(find))),
                (name, find) => {
                    for err in [name.err(), find.err()].into_iter().flatten() {
                        discard(py, err);
                    }
                    None
                }
            },
            Ok(_) => None,
            Err(e) => {
                discard(py, e);
                None
            }
        };
        ValueCodec {
            dumps,
            loads,
            transfer,
            plain_classes: RefCell::default(),
            sent_field_names: RefCell::default(),
            leaked_names: Cell::new(0),
            classes_by_name: RefCell::default(),
            dict_name: PyObj::new(PyString::intern(py, "__dict__").into_any()),
            field_names: RefCell::default(),
        }
    }

    /// Plain-data form of `object`; Err carries the Python traceback when it cannot be pickled.
    pub fn to_value(&self, object: &Bound<'_, PyAny>) -> Result<Value, String> {
        self.to_value_at(object, 0)
    }

    fn to_value_at(&self, object: &Bound<'_, PyAny>, depth: usize) -> Result<Value, String> {
        if let Some(value) = self.native(object, depth)? {
            return Ok(value);
        }
        let py = object.py();
        let pickled = self
            .dumps
            .bind(py)
            .call1((object,))
            .map_err(|e| error_text(py, e))?;
        match pickled.cast::<PyBytes>() {
            Ok(bytes) => Ok(Value::Pickled(bytes.as_bytes().to_vec())),
            Err(_) => Err("pickle.dumps did not return bytes".into()),
        }
    }

    /// The native form, or None when the object must be pickled.
    fn native(&self, object: &Bound<'_, PyAny>, depth: usize) -> Result<Option<Value>, String> {
        if depth > MAX_NATIVE_DEPTH {
            return Ok(None);
        }
        let py = object.py();
        if object.is_none() {
            return Ok(Some(Value::None));
        }
        if object.is_exact_instance_of::<PyString>() {
            return Ok(str_utf8(object).map(|s| Value::Str(Text::from(s))));
        }
        if object.is_exact_instance_of::<PyInt>() {
            return Ok(match object.extract::<i64>() {
                Ok(i) => Some(Value::Int(i)),
                Err(overflow) => {
                    discard(py, overflow);
                    None
                }
            });
        }
        if let Ok(b) = object.cast_exact::<PyBool>() {
            return Ok(Some(Value::Bool(b.is_true())));
        }
        if let Ok(x) = object.cast_exact::<PyFloat>() {
            return Ok(Some(Value::Float(x.value())));
        }
        if let Ok(bytes) = object.cast_exact::<PyBytes>() {
            return Ok(Some(Value::Bytes(bytes.as_bytes().to_vec())));
        }
        if let Ok(tuple) = object.cast_exact::<PyTuple>() {
            return self
                .native_items(tuple.iter(), depth)
                .map(|v| v.map(Value::Tuple));
        }
        if let Ok(list) = object.cast_exact::<PyList>() {
            return self
                .native_items(list.iter(), depth)
                .map(|v| v.map(Value::List));
        }
        if let Ok(dict) = object.cast_exact::<PyDict>() {
            let mut pairs = Vec::with_capacity(dict.len());
            for (k, v) in dict.iter() {
                match (self.native(&k, depth + 1)?, self.native(&v, depth + 1)?) {
                    (Some(k), Some(v)) => pairs.push((k, v)),
                    _ => return Ok(None),
                }
            }
            return Ok(Some(Value::Dict(pairs)));
        }
        if let Some(class) = self.plain_class_name(object) {
            return self.native_object(object, class, depth);
        }
        Ok(None)
    }

    /// The name under which instances of `object`'s class travel as Value::Object, if any.
    fn plain_class_name(&self, object: &Bound<'_, PyAny>) -> Option<TravelName> {
        let (name_of, _) = self.transfer.as_ref()?;
        let class = object.get_type();
        let address = class.as_ptr() as usize;
        if let Some((_, name)) = self.plain_classes.borrow().get(&address) {
            return name.clone();
        }
        let py = object.py();
        let name = match name_of.bind(py).call1((&class,)) {
            Ok(name) => str_utf8(&name).map(|text| self.travel_name(text)),
            Err(e) => {
                discard(py, e);
                None
            }
        };
        self.plain_classes
            .borrow_mut()
            .insert(address, (PyObj::new(class.into_any()), name.clone()));
        name
    }

    /// `text` as it will travel: leaked once (see [`TravelName`]) while under the cap.
    fn travel_name(&self, text: &str) -> TravelName {
        let leaked = self.leaked_names.get();
        if leaked >= MAX_NAMES {
            return Cow::Owned(text.to_owned());
        }
        self.leaked_names.set(leaked + 1);
        Cow::Borrowed(Box::leak(text.into()))
    }

    /// The travel name of the field name `name` (an attribute name: one of few str objects).
    fn sent_field_name(&self, name: &Bound<'_, PyAny>) -> Option<TravelName> {
        let address = name.as_ptr() as usize;
        if let Some((_, travel)) = self.sent_field_names.borrow().get(&address) {
            return Some(travel.clone());
        }
        let travel = self.travel_name(str_utf8(name)?);
        let mut names = self.sent_field_names.borrow_mut();
        if names.len() < MAX_NAMES {
            names.insert(address, (PyObj::new(name.clone()), travel.clone()));
        }
        Some(travel)
    }

    fn native_object(
        &self,
        object: &Bound<'_, PyAny>,
        class: TravelName,
        depth: usize,
    ) -> Result<Option<Value>, String> {
        let py = object.py();
        let dict = match self.dict_of(object) {
            Ok(dict) => dict,
            Err(e) => {
                discard(py, e);
                return Ok(None);
            }
        };
        let Ok(dict) = dict.cast_exact::<PyDict>() else {
            return Ok(None);
        };
        let mut fields = Vec::with_capacity(dict.len());
        for (name, value) in dict.iter() {
            if !name.is_exact_instance_of::<PyString>() {
                return Ok(None);
            }
            let (Some(name), Some(value)) =
                (self.sent_field_name(&name), self.native(&value, depth + 1)?)
            else {
                return Ok(None);
            };
            fields.push((name, value));
        }
        Ok(Some(Value::Object { class, fields }))
    }

    /// An empty instance of the class named `class`, as pickle makes one (no __init__).
    fn empty_instance<'py>(
        &self,
        py: Python<'py>,
        class: &TravelName,
    ) -> Result<Bound<'py, PyAny>, String> {
        let cached = self
            .classes_by_name
            .borrow()
            .get(class)
            .map(|(class, new)| (class.to_bound(py), new.to_bound(py)));
        let (class_object, new) = match cached {
            Some(found) => found,
            None => {
                let (_, find) = self
                    .transfer
                    .as_ref()
                    .ok_or("the roo package is not installed")?;
                let found = find
                    .bind(py)
                    .call1((&**class,))
                    .map_err(|e| error_text(py, e))?;
                let new = found.getattr("__new__").map_err(|e| error_text(py, e))?;
                self.classes_by_name
                    .borrow_mut()
                    .insert(class, (PyObj::new(found.clone()), PyObj::new(new.clone())));
                (found, new)
            }
        };
        new.call1((&class_object,)).map_err(|e| error_text(py, e))
    }

    /// `object.__dict__`.
    fn dict_of<'py>(&self, object: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let name = self.dict_name.bind(object.py());
        object.getattr(name.cast::<PyString>()?)
    }

    /// `name` as a Python string, interned and kept for the next object.
    fn field_name<'py>(&self, py: Python<'py>, name: &TravelName) -> Bound<'py, PyAny> {
        if let Some(cached) = self.field_names.borrow().get(name) {
            return cached.to_bound(py);
        }
        let interned = PyString::intern(py, name).into_any();
        self.field_names
            .borrow_mut()
            .insert(name, PyObj::new(interned.clone()));
        interned
    }

    fn native_items<'py>(
        &self,
        items: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
        depth: usize,
    ) -> Result<Option<Vec<Value>>, String> {
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match self.native(&item, depth + 1)? {
                Some(value) => values.push(value),
                None => return Ok(None),
            }
        }
        Ok(Some(values))
    }

    /// Rebuilds the Python object in the attached interpreter.
    pub fn to_python<'py>(
        &self,
        py: Python<'py>,
        value: &Value,
    ) -> Result<Bound<'py, PyAny>, String> {
        let object = match value {
            Value::None => PyNone::get(py).to_owned().into_any(),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            Value::Int(i) => PyInt::new(py, *i).into_any(),
            Value::Float(x) => PyFloat::new(py, *x).into_any(),
            // From the bytes: CPython checks the UTF-8 anyway, so `as_str`'s check is spared.
            Value::Str(s) => PyString::from_bytes(py, s.as_bytes())
                .map_err(|e| error_text(py, e))?
                .into_any(),
            Value::Bytes(b) => PyBytes::new(py, b).into_any(),
            Value::Tuple(items) => {
                let items = self.python_items(py, items)?;
                PyTuple::new(py, items)
                    .map_err(|e| error_text(py, e))?
                    .into_any()
            }
            Value::List(items) => {
                let items = self.python_items(py, items)?;
                PyList::new(py, items)
                    .map_err(|e| error_text(py, e))?
                    .into_any()
            }
            Value::Dict(pairs) => {
                let dict = PyDict::new(py);
                for (k, v) in pairs {
                    dict.set_item(self.to_python(py, k)?, self.to_python(py, v)?)
                        .map_err(|e| error_text(py, e))?;
                }
                dict.into_any()
            }
            Value::Object { class, fields } => {
                let instance = self.empty_instance(py, class)?;
                // Pickle would store into the new instance's __dict__; plain classes have
                // no __setattr__ of their own (roo.transfer checks), so object.__setattr__
                // gives the same result, and on 3.13 it fills the inline values instead
                // of first building a __dict__.
                for (name, value) in fields {
                    let name = self.field_name(py, name);
                    let name = name.cast::<PyString>().map_err(|e| e.to_string())?;
                    instance
                        .setattr(name, self.to_python(py, value)?)
                        .map_err(|e| error_text(py, e))?;
                }
                instance
            }
            Value::Pickled(bytes) => self
                .loads
                .bind(py)
                .call1((PyBytes::new(py, bytes),))
                .map_err(|e| error_text(py, e))?,
        };
        Ok(object)
    }

    fn python_items<'py>(
        &self,
        py: Python<'py>,
        items: &[Value],
    ) -> Result<Vec<Bound<'py, PyAny>>, String> {
        items.iter().map(|item| self.to_python(py, item)).collect()
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
