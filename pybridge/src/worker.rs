//! One core's Python side: its interpreter, its copy of the app, the state partitions it
//! owns, and the code that runs a batch of messages through the steps.
//!
//! A batch attaches the interpreter once and runs its messages through the steps
//! (`steps::Run`); its output goes to [`Outputs`].

use crate::app::{self, AppObjects, OutputFds, SourceObjects};
use crate::error_log::ErrorLog;
use crate::key_cache::KeyCache;
use crate::outputs::Outputs;
use crate::python_framing;
use crate::steps::Run;
use crate::subinterpreter::{self, GilKind, Interpreter, PyObj, PythonMode};
use bytes::Bytes;
use model::counters::CoreCounters;
use model::snapshot::Saved;
use model::topology::{HeaderDecoding, Topology};
use model::{clock, Meta, Placement, Record, Routed, ValueMap};
use protocol::{FrameDecoder, FrameError};
use pyo3::types::PyAnyMethods;
use std::path::Path;
use std::sync::Arc;

pub(crate) type StateMap = ValueMap<PyObj>;

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
    counters: Arc<CoreCounters>,
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
        let counters = Arc::new(CoreCounters::new(core, &topology));
        Ok(Worker {
            core,
            topology,
            app: Some(app),
            errors: ErrorLog::new(counters.clone()),
            counters,
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

    /// This core's counters, which the engine's sources and sinks add to as well.
    pub fn counters(&self) -> &Arc<CoreCounters> {
        &self.counters
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
                    python_framing::take_frames(py, payload_length, header_length, decoder, frames)
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

    /// The keys of the state partitions this worker holds, per state (no Python runs:
    /// the keys are Rust values).
    pub fn state_keys(&self) -> Vec<Vec<model::Value>> {
        let app = self.app.as_ref().expect("app loaded");
        app.states
            .iter()
            .map(|partitions| partitions.keys().cloned().collect())
            .collect()
    }

    /// The state of partition `key` of state `state` as JSON (None: this worker holds no
    /// such partition): its value as roo converts it (see `model::json::value`), or
    /// `{"repr": ...}` when part of it has no JSON form.
    pub fn state_json(&self, state: usize, key: &model::Value) -> Option<String> {
        let app = self.app.as_ref().expect("app loaded");
        let object = app.states.get(state)?.get(key)?;
        let codec = &app.objects.codec;
        Some(self.interpreter.with(|py| {
            let bound = object.bind(py);
            let json = codec
                .to_value(bound)
                .ok()
                .and_then(|value| model::json::value(&value));
            json.unwrap_or_else(|| {
                let repr = bound
                    .repr()
                    .map_or_else(|e| format!("<repr failed: {e}>"), |r| r.to_string());
                model::json::object([("repr", model::json::quoted(&repr))])
            })
        }))
    }

    /// Writes every state partition this core owns and every generator's position to
    /// `out` (see `model::snapshot`). Err names the state and key of a state object that
    /// cannot be encoded.
    pub fn snapshot(&self, out: &mut Vec<u8>) -> Result<usize, String> {
        let app = self.app.as_ref().expect("app loaded");
        let codec = &app.objects.codec;
        let topology = &self.topology;
        self.interpreter.with(|py| {
            let mut entries = 0;
            for (state, partitions) in app.states.iter().enumerate() {
                for (key, object) in partitions {
                    let value = codec.to_value(object.bind(py)).map_err(|text| {
                        format!(
                            "the state '{}' of key {key} cannot be saved in a checkpoint: {text}",
                            topology.states[state].name
                        )
                    })?;
                    let saved = Saved::State {
                        state: state as u32,
                        key: key.clone(),
                        value,
                    };
                    saved.write(out);
                    entries += 1;
                }
            }
            for (source, last) in app.generated.iter().enumerate() {
                let Some(last) = last else { continue };
                let last = codec.to_value(last.bind(py)).map_err(|text| {
                    format!(
                        "the last message of generator source '{}' cannot be saved in a \
                         checkpoint: {text}",
                        topology.sources[source].name
                    )
                })?;
                let saved = Saved::Generator {
                    source: source as u32,
                    last,
                };
                saved.write(out);
                entries += 1;
            }
            Ok(entries)
        })
    }

    /// Puts back state partitions and generator positions of a checkpoint (those this
    /// core owns). Err names what cannot be rebuilt.
    pub fn restore(&mut self, entries: Vec<Saved>) -> Result<(), String> {
        let Worker {
            interpreter,
            app,
            topology,
            ..
        } = self;
        let app = app.as_mut().expect("app loaded");
        interpreter.with(|py| {
            for entry in entries {
                match entry {
                    Saved::State { state, key, value } => {
                        let name = topology.states.get(state as usize).map(|s| &s.name);
                        let Some(name) = name else {
                            return Err(format!(
                                "the checkpoint has a state {state} this app does not"
                            ));
                        };
                        let object = app.objects.codec.to_python(py, &value).map_err(|text| {
                            format!("the state '{name}' of key {key} cannot be rebuilt: {text}")
                        })?;
                        app.states[state as usize].insert(key, PyObj::new(object));
                    }
                    Saved::Generator { source, last } => {
                        let object = app.objects.codec.to_python(py, &last)?;
                        if let Some(slot) = app.generated.get_mut(source as usize) {
                            *slot = Some(PyObj::new(object));
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// Decodes records of Kafka source `source` and runs them through the steps, in order.
    pub fn run_records(
        &mut self,
        source: usize,
        records: &[Record],
        meta: Meta,
        placement: &dyn Placement,
        out: &mut Outputs,
    ) {
        self.batch(placement, out, |run| {
            for record in records {
                let event_ns = record.timestamp_ms.map(|ms| ms.saturating_mul(1_000_000));
                run.record(source, record, Meta { event_ns, ..meta });
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
                event_ns: None,
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
        self.counters.routed_in().add(batch.len() as u64);
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
            counters,
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
                counters,
                errors,
            };
            body(&mut run);
        });
        out.clock_batch(counters);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let app = self.app.take();
        self.interpreter.with(|_| drop(app));
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
