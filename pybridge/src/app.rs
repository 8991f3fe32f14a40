//! Loading a user's `app.py` into the attached interpreter: import it, call
//! `application_setup(args)`, and split the description it returns into the plain
//! [`Topology`] and this interpreter's callables ([`AppObjects`]).

use crate::api_package;
use crate::environment::{self, PythonEnvironment};
use crate::subinterpreter::{discard, error_text, PyObj};
use crate::value_codec::ValueCodec;
use model::topology::{
    ChainSpec, HeaderDecoding, KafkaSink, KafkaSource, SinkOutput, SinkSpec, SourceInput,
    SourceSpec, StateSpec, StepKind, StepSpec, Topology,
};
use protocol::LengthWidth;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyModule};
use std::ffi::CString;
use std::path::Path;

/// The Python callables of one interpreter, indexed like the [`Topology`].
pub struct AppObjects {
    /// Converts messages that cross cores (the app's serialize/deserialize, or pickle).
    pub codec: ValueCodec,
    /// Per source: its decoder, or its generator.
    pub sources: Vec<SourceObjects>,
    pub steps: Vec<Vec<StepObjects>>,
    /// Per chain: a key_by (or collect) standing after its last step. When the chain goes
    /// on into a merge, it gives the key the message carries there; before a sink it
    /// has no effect.
    pub key_by_at_end: Vec<Option<PyObj>>,
    pub encoders: Vec<PyObj>,
    pub state_builders: Vec<PyObj>,
}

pub enum SourceObjects {
    Decoder {
        payload_length: PyObj,
        decode: PyObj,
    },
    /// initial_value() and apply(previous) of a GenSourceConfig's generator.
    Generator { initial_value: PyObj, apply: PyObj },
    /// A Kafka source's decode, called with `arguments` arguments (value, key, timestamp).
    RecordDecoder { decode: PyObj, arguments: u8 },
}

pub struct StepObjects {
    pub call: PyObj,
    pub partition: Option<PyObj>,
    /// The pipeline API's key_by (or collect) stands before this step: key_by(data) gives
    /// the key the message carries from here on, for state steps without a partition
    /// function of their own.
    pub key_by: Option<PyObj>,
    /// tick(state, final) of a window step.
    pub tick: Option<PyObj>,
}

/// The write ends of the pipes a core's `sys.stdout` and `sys.stderr` go to (the engine
/// reads them and passes whole lines on to roo's own stdout and stderr).
#[derive(Clone, Copy, Debug)]
pub struct OutputFds {
    pub stdout: i32,
    pub stderr: i32,
}

impl OutputFds {
    /// The process's own stdout and stderr, for embedders without output threads (the
    /// crate's tests and benches): lines of different cores may then mix.
    pub const PROCESS: OutputFds = OutputFds {
        stdout: 1,
        stderr: 2,
    };
}

/// Points the attached interpreter's `sys.stdout` and `sys.stderr` at this core's pipes,
/// line-buffered: each `print` reaches the log as it happens (as Wallaroo's unbuffered
/// output did), and lines of different cores never mix, also with PYTHONUNBUFFERED set.
fn redirect_output(py: Python<'_>, fds: OutputFds) {
    let code = format!(
        "import sys\n\
         def _core_stream(fd, old):\n\
         \x20   return open(fd, 'w', buffering=1, closefd=False,\n\
         \x20       encoding=getattr(old, 'encoding', None) or 'utf-8',\n\
         \x20       errors=getattr(old, 'errors', None) or 'backslashreplace')\n\
         sys.stdout = _core_stream({}, sys.stdout)\n\
         sys.stderr = _core_stream({}, sys.stderr)\n\
         del _core_stream\n",
        fds.stdout, fds.stderr
    );
    let code = CString::new(code).expect("no NUL bytes");
    if let Err(err) = py.run(&code, None, None) {
        eprintln!(
            "roo: cannot redirect the app's output: {}",
            error_text(py, err)
        );
    }
}

/// Imports the app and builds its topology in the attached interpreter.
/// `args` is what `application_setup` receives: the app path, then the app's arguments.
pub fn load(
    py: Python<'_>,
    app_path: &Path,
    args: &[String],
    output: OutputFds,
) -> Result<(Topology, AppObjects), String> {
    api_package::install(py)?;
    redirect_output(py, output);
    let setup = CString::new(PythonEnvironment::from_env().setup_code()).expect("no NUL bytes");
    py.run(&setup, None, None)
        .map_err(|e| format!("cannot set up the embedded Python: {}", error_text(py, e)))?;
    let command_line = PyList::new(py, args).map_err(|e| error_text(py, e))?;
    py.import("roo")
        .and_then(|package| package.setattr("_ARGS", &command_line))
        .map_err(|e| error_text(py, e))?;
    let shown = app_path.display().to_string();
    let source =
        std::fs::read_to_string(app_path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let module = import_app(py, app_path, &source, args).map_err(|e| {
        let hint = module_not_found_hint(py, &e);
        format!("{shown}: failed to load:\n{}{hint}", error_text(py, e))
    })?;
    let setup = match module.getattr("application_setup") {
        Ok(setup) if setup.is_callable() => setup,
        Ok(_) => return Err(format!("{shown}: application_setup is not a function")),
        Err(e) => {
            discard(py, e);
            return Err(format!("{shown}: no application_setup(args) function"));
        }
    };
    let description = setup
        .call1((PyList::new(py, args).map_err(|e| error_text(py, e))?,))
        .map_err(|e| {
            let hint = match looks_like_missing_addresses(py, &e) {
                true => missing_addresses_hint(args),
                false => module_not_found_hint(py, &e),
            };
            format!(
                "{shown}: application_setup failed: {}{hint}",
                setup_error_text(py, e)
            )
        })?;
    let description = description
        .cast_into::<PyDict>()
        .map_err(|_| format!("{shown}: application_setup must return ApplicationBuilder.build() (or build_application(...))"))?;
    let parsed = Description {
        py,
        codec: ValueCodec::for_app(&module)?,
    }
    .parse(&description);
    let (topology, objects) = parsed.map_err(|e| format!("{shown}: {e}"))?;
    topology.validate().map_err(|e| format!("{shown}: {e}"))?;
    Ok((topology, objects))
}

/// Most apps read their addresses with tcp_parse_input_addrs / tcp_parse_output_addrs and
/// fail with an error of their own when there are none: an IndexError (`addrs[0]`) or a
/// ValueError unpacking too few (`(host, port), = addrs`).
fn looks_like_missing_addresses(py: Python<'_>, err: &PyErr) -> bool {
    err.is_instance_of::<pyo3::exceptions::PyIndexError>(py)
        || (err.is_instance_of::<pyo3::exceptions::PyValueError>(py)
            && err
                .value(py)
                .to_string()
                .starts_with("not enough values to unpack"))
}

/// A module the app imports is missing: say which Python roo embeds and where it looked, as
/// the module may well be installed for another Python.
fn module_not_found_hint(py: Python<'_>, err: &PyErr) -> String {
    if !err.is_instance_of::<pyo3::exceptions::PyModuleNotFoundError>(py) {
        return String::new();
    }
    let sites = py
        .import("sys")
        .and_then(|sys| sys.getattr("path"))
        .and_then(|path| path.extract::<Vec<String>>())
        .map(|path| {
            path.into_iter()
                .filter(|p| p.ends_with("site-packages"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let environment = PythonEnvironment::from_env();
    format!(
        "\nhint: roo embeds CPython {} ({}), whose packages are in: {}. Install the module \
         for that Python ({} -m pip install ...), or activate a virtualenv made with it.",
        environment::VERSION,
        environment.executable.display(),
        if sites.is_empty() {
            "(no site-packages on sys.path)".into()
        } else {
            sites
        },
        environment.executable.display()
    )
}

/// Says which of --in and --out the app was not given.
fn missing_addresses_hint(args: &[String]) -> String {
    let given = |long: &str, short: &str| {
        args.iter()
            .any(|arg| arg == long || arg == short || arg.starts_with(&format!("{long}=")))
    };
    let missing: Vec<&str> = [("--in", "-i"), ("--out", "-o")]
        .into_iter()
        .filter(|(long, short)| !given(long, short))
        .map(|(long, _)| long)
        .collect();
    if missing.is_empty() {
        return String::new();
    }
    format!(
        "\nnote: the app was given no {} address (roo run APP.py --in host:port --out host:port)",
        missing.join(" and no ")
    )
}

/// A building mistake (RooApplicationError) is reported by its message alone: it already
/// names the step and file; anything else gets its traceback.
fn setup_error_text(py: Python<'_>, err: PyErr) -> String {
    let building_mistake = py
        .import("roo.topology")
        .and_then(|module| module.getattr("RooApplicationError"))
        .map(|kind| err.is_instance(py, &kind));
    match building_mistake {
        Ok(true) => {
            let message = err.value(py).to_string();
            discard(py, err);
            message
        }
        Ok(false) => format!("\n{}", error_text(py, err)),
        Err(lookup) => {
            discard(py, lookup);
            format!("\n{}", error_text(py, err))
        }
    }
}

/// Runs the app file as a module named after it (so pickle finds its classes by module name
/// in every interpreter), with its folder on sys.path for its own imports.
fn import_app<'py>(
    py: Python<'py>,
    app_path: &Path,
    source: &str,
    args: &[String],
) -> PyResult<Bound<'py, PyModule>> {
    let sys = py.import("sys")?;
    let folder = app_path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    sys.getattr("path")?.call_method1(
        "insert",
        (
            0,
            if folder.is_empty() {
                ".".to_string()
            } else {
                folder
            },
        ),
    )?;
    sys.setattr("argv", PyList::new(py, args)?)?;
    let name = app_path
        .file_stem()
        .map(|s| s.to_string_lossy().replace(['-', '.', ' '], "_"))
        .unwrap_or_default();
    let to_c = |text: &str| {
        CString::new(text)
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("NUL byte in app source"))
    };
    PyModule::from_code(
        py,
        &to_c(source)?,
        &to_c(&app_path.display().to_string())?,
        &to_c(&name)?,
    )
}

/// Reads the description dict (see python/roo/topology.py for its shape).
struct Description<'py> {
    py: Python<'py>,
    codec: ValueCodec,
}

impl<'py> Description<'py> {
    fn parse(self, app: &Bound<'py, PyDict>) -> Result<(Topology, AppObjects), String> {
        let mut objects = AppObjects {
            codec: ValueCodec::new(self.py)?,
            sources: vec![],
            steps: vec![],
            key_by_at_end: vec![],
            encoders: vec![],
            state_builders: vec![],
        };
        let name = self.string(app, "name")?;
        let mut sources = vec![];
        for source in self.list(app, "sources")? {
            let (input, source_objects) = match self.string(&source, "kind")?.as_str() {
                "kafka" => {
                    let decoder = self.dict(&source, "decoder")?;
                    let arguments = self.usize(&decoder, "arguments")?;
                    if !(1..=3).contains(&arguments) {
                        return Err(format!(
                            "a Kafka decoder takes 1 to 3 arguments, not {arguments}"
                        ));
                    }
                    let group = self.item(&source, "group")?;
                    let input = SourceInput::Kafka(KafkaSource {
                        topic: self.string(&source, "topic")?,
                        brokers: self.string(&source, "brokers")?,
                        group: match group.is_none() {
                            true => name.clone(),
                            false => group.to_string(),
                        },
                        decode_arguments: arguments as u8,
                    });
                    let objects = SourceObjects::RecordDecoder {
                        decode: self.callable(&decoder, "decode")?,
                        arguments: arguments as u8,
                    };
                    (input, objects)
                }
                "generator" => {
                    let generator = self.dict(&source, "generator")?;
                    let objects = SourceObjects::Generator {
                        initial_value: self.callable(&generator, "initial_value")?,
                        apply: self.callable(&generator, "apply")?,
                    };
                    (SourceInput::Generator, objects)
                }
                _ => {
                    let decoder = self.dict(&source, "decoder")?;
                    let payload_length = self.callable(&decoder, "payload_length")?;
                    let header_length = self.usize(&decoder, "header_length")?;
                    let length_fmt = self.item(&decoder, "length_fmt")?;
                    let header = match length_fmt.is_none() {
                        true => probe_header(self.py, payload_length.bind(self.py), header_length),
                        false => header_of_length_fmt(&length_fmt.to_string(), header_length),
                    };
                    let input = SourceInput::Tcp {
                        host: self.string(&source, "host")?,
                        port: self.string(&source, "port")?,
                        header,
                    };
                    let objects = SourceObjects::Decoder {
                        payload_length,
                        decode: self.callable(&decoder, "decode")?,
                    };
                    (input, objects)
                }
            };
            sources.push(SourceSpec {
                name: self.string(&source, "name")?,
                chain: self.usize(&source, "chain")?,
                input,
            });
            objects.sources.push(source_objects);
        }
        let mut chains = vec![];
        for chain in self.list(app, "chains")? {
            let mut steps = vec![];
            let mut step_objects = vec![];
            for step in self.list(&chain, "steps")? {
                let (spec, objs) = self.step(&step)?;
                steps.push(spec);
                step_objects.push(objs);
            }
            let next = self.item(&chain, "next")?;
            chains.push(ChainSpec {
                name: self.string(&chain, "name")?,
                steps,
                next: if next.is_none() {
                    None
                } else {
                    Some(self.extract_usize(&next, "next")?)
                },
                sinks: self
                    .list(&chain, "sinks")?
                    .iter()
                    .map(|s| self.extract_usize(s, "sinks"))
                    .collect::<Result<_, _>>()?,
            });
            objects.steps.push(step_objects);
            objects
                .key_by_at_end
                .push(self.optional_callable(&chain, "key_by")?);
        }
        let mut sinks = vec![];
        for sink in self.list(app, "sinks")? {
            let output = match self.string(&sink, "kind")?.as_str() {
                "kafka" => SinkOutput::Kafka(KafkaSink {
                    topic: self.string(&sink, "topic")?,
                    brokers: self.string(&sink, "brokers")?,
                    max_produce_buffer_ms: self.usize(&sink, "max_produce_buffer_ms")? as u64,
                    max_message_size: self.usize(&sink, "max_message_size")?,
                }),
                _ => SinkOutput::Tcp {
                    host: self.string(&sink, "host")?,
                    port: self.string(&sink, "port")?,
                },
            };
            sinks.push(SinkSpec {
                output,
                encoder_location: self.string(&sink, "where")?,
            });
            objects.encoders.push(self.callable(&sink, "encode")?);
        }
        let mut states = vec![];
        for state in self.list(app, "states")? {
            let keys = self
                .list(&state, "keys")?
                .iter()
                .map(|k| self.codec.to_value(k))
                .collect::<Result<_, _>>()?;
            states.push(StateSpec {
                name: self.string(&state, "name")?,
                keys,
                keyed: self.bool(&state, "keyed")?,
            });
            objects.state_builders.push(self.callable(&state, "build")?);
        }
        let topology = Topology {
            name,
            sources,
            chains,
            sinks,
            states,
        };
        objects.codec = self.codec;
        Ok((topology, objects))
    }

    fn step(&self, step: &Bound<'py, PyAny>) -> Result<(StepSpec, StepObjects), String> {
        let name = self.string(step, "name")?;
        let kind = match self.string(step, "kind")?.as_str() {
            "stateless" => StepKind::Stateless,
            "state" => StepKind::State,
            other => return Err(format!("step '{name}' has unknown kind '{other}'")),
        };
        let state = self.item(step, "state")?;
        let partition = self.optional_callable(step, "partition")?;
        let key_by = self.optional_callable(step, "key_by")?;
        let tick = self.optional_callable(step, "tick")?;
        let tick_ns = self.item(step, "tick_ns")?;
        let tick_ns = if tick_ns.is_none() {
            None
        } else {
            Some(self.extract_usize(&tick_ns, "tick_ns")?.max(1) as u64)
        };
        let spec = StepSpec {
            kind,
            multi: self.bool(step, "multi")?,
            parallel: self.bool(step, "parallel")?,
            location: self.string(step, "where")?,
            reads_persist_flag: self.bool(step, "persist_flag")?,
            state: if state.is_none() {
                None
            } else {
                Some(self.extract_usize(&state, "state")?)
            },
            partitioned: partition.is_some(),
            ticks: tick.is_some(),
            tick_ns,
            event_time: self.bool(step, "event_time")?,
            name,
        };
        Ok((
            spec,
            StepObjects {
                call: self.callable(step, "call")?,
                partition,
                key_by,
                tick,
            },
        ))
    }

    fn item(&self, container: &Bound<'py, PyAny>, key: &str) -> Result<Bound<'py, PyAny>, String> {
        container.get_item(key).map_err(|e| {
            discard(self.py, e);
            format!("application description has no '{key}'")
        })
    }

    fn list(
        &self,
        container: &Bound<'py, PyAny>,
        key: &str,
    ) -> Result<Vec<Bound<'py, PyAny>>, String> {
        let item = self.item(container, key)?;
        let list = item
            .cast::<PyList>()
            .map_err(|_| format!("application description: '{key}' is not a list"))?;
        Ok(list.iter().collect())
    }

    fn dict(&self, container: &Bound<'py, PyAny>, key: &str) -> Result<Bound<'py, PyAny>, String> {
        let item = self.item(container, key)?;
        match item.is_instance_of::<PyDict>() {
            true => Ok(item),
            false => Err(format!("application description: '{key}' is not a dict")),
        }
    }

    fn string(&self, container: &Bound<'py, PyAny>, key: &str) -> Result<String, String> {
        Ok(self.item(container, key)?.to_string())
    }

    fn bool(&self, container: &Bound<'py, PyAny>, key: &str) -> Result<bool, String> {
        Ok(self.item(container, key)?.is_truthy().unwrap_or(false))
    }

    fn usize(&self, container: &Bound<'py, PyAny>, key: &str) -> Result<usize, String> {
        self.extract_usize(&self.item(container, key)?, key)
    }

    fn extract_usize(&self, item: &Bound<'py, PyAny>, key: &str) -> Result<usize, String> {
        item.extract::<usize>().map_err(|e| {
            discard(self.py, e);
            format!("application description: '{key}' is not a non-negative int")
        })
    }

    /// A callable, or None.
    fn optional_callable(
        &self,
        container: &Bound<'py, PyAny>,
        key: &str,
    ) -> Result<Option<PyObj>, String> {
        match self.item(container, key)?.is_none() {
            true => Ok(None),
            false => self.callable(container, key).map(Some),
        }
    }

    fn callable(&self, container: &Bound<'py, PyAny>, key: &str) -> Result<PyObj, String> {
        let item = self.item(container, key)?;
        match item.is_callable() {
            true => Ok(PyObj::new(item)),
            false => Err(format!("application description: '{key}' is not callable")),
        }
    }
}

/// How to read headers a 0.6 `@decoder(header_length=N, length_fmt=F)` describes: natively
/// when `F` is a big-endian unsigned integer the size of the header (`>I`, `!H`, `>Q`...),
/// else through the decoder's own `payload_length()`.
fn header_of_length_fmt(length_fmt: &str, header_length: usize) -> HeaderDecoding {
    let width = match length_fmt {
        ">H" | "!H" => Some(LengthWidth::U16),
        ">I" | "!I" | ">L" | "!L" => Some(LengthWidth::U32),
        ">Q" | "!Q" => Some(LengthWidth::U64),
        _ => None,
    };
    match width {
        Some(width) if width.header_length() == header_length => HeaderDecoding::BigEndian(width),
        _ => HeaderDecoding::Python { header_length },
    }
}

/// Without a `length_fmt`: finds out whether `payload_length` reads a plain big-endian
/// length, by asking it about a few headers; if so, Roo frames that source natively (no
/// Python call per frame).
fn probe_header(
    py: Python<'_>,
    payload_length: &Bound<'_, PyAny>,
    header_length: usize,
) -> HeaderDecoding {
    let python = HeaderDecoding::Python { header_length };
    let Some(width) = LengthWidth::from_header_length(header_length) else {
        return python;
    };
    let ascending: Vec<u8> = (1..=header_length as u8).collect();
    let mut small = vec![0u8; header_length];
    small[header_length - 1] = 5;
    let mut two_bytes = vec![0u8; header_length];
    two_bytes[header_length - 2] = 1;
    for header in [ascending, small, two_bytes] {
        let expected = header
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let answer = payload_length
            .call1((PyBytes::new(py, &header),))
            .and_then(|n| n.extract::<u64>());
        match answer {
            Ok(n) if n == expected => {}
            Ok(_) => return python,
            Err(e) => {
                discard(py, e);
                return python;
            }
        }
    }
    HeaderDecoding::BigEndian(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_length_fmts_are_read_natively() {
        assert_eq!(
            header_of_length_fmt(">I", 4),
            HeaderDecoding::BigEndian(LengthWidth::U32)
        );
        assert_eq!(
            header_of_length_fmt("!H", 2),
            HeaderDecoding::BigEndian(LengthWidth::U16)
        );
        assert_eq!(
            header_of_length_fmt(">Q", 8),
            HeaderDecoding::BigEndian(LengthWidth::U64)
        );
        for (fmt, header_length) in [("<I", 4), (">i", 4), (">B", 1), (">I", 8)] {
            assert_eq!(
                header_of_length_fmt(fmt, header_length),
                HeaderDecoding::Python { header_length },
                "{fmt}"
            );
        }
    }
}
