//! The core side of a Kafka source: runs the batches of records the consumer thread
//! deals to this core, in order, and says what has run.

use super::consumer::RunOffsets;
use crate::flow;
use crate::intake::SourceHandle;
use model::{clock, Meta, Record};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;

/// Runs the records dealt to this core for `source` until the engine drains. The caller
/// counts it as an opened connection, so the drain waits for it to stop.
pub async fn run_records(
    handle: Rc<SourceHandle>,
    source: usize,
    batches: Receiver<Vec<Record>>,
    offsets: Arc<RunOffsets>,
) {
    let mut idle_wait = flow::KAFKA_IDLE_POLL;
    while handle.lifecycle.running() {
        handle.wait_for_room().await;
        if !handle.lifecycle.running() {
            break;
        }
        match batches.try_recv() {
            Ok(batch) => {
                let meta = Meta {
                    source: source as u32,
                    ingest_ns: clock::now_ns(),
                    event_ns: None,
                };
                handle.intake.run_records(source, &batch, meta);
                offsets.ran(&batch);
                idle_wait = flow::KAFKA_IDLE_POLL;
                futures_lite::future::yield_now().await;
            }
            Err(TryRecvError::Empty) => {
                glommio::timer::sleep(idle_wait).await;
                idle_wait = (idle_wait * 2).min(flow::KAFKA_IDLE_POLL_LONGEST);
            }
            Err(TryRecvError::Disconnected) => break,
        }
    }
    handle.lifecycle.connection_closed();
}
