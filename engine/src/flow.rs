//! Every flow-control threshold and poll interval of the engine, each with the reason for
//! its value: where a core stops taking input until its outputs move on, how much one
//! batch or read holds, and how often a waiting task looks again. The runs behind the
//! measured values are in benches/RESULTS.md.

use std::time::Duration;

// --- Batches and reads ---

/// Messages run as one batch (one attach of the interpreter, one hand-off of output to
/// the sinks): frames of one read in slices of this many, and generator messages. Large
/// enough that attaching is a small share of a batch, small enough that the first
/// message of a large read does not wait long for the last one.
pub const MESSAGES_PER_BATCH: usize = 128;
/// A connection's first read buffer: small, so thousands of idle connections cost little.
pub const FIRST_READ: usize = 4 * 1024;
/// The read buffer of a busy connection (one that filled its buffer in one read).
pub const BUSY_READ: usize = 64 * 1024;
/// Shortest time between two reads of a polling source (`--poll-us`) that brought data:
/// a read per message would cost each message a recv, a batch and a sink write of its
/// own (at 150 k msg/s paced that saturated a core); this bounds the wait it adds.
pub const COALESCE_READS: Duration = Duration::from_micros(20);

// --- Where input pauses ---

/// Encoder output queued for one sink connection beyond this pauses this core's sources
/// and routed input, until the sink catches up. Everything queued is latency: 1 MiB is
/// milliseconds at loopback speed and still keeps a socket's send buffer full.
pub const SINK_HIGH_WATER: usize = 1024 * 1024;
/// Routed messages waiting for one peer core beyond this pause this core's sources.
pub const OUTBOX_HIGH_WATER: usize = 16 * 1024;
/// Capacity, in batches, of each core-to-core channel.
pub const MESH_CAPACITY: usize = 256;
/// Bytes of partial frames one core holds, over all its connections, beyond which its
/// connections pause reading (see `InputBudget`): four of the default largest frame
/// (16 MiB), so a few large frames in flight at once never wait.
pub const INPUT_BYTES_PER_CORE: usize = 64 * 1024 * 1024;
/// A core with more routed messages than this waiting for it is behind...
pub const BEHIND: usize = 2048;
/// ...and hands its parallel steps to a core with at most this many waiting.
pub const KEEPING_UP: usize = 512;
/// Every other core stops reading while one core has more than this waiting: what one
/// full mesh channel of full batches holds, so the channels to a core that is behind do
/// not grow to hundreds of thousands of messages...
pub const OTHERS_PAUSE_AT: usize = MESH_CAPACITY * MESSAGES_PER_BATCH;
/// ...and the core itself only beyond this: until then it reads on, running its own
/// input or handing its parallel steps over (what it hands over comes back to it faster
/// than it runs it).
pub const OWN_PAUSE_AT: usize = 128 * 1024;

// --- Polls ---

/// How often a paused source or routed input looks again.
pub const PAUSED_POLL: Duration = Duration::from_micros(200);
/// How often a core's main task and the main thread's supervisor look at the lifecycle's
/// phase: shutdown steps are not latency-critical, and 5 ms of sleep costs nothing.
pub const PHASE_POLL: Duration = Duration::from_millis(5);
/// After a failed accept (out of descriptors, say), the acceptor waits this long.
pub const ACCEPT_RETRY: Duration = Duration::from_millis(10);
/// How often a core looks whether its error log's window is over: the window is 10 s, so
/// its end is reported within a second.
pub const ERROR_WINDOW_CHECK: Duration = Duration::from_secs(1);
/// A sink that cannot be reached is tried again after this, doubling up to
/// `SINK_LONGEST_RETRY`: a receiver started just after roo is found within
/// milliseconds, and one that stays away costs a connect a second.
pub const SINK_FIRST_RETRY: Duration = Duration::from_millis(20);
pub const SINK_LONGEST_RETRY: Duration = Duration::from_secs(1);

// --- Metrics ---

/// How often `--progress` prints its line: often enough to watch a run, seldom enough
/// that a terminal of them stays readable.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(2);

// --- The drain ---

/// Most bytes a connection still reads once the engine drains: what its peer had already
/// sent fills at most the socket's receive buffer and the peer's send buffer (Linux's
/// defaults cap them at 6 MiB and 4 MiB); a peer that keeps sending is cut off after this
/// much.
pub const DRAIN_READ_LIMIT: usize = 16 * 1024 * 1024;
/// While draining, a connection with nothing to read for this long has been read to the
/// end of what its peer had sent (on loopback the peer's kernel moves its send buffer into
/// the socket within microseconds of a read making room).
pub const DRAIN_QUIET: Duration = Duration::from_millis(20);
/// A drain gives up (exit 1) when for this long no core ran a batch and no sink accepted
/// a byte: nothing can move any more, so waiting longer would not finish it.
pub const SINK_GIVE_UP: Duration = Duration::from_secs(10);
/// How long a stopped core waits for its sink writers to close their connections (a sink
/// the drain gave up on may still block its writer).
pub const SINK_CLOSE_WAIT: Duration = Duration::from_secs(1);
/// How long roo waits, once the cores have stopped, for the app's last output to be
/// written to its stdout and stderr.
pub const OUTPUT_FLUSH_WAIT: Duration = Duration::from_secs(2);

// --- Kafka ---

/// Batches of records a consumer thread queues for one core before it waits (and stops
/// polling): enough to keep a core busy while the thread polls, bounded so a slow core
/// pushes back on the consumer.
pub const KAFKA_BATCHES_QUEUED: usize = 64;
/// Longest wait of a consumer's poll when no record is there (it then deals what it
/// has and looks at the lifecycle).
pub const KAFKA_POLL: Duration = Duration::from_millis(20);
/// Records a consumer thread polls in one go before it deals its partial batches, so a
/// less busy core's records do not wait for a full batch.
pub const KAFKA_RECORDS_PER_POLL: usize = 8 * MESSAGES_PER_BATCH;
/// The longest a consumer thread sleeps before it tries again to hand a batch to a core
/// whose queue is full (`KAFKA_BATCHES_QUEUED` batches: far more work than this).
pub const KAFKA_FULL_QUEUE_WAIT: Duration = Duration::from_millis(5);
/// The buffer records' bytes are copied into grows by at least this much at a time.
pub const KAFKA_ARENA: usize = 64 * 1024;
/// How soon a core whose Kafka records ran out looks again: short, as it is latency.
pub const KAFKA_IDLE_POLL: Duration = Duration::from_micros(100);
/// The longest a core with no Kafka records waits before it looks again: its waits
/// double from `KAFKA_IDLE_POLL` up to this, so an idle core costs little CPU, and
/// records that come after a quiet spell wait at most this long.
pub const KAFKA_IDLE_POLL_LONGEST: Duration = Duration::from_millis(1);
/// How long start-up waits for a Kafka broker to say whether a topic exists.
pub const KAFKA_METADATA_WAIT: Duration = Duration::from_secs(5);
/// How long a transactional Kafka sink waits for the broker to start, commit or abort a
/// transaction (librdkafka retries within it); past it the transaction has failed.
pub const KAFKA_TRANSACTION_WAIT: Duration = Duration::from_secs(30);
/// The longest a Kafka sink's transaction may stay open: brokers refuse longer timeouts
/// by default (Kafka's `transaction.max.timeout.ms`).
pub const KAFKA_TRANSACTION_LONGEST: Duration = Duration::from_secs(15 * 60);
/// A commit point waits at most this long for what was read to run and be written out;
/// past it the sources go on and the commit waits for the next point.
pub const COMMIT_SETTLE_LIMIT: Duration = Duration::from_secs(10);
/// How often a commit point looks whether the engine has settled.
pub const COMMIT_SETTLE_CHECK: Duration = Duration::from_micros(500);

// --- Control ---

/// How often a core looks for questions about its state (the external channel's): a
/// query waits at most this long per core.
pub const QUERY_POLL: Duration = Duration::from_millis(2);
/// How long a query waits for a core's answer (a core inside a long batch answers after it).
pub const QUERY_WAIT: Duration = Duration::from_secs(10);
/// An external channel connection with nothing coming for this long is closed
/// (Wallaroo's tools send one message per connection).
pub const EXTERNAL_READ_WAIT: Duration = Duration::from_secs(30);
/// External channel connections served at once; more are refused.
pub const EXTERNAL_CONNECTIONS: usize = 64;

// --- Checkpoints ---

/// How long the checkpointer waits for every core's snapshot (encoding a core's state
/// partitions takes about a microsecond each: a million keys take about a second).
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(60);
