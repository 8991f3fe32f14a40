//! TCP sources: core 0 accepts on every source address and deals the connections to the
//! cores round-robin; the owning core reads, frames, decodes and runs each connection's
//! messages in order.

use crate::flow::{
    self, BUSY_READ, COALESCE_READS, DRAIN_QUIET, DRAIN_READ_LIMIT, FIRST_READ, MESSAGES_PER_BATCH,
};
use crate::input_budget::ConnectionBudget;
use crate::shard::Core;
use bytes::Bytes;
use futures_lite::future::or;
use futures_lite::AsyncReadExt;
use glommio::channels::local_channel::LocalReceiver;
use glommio::channels::shared_channel::ConnectedSender;
use glommio::net::{AcceptedTcpStream, TcpListener, TcpStream};
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use protocol::{FrameDecoder, FrameError, Framing};
use pybridge::{clock, HeaderDecoding, Meta};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A connection accepted by core 0 for `source`, on its way to the core that will own it.
pub struct Handoff {
    pub source: usize,
    pub stream: AcceptedTcpStream,
}

/// Accepts connections for `source` until the engine drains, dealing them out in turn.
pub async fn accept(
    core: Rc<Core>,
    source: usize,
    listener: TcpListener,
    cores: Rc<Vec<Option<ConnectedSender<Handoff>>>>,
) {
    let mut next = source; // different sources start on different cores
    loop {
        let stop = core.stopping();
        let accepted = or(async { Some(listener.shared_accept().await) }, async {
            stop.recv().await;
            None
        })
        .await;
        let stream = match accepted {
            None => break,
            Some(Ok(stream)) => stream,
            Some(Err(error)) => {
                eprintln!(
                    "roo: accept on {} failed: {error}",
                    core.source_address(source)
                );
                glommio::timer::sleep(flow::ACCEPT_RETRY).await;
                continue;
            }
        };
        core.lifecycle.connection_opened();
        let owner = next % cores.len();
        next += 1;
        match &cores[owner] {
            None => {
                glommio::spawn_local(read_connection(
                    core.clone(),
                    source,
                    stream.bind_to_executor(),
                ))
                .detach();
            }
            Some(peer) => {
                if peer.send(Handoff { source, stream }).await.is_err() {
                    // The owner has stopped (shutting down): the connection closes unread.
                    core.lifecycle.connection_closed();
                }
            }
        }
    }
}

/// Serves the connections core 0 hands to this core.
pub async fn adopt(
    core: Rc<Core>,
    handoffs: glommio::channels::shared_channel::ConnectedReceiver<Handoff>,
) {
    while let Some(Handoff { source, stream }) = handoffs.recv().await {
        glommio::spawn_local(read_connection(
            core.clone(),
            source,
            stream.bind_to_executor(),
        ))
        .detach();
    }
}

/// Reads one connection to its end: socket -> frames -> decode -> steps -> route/sink.
///
/// Once the engine drains, what the peer already sent (in the socket's buffers) is still
/// read and run, up to [`DRAIN_READ_LIMIT`] bytes (`Connection::read_rest`).
pub async fn read_connection(core: Rc<Core>, source: usize, mut stream: TcpStream) {
    let mut connection = Connection::new(&core, source, &stream);
    let stop = core.stopping();
    let mut last_read = Instant::now();
    loop {
        core.wait_for_room().await;
        connection.wait_for_budget().await;
        // Draining: read only what is already there. The stop-aware read below only ends
        // an idle read; while input keeps coming its read is always ready first and would
        // never yield to it.
        if !core.lifecycle.running() {
            connection.read_rest(&stream).await;
            break;
        }
        // With --poll-us, the core reads the socket directly and keeps trying (a message
        // is seen as soon as the kernel has it), but not more often than every
        // COALESCE_READS while input flows, so dense input still arrives several
        // messages to a read. Without it, glommio's read waits for an io_uring poll
        // (see `read_now`).
        let direct = match core.idle_poll.is_zero() {
            false => {
                spin_until(last_read + COALESCE_READS).await;
                read_now(&stream, &mut connection.scratch, core.idle_poll).await
            }
            true => None,
        };
        let read = match direct {
            Some(read) => Some(read),
            None => {
                or(
                    async { Some(stream.read(&mut connection.scratch).await) },
                    wait_stop(&stop),
                )
                .await
            }
        };
        last_read = Instant::now();
        let going = match read {
            None => {
                connection.read_rest(&stream).await;
                false
            }
            Some(read) => connection.take(read).await,
        };
        if !going {
            break;
        }
    }
    drop(connection);
    drop(stream);
    core.lifecycle.connection_closed();
}

/// One source connection's read side: its frame buffer, read buffer and share of the
/// core's input budget.
struct Connection<'a> {
    core: &'a Core,
    source: usize,
    peer: String,
    place: String,
    decoder: FrameDecoder,
    scratch: Vec<u8>,
    frames: Vec<Bytes>,
    budget: ConnectionBudget<'a>,
}

impl<'a> Connection<'a> {
    fn new(core: &'a Core, source: usize, stream: &TcpStream) -> Connection<'a> {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "unknown peer".into());
        let place = format!(
            "source '{}' ({})",
            core.source_name(source),
            core.source_address(source)
        );
        let framing = match core.header(source) {
            HeaderDecoding::BigEndian(width) => Framing::LengthPrefixed(width),
            HeaderDecoding::Python { .. } => Framing::Raw, // framed by next_frame_with
        };
        Connection {
            core,
            source,
            peer,
            place,
            decoder: FrameDecoder::new(framing, core.max_frame_size),
            scratch: vec![0u8; FIRST_READ],
            frames: Vec::new(),
            budget: core.input_budget.open(),
        }
    }

    /// Waits while this core's connections hold more partial frames than its budget allows
    /// (see `InputBudget`).
    async fn wait_for_budget(&self) {
        while !self.budget.may_read() && !self.core.lifecycle.done() {
            glommio::timer::sleep(flow::PAUSED_POLL).await;
        }
    }

    /// Handles the outcome of one read; false once the connection is over.
    async fn take(&mut self, read: std::io::Result<usize>) -> bool {
        match read {
            Ok(0) => {
                self.lose_partial_frame("closed");
                false
            }
            Ok(n) => self.run(n).await,
            Err(error) => {
                let lost = self.partial_frame_note();
                let detail = format!("connection from {} failed: {error}{lost}", self.peer);
                self.core.record_error(&self.place, &detail);
                false
            }
        }
    }

    /// Frames and runs the `n` bytes just read into `scratch`; false if they end the
    /// connection (a bad frame).
    async fn run(&mut self, n: usize) -> bool {
        self.decoder
            .read_buf()
            .extend_from_slice(&self.scratch[..n]);
        if n == self.scratch.len() && n < BUSY_READ {
            self.scratch.resize(BUSY_READ, 0);
        }
        let meta = Meta {
            source: self.source as u32,
            ingest_ns: clock::now_ns(),
        };
        let framed = self
            .core
            .take_frames(self.source, &mut self.decoder, &mut self.frames);
        self.budget.hold(self.decoder.pending_bytes());
        // A big read runs in slices, each handed to the sinks before the next starts, so the
        // first message of a read does not wait for the last one.
        for slice in self.frames.chunks(MESSAGES_PER_BATCH) {
            self.core.run_frames(self.source, slice, meta);
            if self.frames.len() > MESSAGES_PER_BATCH {
                futures_lite::future::yield_now().await;
            }
        }
        self.frames.clear();
        match framed {
            Ok(()) => true,
            Err(error) => {
                let hint = text_without_headers_hint(&error, self.decoder.read_buf());
                let detail = format!("connection from {} closed: {error}{hint}", self.peer);
                self.core.record_error(&self.place, &detail);
                false
            }
        }
    }

    /// Reads and runs what the peer has already sent, up to `DRAIN_READ_LIMIT` bytes,
    /// with direct reads (`read_now`) until none brings anything for `DRAIN_QUIET`.
    async fn read_rest(&mut self, stream: &TcpStream) {
        let mut taken = 0;
        while taken < DRAIN_READ_LIMIT {
            self.core.wait_for_room().await;
            self.wait_for_budget().await;
            let Some(read) = read_now(stream, &mut self.scratch, DRAIN_QUIET).await else {
                self.lose_partial_frame("closed by the drain");
                return;
            };
            if let Ok(n) = read {
                taken += n;
            }
            if !self.take(read).await {
                return;
            }
        }
        let detail = format!(
            "connection from {} still sending after {DRAIN_READ_LIMIT} bytes read in the \
             drain: the rest is not read{}",
            self.peer,
            self.partial_frame_note()
        );
        self.core.record_error(&self.place, &detail);
    }

    /// Counts a partial frame left when the connection ends `how` (nothing if none is).
    fn lose_partial_frame(&self, how: &str) {
        if self.decoder.pending_bytes() > 0 {
            let detail = format!(
                "connection from {} {how} with a partial frame of {} bytes",
                self.peer,
                self.decoder.pending_bytes()
            );
            self.core.record_error(&self.place, &detail);
        }
    }

    /// ", losing a partial frame of N bytes" when one is held.
    fn partial_frame_note(&self) -> String {
        match self.decoder.pending_bytes() {
            0 => String::new(),
            n => format!(", losing a partial frame of {n} bytes"),
        }
    }
}

/// Lines of text sent to a source that expects length headers read as huge frames
/// ("frame of 1383034656 bytes" for "Roo "): when the rejected header is printable text,
/// say so and how to send framed input.
fn text_without_headers_hint(error: &FrameError, unread: &[u8]) -> &'static str {
    let header = &unread[..unread.len().min(4)];
    let printable = |b: &u8| b.is_ascii_graphic() || *b == b' ' || *b == b'\t';
    let text = matches!(error, FrameError::TooLarge { .. })
        && header.len() == 4
        && header.iter().all(printable);
    match text {
        true => {
            "; its first bytes are printable text: the input looks like lines of text without \
             the length headers this source's decoder expects (roo send frames each line: \
             roo send --to ADDRESS --file FILE)"
        }
        false => "",
    }
}

/// Lets other tasks run until `deadline`.
async fn spin_until(deadline: Instant) {
    while Instant::now() < deadline {
        futures_lite::future::yield_now().await;
    }
}

/// Reads what the socket already holds with a non-blocking recv, trying again (between
/// other tasks) for up to `poll`; None if nothing came by then.
///
/// glommio's own read waits for an io_uring poll completion whenever its last read did
/// not fill the buffer, which is every time under paced input: that completion is only
/// seen tens of µs later (measured here: sender schedule to decode p50 42 µs at 10 k
/// msg/s, against 6-9 µs from `roo send` straight to `roo receive`). A direct recv sees
/// the data as soon as the kernel has it.
async fn read_now(
    stream: &TcpStream,
    buf: &mut [u8],
    poll: Duration,
) -> Option<std::io::Result<usize>> {
    let deadline = Instant::now() + poll;
    loop {
        match recv(stream.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
            Ok(n) => return Some(Ok(n)),
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
            Err(errno) => return Some(Err(errno.into())),
        }
        if Instant::now() >= deadline {
            return None;
        }
        futures_lite::future::yield_now().await;
    }
}

async fn wait_stop<T>(stop: &LocalReceiver<()>) -> Option<T> {
    stop.recv().await;
    None
}
