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
//!
//! This module builds the plan from the flags, connects, starts the sending threads and
//! reports; `args` holds the flags, `source` and `words` the messages, `conn` the
//! connections and the unpaced loop, `pacing` the paced loop.

mod args;
mod conn;
mod pacing;
mod source;
mod words;

pub use args::SendArgs;

use crate::stamp;
use args::Generator;
use conn::{connect, resolve, Conn, ConnStats};
use protocol::LengthWidth;
use source::{load_framed_records, load_lines, load_records, Source};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};
use words::Words;

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
    let pacing = pacing::pacing(args.rate, args.interval, args.batch, connections)?;
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
            Ok(stream) => conns.push(Conn::new(c, args.to[k].clone(), stream)),
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
                    pacing::run_paced(group, &plan, start, start_nanos)
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
