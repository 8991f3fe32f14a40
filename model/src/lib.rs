//! model: the plain data every part of Roo agrees on, with no Python in it.
//!
//! - [`value`]: Python values as Rust data ([`Value`], [`Text`]), their equality as
//!   dict keys, and the hashers that place keys on cores.
//! - [`topology`]: the application's shape (sources, pipelines of steps, sinks, states).
//! - [`message`]: a message on its way to another core ([`Routed`], [`Meta`]) and the
//!   placement of keys and parallel steps ([`Placement`]).
//! - [`record`]: records a Kafka source brings in, and encoder output for record sinks.
//! - [`snapshot`], [`value_bytes`]: a core's state partitions as checkpoint bytes.
//! - [`clock`]: the process-wide clock ingest times are taken on.
//! - [`counters`]: one core's counters as atomics, read by the metrics scrape and the
//!   shutdown summary.

pub mod clock;
pub mod counters;
pub mod json;
pub mod message;
pub mod record;
pub mod snapshot;
pub mod text;
pub mod topology;
pub mod value;
pub mod value_bytes;

pub use message::{Meta, Placement, Routed};
pub use record::{Record, SinkBuffer};
pub use text::Text;
pub use topology::{HeaderDecoding, SourceInput, Topology};
pub use value::{Value, ValueMap};
