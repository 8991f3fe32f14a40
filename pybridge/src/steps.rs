//! The chain interpreter: one batch's messages through the steps of their pipelines
//! (decode, stateless steps, keys, state steps, encoders), routing a message to another
//! core when its key or parallel step belongs there.

use crate::app::{AppObjects, SourceObjects};
use crate::error_log::ErrorLog;
use crate::key_cache::KeyCache;
use crate::outputs::Outputs;
use crate::places::{self, carried_for_errors, with_key, KeyAt};
use crate::subinterpreter::{discard, error_text, str_utf8, PyObj};
use crate::value_codec::ValueCodec;
use crate::worker::StateMap;
use bytes::BytesMut;
use model::counters::CoreCounters;
use model::topology::{StepKind, StepSpec, Topology};
use model::{clock, Meta, Placement, Record, Routed, SinkBuffer, Value};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyTuple};

/// The key a state step's outputs carry on: the state's key when it was the carried key (the
/// pipeline API); none after a step with its own partition function (the ApplicationBuilder,
/// whose next state step keys or is single by itself).
fn carried_key(step: &StepSpec, key: &Value) -> Value {
    if step.partitioned {
        Value::None
    } else {
        key.clone()
    }
}

/// One batch's view of the core: everything a message needs on its way through.
pub(crate) struct Run<'a, 'py> {
    pub(crate) py: Python<'py>,
    pub(crate) core: usize,
    pub(crate) topology: &'a Topology,
    pub(crate) objects: &'a AppObjects,
    pub(crate) codec: &'a ValueCodec,
    pub(crate) states: &'a mut Vec<StateMap>,
    pub(crate) generated: &'a mut Vec<Option<PyObj>>,
    pub(crate) keys: &'a mut KeyCache,
    pub(crate) placement: &'a dyn Placement,
    pub(crate) out: &'a mut Outputs,
    pub(crate) counters: &'a CoreCounters,
    pub(crate) errors: &'a mut ErrorLog,
}

impl<'py> Run<'_, 'py> {
    pub(crate) fn frame(&mut self, source: usize, frame: &[u8], meta: Meta) {
        let SourceObjects::Decoder { decode, .. } = &self.objects.sources[source] else {
            unreachable!("frames come from sources with a decoder")
        };
        let decoded = decode.bind(self.py).call1((PyBytes::new(self.py, frame),));
        self.decoded(source, decoded, meta);
    }

    /// One record of a Kafka source: its value (and, as the decoder asks, its key and
    /// timestamp) decoded and run.
    pub(crate) fn record(&mut self, source: usize, record: &Record, meta: Meta) {
        let SourceObjects::RecordDecoder { decode, arguments } = &self.objects.sources[source]
        else {
            unreachable!("records come from sources with a record decoder")
        };
        let py = self.py;
        let value = PyBytes::new(py, &record.value);
        let key = || record.key.as_ref().map(|key| PyBytes::new(py, key));
        let decode = decode.bind(py);
        let decoded = match arguments {
            1 => decode.call1((value,)),
            2 => decode.call1((value, key())),
            _ => decode.call1((value, key(), record.timestamp_ms)),
        };
        self.decoded(source, decoded, meta);
    }

    /// Runs what a source's decoder returned for one frame or record.
    fn decoded(&mut self, source: usize, decoded: PyResult<Bound<'py, PyAny>>, meta: Meta) {
        match decoded {
            // A decoder may return None to discard the frame (Wallaroo 0.6).
            Ok(message) if message.is_none() => self.counters.messages_in(source).add(1),
            Ok(message) => {
                self.counters.messages_in(source).add(1);
                self.continue_chain(
                    self.topology.sources[source].chain,
                    0,
                    message,
                    meta,
                    Value::None,
                );
            }
            Err(err) => {
                let spec = &self.topology.sources[source];
                let place = format!(
                    "decoder of source '{}' of pipeline '{}'",
                    spec.name, self.topology.chains[spec.chain].name
                );
                self.python_error(&place, None, err);
            }
        }
    }

    /// One message of a generator source; false when the generator ended.
    pub(crate) fn generate(&mut self, source: usize, meta: Meta) -> bool {
        let SourceObjects::Generator {
            initial_value,
            apply,
        } = &self.objects.sources[source]
        else {
            unreachable!("generate() is only called for generator sources")
        };
        let next = match &self.generated[source] {
            None => initial_value.bind(self.py).call0(),
            Some(previous) => apply.bind(self.py).call1((previous.bind(self.py),)),
        };
        let spec = &self.topology.sources[source];
        match next {
            Ok(message) if message.is_none() => false,
            Ok(message) => {
                self.counters.messages_in(source).add(1);
                self.generated[source] = Some(PyObj::new(message.clone()));
                self.continue_chain(spec.chain, 0, message, meta, Value::None);
                true
            }
            Err(err) => {
                let place = format!("generator of source '{}' (it stops)", spec.name);
                self.python_error(&place, None, err);
                false
            }
        }
    }

    pub(crate) fn arrived(&mut self, routed: Routed) {
        let (chain, step) = (routed.chain as usize, routed.step as usize);
        let to_state = self.topology.chains[chain].steps[step].kind == StepKind::State;
        let value = match self.codec.to_python(self.py, &routed.value) {
            Ok(value) => value,
            Err(text) => {
                let place = places::step_place(self.topology, chain, step);
                return self.error(&place, to_state.then_some(&routed.key), text);
            }
        };
        if to_state {
            return self.apply_state(chain, step, routed.key, value, routed.meta);
        }
        // A parallel step handed over by a busier core runs here.
        if let Some(output) = self.stateless(chain, step, value, routed.meta, &routed.key) {
            self.continue_chain(chain, step + 1, output, routed.meta, routed.key);
        }
    }

    /// Runs `value` through chain `chain` from step `from` to its sinks.
    ///
    /// `key` is the key the message carries (see `StepObjects::key_by`); None before any.
    fn continue_chain(
        &mut self,
        chain: usize,
        from: usize,
        mut value: Bound<'py, PyAny>,
        meta: Meta,
        mut key: Value,
    ) {
        let objects = self.objects;
        let steps = &self.topology.chains[chain].steps;
        for (index, step) in steps.iter().enumerate().skip(from) {
            let callables = &objects.steps[chain][index];
            if let Some(key_by) = &callables.key_by {
                key = match self.key(KeyAt::Before { chain, step: index }, key_by, &value) {
                    Some(key) => key,
                    None => return,
                };
            }
            if step.kind == StepKind::State {
                let state = step.state.expect("validated: state steps have a state");
                let key = match &callables.partition {
                    None => key,
                    Some(partition) => {
                        let at = KeyAt::PartitionOf { chain, step: index };
                        match self.key(at, partition, &value) {
                            Some(key) => key,
                            None => return,
                        }
                    }
                };
                let placement = self.placement;
                let owner = self
                    .keys
                    .owner(state, &key, || placement.owner(state, &key));
                if owner == self.core {
                    return self.apply_state(chain, index, key, value, meta);
                }
                if let Err((key, text)) = self.send_to(owner, chain, index, key, &value, meta) {
                    let place = places::step_place(self.topology, chain, index);
                    let text = format!("message cannot be sent to core {owner}: {text}");
                    self.error(&place, Some(&key), text);
                }
                return;
            }
            if step.parallel {
                let runner = self.placement.parallel_runner(self.core);
                if runner != self.core {
                    match self.send_to(runner, chain, index, key, &value, meta) {
                        Ok(()) => {
                            self.counters.handed_over().add(1);
                            return;
                        }
                        // A message that cannot be converted runs here instead.
                        Err((kept, _)) => key = kept,
                    }
                }
            }
            match self.stateless(chain, index, value, meta, &key) {
                Some(output) => value = output,
                None => return,
            }
        }
        self.emit(chain, value, meta, key);
    }

    /// Runs stateless step `step` on `value`: its output, or None when nothing goes on from
    /// here (filtered out, failed, or a compute_multi list whose items went on by themselves).
    fn stateless(
        &mut self,
        chain: usize,
        step: usize,
        value: Bound<'py, PyAny>,
        meta: Meta,
        key: &Value,
    ) -> Option<Bound<'py, PyAny>> {
        self.counters.step_messages(chain, step).add(1);
        let call = self.objects.steps[chain][step].call.bind(self.py);
        let result = match call.call1((&value,)) {
            Ok(result) => result,
            Err(err) => {
                self.python_error(&places::step_place(self.topology, chain, step), None, err);
                return None;
            }
        };
        if self.topology.chains[chain].steps[step].multi {
            self.each_output(chain, step, None, key, result, meta);
            return None;
        }
        (!result.is_none()).then_some(result)
    }

    /// Sends `value` to core `to`, to run step `step` there; when it has no form that
    /// crosses cores, gives the key back with why.
    fn send_to(
        &mut self,
        to: usize,
        chain: usize,
        step: usize,
        key: Value,
        value: &Bound<'py, PyAny>,
        meta: Meta,
    ) -> Result<(), (Value, String)> {
        match self.codec.to_value(value) {
            Ok(value) => {
                self.counters.routed_out().add(1);
                self.out.routed[to].push(Routed {
                    chain: chain as u32,
                    step: step as u32,
                    key,
                    value,
                    meta,
                });
                Ok(())
            }
            Err(text) => Err((key, text)),
        }
    }

    /// The key `function` gives `value` (a partition function, or a key extractor), or None
    /// (counted, at the place `at` names) when the function fails.
    fn key(&mut self, at: KeyAt, function: &PyObj, value: &Bound<'py, PyAny>) -> Option<Value> {
        let codec = self.codec;
        match function.bind(self.py).call1((value,)) {
            Ok(key) => match self.keys.value_of(&key, |key| codec.to_value(key)) {
                Ok(key) => Some(key),
                Err(text) => {
                    let place = places::key_place(self.topology, at);
                    self.error(&place, None, format!("key {key} cannot be used: {text}"));
                    None
                }
            },
            Err(err) => {
                let place = places::key_place(self.topology, at);
                self.python_error(&place, None, err);
                None
            }
        }
    }

    /// Runs state step `step` on the partition `key` (owned by this core).
    fn apply_state(
        &mut self,
        chain: usize,
        step: usize,
        key: Value,
        value: Bound<'py, PyAny>,
        meta: Meta,
    ) {
        let spec = &self.topology.chains[chain].steps[step];
        let state_id = spec.state.expect("validated: state steps have a state");
        let state = match self.states[state_id].get(&key) {
            Some(state) => state.to_bound(self.py),
            None => match self.build_state(state_id, &key) {
                Ok(state) => {
                    self.states[state_id].insert(key.clone(), PyObj::new(state.clone()));
                    state
                }
                Err(err) => {
                    let place = format!(
                        "state builder of state '{}'",
                        self.topology.states[state_id].name
                    );
                    return self.python_error(&place, Some(&key), err);
                }
            },
        };
        self.counters.step_messages(chain, step).add(1);
        let call = self.objects.steps[chain][step].call.bind(self.py);
        let called = match spec.event_time {
            true => call.call1((&value, &state, meta.event_ns)),
            false => call.call1((&value, &state)),
        };
        let result = match called {
            Ok(result) => result,
            Err(err) => {
                return self.python_error(
                    &places::step_place(self.topology, chain, step),
                    Some(&key),
                    err,
                )
            }
        };
        // (output, persist_flag) from Wallaroo 0.2-0.5, or just the output (0.1 and 0.6).
        let output = match result.cast::<PyTuple>() {
            Ok(pair)
                if spec.reads_persist_flag
                    && pair.len() == 2
                    && pair
                        .get_item(1)
                        .is_ok_and(|flag| flag.is_instance_of::<pyo3::types::PyBool>()) =>
            {
                pair.get_item(0).expect("tuple of two")
            }
            _ => result,
        };
        let carried = carried_key(spec, &key);
        if spec.multi {
            return self.each_output(chain, step, Some(&key), &carried, output, meta);
        }
        if !output.is_none() {
            self.continue_chain(chain, step + 1, output, meta, carried);
        }
    }

    /// A new state for partition `key`: the builder gets the key if the state is keyed.
    fn build_state(&self, state: usize, key: &Value) -> PyResult<Bound<'py, PyAny>> {
        let builder = self.objects.state_builders[state].bind(self.py);
        if !self.topology.states[state].keyed {
            return builder.call0();
        }
        let key = self
            .codec
            .to_python(self.py, key)
            .map_err(pyo3::exceptions::PyValueError::new_err)?;
        builder.call1((key,))
    }

    /// Calls the tick hook of state step `step` on every partition this core owns; what
    /// it returns continues down the chain like the step's own output.
    pub(crate) fn tick(&mut self, chain: usize, step: usize, last: bool) {
        let state = self.topology.chains[chain].steps[step]
            .state
            .expect("validated: state steps have a state");
        let tick = self.objects.steps[chain][step]
            .tick
            .as_ref()
            .expect("only steps with a tick hook")
            .bind(self.py);
        let partitions: Vec<(Value, Bound<'py, PyAny>)> = self.states[state]
            .iter()
            .map(|(key, state)| (key.clone(), state.to_bound(self.py)))
            .collect();
        // Outputs of a tick count as ingested now, by the chain's first source.
        let source = self
            .topology
            .sources
            .iter()
            .position(|s| s.chain == chain)
            .unwrap_or(0) as u32;
        let meta = Meta {
            source,
            ingest_ns: clock::now_ns(),
            event_ns: None,
        };
        let spec = &self.topology.chains[chain].steps[step];
        for (key, state) in partitions {
            match tick.call1((state, last)) {
                Ok(outputs) => {
                    let carried = carried_key(spec, &key);
                    self.each_output(chain, step, Some(&key), &carried, outputs, meta)
                }
                Err(err) => self.python_error(
                    &places::step_place(self.topology, chain, step),
                    Some(&key),
                    err,
                ),
            }
        }
    }

    /// compute_multi's list: each element continues after `step` on its own.
    /// `key`: the state's key, for error lines; `carried`: the key the outputs carry on.
    fn each_output(
        &mut self,
        chain: usize,
        step: usize,
        key: Option<&Value>,
        carried: &Value,
        outputs: Bound<'py, PyAny>,
        meta: Meta,
    ) {
        if outputs.is_none() {
            return;
        }
        let Ok(list) = outputs.cast::<PyList>() else {
            let text = format!(
                "compute_multi returned {}, expected a list",
                type_name(&outputs)
            );
            return self.error(&places::step_place(self.topology, chain, step), key, text);
        };
        for item in list.iter() {
            if item.is_none() {
                self.counters.none_outputs().add(1);
            } else {
                self.continue_chain(chain, step + 1, item, meta, carried.clone());
            }
        }
    }

    /// End of a chain: encode for each sink, then on into the next chain, carrying `key`
    /// (or the key of a key_by that stands after the chain's last step).
    fn emit(&mut self, chain: usize, value: Bound<'py, PyAny>, meta: Meta, key: Value) {
        let spec = &self.topology.chains[chain];
        for &sink in &spec.sinks {
            let encoded = match self.objects.encoders[sink].bind(self.py).call1((&value,)) {
                Ok(encoded) => encoded,
                Err(err) => {
                    let place = places::encoder_place(self.topology, chain, sink);
                    return self.python_error(&place, carried_for_errors(&key), err);
                }
            };
            let buffer = &mut self.out.sinks[sink];
            let appended = match self.topology.sinks[sink].is_kafka() {
                true => append_record(buffer, &encoded),
                false => append_encoded(&mut buffer.bytes, &encoded),
            };
            if let Err(text) = appended {
                let place = places::encoder_place(self.topology, chain, sink);
                return self.error(&place, carried_for_errors(&key), text);
            }
            self.out.sunk_one(meta, self.counters);
        }
        if let Some(next) = spec.next {
            let key = match &self.objects.key_by_at_end[chain] {
                Some(key_by) => match self.key(KeyAt::EndOf { chain }, key_by, &value) {
                    Some(key) => key,
                    None => return,
                },
                None => key,
            };
            self.continue_chain(next, 0, value, meta, key);
        }
    }

    /// A Python exception in a user hook: the message is dropped, counted and (rate-limited) logged.
    fn python_error(&mut self, place: &str, key: Option<&Value>, err: PyErr) {
        if self.errors.count(place) {
            let text = error_text(self.py, err);
            self.errors.log(place, &with_key(key, &text));
        } else {
            discard(self.py, err);
        }
    }

    fn error(&mut self, place: &str, key: Option<&Value>, text: String) {
        self.errors.record(place, || with_key(key, &text));
    }
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|e| {
            discard(object.py(), e);
            "?".into()
        })
}

/// An encoder may return bytes, bytearray or str (written as UTF-8).
fn append_encoded(out: &mut BytesMut, encoded: &Bound<'_, PyAny>) -> Result<(), String> {
    with_bytes(encoded, |bytes| out.extend_from_slice(bytes)).ok_or_else(|| {
        format!(
            "encode returned {}, expected bytes or str",
            type_name(encoded)
        )
    })
}

/// Calls `use_bytes` with the bytes of a bytes, str (UTF-8) or bytearray object; None for
/// another type.
fn with_bytes<R>(object: &Bound<'_, PyAny>, use_bytes: impl FnOnce(&[u8]) -> R) -> Option<R> {
    if let Ok(bytes) = object.cast::<PyBytes>() {
        Some(use_bytes(bytes.as_bytes()))
    } else if let Some(text) = str_utf8(object) {
        Some(use_bytes(text.as_bytes()))
    } else if let Ok(array) = object.cast::<PyByteArray>() {
        Some(use_bytes(&array.to_vec()))
    } else {
        None
    }
}

/// A Kafka encoder returns the record's value, or `(value, key)`, or `(value, key,
/// partition)`; the key may be None, and so may the partition (the producer picks).
fn append_record(out: &mut SinkBuffer, encoded: &Bound<'_, PyAny>) -> Result<(), String> {
    let expected = |what: &Bound<'_, PyAny>| {
        format!(
            "encode returned {}, expected bytes or str, or a tuple (value, key) or (value, \
             key, partition)",
            type_name(what)
        )
    };
    let Ok(tuple) = encoded.cast::<PyTuple>() else {
        return with_bytes(encoded, |value| out.push_record(value, None, None))
            .ok_or_else(|| expected(encoded));
    };
    if !(2..=3).contains(&tuple.len()) {
        return Err(format!(
            "encode returned a tuple of {} items, expected (value, key) or (value, key, \
             partition)",
            tuple.len()
        ));
    }
    let item = |i: usize| tuple.get_item(i).expect("index within the tuple");
    let (value, key) = (item(0), item(1));
    let partition = match tuple.len() {
        3 if !item(2).is_none() => Some(item(2).extract::<i32>().map_err(|e| {
            discard(encoded.py(), e);
            format!(
                "the partition encode returned is {}, not an int",
                type_name(&item(2))
            )
        })?),
        _ => None,
    };
    let pushed = with_bytes(&value, |value| match key.is_none() {
        true => {
            out.push_record(value, None, partition);
            Some(())
        }
        false => with_bytes(&key, |key| out.push_record(value, Some(key), partition)),
    });
    match pushed {
        Some(Some(())) => Ok(()),
        Some(None) => Err(format!(
            "the key encode returned is {}, expected bytes, str or None",
            type_name(&key)
        )),
        None => Err(expected(&value)),
    }
}
