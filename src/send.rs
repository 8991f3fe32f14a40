//! `roo send`: a load generator (like Wallaroo's giles sender).
//!
//! Messages come from files (one message per line, or binary records of a
//! fixed size or behind their own length headers), from a deterministic
//! generator of Zipf-distributed words, or count up as giles sender's did. They
//! are spread over `--connections` TCP connections in order, message `i` on
//! connection `i % N`, each written through a large reused buffer. Sending is
//! open loop with `--rate` or `--interval` (each message, or each `--batch`, written at its own
//! scheduled time and stamped with that time by `--stamp`; one thread drives
//! every connection, so only one thread spins however many there are) or as
//! fast as the peers read (a thread per connection). A peer that stops reading
//! makes the sender block: nothing is ever dropped.

use crate::{giles, stamp};
use bytes::BytesMut;
use clap::{Args, ValueEnum};
use protocol::{encode_frame, encode_line, LengthWidth};
use std::collections::HashSet;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes buffered per connection before a write to the socket.
const WRITE_BUFFER: usize = 64 * 1024;
/// Unpaced: messages between checks of the `--duration` deadline.
const UNPACED_BATCH: usize = 1024;
/// giles sender's pacing defaults: messages per batch, and nanoseconds between batches.
const GILES_BATCH: u64 = 500;
const GILES_INTERVAL_NS: u64 = 5_000_000;
/// Pause between connection attempts.
const CONNECT_RETRY: Duration = Duration::from_millis(100);

/// Built-in message generators.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Generator {
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
    to: Vec<String>,

    /// Number of TCP connections.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    connections: u32,

    /// Input files (comma-separated); each line is one message, the files one
    /// after the other.
    #[arg(
        long,
        short = 'f',
        value_delimiter = ',',
        value_name = "F",
        conflicts_with = "generate"
    )]
    file: Vec<PathBuf>,

    /// Send each message followed by '\n' instead of behind a length header.
    #[arg(long)]
    newline: bool,

    /// Send empty lines of the input files as empty messages (by default they are
    /// skipped and not counted, as giles sender did).
    #[arg(long)]
    keep_empty_lines: bool,

    /// The --file is records already framed by the user, sent as they are: of
    /// --msg-size bytes each, or each behind its own length header (--variable-size).
    #[arg(long, short = 'y', requires_all = ["record_size", "file"],
          conflicts_with_all = ["newline", "stamp", "generate"])]
    binary: bool,

    /// Record size in bytes for --binary (the length header included).
    #[arg(
        long,
        short = 'g',
        value_name = "N",
        requires = "binary",
        group = "record_size"
    )]
    msg_size: Option<usize>,

    /// For --binary: each record starts with its own 4-byte big-endian length header
    /// (giles sender's --variable-size); records are sent with their header.
    #[arg(long, short = 'z', requires = "binary", group = "record_size")]
    variable_size: bool,

    /// Without --file or --generate: count up as 8-byte big-endian numbers instead of
    /// decimal text.
    #[arg(long, short = 'u', conflicts_with_all = ["file", "generate", "newline"])]
    u64: bool,

    /// Without --file or --generate: the first message is N+1.
    #[arg(long, short = 'v', value_name = "N", value_parser = giles::count,
          conflicts_with_all = ["file", "generate"])]
    start_from: Option<u64>,

    /// Generate messages instead of reading files.
    #[arg(long, value_enum, value_name = "KIND")]
    generate: Option<Generator>,

    /// Seed for --generate (same seed, same messages).
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,

    /// Stop after N messages in total (without --repeat, at most the files
    /// once). Default: the files once, or forever with --repeat or --generate;
    /// --duration also stops.
    #[arg(long, short = 'm', value_name = "N", value_parser = giles::count)]
    messages: Option<u64>,

    /// Loop over the files.
    #[arg(long, short = 'r')]
    repeat: bool,

    /// Total messages per second over all connections (open loop: every
    /// message has a scheduled time and leaves at it, or at once when the
    /// sender is behind). Default: as fast as possible.
    #[arg(long, value_name = "MSGS_PER_SEC")]
    rate: Option<f64>,

    /// Paced as Wallaroo's giles sender did: a batch every NS nanoseconds on each
    /// connection (per-connection rate = batch / NS); instead of --rate.
    #[arg(long, short = 'i', value_name = "NS", conflicts_with = "rate",
          value_parser = giles::count)]
    interval: Option<u64>,

    /// Messages per paced burst on each connection: N messages share one
    /// scheduled time and leave in one write [default: 1 with --rate].
    #[arg(long, short = 's', alias = "batch-size", value_name = "N", value_parser = batch_size)]
    batch: Option<u64>,

    /// Paced: sleep until US microseconds before a message is due, then spin
    /// (a sleeping thread wakes tens of microseconds late, more on a VM, and that
    /// lateness counts as latency). One thread paces every connection, so this
    /// keeps at most one CPU busy. 0: only sleep, leaving the CPU to others.
    #[arg(long, default_value_t = 150, value_name = "US")]
    spin_us: u64,

    /// Stop after S seconds.
    #[arg(long, value_name = "S")]
    duration: Option<f64>,

    /// Give up connecting after S seconds (attempts every 100 ms).
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    connect_timeout: f64,

    /// Prefix each payload with its send timestamp (see below).
    #[arg(long)]
    stamp: bool,

    /// No per-second reports (the final line is always printed).
    #[arg(long)]
    quiet: bool,

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

/// Where messages come from. Message `i` is a pure function of `i`, so each
/// connection thread produces its own share independently.
enum Source {
    /// Lines, or records behind their own length header, of the input files: message
    /// `k` is `data[starts[k]..starts[k + 1] - trailer]` (every line, the last included,
    /// is stored with its '\n').
    Spans {
        data: Vec<u8>,
        starts: Vec<usize>,
        /// Bytes at the end of each span that are not sent: 1 for lines, stored with
        /// their '\n'; 0 for records behind their own length header, sent whole.
        trailer: usize,
    },
    /// Fixed-size records.
    Records { data: Vec<u8>, size: usize },
    /// Generated words.
    Words(Words),
    /// giles sender's numbers: message `i` is `first + i`, as decimal text or as 8
    /// big-endian bytes.
    Count { first: u64, binary: bool },
}

impl Source {
    /// Messages before the source repeats (`None`: endless).
    fn len(&self) -> Option<u64> {
        match self {
            Source::Spans { starts, .. } => Some(starts.len() as u64 - 1),
            Source::Records { data, size } => Some((data.len() / size) as u64),
            Source::Words(_) | Source::Count { .. } => None,
        }
    }

    /// Payload of message `i` (taken modulo the source's length).
    #[inline]
    fn payload<'a>(&'a self, i: u64, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        match self {
            Source::Spans {
                data,
                starts,
                trailer,
            } => {
                let k = (i % (starts.len() as u64 - 1)) as usize;
                &data[starts[k]..starts[k + 1] - trailer]
            }
            Source::Records { data, size } => {
                let n = (data.len() / size) as u64;
                let k = (i % n) as usize;
                &data[k * size..(k + 1) * size]
            }
            Source::Words(w) => {
                scratch.clear();
                w.line(i, scratch);
                scratch
            }
            Source::Count { first, binary } => {
                let n = first.wrapping_add(i);
                scratch.clear();
                if *binary {
                    scratch.extend_from_slice(&n.to_be_bytes());
                } else {
                    write!(scratch, "{n}").expect("writing to a Vec");
                }
                scratch
            }
        }
    }
}

fn read_input(file: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

/// One message per line of `files`, one file after the other. Empty lines are skipped, as
/// giles sender skipped zero-length lines, unless `keep_empty`.
fn load_lines(files: &[PathBuf], keep_empty: bool) -> Result<Source, String> {
    let mut data = Vec::new();
    let mut starts = vec![0];
    for f in files {
        let bytes = read_input(f)?;
        if bytes.is_empty() {
            continue;
        }
        let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        for line in text.split(|&b| b == b'\n') {
            if line.is_empty() && !keep_empty {
                continue;
            }
            data.extend_from_slice(line);
            data.push(b'\n');
            starts.push(data.len());
        }
    }
    Ok(Source::Spans {
        data,
        starts,
        trailer: 1,
    })
}

fn load_records(files: &[PathBuf], size: usize) -> Result<Source, String> {
    if size == 0 {
        return Err("--msg-size must be at least 1".into());
    }
    let mut data = Vec::new();
    for f in files {
        let bytes = read_input(f)?;
        if bytes.len() % size != 0 {
            return Err(format!(
                "{} has {} bytes, not a whole number of {size}-byte records",
                f.display(),
                bytes.len()
            ));
        }
        data.extend_from_slice(&bytes);
    }
    Ok(Source::Records { data, size })
}

/// Records each behind its own 4-byte big-endian length header, as giles sender's
/// `--binary --variable-size` read them.
fn load_framed_records(files: &[PathBuf]) -> Result<Source, String> {
    let mut data = Vec::new();
    let mut starts = vec![0];
    for f in files {
        let bytes = read_input(f)?;
        let mut at = 0;
        while at < bytes.len() {
            let header = bytes.get(at..at + 4).ok_or_else(|| {
                format!("{}: a length header cut short at byte {at}", f.display())
            })?;
            let length = u32::from_be_bytes(header.try_into().expect("4 bytes")) as usize;
            let end = at + 4 + length;
            if end > bytes.len() {
                return Err(format!(
                    "{}: the record at byte {at} says {length} bytes, but the file ends first",
                    f.display()
                ));
            }
            data.extend_from_slice(&bytes[at..end]);
            starts.push(data.len());
            at = end;
        }
    }
    Ok(Source::Spans {
        data,
        starts,
        trailer: 0,
    })
}

/// SplitMix64: small, fast, good enough for test data.
struct Rng(u64);

impl Rng {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `--generate words` source: a fixed vocabulary of pronounceable
/// pseudo-words (the same for every seed), ranked by a Zipf(1) distribution;
/// line `i` for seed `s` has 8 to 12 words drawn from an RNG seeded by `(s, i)`.
struct Words {
    text: Vec<u8>,
    /// `(start, end)` of each word in `text`, most frequent first.
    words: Vec<(u32, u32)>,
    /// Cumulative probabilities scaled to 2^53.
    cdf: Vec<u64>,
    seed: u64,
}

impl Words {
    const VOCABULARY: usize = 5000;

    fn new(seed: u64) -> Words {
        const ONSETS: [&str; 20] = [
            "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
            "st", "tr", "ch",
        ];
        const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ea"];
        let mut rng = Rng(0x00C0_FFEE);
        let mut seen = HashSet::new();
        let mut text = Vec::new();
        let mut words = Vec::with_capacity(Self::VOCABULARY);
        while words.len() < Self::VOCABULARY {
            // Frequent words are short: 1 syllable first, up to 4 later.
            let max_syllables = 1 + (words.len() * 4 / Self::VOCABULARY).min(3) as u64;
            let syllables = 1 + rng.next() % max_syllables;
            let mut w = String::new();
            for _ in 0..syllables {
                w.push_str(ONSETS[(rng.next() % ONSETS.len() as u64) as usize]);
                w.push_str(VOWELS[(rng.next() % VOWELS.len() as u64) as usize]);
            }
            if rng.next() & 3 == 0 {
                w.push_str(ONSETS[(rng.next() % 17) as usize]);
            }
            if seen.insert(w.clone()) {
                let start = text.len() as u32;
                text.extend_from_slice(w.as_bytes());
                words.push((start, text.len() as u32));
            }
        }
        let total: f64 = (1..=Self::VOCABULARY).map(|k| 1.0 / k as f64).sum();
        let scale = (1u64 << 53) as f64;
        let mut acc = 0.0;
        let cdf = (1..=Self::VOCABULARY)
            .map(|k| {
                acc += 1.0 / k as f64;
                (acc / total * scale) as u64
            })
            .collect();
        Words {
            text,
            words,
            cdf,
            seed,
        }
    }

    /// Appends line `i` (without '\n') to `out`.
    fn line(&self, i: u64, out: &mut Vec<u8>) {
        let mut rng = Rng(mix64(self.seed ^ 0x5EED_0000_0000_0000) ^ mix64(i));
        let n = 8 + rng.next() % 5;
        for j in 0..n {
            if j > 0 {
                out.push(b' ');
            }
            let u = rng.next() >> 11;
            let k = self
                .cdf
                .partition_point(|&c| c <= u)
                .min(self.words.len() - 1);
            let (s, e) = self.words[k];
            out.extend_from_slice(&self.text[s as usize..e as usize]);
        }
    }
}

#[derive(Clone, Copy)]
enum OutFraming {
    Length(LengthWidth),
    Newline,
    Raw,
}

/// What every connection thread shares.
struct Plan {
    source: Source,
    framing: OutFraming,
    connections: u64,
    /// Messages in total (`None`: until the deadline, or forever).
    total: Option<u64>,
    /// Per-connection messages per second and batch size, when paced.
    pacing: Option<(f64, u64)>,
    /// How long before a paced message is due the sender stops sleeping and spins.
    spin: Duration,
    deadline: Option<Duration>,
    stamp: bool,
}

/// Counters of one connection, read by the reporter.
#[derive(Default)]
struct ConnStats {
    messages: AtomicU64,
    bytes: AtomicU64,
}

/// One connection's send loop.
struct Conn {
    index: u64,
    addr: String,
    stream: TcpStream,
    out: BytesMut,
    /// Messages in `out` not yet written to the socket.
    buffered: u64,
    stats: Arc<ConnStats>,
}

impl Conn {
    /// Writes out the buffer, blocking while the peer does not read.
    fn flush(&mut self) -> Result<(), String> {
        if self.out.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.stream.write_all(&self.out) {
            return Err(format!(
                "connection {} to {} failed after {} messages sent on it: {e}",
                self.index,
                self.addr,
                self.stats.messages.load(Relaxed)
            ));
        }
        self.stats.bytes.fetch_add(self.out.len() as u64, Relaxed);
        self.stats.messages.fetch_add(self.buffered, Relaxed);
        self.out.clear();
        self.buffered = 0;
        Ok(())
    }

    /// Appends message `i` to the buffer (with `--stamp`, stamped with its scheduled
    /// time, or with the time now when it has none) and writes the buffer out once it is
    /// full.
    fn push(
        &mut self,
        plan: &Plan,
        i: u64,
        scheduled: Option<u64>,
        scratch: &mut Scratch,
    ) -> Result<(), String> {
        let mut payload = plan.source.payload(i, &mut scratch.payload);
        if plan.stamp {
            scratch.stamped.clear();
            let t = scheduled.unwrap_or_else(stamp::now_nanos);
            stamp::write_stamp(&mut scratch.stamped, t);
            scratch.stamped.extend_from_slice(payload);
            payload = &scratch.stamped;
        }
        match plan.framing {
            OutFraming::Length(w) => encode_frame(&mut self.out, w, payload),
            OutFraming::Newline => encode_line(&mut self.out, payload),
            OutFraming::Raw => self.out.extend_from_slice(payload),
        }
        self.buffered += 1;
        if self.out.len() >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is left and closes the sending side.
    fn finish(mut self) -> Result<(), String> {
        self.flush()?;
        let _ = self.stream.shutdown(Shutdown::Write);
        Ok(())
    }

    /// Unpaced: this connection's share (messages `index`, `index + N`, ...) as fast as
    /// the peer reads.
    fn run_unpaced(mut self, plan: &Plan, start: Instant) -> Result<(), String> {
        let mut scratch = Scratch::default();
        let mut i = self.index;
        'send: loop {
            if plan.deadline.is_some_and(|d| start.elapsed() >= d) {
                break;
            }
            for _ in 0..UNPACED_BATCH {
                if plan.total.is_some_and(|t| i >= t) {
                    break 'send;
                }
                self.push(plan, i, None, &mut scratch)?;
                i += plan.connections;
            }
        }
        self.finish()
    }
}

/// Buffers reused for every message.
#[derive(Default)]
struct Scratch {
    payload: Vec<u8>,
    stamped: Vec<u8>,
}

/// Paced: one thread drives every connection, so that only one spins however many there
/// are. Burst `b` is due `b x batch / per-connection rate` after the start and gives each
/// connection its next `batch` messages (message `i` on connection `i % N`), all stamped
/// with that time. A peer that stops reading holds back the others (their messages keep
/// their scheduled stamps, so the wait counts as latency).
fn run_paced(
    mut conns: Vec<Conn>,
    plan: &Plan,
    start: Instant,
    start_nanos: u64,
) -> Result<(), String> {
    let (per_conn_rate, batch) = plan.pacing.expect("paced");
    let interval = batch as f64 / per_conn_rate;
    let burst_len = batch * plan.connections;
    let mut scratch = Scratch::default();
    let mut i = 0;
    'send: for burst in 0u64.. {
        let due = Duration::from_secs_f64(burst as f64 * interval);
        if start.elapsed() < due {
            for conn in &mut conns {
                conn.flush()?;
            }
            wait_until(start + due, plan.spin);
        }
        if plan.deadline.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        let stamp_at = start_nanos + due.as_nanos() as u64;
        for _ in 0..burst_len {
            if plan.total.is_some_and(|t| i >= t) {
                break 'send;
            }
            conns[(i % plan.connections) as usize].push(plan, i, Some(stamp_at), &mut scratch)?;
            i += 1;
        }
    }
    for conn in conns {
        conn.finish()?;
    }
    Ok(())
}

/// Sleeps until `spin` before `due`, then spins (yielding the CPU to anything
/// else runnable) until it.
fn wait_until(due: Instant, spin: Duration) {
    let now = Instant::now();
    if due > now + spin {
        thread::sleep(due - now - spin);
    }
    while Instant::now() < due {
        thread::yield_now();
    }
}

fn resolve(addr: &str) -> Result<Vec<SocketAddr>, String> {
    match addr.to_socket_addrs() {
        Ok(a) => {
            let a: Vec<_> = a.collect();
            if a.is_empty() {
                Err(format!("{addr} resolves to no address"))
            } else {
                Ok(a)
            }
        }
        Err(e) => Err(format!("bad address {addr}: {e}")),
    }
}

fn connect(
    addr: &str,
    resolved: &[SocketAddr],
    deadline: Instant,
    timeout: f64,
) -> Result<TcpStream, String> {
    loop {
        let err = match TcpStream::connect(resolved) {
            Ok(s) => return Ok(s),
            Err(e) => e,
        };
        if Instant::now() + CONNECT_RETRY > deadline {
            return Err(format!(
                "could not connect to {addr} within {timeout} s: {err}"
            ));
        }
        thread::sleep(CONNECT_RETRY);
    }
}

fn build_plan(args: &SendArgs) -> Result<Plan, String> {
    let source = match (args.generate, args.binary) {
        (Some(Generator::Words), _) => Source::Words(Words::new(args.seed)),
        (None, _) if args.file.is_empty() => Source::Count {
            first: args.start_from.unwrap_or(0).saturating_add(1),
            binary: args.u64,
        },
        (None, true) if args.variable_size => load_framed_records(&args.file)?,
        (None, true) => load_records(&args.file, args.msg_size.unwrap_or(0))?,
        (None, false) => load_lines(&args.file, args.keep_empty_lines)?,
    };
    let len = source.len();
    if len == Some(0) {
        return Err("the input files hold no messages".into());
    }
    let total = match (len, args.repeat) {
        (Some(n), false) => Some(args.messages.map_or(n, |m| m.min(n))),
        _ => args.messages,
    };
    let framing = if args.binary {
        OutFraming::Raw
    } else if args.newline {
        OutFraming::Newline
    } else {
        OutFraming::Length(LengthWidth::U32)
    };
    let connections = u64::from(args.connections);
    // giles's sender always paced: a batch of 500 every 5 ms unless told otherwise.
    let giles_pacing = |batch: Option<u64>, interval_ns: u64| {
        let batch = batch.unwrap_or(GILES_BATCH);
        (batch as f64 * 1e9 / interval_ns as f64, batch)
    };
    let pacing = match (args.rate, args.interval, args.batch) {
        (Some(r), _, _) if !(r.is_finite() && r > 0.0) => {
            return Err(format!("--rate must be a positive number, not {r}"))
        }
        (Some(r), _, batch) => Some((r / connections as f64, batch.unwrap_or(1))),
        (None, Some(0), _) => return Err("--interval must be at least 1 nanosecond".into()),
        (None, Some(ns), batch) => Some(giles_pacing(batch, ns)),
        (None, None, Some(batch)) => Some(giles_pacing(Some(batch), GILES_INTERVAL_NS)),
        (None, None, None) => None,
    };
    let deadline = match args.duration {
        None => None,
        Some(d) if d.is_finite() && d >= 0.0 => Some(Duration::from_secs_f64(d)),
        Some(d) => return Err(format!("--duration must be a number of seconds, not {d}")),
    };
    Ok(Plan {
        source,
        framing,
        connections,
        total,
        pacing,
        spin: Duration::from_micros(args.spin_us),
        deadline,
        stamp: args.stamp,
    })
}

fn final_line(stats: &[Arc<ConnStats>], start: Instant) {
    let messages: u64 = stats.iter().map(|s| s.messages.load(Relaxed)).sum();
    let bytes: u64 = stats.iter().map(|s| s.bytes.load(Relaxed)).sum();
    let secs = start.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        messages as f64 / secs
    } else {
        0.0
    };
    eprintln!("sent {messages} messages ({bytes} bytes) in {secs:.3} s: {rate:.0} msg/s");
}

pub fn main(args: SendArgs) -> ExitCode {
    let plan = match build_plan(&args) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("roo send: {e}");
            return ExitCode::from(1);
        }
    };
    if !(args.connect_timeout.is_finite() && args.connect_timeout >= 0.0) {
        eprintln!("roo send: --connect-timeout must be a number of seconds");
        return ExitCode::from(1);
    }
    let mut resolved = Vec::new();
    for a in &args.to {
        match resolve(a) {
            Ok(r) => resolved.push(r),
            Err(e) => {
                eprintln!("roo send: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.connect_timeout);
    let mut conns = Vec::new();
    for c in 0..plan.connections {
        let k = (c as usize) % args.to.len();
        match connect(&args.to[k], &resolved[k], deadline, args.connect_timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                conns.push(Conn {
                    index: c,
                    addr: args.to[k].clone(),
                    stream,
                    out: BytesMut::with_capacity(WRITE_BUFFER * 2),
                    buffered: 0,
                    stats: Arc::new(ConnStats::default()),
                });
            }
            Err(e) => {
                eprintln!("roo send: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let stats: Vec<_> = conns.iter().map(|c| c.stats.clone()).collect();
    let up = Arc::new(AtomicUsize::new(conns.len()));
    let (done_tx, done_rx) = mpsc::channel::<Result<(), String>>();
    let start = Instant::now();
    let start_nanos = stamp::now_nanos();
    // Paced, one thread drives every connection; unpaced, each has its own.
    let groups: Vec<Vec<Conn>> = if plan.pacing.is_some() {
        vec![conns]
    } else {
        conns.into_iter().map(|conn| vec![conn]).collect()
    };
    let threads = groups.len();
    for (number, group) in groups.into_iter().enumerate() {
        let plan = plan.clone();
        let done = done_tx.clone();
        let up = up.clone();
        thread::Builder::new()
            .name(format!("send-{number}"))
            .spawn(move || {
                // Sleeps end on time, not up to 50 µs late (the default timer slack).
                let _ = nix::sys::prctl::set_timerslack(1);
                let owned = group.len();
                let r = if plan.pacing.is_some() {
                    run_paced(group, &plan, start, start_nanos)
                } else {
                    group
                        .into_iter()
                        .try_for_each(|conn| conn.run_unpaced(&plan, start))
                };
                up.fetch_sub(owned, Relaxed);
                let _ = done.send(r);
            })
            .expect("spawn sender thread");
    }
    drop(done_tx);

    let mut finished = 0;
    let mut next_report = start + Duration::from_secs(1);
    let mut last_total = 0;
    let mut code = ExitCode::SUCCESS;
    while finished < threads {
        let wait = next_report.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(wait) {
            Ok(Ok(())) => finished += 1,
            Ok(Err(e)) => {
                eprintln!("roo send: {e}");
                code = ExitCode::from(1);
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let total: u64 = stats.iter().map(|s| s.messages.load(Relaxed)).sum();
                if !args.quiet {
                    eprintln!(
                        "roo send: {total} sent, {} msg/s, {}/{} connections up",
                        total - last_total,
                        up.load(Relaxed),
                        stats.len()
                    );
                }
                last_total = total;
                next_report += Duration::from_secs(1);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    final_line(&stats, start);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_deterministic_and_zipf_shaped() {
        let w = Words::new(7);
        let mut a = Vec::new();
        let mut b = Vec::new();
        w.line(12345, &mut a);
        Words::new(7).line(12345, &mut b);
        assert_eq!(a, b);
        let n = a.split(|&c| c == b' ').count();
        assert!((8..=12).contains(&n), "{n} words");
        let mut other = Vec::new();
        Words::new(8).line(12345, &mut other);
        assert_ne!(a, other);

        // The most frequent word is far more common than the 100th.
        let mut counts = std::collections::HashMap::new();
        for i in 0..2000 {
            let mut l = Vec::new();
            w.line(i, &mut l);
            for word in l.split(|&c| c == b' ') {
                *counts.entry(word.to_vec()).or_insert(0u32) += 1;
            }
        }
        let (s, e) = w.words[0];
        let top = counts[&w.text[s as usize..e as usize]];
        let (s, e) = w.words[99];
        let hundredth = counts
            .get(&w.text[s as usize..e as usize])
            .copied()
            .unwrap_or(0);
        assert!(top > 10 * hundredth.max(1), "{top} vs {hundredth}");
    }

    #[test]
    fn lines_source_keeps_every_line_in_order_and_skips_empty_ones() {
        let dir = std::env::temp_dir().join(format!("roo-send-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f1 = dir.join("a");
        let f2 = dir.join("b");
        std::fs::write(&f1, b"one\n\nthree").unwrap();
        std::fs::write(&f2, b"four\n").unwrap();
        let s = load_lines(&[f1.clone(), f2.clone()], true).unwrap();
        let mut scratch = Vec::new();
        let got: Vec<Vec<u8>> = (0..5)
            .map(|i| s.payload(i, &mut scratch).to_vec())
            .collect();
        assert_eq!(s.len(), Some(4));
        assert_eq!(got, [&b"one"[..], b"", b"three", b"four", b"one"]);
        let s = load_lines(&[f1, f2], false).unwrap();
        let got: Vec<Vec<u8>> = (0..4)
            .map(|i| s.payload(i, &mut scratch).to_vec())
            .collect();
        assert_eq!(s.len(), Some(3));
        assert_eq!(got, [&b"one"[..], b"three", b"four", b"one"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
