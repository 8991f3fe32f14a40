//! TCP sources: core 0 accepts on every source address and deals the connections to the
//! cores round-robin; the owning core reads, frames, decodes and runs each connection's
//! messages in order.

use crate::shard::Core;
use futures_lite::future::or;
use futures_lite::AsyncReadExt;
use glommio::channels::local_channel::LocalReceiver;
use glommio::channels::shared_channel::ConnectedSender;
use glommio::net::{AcceptedTcpStream, TcpListener, TcpStream};
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use protocol::{FrameDecoder, Framing};
use pybridge::{clock, HeaderDecoding, Meta};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A connection's first read buffer: small, so thousands of idle connections cost little.
const FIRST_READ: usize = 4 * 1024;
/// Frames run as one batch before their output goes to the sink writers.
const FRAMES_PER_SLICE: usize = 128;
/// The read buffer of a busy connection (one that filled its buffer in one read).
const BUSY_READ: usize = 64 * 1024;

/// Shortest time between two reads of a polling source that brought data: a read per
/// message would cost each message a recv, a batch and a sink write of its own (at
/// 150 k msg/s paced that saturated a core); this bounds the wait it adds.
const COALESCE_READS: Duration = Duration::from_micros(20);

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
                glommio::timer::sleep(Duration::from_millis(10)).await;
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
pub async fn read_connection(core: Rc<Core>, source: usize, mut stream: TcpStream) {
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
    let mut decoder = FrameDecoder::new(framing, core.max_frame_size);
    let mut scratch = vec![0u8; FIRST_READ];
    let mut frames = Vec::new();
    let stop = core.stopping();
    let mut last_read = Instant::now();
    loop {
        core.wait_for_room().await;
        // Draining: stop reading. The stop-aware read below only ends an idle read; while
        // input keeps coming its read is always ready first and would never yield to it.
        if !core.lifecycle.running() {
            break;
        }
        // With --poll-us, the core reads the socket directly and keeps trying (a message
        // is seen as soon as the kernel has it), but not more often than every
        // COALESCE_READS while input flows, so dense input still arrives several
        // messages to a read. Without it, glommio's read waits for an io_uring poll
        // (see `read_now`). Once the engine drains, only the stop-aware read runs.
        let direct = match core.lifecycle.running() && !core.idle_poll.is_zero() {
            true => {
                spin_until(last_read + COALESCE_READS).await;
                read_now(&stream, &mut scratch, core.idle_poll).await
            }
            false => None,
        };
        let read = match direct {
            Some(read) => Some(read),
            None => {
                or(
                    async { Some(stream.read(&mut scratch).await) },
                    wait_stop(&stop),
                )
                .await
            }
        };
        let n = match read {
            None => break,
            Some(Ok(n)) => n,
            Some(Err(error)) => {
                core.record_error(&place, &format!("connection from {peer} failed: {error}"));
                break;
            }
        };
        last_read = Instant::now();
        if n == 0 {
            if decoder.pending_bytes() > 0 {
                let detail = format!(
                    "connection from {peer} closed with a partial frame of {} bytes",
                    decoder.pending_bytes()
                );
                core.record_error(&place, &detail);
            }
            break;
        }
        decoder.read_buf().extend_from_slice(&scratch[..n]);
        if n == scratch.len() && n < BUSY_READ {
            scratch.resize(BUSY_READ, 0);
        }
        let meta = Meta {
            source: source as u32,
            ingest_ns: clock::now_ns(),
        };
        let framed = core.take_frames(source, &mut decoder, &mut frames);
        // A big read runs in slices, each handed to the sinks before the next starts, so the
        // first message of a read does not wait for the last one.
        for slice in frames.chunks(FRAMES_PER_SLICE) {
            core.run_frames(source, slice, meta);
            if frames.len() > FRAMES_PER_SLICE {
                futures_lite::future::yield_now().await;
            }
        }
        frames.clear();
        if let Err(error) = framed {
            core.record_error(&place, &format!("connection from {peer} closed: {error}"));
            break;
        }
    }
    drop(stream);
    core.lifecycle.connection_closed();
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
