//! `roo receive`: a data receiver for load tests (like Wallaroo's data
//! receiver).
//!
//! Accepts any number of TCP connections, one thread each, cuts the bytes
//! into messages with the `protocol` crate's decoder (newline-delimited, or
//! 4-byte big-endian length headers with `--framed`) and counts them in shared
//! relaxed atomics that a reporter reads once a second. Optionally writes every
//! message to a file (one writer thread, fed whole messages in chunks, so two
//! messages never interleave) and measures latency from the stamps that
//! `roo send --stamp` puts in front of payloads.

use crate::{giles, stamp};
use clap::Args;
use hdrhistogram::Histogram;
use protocol::{FrameDecoder, Framing, LengthWidth, DEFAULT_MAX_FRAME_SIZE};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes read from a socket at a time.
const READ_SIZE: usize = 64 * 1024;
/// A connection publishes its counts (and output) at least this often.
const COMMIT_EVERY: u64 = 4096;
/// Output bytes a connection collects before handing them to the writer.
const OUT_CHUNK: usize = 64 * 1024;
/// How often the main thread checks --expect, --timeout and --idle-exit.
const TICK: Duration = Duration::from_millis(5);
/// Largest latency the histogram holds (one hour, in ns); more is clamped.
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

#[derive(Args, Debug)]
#[command(
    after_help = "Stops when --expect N messages have arrived (exit 0), when --timeout \
    S seconds have passed since start (exit 1 if --expect was not reached, else 0), or after \
    --idle-exit S seconds without data once something has arrived (exit 1 if --expect was not \
    reached, else 0). With none of these it runs until killed; the --out file is flushed \
    whenever input pauses, and the per-second reports show progress.\n\n\
    The final report (stderr) always ends with the line `received N messages`.\n\n\
    Flags of Wallaroo's receivers work too: -l (--listen), -e (--expect), -f (--framed), \
    -w/--no-write and data_receiver's -n (roo receive writes nothing without --out), giles \
    receiver's -n/--name and -p/--phone-home (Dagon's, ignored), and the Pony runtime's \
    --ponythreads, \
    --ponynoblock and the like (ignored). Wallaroo's data_receiver printed what it \
    received: here that is --out -."
)]
pub struct ReceiveArgs {
    /// Address to listen on, HOST:PORT.
    #[arg(long, short = 'l', value_name = "HOST:PORT")]
    listen: String,

    /// Messages are frames behind a 4-byte big-endian length header (default:
    /// newline-delimited lines, without the '\n').
    #[arg(long, short = 'f')]
    framed: bool,

    /// Largest message accepted; a connection sending a larger one is closed.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_SIZE, value_name = "BYTES")]
    max_frame: usize,

    /// Exit 0 as soon as N messages have arrived in total.
    #[arg(long, short = 'e', value_name = "N", value_parser = giles::count)]
    expect: Option<u64>,

    /// Stop after S seconds; with --expect, exit 1 if fewer arrived.
    #[arg(long, value_name = "S")]
    timeout: Option<f64>,

    /// Stop after S seconds without data, once some data has arrived.
    #[arg(long, value_name = "S")]
    idle_exit: Option<f64>,

    /// Write every message to FILE ('-': standard output), each followed by '\n'
    /// (order across connections is arrival order, per connection it is kept).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Sleep N microseconds after each message (a slow receiver, to make
    /// senders feel backpressure).
    #[arg(long, value_name = "N")]
    delay_us: Option<u64>,

    /// Busy-poll the connections instead of sleeping in read: a message is seen
    /// without a thread wake-up (lower latency), at the cost of a CPU kept busy.
    #[arg(long)]
    poll: bool,

    /// Measure latency from `roo send --stamp` stamps (now - stamp, so sender
    /// and receiver clocks must agree) and report percentiles in microseconds.
    #[arg(long)]
    latency: bool,

    /// No per-second reports (the final report is always printed).
    #[arg(long)]
    quiet: bool,

    /// Wallaroo's giles receiver: do not write what arrives to a file (nor does roo
    /// receive, unless --out).
    #[arg(long, short = 'w', hide = true)]
    no_write: bool,

    #[command(flatten)]
    pony: giles::PonyRuntimeFlags,

    #[command(flatten)]
    dagon: giles::DagonFlags,
}

/// To the output writer thread.
enum OutMsg {
    /// Whole messages, each followed by '\n'.
    Data(Vec<u8>),
    /// Flush the file and answer.
    Flush(mpsc::Sender<io::Result<()>>),
}

/// Shared by every connection thread and the main thread.
struct Shared {
    start: Instant,
    messages: AtomicU64,
    bytes: AtomicU64,
    /// Nanoseconds since `start` of the first and latest data (`u64::MAX`:
    /// none yet).
    first_data: AtomicU64,
    last_data: AtomicU64,
    open: AtomicU64,
    accepted: AtomicU64,
    partial: AtomicU64,
    errors: AtomicU64,
    unstamped: AtomicU64,
    histogram: Option<Mutex<Histogram<u64>>>,
    out: Option<SyncSender<OutMsg>>,
    framing: Framing,
    max_frame: usize,
    delay: Option<Duration>,
    poll: bool,
}

impl Shared {
    fn since_start(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// What a connection has seen since it last published.
struct Local {
    messages: u64,
    bytes: u64,
    unstamped: u64,
    latencies: Vec<u64>,
    out: Vec<u8>,
}

impl Local {
    /// Publishes: output first, then the counts, so a count the main thread
    /// sees is always already queued for the file.
    fn commit(&mut self, shared: &Shared) {
        if self.bytes == 0 && self.messages == 0 {
            return;
        }
        if let Some(out) = &shared.out {
            if !self.out.is_empty() {
                let chunk = std::mem::replace(&mut self.out, Vec::with_capacity(OUT_CHUNK));
                let _ = out.send(OutMsg::Data(chunk));
            }
        }
        if let Some(h) = &shared.histogram {
            if !self.latencies.is_empty() {
                let mut h = h.lock().unwrap_or_else(|p| p.into_inner());
                for &l in &self.latencies {
                    h.saturating_record(l);
                }
                self.latencies.clear();
            }
        }
        if self.unstamped > 0 {
            shared.unstamped.fetch_add(self.unstamped, Relaxed);
        }
        shared.bytes.fetch_add(self.bytes, Relaxed);
        shared.messages.fetch_add(self.messages, Relaxed);
        let now = shared.since_start();
        shared.first_data.fetch_min(now, Relaxed);
        shared.last_data.fetch_max(now, Relaxed);
        self.messages = 0;
        self.bytes = 0;
        self.unstamped = 0;
    }
}

fn serve(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let mut decoder = FrameDecoder::new(shared.framing, shared.max_frame);
    let mut buf = vec![0u8; READ_SIZE];
    let mut local = Local {
        messages: 0,
        bytes: 0,
        unstamped: 0,
        latencies: Vec::new(),
        out: Vec::with_capacity(if shared.out.is_some() { OUT_CHUNK } else { 0 }),
    };
    let want_out = shared.out.is_some();
    let want_latency = shared.histogram.is_some();
    if shared.poll {
        if let Err(e) = stream.set_nonblocking(true) {
            eprintln!(
                "roo receive: connection from {peer}: cannot poll it ({e}); reading it blocking"
            );
        }
    }
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::yield_now();
                continue;
            }
            Err(e) => {
                local.commit(shared);
                shared.errors.fetch_add(1, Relaxed);
                eprintln!("roo receive: connection from {peer}: read failed: {e}");
                break;
            }
        };
        decoder.read_buf().extend_from_slice(&buf[..n]);
        local.bytes += n as u64;
        loop {
            let frame = match decoder.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    local.commit(shared);
                    shared.errors.fetch_add(1, Relaxed);
                    eprintln!("roo receive: connection from {peer}: {e}; closing it");
                    return;
                }
            };
            if want_latency {
                match stamp::parse_stamp(&frame) {
                    Some(t) => local.latencies.push(stamp::now_nanos().saturating_sub(t)),
                    None => local.unstamped += 1,
                }
            }
            if want_out {
                local.out.extend_from_slice(&frame);
                local.out.push(b'\n');
            }
            local.messages += 1;
            if let Some(d) = shared.delay {
                local.commit(shared);
                thread::sleep(d);
            } else if local.messages >= COMMIT_EVERY || local.out.len() >= OUT_CHUNK {
                local.commit(shared);
            }
        }
        local.commit(shared);
    }
    local.commit(shared);
    let pending = decoder.pending_bytes();
    if pending > 0 {
        shared.partial.fetch_add(1, Relaxed);
        eprintln!(
            "roo receive: connection from {peer} closed with a partial frame of {pending} bytes"
        );
    }
}

fn writer(out: Box<dyn Write + Send>, rx: Receiver<OutMsg>) {
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let fail = |e: io::Error| -> ! {
        eprintln!("roo receive: cannot write the --out file: {e}");
        std::process::exit(1)
    };
    loop {
        let msg = match rx.try_recv() {
            Ok(m) => m,
            Err(TryRecvError::Empty) => {
                // Input paused: keep the file current for whoever kills us.
                if let Err(e) = w.flush() {
                    fail(e);
                }
                match rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        match msg {
            OutMsg::Data(d) => {
                if let Err(e) = w.write_all(&d) {
                    fail(e);
                }
            }
            OutMsg::Flush(ack) => {
                let _ = ack.send(w.flush());
            }
        }
    }
    let _ = w.flush();
}

fn seconds(name: &str, v: Option<f64>) -> Result<Option<Duration>, String> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(format!("{name} must be a number of seconds, not {s}")),
    }
}

/// Why the receiver stops.
enum Stop {
    Expected,
    Timeout,
    Idle,
    /// SIGINT (Ctrl-C) or SIGTERM: the final report still comes.
    Signal,
}

fn final_report(shared: &Shared, expect: Option<u64>, stop: &Stop) -> ExitCode {
    let messages = shared.messages.load(Relaxed);
    let bytes = shared.bytes.load(Relaxed);
    let first = shared.first_data.load(Relaxed);
    let last = shared.last_data.load(Relaxed);
    let secs = if first == u64::MAX {
        0.0
    } else {
        last.saturating_sub(first) as f64 / 1e9
    };
    let rate = if secs > 0.0 {
        messages as f64 / secs
    } else {
        0.0
    };
    let mut code = ExitCode::SUCCESS;
    if let Some(n) = expect {
        if messages < n {
            let why = match stop {
                Stop::Timeout => "timed out",
                Stop::Idle => "input went idle",
                Stop::Expected => "stopped",
                Stop::Signal => "interrupted",
            };
            eprintln!("roo receive: {why}: {messages} of {n} expected messages arrived");
            code = ExitCode::from(1);
        }
    }
    eprintln!(
        "roo receive: {messages} messages ({bytes} bytes) in {secs:.3} s: {rate:.0} msg/s; \
         {} connections, {} closed with a partial frame, {} errors",
        shared.accepted.load(Relaxed),
        shared.partial.load(Relaxed),
        shared.errors.load(Relaxed)
    );
    if let Some(h) = &shared.histogram {
        let h = h.lock().unwrap_or_else(|p| p.into_inner());
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        eprintln!(
            "latency_us p50={:.1} p90={:.1} p99={:.1} p99.9={:.1} p99.99={:.1} max={:.1} \
             ({} stamped, {} unstamped)",
            us(0.5),
            us(0.9),
            us(0.99),
            us(0.999),
            us(0.9999),
            h.max() as f64 / 1000.0,
            h.len(),
            shared.unstamped.load(Relaxed)
        );
    }
    eprintln!("received {messages} messages");
    code
}

pub fn main(args: ReceiveArgs) -> ExitCode {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("roo receive: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: ReceiveArgs) -> Result<ExitCode, String> {
    let timeout = seconds("--timeout", args.timeout)?;
    let idle = seconds("--idle-exit", args.idle_exit)?;
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let (out, writer_thread) = match &args.out {
        None => (None, None),
        Some(path) => {
            let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
                Box::new(io::stdout())
            } else {
                Box::new(
                    File::create(path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
                )
            };
            let (tx, rx) = mpsc::sync_channel(256);
            let t = thread::Builder::new()
                .name("receive-out".into())
                .spawn(move || writer(out, rx))
                .map_err(|e| e.to_string())?;
            (Some(tx), Some(t))
        }
    };
    let histogram = if args.latency {
        let h = Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).map_err(|e| e.to_string())?;
        Some(Mutex::new(h))
    } else {
        None
    };
    let shared = Arc::new(Shared {
        start: Instant::now(),
        messages: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        first_data: AtomicU64::new(u64::MAX),
        last_data: AtomicU64::new(0),
        open: AtomicU64::new(0),
        accepted: AtomicU64::new(0),
        partial: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        unstamped: AtomicU64::new(0),
        histogram,
        out,
        framing: if args.framed {
            Framing::LengthPrefixed(LengthWidth::U32)
        } else {
            Framing::Newline
        },
        max_frame: args.max_frame,
        delay: args.delay_us.filter(|&d| d > 0).map(Duration::from_micros),
        poll: args.poll,
    });

    {
        let shared = shared.clone();
        thread::Builder::new()
            .name("receive-accept".into())
            .spawn(move || accept_loop(listener, shared))
            .map_err(|e| e.to_string())?;
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, interrupted.clone())
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    let mut next_report = shared.start + Duration::from_secs(1);
    let mut last_count = 0;
    let stop = loop {
        thread::sleep(TICK);
        if interrupted.load(Relaxed) {
            break Stop::Signal;
        }
        let count = shared.messages.load(Relaxed);
        if args.expect.is_some_and(|n| count >= n) {
            break Stop::Expected;
        }
        let now = Instant::now();
        if timeout.is_some_and(|t| now.duration_since(shared.start) >= t) {
            break Stop::Timeout;
        }
        if let Some(idle) = idle {
            let last = shared.last_data.load(Relaxed);
            if shared.first_data.load(Relaxed) != u64::MAX
                && shared.since_start().saturating_sub(last) >= idle.as_nanos() as u64
            {
                break Stop::Idle;
            }
        }
        if now >= next_report {
            if !args.quiet {
                eprintln!(
                    "roo receive: {count} messages, {} msg/s, {} bytes, {} connections open",
                    count - last_count,
                    shared.bytes.load(Relaxed),
                    shared.open.load(Relaxed)
                );
            }
            last_count = count;
            next_report += Duration::from_secs(1);
        }
    };

    if let Some(out) = &shared.out {
        let (ack_tx, ack_rx) = mpsc::channel();
        if out.send(OutMsg::Flush(ack_tx)).is_ok() {
            if let Ok(Err(e)) = ack_rx.recv() {
                return Err(format!("cannot write the --out file: {e}"));
            }
        }
    }
    drop(writer_thread);
    Ok(final_report(&shared, args.expect, &stop))
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("roo receive: accept failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        shared.accepted.fetch_add(1, Relaxed);
        shared.open.fetch_add(1, Relaxed);
        let s = shared.clone();
        let spawned = thread::Builder::new()
            .name(format!("receive-{peer}"))
            .spawn(move || {
                serve(stream, peer, &s);
                s.open.fetch_sub(1, Relaxed);
            });
        if let Err(e) = spawned {
            shared.open.fetch_sub(1, Relaxed);
            eprintln!("roo receive: cannot start a thread for {peer}: {e}");
        }
    }
}
