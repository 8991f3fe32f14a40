//! Where a core stops taking input until its outputs move on: the high-water marks of its
//! queues, and how often a paused task looks again.

use std::time::Duration;

/// Encoder output queued for one sink connection beyond this pauses this core's sources
/// and routed input, until the sink catches up. Everything queued is latency: 1 MiB is
/// milliseconds at loopback speed and still keeps a socket's send buffer full
/// (benches/RESULTS.md has the run with 8 MiB).
pub const SINK_HIGH_WATER: usize = 1024 * 1024;
/// Routed messages waiting for one peer core beyond this pause this core's sources.
pub const OUTBOX_HIGH_WATER: usize = 16 * 1024;
/// How often a paused source or routed input looks again.
pub const PAUSED_POLL: Duration = Duration::from_micros(200);
