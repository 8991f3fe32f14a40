//! One core's Python side: its interpreter, its copy of the app, the state partitions it
//! owns, and the code that runs a batch of messages through the steps.
//!
//! A message stays a Python object while it moves through steps on this core. Before a
//! state step its key is computed; if another core owns that key the message leaves as a
//! [`Routed`] (plain data), and that core carries on from the same step.

use crate::app::{self, AppObjects, OutputFds, SourceObjects};
use crate::clock;
use crate::error_log::ErrorLog;
use crate::key_cache::KeyCache;
use crate::subinterpreter::{
    self, discard, error_text, str_utf8, GilKind, Interpreter, PyObj, PythonMode,
};
use crate::topology::{HeaderDecoding, StepKind, StepSpec, Topology};
use crate::value::{Value, ValueCodec, ValueMap};
use bytes::{Bytes, BytesMut};
use hdrhistogram::Histogram;
use protocol::{FrameDecoder, FrameError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyTuple};
use std::path::Path;

/// Where messages go: which core owns a key of a state (the engine's partition table),
/// and which core runs a `to_parallel` step.
pub trait Placement {
    fn owner(&self, state: usize, key: &Value) -> usize;

    /// The core to run a parallel step of a message that is on core `here`: `here`, or
    /// another core the engine sees with time to spare while `here` has none.
    fn parallel_runner(&self, here: usize) -> usize {
        here
    }
}

/// Where a message came from and when, carried to the sink for latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Index of the source it entered by (its pipeline, for per-pipeline latency).
    pub source: u32,
    pub ingest_ns: u64,
}

/// A message on its way to the core that owns its state partition, or to a core that
/// runs a parallel step for a busier one.
#[derive(Debug)]
pub struct Routed {
    pub chain: u32,
    /// The step to run on arrival: a state step, or a parallel step.
    pub step: u32,
    pub key: Value,
    pub value: Value,
    pub meta: Meta,
}

/// What a batch produced, for the engine to write out and send on.
pub struct Outputs {
    /// Encoder output per sink, in order.
    pub sinks: Vec<BytesMut>,
    /// Messages for other cores, per destination core.
    pub routed: Vec<Vec<Routed>>,
    /// Ingest-to-sink latency in ns, per source (pipeline): from the read that brought a
    /// message in to the end of the batch that handed its output to the sink queue.
    pub latency: Vec<Histogram<u64>>,
    /// Messages written to sinks.
    pub sunk: u64,
    /// Outputs of the running batch whose latency is not recorded yet, counted per
    /// ingest (consecutive outputs of one read share one entry): the clock is read once
    /// per batch, not per message.
    unclocked: Vec<(Meta, u64)>,
}

impl Outputs {
    pub fn new(topology: &Topology, cores: usize) -> Outputs {
        let histogram =
            || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
        Outputs {
            sinks: topology
                .sinks
                .iter()
                .map(|_| BytesMut::with_capacity(64 * 1024))
                .collect(),
            routed: (0..cores).map(|_| Vec::new()).collect(),
            latency: topology.sources.iter().map(|_| histogram()).collect(),
            sunk: 0,
            unclocked: Vec::new(),
        }
    }

    /// Counts one output of a message that came in with `meta`.
    fn sunk_one(&mut self, meta: Meta) {
        self.sunk += 1;
        match self.unclocked.last_mut() {
            Some((last, count)) if *last == meta => *count += 1,
            _ => self.unclocked.push((meta, 1)),
        }
    }

    /// The batch is over: records the latency of its outputs.
    fn clock_batch(&mut self) {
        if self.unclocked.is_empty() {
            return;
        }
        let now = clock::now_ns();
        for (meta, count) in self.unclocked.drain(..) {
            let latency = now.saturating_sub(meta.ingest_ns).max(1);
            self.latency[meta.source as usize].saturating_record_n(latency, count);
        }
    }
}

/// Counters of one core's Python work.
#[derive(Default, Clone, Debug)]
pub struct WorkerStats {
    pub decoded: u64,
    pub routed_out: u64,
    pub routed_in: u64,
    /// Of routed_out: messages whose parallel step another core ran (see `Placement`).
    pub handed_over: u64,
    /// None items of compute_multi lists: nothing goes on from them (Wallaroo skipped
    /// them too), but they are counted.
    pub none_outputs: u64,
}

type StateMap = ValueMap<PyObj>;

/// The Python objects of this core, dropped only while the interpreter is attached.
struct CoreApp {
    objects: AppObjects,
    /// Per state group: the partitions this core owns, created on first use.
    states: Vec<StateMap>,
    /// Per source: the generator's last message (what apply() gets next).
    generated: Vec<Option<PyObj>>,
    keys: KeyCache,
}

pub struct Worker {
    core: usize,
    topology: Topology,
    app: Option<CoreApp>,
    stats: WorkerStats,
    errors: ErrorLog,
    interpreter: Interpreter,
}

impl Worker {
    /// Creates this thread's interpreter and loads the app into it.
    pub fn start(
        core: usize,
        mode: PythonMode,
        app_path: &Path,
        args: &[String],
        output: OutputFds,
    ) -> Result<Worker, String> {
        let interpreter = Interpreter::new(mode)?;
        let loaded = interpreter.with(|py| -> Result<_, String> {
            let (topology, objects) = app::load(py, app_path, args, output)?;
            let states = topology
                .states
                .iter()
                .map(|_| StateMap::default())
                .collect();
            let generated = topology.sources.iter().map(|_| None).collect();
            Ok((
                topology,
                CoreApp {
                    objects,
                    states,
                    generated,
                    keys: KeyCache::default(),
                },
            ))
        });
        // On failure, objects created before it were already dropped inside `with`.
        let (topology, app) = loaded.map_err(|message| with_mode_hint(message, mode))?;
        Ok(Worker {
            core,
            topology,
            app: Some(app),
            stats: WorkerStats::default(),
            errors: ErrorLog::new(core),
            interpreter,
        })
    }

    /// Writes out what the app printed and Python still buffers (a `print(..., end="")`);
    /// called when the core stops, as the interpreter itself may outlive the engine.
    pub fn flush_output(&self) {
        self.interpreter.with(subinterpreter::flush_output);
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn gil_kind(&self) -> GilKind {
        self.interpreter.kind()
    }

    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    pub fn errors(&self) -> &ErrorLog {
        &self.errors
    }

    /// Reports errors not logged in the error log's window once it is over.
    pub fn end_error_window(&mut self) {
        self.errors.end_window_if_over();
    }

    /// Counts (and, within the log budget, logs) an error found outside Python, such as a
    /// framing error, with this core's other errors.
    pub fn record_error(&mut self, place: &str, detail: &str) {
        self.errors.record(place, || detail.to_string());
    }

    /// Cuts every complete frame out of `decoder` into `frames`, calling the source's
    /// payload_length() only when its header is not a plain big-endian length.
    pub fn take_frames(
        &mut self,
        source: usize,
        decoder: &mut FrameDecoder,
        frames: &mut Vec<Bytes>,
    ) -> Result<(), FrameError> {
        match self.topology.sources[source].header() {
            // A generator has no frames.
            None => Ok(()),
            Some(HeaderDecoding::BigEndian(_)) => {
                while let Some(frame) = decoder.next_frame()? {
                    frames.push(frame);
                }
                Ok(())
            }
            Some(HeaderDecoding::Python { header_length }) => {
                let Worker {
                    interpreter, app, ..
                } = self;
                let SourceObjects::Decoder { payload_length, .. } =
                    &app.as_ref().expect("app loaded").objects.sources[source]
                else {
                    unreachable!("a source with a header has a decoder")
                };
                interpreter.with(|py| {
                    let mut ask = |header: &[u8]| match payload_length
                        .bind(py)
                        .call1((PyBytes::new(py, header),))
                    {
                        Ok(n) => n.extract::<usize>().map_err(|e| {
                            discard(py, e);
                            format!("payload_length() returned {n}, not a length")
                        }),
                        Err(e) => Err(format!("payload_length() raised:\n{}", error_text(py, e))),
                    };
                    while let Some(frame) = decoder.next_frame_with(header_length, &mut ask)? {
                        frames.push(frame);
                    }
                    Ok(())
                })
            }
        }
    }

    /// Decodes frames of `source` and runs them through the steps, in order.
    pub fn run_frames(
        &mut self,
        source: usize,
        frames: &[Bytes],
        meta: Meta,
        placement: &dyn Placement,
        out: &mut Outputs,
    ) {
        self.batch(placement, out, |run| {
            for frame in frames {
                run.frame(source, frame, meta);
            }
        });
    }

    /// Makes up to `count` messages with generator source `source` and runs them through
    /// the steps. False once the generator has ended: it returned None or raised.
    pub fn run_generator(
        &mut self,
        source: usize,
        count: usize,
        placement: &dyn Placement,
        out: &mut Outputs,
    ) -> bool {
        let mut going = true;
        self.batch(placement, out, |run| {
            let meta = Meta {
                source: source as u32,
                ingest_ns: clock::now_ns(),
            };
            for _ in 0..count {
                going = run.generate(source, meta);
                if !going {
                    break;
                }
            }
        });
        going
    }

    /// Runs messages that other cores routed here, each from the step it names on.
    pub fn run_routed(&mut self, batch: Vec<Routed>, placement: &dyn Placement, out: &mut Outputs) {
        self.stats.routed_in += batch.len() as u64;
        self.batch(placement, out, |run| {
            for routed in batch {
                run.arrived(routed);
            }
        });
    }

    /// Runs the tick hooks (windows): the periodic ones, or with `last` every one, for the
    /// final flush at shutdown.
    pub fn run_ticks(&mut self, last: bool, placement: &dyn Placement, out: &mut Outputs) {
        let due: Vec<(usize, usize)> = self
            .topology
            .chains
            .iter()
            .enumerate()
            .flat_map(|(c, chain)| {
                chain.steps.iter().enumerate().filter_map(move |(s, step)| {
                    (step.ticks && (last || step.tick_ns.is_some())).then_some((c, s))
                })
            })
            .collect();
        if due.is_empty() {
            return;
        }
        self.batch(placement, out, |run| {
            for (chain, step) in due {
                run.tick(chain, step, last);
            }
        });
    }

    /// Attaches once for a whole batch.
    fn batch(
        &mut self,
        placement: &dyn Placement,
        out: &mut Outputs,
        body: impl for<'a, 'py> FnOnce(&mut Run<'a, 'py>),
    ) {
        let Worker {
            core,
            topology,
            app,
            stats,
            errors,
            interpreter,
        } = self;
        let app = app.as_mut().expect("app loaded");
        interpreter.with(|py| {
            let mut run = Run {
                py,
                core: *core,
                topology,
                objects: &app.objects,
                codec: &app.objects.codec,
                states: &mut app.states,
                generated: &mut app.generated,
                keys: &mut app.keys,
                placement,
                out,
                stats,
                errors,
            };
            body(&mut run);
        });
        out.clock_batch();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let app = self.app.take();
        self.interpreter.with(|_| drop(app));
    }
}

/// Where a key is taken from a message, for error lines.
#[derive(Clone, Copy)]
enum KeyAt {
    /// The pipeline API's key_by standing before a step.
    Before { chain: usize, step: usize },
    /// A state step's own partition function.
    PartitionOf { chain: usize, step: usize },
    /// A key_by after a chain's last step, before the merge it continues into.
    EndOf { chain: usize },
}

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

/// A C extension that refuses subinterpreters (numpy, most pyo3 modules) fails at import
/// with CPython's own message; say what to do about it.
fn with_mode_hint(message: String, mode: PythonMode) -> String {
    if mode == PythonMode::Subinterpreters
        && message.contains("does not support loading in subinterpreters")
    {
        return format!(
            "{message}\nhint: a C extension that cannot run in a subinterpreter runs with \
             `roo run --python-mode main` (all cores then share the main interpreter and its GIL)"
        );
    }
    message
}

/// One batch's view of the core: everything a message needs on its way through.
struct Run<'a, 'py> {
    py: Python<'py>,
    core: usize,
    topology: &'a Topology,
    objects: &'a AppObjects,
    codec: &'a ValueCodec,
    states: &'a mut Vec<StateMap>,
    generated: &'a mut Vec<Option<PyObj>>,
    keys: &'a mut KeyCache,
    placement: &'a dyn Placement,
    out: &'a mut Outputs,
    stats: &'a mut WorkerStats,
    errors: &'a mut ErrorLog,
}

impl<'py> Run<'_, 'py> {
    fn frame(&mut self, source: usize, frame: &[u8], meta: Meta) {
        let SourceObjects::Decoder { decode, .. } = &self.objects.sources[source] else {
            unreachable!("frames come from sources with a decoder")
        };
        let decode = decode.bind(self.py);
        match decode.call1((PyBytes::new(self.py, frame),)) {
            // A decoder may return None to discard the frame (Wallaroo 0.6).
            Ok(message) if message.is_none() => self.stats.decoded += 1,
            Ok(message) => {
                self.stats.decoded += 1;
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
    fn generate(&mut self, source: usize, meta: Meta) -> bool {
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
                self.stats.decoded += 1;
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

    fn arrived(&mut self, routed: Routed) {
        let (chain, step) = (routed.chain as usize, routed.step as usize);
        let to_state = self.topology.chains[chain].steps[step].kind == StepKind::State;
        let value = match self.codec.to_python(self.py, &routed.value) {
            Ok(value) => value,
            Err(text) => {
                let place = self.step_place(chain, step);
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
                    let place = self.step_place(chain, index);
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
                            self.stats.handed_over += 1;
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
        let call = self.objects.steps[chain][step].call.bind(self.py);
        let result = match call.call1((&value,)) {
            Ok(result) => result,
            Err(err) => {
                self.python_error(&self.step_place(chain, step), None, err);
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
                self.stats.routed_out += 1;
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
                    let place = self.key_place(at);
                    self.error(&place, None, format!("key {key} cannot be used: {text}"));
                    None
                }
            },
            Err(err) => {
                let place = self.key_place(at);
                self.python_error(&place, None, err);
                None
            }
        }
    }

    fn key_place(&self, at: KeyAt) -> String {
        match at {
            KeyAt::Before { chain, step } => {
                format!("key extractor before {}", self.step_place(chain, step))
            }
            KeyAt::PartitionOf { chain, step } => {
                format!("partition function of {}", self.step_place(chain, step))
            }
            KeyAt::EndOf { chain } => format!(
                "key extractor at the end of pipeline '{}'",
                self.topology.chains[chain].name
            ),
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
        let result = match self.objects.steps[chain][step]
            .call
            .bind(self.py)
            .call1((&value, &state))
        {
            Ok(result) => result,
            Err(err) => return self.python_error(&self.step_place(chain, step), Some(&key), err),
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
    fn tick(&mut self, chain: usize, step: usize, last: bool) {
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
        };
        let spec = &self.topology.chains[chain].steps[step];
        for (key, state) in partitions {
            match tick.call1((state, last)) {
                Ok(outputs) => {
                    let carried = carried_key(spec, &key);
                    self.each_output(chain, step, Some(&key), &carried, outputs, meta)
                }
                Err(err) => self.python_error(&self.step_place(chain, step), Some(&key), err),
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
            return self.error(&self.step_place(chain, step), key, text);
        };
        for item in list.iter() {
            if item.is_none() {
                self.stats.none_outputs += 1;
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
                    let place = self.encoder_place(chain, sink);
                    return self.python_error(&place, carried_for_errors(&key), err);
                }
            };
            if let Err(text) = append_encoded(&mut self.out.sinks[sink], &encoded) {
                let place = self.encoder_place(chain, sink);
                return self.error(&place, carried_for_errors(&key), text);
            }
            self.out.sunk_one(meta);
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

    fn encoder_place(&self, chain: usize, sink: usize) -> String {
        let sink = &self.topology.sinks[sink];
        format!(
            "encoder of sink {} ({}) of pipeline '{}'",
            sink.address(),
            sink.encoder_location,
            self.topology.chains[chain].name
        )
    }

    fn step_place(&self, chain: usize, step: usize) -> String {
        let chain = &self.topology.chains[chain];
        let step = &chain.steps[step];
        format!(
            "step '{}' ({}) of pipeline '{}'",
            step.name, step.location, chain.name
        )
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

/// The key a message carries, for error lines: none before any key_by.
fn carried_for_errors(key: &Value) -> Option<&Value> {
    (*key != Value::None).then_some(key)
}

fn with_key(key: Option<&Value>, text: &str) -> String {
    match key {
        Some(key) => format!("key {key}: message dropped:\n{text}"),
        None => format!("message dropped:\n{text}"),
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
    if let Ok(bytes) = encoded.cast::<PyBytes>() {
        out.extend_from_slice(bytes.as_bytes());
    } else if let Some(text) = str_utf8(encoded) {
        out.extend_from_slice(text.as_bytes());
    } else if let Ok(array) = encoded.cast::<PyByteArray>() {
        out.extend_from_slice(&array.to_vec());
    } else {
        return Err(format!(
            "encode returned {}, expected bytes or str",
            type_name(encoded)
        ));
    }
    Ok(())
}
