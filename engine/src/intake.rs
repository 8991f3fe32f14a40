//! What a source needs from its core, and nothing more: an [`Intake`] to hand frames or
//! generated messages to (the core's worker), a congestion signal to pause on, the
//! lifecycle to stop on, and the core's budget for partial frames. TCP and generator
//! sources take a [`SourceHandle`], never the core itself.

use crate::flow;
use crate::input_budget::InputBudget;
use crate::lifecycle::Lifecycle;
use bytes::Bytes;
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use model::counters::CoreCounters;
use model::topology::SourceSpec;
use model::{HeaderDecoding, Meta, Record};
use protocol::{FrameDecoder, FrameError};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// The receiving end of a core's sources: runs what they bring in through the steps and
/// hands the output on (to sinks and other cores) before returning.
pub trait Intake {
    /// Cuts every complete frame `decoder` holds for `source` into `frames`.
    fn take_frames(
        &self,
        source: usize,
        decoder: &mut FrameDecoder,
        frames: &mut Vec<Bytes>,
    ) -> Result<(), FrameError>;

    /// Runs frames that arrived together for `source` (one read, stamped `meta`).
    fn run_frames(&self, source: usize, frames: &[Bytes], meta: Meta);

    /// Runs records of Kafka source `source` that were read together (stamped `meta`).
    fn run_records(&self, source: usize, records: &[Record], meta: Meta);

    /// Runs up to `count` messages of generator source `source`; false once it has ended.
    fn run_generator(&self, source: usize, count: usize) -> bool;

    /// Counts and logs an error at `place` (a source and its address).
    fn record_error(&self, place: &str, detail: &str);

    /// Whether the core's outputs are over their high-water marks: sources wait, so that
    /// TCP pushes back on the senders.
    fn congested(&self) -> bool;
}

/// A core's sources' handle to it (one per core, shared by its source tasks).
pub struct SourceHandle {
    pub core: usize,
    pub intake: Rc<dyn Intake>,
    /// The core's counters: bytes read per source, pauses.
    pub counters: Arc<CoreCounters>,
    pub lifecycle: Arc<Lifecycle>,
    /// Bytes this core's source connections hold that are not yet whole frames.
    pub input_budget: InputBudget,
    pub max_frame_size: usize,
    /// How long an idle source keeps trying to read before it waits (`--poll-us`).
    pub idle_poll: Duration,
    specs: Vec<SourceSpec>,
    stoppers: RefCell<Vec<LocalSender<()>>>,
}

impl SourceHandle {
    pub fn new(
        intake: Rc<dyn Intake>,
        counters: Arc<CoreCounters>,
        lifecycle: Arc<Lifecycle>,
        specs: Vec<SourceSpec>,
        max_frame_size: usize,
        idle_poll: Duration,
    ) -> SourceHandle {
        SourceHandle {
            core: counters.core,
            intake,
            counters,
            lifecycle,
            input_budget: InputBudget::new(flow::INPUT_BYTES_PER_CORE),
            max_frame_size,
            idle_poll,
            specs,
            stoppers: RefCell::new(vec![]),
        }
    }

    pub fn name(&self, source: usize) -> &str {
        &self.specs[source].name
    }

    pub fn address(&self, source: usize) -> String {
        self.specs[source].address()
    }

    /// How a TCP source's frame headers are read.
    pub fn header(&self, source: usize) -> HeaderDecoding {
        self.specs[source]
            .header()
            .expect("only TCP sources are read")
    }

    /// A receiver that yields (None) once the engine starts draining.
    pub fn stopping(&self) -> LocalReceiver<()> {
        let (tx, rx) = local_channel::new_bounded(1);
        if self.lifecycle.running() {
            self.stoppers.borrow_mut().push(tx);
        }
        rx
    }

    /// Ends every `stopping` receiver handed out (the engine drains).
    pub fn stop(&self) {
        self.stoppers.borrow_mut().clear();
    }

    /// Waits while the core is congested (see [`Intake::congested`]) or a commit point
    /// pauses every source (`Lifecycle::pause_sources`).
    /// Each wait counts as one pause.
    pub async fn wait_for_room(&self) {
        let must_wait = || {
            (self.intake.congested() || self.lifecycle.sources_paused()) && !self.lifecycle.done()
        };
        if !must_wait() {
            return;
        }
        self.counters.source_pauses().add(1);
        while must_wait() {
            glommio::timer::sleep(flow::PAUSED_POLL).await;
        }
    }
}
