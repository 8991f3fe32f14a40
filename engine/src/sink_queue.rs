//! [`SinkQueue`]: encoder output on its way from a core's batches to one sink connection,
//! and what a sink writer needs besides ([`SinkHandle`]).

use crate::flow;
use crate::lifecycle::Lifecycle;
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use model::counters::{CoreCounters, Counter};
use model::SinkBuffer;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Batches append to `pending` and the writer takes all of it at once: output made while
/// a write is in flight leaves in the next single write (one send, one wake-up of the
/// receiver), not a write per batch.
pub struct SinkQueue {
    pending: RefCell<SinkBuffer>,
    /// Rung when `pending` stops being empty; the writer waits on it when it has nothing.
    /// Taken (closed) by [`SinkQueue::close`], which ends the writer.
    doorbell: RefCell<Option<LocalSender<()>>>,
    /// The core's counters and this queue's connection index in them: bytes appended and
    /// not yet written (pending plus the write in flight), pauses, reconnects.
    counters: Arc<CoreCounters>,
    connection: usize,
    lifecycle: Arc<Lifecycle>,
}

/// What a sink writer task holds: its queue, the doorbell it waits on, and the lifecycle
/// (a writer that cannot connect gives up once the engine is done).
pub struct SinkHandle {
    pub core: usize,
    pub queue: Rc<SinkQueue>,
    pub doorbell: LocalReceiver<()>,
    pub lifecycle: Arc<Lifecycle>,
}

impl SinkQueue {
    /// A queue for sink connection `connection` of the core whose counters these are,
    /// and the handle its writer takes.
    pub fn new(
        counters: Arc<CoreCounters>,
        connection: usize,
        lifecycle: Arc<Lifecycle>,
    ) -> (Rc<SinkQueue>, SinkHandle) {
        let (doorbell, heard) = local_channel::new_bounded(1);
        let core = counters.core;
        let queue = Rc::new(SinkQueue {
            pending: RefCell::new(SinkBuffer::default()),
            doorbell: RefCell::new(Some(doorbell)),
            counters,
            connection,
            lifecycle: lifecycle.clone(),
        });
        let handle = SinkHandle {
            core,
            queue: queue.clone(),
            doorbell: heard,
            lifecycle,
        };
        (queue, handle)
    }

    /// Moves a batch's output for this sink into the queue (leaving `output` empty) and
    /// rings the writer if it may be waiting.
    pub fn push(&self, output: &mut SinkBuffer) {
        if output.is_empty() {
            return;
        }
        let bytes = output.bytes.len();
        let was_congested = self.congested();
        self.queued().add(bytes as u64);
        if !was_congested && self.congested() {
            self.counters.sink_pauses(self.connection).add(1);
        }
        self.lifecycle.sink_bytes_queued(bytes as u64);
        // `pending` is bounded by flow::SINK_HIGH_WATER: sources wait while it is over.
        let mut pending = self.pending.borrow_mut();
        let was_empty = pending.is_empty();
        pending.append(output);
        if was_empty {
            // Full only when already rung and not yet heard: nothing is lost.
            if let Some(doorbell) = &*self.doorbell.borrow() {
                let _ = doorbell.try_send(());
            }
        }
    }

    /// Everything queued so far (empty if nothing); it counts as queued until `written`
    /// (or `handed_over`).
    pub fn take(&self) -> SinkBuffer {
        let mut pending = self.pending.borrow_mut();
        SinkBuffer {
            bytes: pending.bytes.split(),
            records: std::mem::take(&mut pending.records),
        }
    }

    /// The writer has written `bytes` taken from the queue.
    pub fn written(&self, bytes: usize) {
        self.handed_over(bytes);
        self.lifecycle.sink_bytes_written(bytes as u64);
    }

    /// The writer has handed `bytes` taken from the queue to a client that reports their
    /// delivery to the lifecycle itself (the Kafka producer).
    pub fn handed_over(&self, bytes: usize) {
        self.queued().sub(bytes as u64);
    }

    /// Over the high-water mark: the core's sources and routed input wait.
    pub fn congested(&self) -> bool {
        self.queued().get() > flow::SINK_HIGH_WATER as u64
    }

    fn queued(&self) -> &Counter {
        self.counters.sink_pending(self.connection)
    }

    /// Closes the doorbell: the writer writes what is left and closes its connection.
    pub fn close(&self) {
        self.doorbell.borrow_mut().take();
    }

    pub fn count_reconnect(&self) {
        self.counters.sink_reconnects(self.connection).add(1);
    }

    #[cfg(test)]
    pub fn reconnects(&self) -> u64 {
        self.counters.sink_reconnects(self.connection).get()
    }
}
