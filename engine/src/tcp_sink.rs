//! A TCP sink connection of one core: connects (with retry and backoff, so the receiver
//! may start later), then writes the encoder output queued by the core, in order, all
//! that has accumulated in one write.
//!
//! If the connection breaks, the write in flight (all output pending when it began, up to
//! about the 1 MiB high-water mark plus a batch) is written again whole on a new
//! connection: bytes the kernel had already accepted on the old connection may be lost
//! or, for the write in flight, arrive twice. Nothing queued after the reconnect is lost.

use crate::shard::Core;
use futures_lite::AsyncWriteExt;
use glommio::channels::local_channel::LocalReceiver;
use glommio::net::TcpStream;
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

const FIRST_RETRY: Duration = Duration::from_millis(20);
const LONGEST_RETRY: Duration = Duration::from_secs(1);
/// How often a sink that stays unreachable is reported.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Writes the output queued for sink connection `sink` to `address`; `doorbell` rings
/// when output arrives after the writer found none, and closes when the core has
/// stopped (`Core::close_sinks`): the writer then writes what is left and closes.
pub async fn write_sink(core: Rc<Core>, sink: usize, address: String, doorbell: LocalReceiver<()>) {
    let mut stream = connect(&core, &address).await;
    let mut waited = false;
    loop {
        let chunk = core.take_sink_output(sink);
        if chunk.is_empty() {
            if doorbell.recv().await.is_none() {
                break;
            }
            waited = true;
            continue;
        }
        // Output that had to be waited for finds the sink idle, and a receiver may have
        // gone away in the meantime.
        if std::mem::take(&mut waited) && stream.as_ref().is_some_and(peer_closed) {
            lost(&core, &address, "closed by the receiver");
            stream = None;
        }
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

/// Whether the receiver has closed its end (or the connection failed): a non-blocking
/// peek, one cheap syscall, so that output is not written into a socket whose peer is
/// gone (the kernel would accept it and the data would be lost). A receiver sends
/// nothing, so any data peeked is ignored.
fn peer_closed(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match recv(
        stream.as_raw_fd(),
        &mut byte,
        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
    ) {
        Ok(0) => true,
        Ok(_) => false,
        Err(Errno::EAGAIN) | Err(Errno::EINTR) => false,
        Err(_) => true,
    }
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
