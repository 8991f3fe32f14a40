//! A TCP sink connection of one core: connects (with retry and backoff, so the receiver
//! may start later), then writes the encoder output queued by the core, in order.
//!
//! If the connection breaks, the chunk being written is written again whole on a new
//! connection: bytes the kernel had already accepted on the old connection may be lost
//! or, for the chunk in flight, arrive twice. Nothing queued after the reconnect is lost.

use crate::shard::Core;
use bytes::Bytes;
use futures_lite::future::or;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::channels::local_channel::LocalReceiver;
use glommio::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

const FIRST_RETRY: Duration = Duration::from_millis(20);
const LONGEST_RETRY: Duration = Duration::from_secs(1);
/// How often a sink that stays unreachable is reported.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Writes queued chunks to `address` until the queue closes.
pub async fn write_sink(
    core: Rc<Core>,
    sink: usize,
    address: String,
    chunks: LocalReceiver<Bytes>,
) {
    let mut stream = connect(&core, &address).await;
    loop {
        let chunk = match next_chunk(&chunks, stream.as_mut()).await {
            Next::Chunk(Some(chunk)) => chunk,
            Next::Chunk(None) => break,
            Next::PeerClosed => {
                lost(&core, &address, "closed by the receiver");
                stream = None;
                continue;
            }
        };
        loop {
            if stream.is_none() {
                stream = connect(&core, &address).await;
            }
            let Some(connected) = stream.as_mut() else {
                return; // shutting down
            };
            match connected.write_all(&chunk).await {
                Ok(()) => break,
                Err(error) => {
                    lost(&core, &address, &error.to_string());
                    stream = None;
                }
            }
        }
        core.sink_written(sink, chunk.len());
    }
    if let Some(mut stream) = stream {
        let _ = stream.flush().await;
        let _ = stream.close().await;
    }
}

enum Next {
    Chunk(Option<Bytes>),
    PeerClosed,
}

/// The next chunk to write; while waiting for it, watches the connection, so that a
/// receiver that went away is noticed before more output is written into a dead socket.
async fn next_chunk(chunks: &LocalReceiver<Bytes>, stream: Option<&mut TcpStream>) -> Next {
    let Some(stream) = stream else {
        return Next::Chunk(chunks.recv().await);
    };
    or(async { Next::Chunk(chunks.recv().await) }, async {
        let mut ignored = [0u8; 512];
        // A receiver sends nothing; a read ends only when the peer closes or fails.
        while let Ok(1..) = stream.read(&mut ignored).await {}
        Next::PeerClosed
    })
    .await
}

fn lost(core: &Core, address: &str, why: &str) {
    eprintln!(
        "roo: core {}: sink {address} lost ({why}); reconnecting",
        core.id
    );
    core.count_sink_reconnect();
}

/// Connects with exponential backoff; None only when the core is shutting down.
async fn connect(core: &Core, address: &str) -> Option<TcpStream> {
    let mut wait = FIRST_RETRY;
    let mut last_report: Option<Instant> = None;
    while !core.lifecycle.done() {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                if last_report.is_some() {
                    eprintln!("roo: core {}: sink {address} connected", core.id);
                }
                return Some(stream);
            }
            Err(error) => {
                if last_report.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                    eprintln!(
                        "roo: core {}: sink {address} not reachable ({error}); retrying",
                        core.id
                    );
                    last_report = Some(Instant::now());
                }
                glommio::timer::sleep(wait).await;
                wait = (wait * 2).min(LONGEST_RETRY);
            }
        }
    }
    None
}
