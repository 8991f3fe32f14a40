//! pybridge: everything Roo does with Python.
//!
//! - [`subinterpreter`]: the only unsafe code — interpreters per core, attaching, object
//!   ownership ([`PyObj`]) and exception text.
//! - [`api_package`]: the `roo`/`wallaroo` Python package, embedded.
//! - [`app`]: importing `app.py` and reading the topology it builds.
//! - [`worker`]: running batches of messages through the steps of one core.
//! - [`value`]: converting messages that move between cores ([`text`]: their strings;
//!   `key_cache`: partition keys converted once per object).

pub mod api_package;
pub mod app;
pub mod clock;
pub mod environment;
pub mod error_log;
mod key_cache;
pub mod subinterpreter;
pub mod text;
pub mod topology;
pub mod value;
pub mod worker;

pub use app::OutputFds;
pub use environment::PythonEnvironment;
pub use error_log::ErrorLog;
pub use subinterpreter::{GilKind, Interpreter, PyObj, PythonMode};
pub use text::Text;
pub use topology::{HeaderDecoding, SourceInput, Topology};
pub use value::{Value, ValueCodec, ValueMap};
pub use worker::{Meta, Outputs, Placement, Routed, Worker, WorkerStats};
