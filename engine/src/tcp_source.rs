//! TCP sources: core 0 accepts on every source address and deals the connections to the
//! cores round-robin; the owning core reads, frames, decodes and runs each connection's
//! messages in order.

use crate::flow::{
    self, BUSY_READ, COALESCE_READS, DRAIN_QUIET, DRAIN_READ_LIMIT, FIRST_READ, MESSAGES_PER_BATCH,
};
use crate::input_budget::ConnectionBudget;
use crate::intake::SourceHandle;
use bytes::Bytes;
use futures_lite::future::or;
use futures_lite::AsyncReadExt;
use glommio::channels::local_channel::LocalReceiver;
use glommio::channels::shared_channel::ConnectedSender;
use glommio::net::{AcceptedTcpStream, TcpListener, TcpStream};
use model::{clock, HeaderDecoding, Meta};
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use protocol::{FrameDecoder, FrameError, Framing};
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
    handle: Rc<SourceHandle>,
    source: usize,
    listener: TcpListener,
    cores: Rc<Vec<Option<ConnectedSender<Handoff>>>>,
) {
    let mut next = source; // different sources start on different cores
    loop {
        let stop = handle.stopping();
        let accepted = or(async { Some(listener.shared_accept().await) }, async {
            stop.recv().await;
            None
        })
        .await;
        let stream = match accepted {
            None => break,
            Some(Ok(stream)) => stream,
            Some(Err(error)) => {
                eprintln!("roo: accept on {} failed: {error}", handle.address(source));
                glommio::timer::sleep(flow::ACCEPT_RETRY).await;
                continue;
            }
        };
        handle.lifecycle.connection_opened();
        let owner = next % cores.len();
        next += 1;
        match &cores[owner] {
            None => {
                glommio::spawn_local(read_connection(
                    handle.clone(),
                    source,
                    stream.bind_to_executor(),
                ))
                .detach();
            }
            Some(peer) => {
                if peer.send(Handoff { source, stream }).await.is_err() {
                    // The owner has stopped (shutting down): the connection closes unread.
                    handle.lifecycle.connection_closed();
                }
            }
        }
    }
}

/// glommio listens with SO_REUSEPORT, which would let a second roo share the port and
/// silently take part of the connections: a port something already accepts connections on
/// is a start-up error. (A bind without SO_REUSEPORT would tell too, but it collides with
/// the closed connections, in TIME-WAIT, of a roo that has just stopped.)
pub fn listen(address: &str) -> Result<TcpListener, String> {
    if let Some(listening) = already_listening(address) {
        return Err(format!(
            "another program already accepts connections on {listening}"
        ));
    }
    TcpListener::bind(address).map_err(|e| e.to_string())
}

/// The address, if a connection to `address` (to the loopback address for an unspecified
/// one) is accepted. A connection to itself (the kernel may pick the port it dials as its
/// own, when nothing listens there) is not a listener.
fn already_listening(address: &str) -> Option<std::net::SocketAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
    let mut addr = address.to_socket_addrs().ok()?.next()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let stream = std::net::TcpStream::connect_timeout(&addr, LISTEN_PROBE_TIMEOUT).ok()?;
    let to_itself = stream.local_addr().ok() == stream.peer_addr().ok();
    (!to_itself).then_some(addr)
}

/// How long the start-up check waits for a connection to a source's own address.
const LISTEN_PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// Serves the connections core 0 hands to this core.
pub async fn adopt(
    handle: Rc<SourceHandle>,
    handoffs: glommio::channels::shared_channel::ConnectedReceiver<Handoff>,
) {
    while let Some(Handoff { source, stream }) = handoffs.recv().await {
        glommio::spawn_local(read_connection(
            handle.clone(),
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
pub async fn read_connection(handle: Rc<SourceHandle>, source: usize, mut stream: TcpStream) {
    let mut connection = Connection::new(&handle, source, &stream);
    let stop = handle.stopping();
    let mut last_read = Instant::now();
    loop {
        handle.wait_for_room().await;
        connection.wait_for_budget().await;
        // Draining: read only what is already there. The stop-aware read below only ends
        // an idle read; while input keeps coming its read is always ready first and would
        // never yield to it.
        if !handle.lifecycle.running() {
            connection.read_rest(&stream).await;
            break;
        }
        // With --poll-us, the core reads the socket directly and keeps trying (a message
        // is seen as soon as the kernel has it), but not more often than every
        // COALESCE_READS while input flows, so dense input still arrives several
        // messages to a read. Without it, glommio's read waits for an io_uring poll
        // (see `read_now`).
        let direct = match handle.idle_poll.is_zero() {
            false => {
                spin_until(last_read + COALESCE_READS).await;
                read_now(&stream, &mut connection.scratch, handle.idle_poll).await
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
    handle.lifecycle.connection_closed();
}

/// One source connection's read side: its frame buffer, read buffer and share of the
/// core's input budget.
struct Connection<'a> {
    handle: &'a SourceHandle,
    source: usize,
    peer: String,
    place: String,
    decoder: FrameDecoder,
    scratch: Vec<u8>,
    frames: Vec<Bytes>,
    budget: ConnectionBudget<'a>,
}

impl<'a> Connection<'a> {
    fn new(handle: &'a SourceHandle, source: usize, stream: &TcpStream) -> Connection<'a> {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "unknown peer".into());
        let place = format!(
            "source '{}' ({})",
            handle.name(source),
            handle.address(source)
        );
        let framing = match handle.header(source) {
            HeaderDecoding::BigEndian(width) => Framing::LengthPrefixed(width),
            HeaderDecoding::Python { .. } => Framing::Raw, // framed by next_frame_with
        };
        Connection {
            handle,
            source,
            peer,
            place,
            decoder: FrameDecoder::new(framing, handle.max_frame_size),
            scratch: vec![0u8; FIRST_READ],
            frames: Vec::new(),
            budget: handle.input_budget.open(),
        }
    }

    /// Waits while this core's connections hold more partial frames than its budget allows
    /// (see `InputBudget`).
    async fn wait_for_budget(&self) {
        while !self.budget.may_read() && !self.handle.lifecycle.done() {
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
                self.handle.intake.record_error(&self.place, &detail);
                false
            }
        }
    }

    /// Frames and runs the `n` bytes just read into `scratch`; false if they end the
    /// connection (a bad frame).
    async fn run(&mut self, n: usize) -> bool {
        self.handle.counters.bytes_in(self.source).add(n as u64);
        self.decoder
            .read_buf()
            .extend_from_slice(&self.scratch[..n]);
        if n == self.scratch.len() && n < BUSY_READ {
            self.scratch.resize(BUSY_READ, 0);
        }
        let meta = Meta {
            source: self.source as u32,
            ingest_ns: clock::now_ns(),
            event_ns: None,
        };
        let framed =
            self.handle
                .intake
                .take_frames(self.source, &mut self.decoder, &mut self.frames);
        self.budget.hold(self.decoder.pending_bytes());
        // A big read runs in slices, each handed to the sinks before the next starts, so the
        // first message of a read does not wait for the last one.
        for slice in self.frames.chunks(MESSAGES_PER_BATCH) {
            self.handle.intake.run_frames(self.source, slice, meta);
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
                self.handle.intake.record_error(&self.place, &detail);
                false
            }
        }
    }

    /// Reads and runs what the peer has already sent, up to `DRAIN_READ_LIMIT` bytes,
    /// with direct reads (`read_now`) until none brings anything for `DRAIN_QUIET`.
    async fn read_rest(&mut self, stream: &TcpStream) {
        let mut taken = 0;
        while taken < DRAIN_READ_LIMIT {
            self.handle.wait_for_room().await;
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
        self.handle.intake.record_error(&self.place, &detail);
    }

    /// Counts a partial frame left when the connection ends `how` (nothing if none is).
    fn lose_partial_frame(&self, how: &str) {
        if self.decoder.pending_bytes() > 0 {
            let detail = format!(
                "connection from {} {how} with a partial frame of {} bytes",
                self.peer,
                self.decoder.pending_bytes()
            );
            self.handle.intake.record_error(&self.place, &detail);
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
/// seen tens of µs later (benches/RESULTS.md, the `--poll-us` row). A direct recv sees
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::Intake;
    use crate::lifecycle::Lifecycle;
    use model::topology::{SourceInput, SourceSpec};
    use protocol::LengthWidth;
    use std::cell::{Cell, RefCell};
    use std::io::Write;
    use std::sync::Arc;

    /// Frames with 4-byte big-endian headers, read natively; records what it is given.
    #[derive(Default)]
    struct RecordingIntake {
        frames: RefCell<Vec<Bytes>>,
        errors: RefCell<Vec<String>>,
        congested: Cell<bool>,
    }

    impl Intake for RecordingIntake {
        fn take_frames(
            &self,
            _source: usize,
            decoder: &mut FrameDecoder,
            frames: &mut Vec<Bytes>,
        ) -> Result<(), FrameError> {
            while let Some(frame) = decoder.next_frame()? {
                frames.push(frame);
            }
            Ok(())
        }
        fn run_frames(&self, _source: usize, frames: &[Bytes], _meta: Meta) {
            self.frames.borrow_mut().extend_from_slice(frames);
        }
        fn run_records(&self, _source: usize, _records: &[model::Record], _meta: Meta) {
            unreachable!("a TCP source has no records")
        }
        fn run_generator(&self, _source: usize, _count: usize) -> bool {
            unreachable!("a TCP source has no generator")
        }
        fn record_error(&self, place: &str, detail: &str) {
            self.errors.borrow_mut().push(format!("{place}: {detail}"));
        }
        fn congested(&self) -> bool {
            self.congested.get()
        }
    }

    fn framed(payloads: &[&str]) -> Vec<u8> {
        let mut bytes = vec![];
        for payload in payloads {
            bytes.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            bytes.extend_from_slice(payload.as_bytes());
        }
        bytes
    }

    /// Runs `test` on a glommio executor with a TCP source listening on a free loopback
    /// port (frames up to 1024 bytes), read into a `RecordingIntake`; `test` gets the
    /// source's handle, the intake and the address.
    fn with_source<F, Fut>(test: F)
    where
        F: FnOnce(Rc<SourceHandle>, Rc<RecordingIntake>, String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .make()
            .expect("executor")
            .run(async move {
                let intake = Rc::new(RecordingIntake::default());
                let listener = listen("127.0.0.1:0").expect("listens");
                let address = listener.local_addr().expect("bound").to_string();
                let port = address.rsplit(':').next().unwrap().to_string();
                let spec = SourceSpec {
                    name: "words".into(),
                    chain: 0,
                    input: SourceInput::Tcp {
                        host: "127.0.0.1".into(),
                        port,
                        header: HeaderDecoding::BigEndian(LengthWidth::U32),
                    },
                };
                let handle = Rc::new(SourceHandle::new(
                    intake.clone(),
                    crate::metrics::test_counters(vec![spec.clone()], 0),
                    Arc::new(Lifecycle::default()),
                    vec![spec],
                    1024,
                    Duration::ZERO,
                ));
                let acceptor =
                    glommio::spawn_local(accept(handle.clone(), 0, listener, Rc::new(vec![None])));
                test(handle.clone(), intake, address).await;
                handle.stop();
                acceptor.await;
            });
    }

    /// Waits (bounded) until `done` holds.
    async fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            glommio::timer::sleep(Duration::from_millis(5)).await;
        }
    }

    #[test]
    fn frames_reach_the_intake_in_order_and_the_connection_is_counted() {
        with_source(|handle, seen, address| async move {
            let sender = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(address).unwrap();
                stream.write_all(&framed(&["one", "two"])).unwrap();
                stream.write_all(&framed(&["three"])).unwrap();
            });
            until("three frames", || seen.frames.borrow().len() == 3).await;
            sender.join().unwrap();
            until("the connection to close", || {
                handle.lifecycle.connections_open() == 0
            })
            .await;
            let frames: Vec<_> = seen.frames.borrow().iter().map(|f| f.to_vec()).collect();
            assert_eq!(
                frames,
                [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
            );
            assert!(
                seen.errors.borrow().is_empty(),
                "{:?}",
                seen.errors.borrow()
            );
        });
    }

    #[test]
    fn an_oversized_frame_is_an_error_naming_the_source_and_earlier_frames_still_run() {
        with_source(|handle, seen, address| async move {
            let sender = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(address).unwrap();
                let mut bytes = framed(&["fine"]);
                bytes.extend_from_slice(&5000u32.to_be_bytes()); // over the 1024 limit
                bytes.extend_from_slice(&[b'x'; 64]);
                stream.write_all(&bytes).unwrap();
            });
            until("the error", || !seen.errors.borrow().is_empty()).await;
            sender.join().unwrap();
            until("the connection to close", || {
                handle.lifecycle.connections_open() == 0
            })
            .await;
            assert_eq!(seen.frames.borrow().len(), 1);
            let error = &seen.errors.borrow()[0];
            assert!(error.starts_with("source 'words' (127.0.0.1:"), "{error}");
            assert!(
                error.contains("closed") && error.contains("5000"),
                "{error}"
            );
        });
    }

    #[test]
    fn a_congested_core_pauses_reading_until_it_has_room() {
        with_source(|handle, seen, address| async move {
            seen.congested.set(true);
            let sender = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(address).unwrap();
                stream.write_all(&framed(&["held"])).unwrap();
            });
            until("the connection", || {
                handle.lifecycle.connections_open() == 1
            })
            .await;
            glommio::timer::sleep(Duration::from_millis(100)).await;
            assert!(seen.frames.borrow().is_empty(), "read while congested");
            seen.congested.set(false);
            until("the frame", || seen.frames.borrow().len() == 1).await;
            sender.join().unwrap();
        });
    }
}
