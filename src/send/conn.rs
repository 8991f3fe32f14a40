//! The TCP connections of `roo send`: connecting, buffering and writing messages, and the
//! unpaced send loop each connection runs on its own thread.

use super::{OutFraming, Plan};
use crate::stamp;
use bytes::BytesMut;
use protocol::{encode_frame, encode_line};
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes buffered per connection before a write to the socket.
const WRITE_BUFFER: usize = 64 * 1024;
/// Unpaced: messages between checks of the `--duration` deadline.
const UNPACED_BATCH: usize = 1024;
/// Pause between connection attempts.
const CONNECT_RETRY: Duration = Duration::from_millis(100);

/// Counters of one connection, read by the reporter.
#[derive(Default)]
pub(super) struct ConnStats {
    pub(super) messages: AtomicU64,
    pub(super) bytes: AtomicU64,
}

/// One connection's send loop.
pub(super) struct Conn {
    index: u64,
    addr: String,
    stream: TcpStream,
    out: BytesMut,
    /// Messages in `out` not yet written to the socket.
    buffered: u64,
    pub(super) stats: Arc<ConnStats>,
}

impl Conn {
    /// Connection `index` (counting from 0) to `addr`, over `stream`.
    pub(super) fn new(index: u64, addr: String, stream: TcpStream) -> Conn {
        let _ = stream.set_nodelay(true);
        Conn {
            index,
            addr,
            stream,
            out: BytesMut::with_capacity(WRITE_BUFFER * 2),
            buffered: 0,
            stats: Arc::new(ConnStats::default()),
        }
    }

    /// Writes out the buffer, blocking while the peer does not read.
    pub(super) fn flush(&mut self) -> Result<(), String> {
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
    pub(super) fn push(
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
    pub(super) fn finish(mut self) -> Result<(), String> {
        self.flush()?;
        let _ = self.stream.shutdown(Shutdown::Write);
        Ok(())
    }

    /// Unpaced: this connection's share (messages `index`, `index + N`, ...) as fast as
    /// the peer reads.
    pub(super) fn run_unpaced(mut self, plan: &Plan, start: Instant) -> Result<(), String> {
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
pub(super) struct Scratch {
    payload: Vec<u8>,
    stamped: Vec<u8>,
}

pub(super) fn resolve(addr: &str) -> Result<Vec<SocketAddr>, String> {
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

pub(super) fn connect(
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
