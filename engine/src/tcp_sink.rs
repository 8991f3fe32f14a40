//! A TCP sink connection of one core: connects (with retry and backoff, so the receiver
//! may start later), then writes the encoder output queued by the core, in order, all
//! that has accumulated in one write.
//!
//! If the connection breaks, the write in flight (all output pending when it began, up to
//! about the 1 MiB high-water mark plus a batch) is written again whole on a new
//! connection: bytes the kernel had already accepted on the old connection may be lost
//! or, for the write in flight, arrive twice. Nothing queued after the reconnect is lost.

use crate::flow;
use crate::lifecycle::Lifecycle;
use crate::sink_queue::{SinkHandle, SinkQueue};
use futures_lite::AsyncWriteExt;
use glommio::net::TcpStream;
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How often a sink that stays unreachable is reported.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Writes the output queued in `sink.queue` to `address`; the doorbell rings when output
/// arrives after the writer found none, and closes when the core has stopped
/// (`SinkQueue::close`): the writer then writes what is left and closes.
pub async fn write_sink(sink: SinkHandle, address: String) {
    let SinkHandle {
        core,
        queue,
        doorbell,
        lifecycle,
    } = sink;
    let lost = |why: &str| lost(core, &queue, &address, why);
    let mut stream = connect(core, &lifecycle, &address).await;
    let mut waited = false;
    loop {
        let chunk = queue.take().bytes.freeze();
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
            lost("closed by the receiver");
            stream = None;
        }
        loop {
            if stream.is_none() {
                stream = connect(core, &lifecycle, &address).await;
            }
            let Some(connected) = stream.as_mut() else {
                return; // shutting down
            };
            match connected.write_all(&chunk).await {
                Ok(()) => break,
                Err(error) => {
                    lost(&error.to_string());
                    stream = None;
                }
            }
        }
        queue.written(chunk.len());
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

fn lost(core: usize, queue: &SinkQueue, address: &str, why: &str) {
    eprintln!("roo: core {core}: sink {address} lost ({why}); reconnecting");
    queue.count_reconnect();
}

/// Connects with exponential backoff; None only when the core is shutting down.
async fn connect(core: usize, lifecycle: &Lifecycle, address: &str) -> Option<TcpStream> {
    let mut wait = flow::SINK_FIRST_RETRY;
    let mut last_report: Option<Instant> = None;
    while !lifecycle.done() {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                if last_report.is_some() {
                    eprintln!("roo: core {core}: sink {address} connected");
                }
                return Some(stream);
            }
            Err(error) => {
                if last_report.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                    eprintln!("roo: core {core}: sink {address} not reachable ({error}); retrying");
                    last_report = Some(Instant::now());
                }
                glommio::timer::sleep(wait).await;
                wait = (wait * 2).min(flow::SINK_LONGEST_RETRY);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use model::SinkBuffer;
    use std::io::Read;
    use std::rc::Rc;
    use std::sync::Arc;

    fn text(text: &str) -> SinkBuffer {
        SinkBuffer {
            bytes: BytesMut::from(text),
            records: vec![],
        }
    }

    /// Runs `test` on a glommio executor with a sink queue whose writer writes to
    /// `address`; the writer is closed and awaited after `test`.
    fn with_sink<F, Fut>(address: String, test: F)
    where
        F: FnOnce(Rc<SinkQueue>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .make()
            .expect("executor")
            .run(async move {
                let counters = crate::metrics::test_counters(vec![], 1);
                let (queue, handle) = SinkQueue::new(counters, 0, Arc::new(Lifecycle::default()));
                let writer = glommio::spawn_local(write_sink(handle, address));
                test(queue.clone()).await;
                queue.close();
                writer.await;
            });
    }

    #[test]
    fn queued_output_arrives_in_order_and_the_connection_closes_after_it() {
        let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = receiver.local_addr().unwrap().to_string();
        let reader = std::thread::spawn(move || {
            let (mut stream, _) = receiver.accept().unwrap();
            let mut all = String::new();
            stream.read_to_string(&mut all).unwrap();
            all
        });
        with_sink(address, |queue| async move {
            queue.push(&mut text("one "));
            queue.push(&mut text("two "));
            glommio::timer::sleep(Duration::from_millis(20)).await;
            queue.push(&mut text("three"));
        });
        assert_eq!(reader.join().unwrap(), "one two three");
    }

    #[test]
    fn a_receiver_that_starts_late_and_one_that_goes_away_are_reconnected_to() {
        // A free port nothing listens on yet.
        let address = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().to_string()
        };
        let late = address.clone();
        with_sink(address, |queue| async move {
            queue.push(&mut text("first"));
            glommio::timer::sleep(Duration::from_millis(50)).await;
            let receiver = std::net::TcpListener::bind(&late).unwrap();
            let (heard, received) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for _ in 0..2 {
                    let (mut stream, _) = receiver.accept().unwrap();
                    let mut buf = [0u8; 64];
                    let n = stream.read(&mut buf).unwrap();
                    let _ = heard.send(String::from_utf8_lossy(&buf[..n]).into_owned());
                    // Dropped after one read: the writer must notice and connect again.
                }
            });
            let next = || async {
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    if let Ok(text) = received.try_recv() {
                        return text;
                    }
                    assert!(Instant::now() < deadline, "nothing received");
                    glommio::timer::sleep(Duration::from_millis(5)).await;
                }
            };
            assert_eq!(next().await, "first");
            glommio::timer::sleep(Duration::from_millis(100)).await;
            queue.push(&mut text("second"));
            assert_eq!(next().await, "second");
            assert_eq!(queue.reconnects(), 1);
        });
    }
}
