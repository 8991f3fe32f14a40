//! The command line of `roo send`: its flags, giles sender's spellings of them, and the
//! help text.

use crate::giles;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Built-in message generators.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Generator {
    /// Deterministic text: lines of 8 to 12 words drawn with a Zipf
    /// distribution from a fixed vocabulary of 5000 generated words.
    Words,
}

#[derive(Args, Debug)]
#[command(
    // `-h` is giles sender's --host; help stays on --help.
    disable_help_flag = true,
    after_help = "Input is --file or --generate; with neither, the messages count up from 1 \
    as giles sender's did (\"1\", \"2\", ..., or 8-byte big-endian numbers with --u64; \
    --start-from N starts at N+1). Message i goes on connection \
    i % N. Framing: 4-byte big-endian length header per message (default), '\\n' after each \
    message (--newline), or none (--binary: the file holds records that are already framed).\n\n\
    --stamp prefixes each payload with '<T> ' where T is the decimal number of nanoseconds \
    since the Unix epoch at which the message was scheduled to be sent (paced: the \
    pacing schedule's time, so backpressure shows up as latency; unpaced: the time it was \
    buffered). `roo receive --latency` reads it.\n\n\
    Exits 0 when everything was sent, 1 if a connection could not be made or a peer closed.\n\n\
    Wallaroo's giles sender flags work too, long and short: -h/--host or --buffy (--to), \
    -m/--messages, -f/--file, -s/--batch-size (--batch), -i/--interval NS (a batch every NS \
    nanoseconds on each connection, instead of --rate), -r/--repeat, -y/--binary, \
    -g/--msg-size, -z/--variable-size, -u/--u64, -v/--start-from, -w/--no-write (roo send \
    never writes what it sent), -n/--name and -p/--phone-home (Dagon's, ignored), counts \
    written as 1_000_000, and the Pony runtime's --ponythreads, --ponynoblock and the like \
    (ignored). As with giles, --interval alone sends batches of 500 and --batch-size alone a \
    batch every 5 ms."
)]
pub struct SendArgs {
    /// Where to send: HOST:PORT, or several separated by commas (connections are
    /// spread over them round-robin).
    #[arg(
        long,
        short = 'h',
        aliases = ["host", "buffy"],
        value_delimiter = ',',
        required = true,
        value_name = "HOST:PORT"
    )]
    pub(super) to: Vec<String>,

    /// Number of TCP connections.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) connections: u32,

    /// Input files (comma-separated); each line is one message, the files one
    /// after the other.
    #[arg(
        long,
        short = 'f',
        value_delimiter = ',',
        value_name = "F",
        conflicts_with = "generate"
    )]
    pub(super) file: Vec<PathBuf>,

    /// Send each message followed by '\n' instead of behind a length header.
    #[arg(long)]
    pub(super) newline: bool,

    /// Send empty lines of the input files as empty messages (by default they are
    /// skipped and not counted, as giles sender did).
    #[arg(long)]
    pub(super) keep_empty_lines: bool,

    /// The --file is records already framed by the user, sent as they are: of
    /// --msg-size bytes each, or each behind its own length header (--variable-size).
    #[arg(long, short = 'y', requires_all = ["record_size", "file"],
          conflicts_with_all = ["newline", "stamp", "generate"])]
    pub(super) binary: bool,

    /// Record size in bytes for --binary (the length header included).
    #[arg(
        long,
        short = 'g',
        value_name = "N",
        requires = "binary",
        group = "record_size"
    )]
    pub(super) msg_size: Option<usize>,

    /// For --binary: each record starts with its own 4-byte big-endian length header
    /// (giles sender's --variable-size); records are sent with their header.
    #[arg(long, short = 'z', requires = "binary", group = "record_size")]
    pub(super) variable_size: bool,

    /// Without --file or --generate: count up as 8-byte big-endian numbers instead of
    /// decimal text.
    #[arg(long, short = 'u', conflicts_with_all = ["file", "generate", "newline"])]
    pub(super) u64: bool,

    /// Without --file or --generate: the first message is N+1.
    #[arg(long, short = 'v', value_name = "N", value_parser = giles::count,
          conflicts_with_all = ["file", "generate"])]
    pub(super) start_from: Option<u64>,

    /// Generate messages instead of reading files.
    #[arg(long, value_enum, value_name = "KIND")]
    pub(super) generate: Option<Generator>,

    /// Seed for --generate (same seed, same messages).
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub(super) seed: u64,

    /// Stop after N messages in total (without --repeat, at most the files
    /// once). Default: the files once, or forever with --repeat or --generate;
    /// --duration also stops.
    #[arg(long, short = 'm', value_name = "N", value_parser = giles::count)]
    pub(super) messages: Option<u64>,

    /// Loop over the files.
    #[arg(long, short = 'r')]
    pub(super) repeat: bool,

    /// Total messages per second over all connections (open loop: every
    /// message has a scheduled time and leaves at it, or at once when the
    /// sender is behind). Default: as fast as possible.
    #[arg(long, value_name = "MSGS_PER_SEC")]
    pub(super) rate: Option<f64>,

    /// Paced as Wallaroo's giles sender did: a batch every NS nanoseconds on each
    /// connection (per-connection rate = batch / NS); instead of --rate.
    #[arg(long, short = 'i', value_name = "NS", conflicts_with = "rate",
          value_parser = giles::count)]
    pub(super) interval: Option<u64>,

    /// Messages per paced burst on each connection: N messages share one
    /// scheduled time and leave in one write [default: 1 with --rate].
    #[arg(long, short = 's', alias = "batch-size", value_name = "N", value_parser = batch_size)]
    pub(super) batch: Option<u64>,

    /// Paced: sleep until US microseconds before a message is due, then spin
    /// (a sleeping thread wakes tens of microseconds late, more on a VM, and that
    /// lateness counts as latency). One thread paces every connection, so this
    /// keeps at most one CPU busy. 0: only sleep, leaving the CPU to others.
    #[arg(long, default_value_t = 150, value_name = "US")]
    pub(super) spin_us: u64,

    /// Stop after S seconds.
    #[arg(long, value_name = "S")]
    pub(super) duration: Option<f64>,

    /// Give up connecting after S seconds (attempts every 100 ms).
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub(super) connect_timeout: f64,

    /// Prefix each payload with its send timestamp (see below).
    #[arg(long)]
    pub(super) stamp: bool,

    /// No per-second reports (the final line is always printed).
    #[arg(long)]
    pub(super) quiet: bool,

    /// giles sender: do not write the messages sent to a file (roo send never does).
    #[arg(long, short = 'w', hide = true)]
    no_write: bool,

    #[command(flatten)]
    dagon: giles::DagonFlags,

    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,

    #[command(flatten)]
    pony: giles::PonyRuntimeFlags,
}

/// A --batch of at least one message.
fn batch_size(text: &str) -> Result<u64, String> {
    match giles::count(text)? {
        0 => Err("a batch holds at least one message".into()),
        n => Ok(n),
    }
}
