//! [`ValueCodec`]: converts Python objects to [`Value`]s and back inside one interpreter.
//!
//! Python objects never leave their interpreter: a message routed to another core is
//! converted to a [`Value`] (plain Rust data, `Send`) and rebuilt on arrival. The common
//! types have a native form; anything else goes through `pickle`, which works because every
//! interpreter imported the same application module.

use crate::name_cache::{AddressMap, NameCache, MAX_NAMES};
use crate::subinterpreter::{discard, error_text, str_utf8, PyObj};
use model::value::TravelName;
use model::{Text, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyNone, PyString, PyTuple};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};

/// Nesting deeper than this is pickled whole rather than converted natively.
const MAX_NATIVE_DEPTH: usize = 32;

/// A class kept alive (so its address stays its own) and its travel name, if plain.
type SeenClass = (PyObj, Option<TravelName>);

/// A class found by its travel name, and its `__new__`.
type FoundClass = (PyObj, PyObj);

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
