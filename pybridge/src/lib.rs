//! pybridge: everything Roo does with Python.
//!
//! - [`subinterpreter`]: the only unsafe code — interpreters per core, attaching, object
//!   ownership ([`PyObj`]) and exception text.
//! - [`api_package`]: the `roo`/`wallaroo` Python package, embedded.
//! - [`app`]: importing `app.py` and reading the topology it builds.
//! - [`worker`]: one core's interpreter, app and state partitions, and the batch entry
//!   points; `steps`: the chain interpreter a batch runs; [`outputs`]: what a batch
//!   produces; `places`: error-line text; `python_framing`: frames whose headers the
//!   app's decoder reads.
//! - [`value_codec`]: converting messages that move between cores to and from
//!   `model::Value` (`name_cache`: class and field names; `key_cache`: partition keys
//!   converted once per object).

pub mod api_package;
pub mod app;
pub mod environment;
pub mod error_log;
mod key_cache;
mod name_cache;
pub mod outputs;
mod places;
mod python_framing;
mod steps;
pub mod subinterpreter;
pub mod value_codec;
pub mod worker;

pub use app::OutputFds;
pub use environment::PythonEnvironment;
pub use error_log::ErrorLog;
pub use outputs::Outputs;
pub use subinterpreter::{GilKind, Interpreter, PyObj, PythonMode};
pub use value_codec::ValueCodec;
pub use worker::Worker;
