//! Generator sources (GenSourceConfig): the app's generator object makes the messages,
//! on one core, a batch at a time.

use crate::flow;
use crate::intake::SourceHandle;
use std::rc::Rc;

/// Drives generator source `source` until it ends or the engine drains, pausing as a
/// socket's reader does (`SourceHandle::wait_for_room`). The caller counts it as an
/// opened connection before spawning it, so `--exit-when-idle` waits for it to end.
pub async fn generate(handle: Rc<SourceHandle>, source: usize) {
    while handle.lifecycle.running() {
        handle.wait_for_room().await;
        if !handle
            .intake
            .run_generator(source, flow::MESSAGES_PER_BATCH)
        {
            eprintln!(
                "roo: core {}: generator of source '{}' ended",
                handle.core,
                handle.name(source)
            );
            break;
        }
        glommio::yield_if_needed().await;
    }
    handle.lifecycle.connection_closed();
}
