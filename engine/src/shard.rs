//! One core: its glommio executor's shared state (the Python worker, the batch outputs,
//! the queues to sinks and to other cores) and the code that starts its tasks. Sources
//! and sink writers see the core only through their handles (`intake`, `sink_queue`).

use crate::backlog::Backlogs;
use crate::checkpoint::{self, Asked, CoreLink, CoreSnapshot};
use crate::control::CoreQuery;
use crate::flow;
use crate::generator_source;
use crate::intake::{Intake, SourceHandle};
use crate::kafka::consumer::RunOffsets;
use crate::kafka::producer::KafkaProducer;
use crate::kafka::{self};
use crate::lifecycle::Lifecycle;
use crate::mesh::{ConnectedEnds, MeshEnds};
use crate::partition_table::PartitionTable;
use crate::runner::EngineConfig;
use crate::sink_queue::SinkQueue;
use crate::summary::CoreSummary;
use crate::tcp_sink;
use crate::tcp_source::{self, Handoff};
use bytes::Bytes;
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::channels::shared_channel::{ConnectedReceiver, ConnectedSender};
use model::counters::CoreCounters;
use model::snapshot::Saved;
use model::{Meta, Placement, Record, Routed, SourceInput, Topology, Value};
use protocol::{FrameDecoder, FrameError};
use pybridge::{GilKind, OutputFds, Outputs, Worker};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

/// A batch of messages for another core.
pub type RoutedBatch = Vec<Routed>;

/// What a core needs from the main thread once every core has loaded the app.
pub struct Go {
    pub table: Arc<PartitionTable>,
    pub backlogs: Arc<Backlogs>,
    /// Per Kafka source (by source index): this core's share of its records.
    pub kafka_sources: Vec<(usize, Receiver<Vec<Record>>, Arc<RunOffsets>)>,
    /// Per sink: its producer, for Kafka sinks.
    pub kafka_producers: Vec<Option<Arc<KafkaProducer>>>,
    /// The checkpoint's entries this core owns, to put back before reading input.
    pub restore: Vec<Saved>,
    /// With checkpoints: this core's link to the checkpointer.
    pub checkpoints: Option<CoreLink>,
    /// Questions about this core's state partitions, when something may ask them (the
    /// external channel, the metrics port's `/state`).
    pub queries: Option<Receiver<CoreQuery>>,
}

/// One core's channels, built on the main thread.
pub struct CoreChannels {
    pub routed: MeshEnds<RoutedBatch>,
    pub handoffs: MeshEnds<Handoff>,
    /// Where the app's stdout and stderr go on this core.
    pub output: OutputFds,
}

struct Outbox {
    tx: LocalSender<RoutedBatch>,
    /// Messages queued and not yet taken by the outbox's sender.
    queued: Cell<usize>,
}

pub struct Core {
    id: usize,
    lifecycle: Arc<Lifecycle>,
    worker: RefCell<Worker>,
    outputs: RefCell<Outputs>,
    table: Arc<PartitionTable>,
    backlogs: Arc<Backlogs>,
    topology: Topology,
    /// Sink index -> index into `sink_queues` (sinks with the same address share one).
    sink_connection: Vec<usize>,
    sink_queues: Vec<Rc<SinkQueue>>,
    outboxes: Vec<Option<Outbox>>,
    counters: Arc<CoreCounters>,
}

impl Core {
    /// Encodes this core's state partitions for checkpoint `epoch` and sends them.
    fn answer_snapshot(&self, link: &CoreLink, epoch: u64) {
        let mut body = vec![];
        let snapshot = self.worker.borrow().snapshot(&mut body);
        let _ = link.answers.send(CoreSnapshot {
            core: self.id,
            epoch,
            body: snapshot.map(|_| body),
        });
    }

    /// Closes every sink writer's doorbell: each writes what is left and closes its socket.
    fn close_sinks(&self) {
        for queue in &self.sink_queues {
            queue.close();
        }
    }

    fn sinks_congested(&self) -> bool {
        self.sink_queues.iter().any(|queue| queue.congested())
    }

    /// Runs one batch on the worker and hands its output on. The lifecycle sees the batch
    /// start and end: a core inside a batch (slow app code) is working, not stuck.
    fn batch<R>(&self, run: impl FnOnce(&mut Worker, &mut Outputs) -> R) -> R {
        let _running = self.lifecycle.batch_running();
        let result = run(
            &mut self.worker.borrow_mut(),
            &mut self.outputs.borrow_mut(),
        );
        self.flush();
        result
    }

    /// Runs the tick hooks (windows) and hands their output on; `last`: the final flush.
    fn run_ticks(&self, last: bool) {
        self.batch(|worker, outputs| worker.run_ticks(last, self, outputs));
    }

    fn run_routed(&self, batch: RoutedBatch) {
        let messages = batch.len();
        self.batch(|worker, outputs| worker.run_routed(batch, self, outputs));
        self.backlogs.ran(self.id, messages);
        self.lifecycle.routed_done(messages as u64);
    }

    /// Hands a batch's sink bytes to the sink writers and its routed messages to the outboxes.
    fn flush(&self) {
        let mut outputs = self.outputs.borrow_mut();
        for (sink, buffer) in outputs.sinks.iter_mut().enumerate() {
            self.sink_queues[self.sink_connection[sink]].push(buffer);
        }
        for (peer, routed) in outputs.routed.iter_mut().enumerate() {
            if routed.is_empty() {
                continue;
            }
            // The next batch is likely as large: sizing it now spares it the regrowth
            // (copying every message again) a Vec growing from empty does.
            let next = Vec::with_capacity(routed.len());
            let batch = std::mem::replace(routed, next);
            let queue = self.outboxes[peer]
                .as_ref()
                .expect("never routed to itself");
            queue.queued.set(queue.queued.get() + batch.len());
            self.backlogs.sent(peer, batch.len());
            self.lifecycle.routed_sent(batch.len() as u64);
            let _ = queue.tx.try_send(batch);
        }
    }

    fn summary(&self) -> CoreSummary {
        let worker = self.worker.borrow();
        let outputs = self.outputs.borrow();
        CoreSummary {
            figures: worker.counters().read(),
            latency: outputs.latency.clone(),
            pipelines: self
                .topology
                .sources
                .iter()
                .map(|s| self.topology.chains[s.chain].name.clone())
                .collect(),
        }
    }
}

/// Sources hand their frames and generated messages to the worker through the core.
impl Intake for Core {
    fn take_frames(
        &self,
        source: usize,
        decoder: &mut FrameDecoder,
        frames: &mut Vec<Bytes>,
    ) -> Result<(), FrameError> {
        let framed = self
            .worker
            .borrow_mut()
            .take_frames(source, decoder, frames);
        self.counters.frames_in(source).add(frames.len() as u64);
        framed
    }

    fn run_frames(&self, source: usize, frames: &[Bytes], meta: Meta) {
        self.batch(|worker, outputs| worker.run_frames(source, frames, meta, self, outputs));
    }

    fn run_records(&self, source: usize, records: &[Record], meta: Meta) {
        let bytes: usize = records.iter().map(|record| record.value.len()).sum();
        self.counters.frames_in(source).add(records.len() as u64);
        self.counters.bytes_in(source).add(bytes as u64);
        self.batch(|worker, outputs| worker.run_records(source, records, meta, self, outputs));
    }

    fn run_generator(&self, source: usize, count: usize) -> bool {
        self.batch(|worker, outputs| worker.run_generator(source, count, self, outputs))
    }

    fn record_error(&self, place: &str, detail: &str) {
        self.worker.borrow_mut().record_error(place, detail);
    }

    /// A sink or an outbox of this core is over its high-water mark, or a core is far
    /// behind with routed input (`Backlogs::should_pause`).
    fn congested(&self) -> bool {
        self.sinks_congested()
            || self.backlogs.should_pause(self.id)
            || self
                .outboxes
                .iter()
                .flatten()
                .any(|q| q.queued.get() > flow::OUTBOX_HIGH_WATER)
    }
}

/// State steps go to the owner of their key (the partition table); parallel steps run
/// here unless this core is behind (the backlogs).
impl Placement for Core {
    fn owner(&self, state: usize, key: &Value) -> usize {
        self.table.owner(state, key)
    }

    fn parallel_runner(&self, here: usize) -> usize {
        self.backlogs.parallel_runner(here)
    }
}

/// What the main thread learns from each core at start-up.
pub enum Startup {
    /// The app loaded (its topology, how the interpreter shares its GIL, the core's
    /// counters), or why not.
    Loaded(Result<(Topology, GilKind, Arc<CoreCounters>), String>),
    /// Tasks are running and core 0's listeners are bound, or why one could not be.
    Ready(Result<(), String>),
}

/// The body of core `id`'s executor: load the app, wait for the go, serve until done.
pub async fn run_core(
    id: usize,
    config: Arc<EngineConfig>,
    lifecycle: Arc<Lifecycle>,
    channels: CoreChannels,
    startup: mpsc::Sender<(usize, Startup)>,
    go: mpsc::Receiver<Go>,
) -> Option<CoreSummary> {
    let worker = match Worker::start(
        id,
        config.python_mode,
        &config.app_path,
        &config.app_args,
        channels.output,
    ) {
        Ok(worker) => worker,
        Err(message) => {
            let _ = startup.send((id, Startup::Loaded(Err(message))));
            return None;
        }
    };
    let _ = startup.send((
        id,
        Startup::Loaded(Ok((
            worker.topology().clone(),
            worker.gil_kind(),
            worker.counters().clone(),
        ))),
    ));
    // Start-up only: block this executor until every core has loaded (or one failed).
    let Go {
        table,
        backlogs,
        kafka_sources,
        kafka_producers,
        restore,
        checkpoints,
        queries,
    } = go.recv().ok()?;
    let mut worker = worker;
    if let Err(message) = worker.restore(restore) {
        let _ = startup.send((id, Startup::Ready(Err(message))));
        return None;
    }
    let routed = channels.routed.connect().await;
    let handoffs = channels.handoffs.connect().await;
    let cores = routed.to.len();
    let topology = worker.topology().clone();
    let counters = worker.counters().clone();

    let (sink_connection, sink_addresses) = topology.sink_connections();
    let mut sink_handles = vec![];
    let sink_queues = (0..sink_addresses.len())
        .map(|connection| {
            let (queue, handle) = SinkQueue::new(counters.clone(), connection, lifecycle.clone());
            sink_handles.push(handle);
            queue
        })
        .collect();
    let mut outbox_receivers = vec![];
    let outboxes = (0..cores)
        .map(|peer| {
            (peer != id).then(|| {
                let (tx, rx) = local_channel::new_unbounded();
                outbox_receivers.push((peer, rx));
                Outbox {
                    tx,
                    queued: Cell::new(0),
                }
            })
        })
        .collect();
    let core = Rc::new(Core {
        id,
        lifecycle: lifecycle.clone(),
        outputs: RefCell::new(Outputs::new(&topology, cores)),
        worker: RefCell::new(worker),
        table,
        backlogs,
        topology: topology.clone(),
        sink_connection,
        sink_queues,
        outboxes,
        counters: counters.clone(),
    });

    let sink_writers: Vec<_> = sink_handles
        .into_iter()
        .zip(sink_addresses)
        .enumerate()
        .map(|(connection, (handle, address))| {
            let first_sink = core.sink_connection.iter().position(|&c| c == connection);
            match first_sink.and_then(|sink| kafka_producers[sink].clone()) {
                Some(producer) => glommio::spawn_local(kafka::sink::produce(handle, producer)),
                None => glommio::spawn_local(tcp_sink::write_sink(handle, address)),
            }
        })
        .collect();
    for ((peer, batches), sender) in outbox_receivers
        .into_iter()
        .zip(routed.to.into_iter().flatten())
    {
        glommio::spawn_local(send_outbox(core.clone(), peer, batches, sender)).detach();
    }
    for receiver in routed.from.into_iter().flatten() {
        glommio::spawn_local(receive_routed(core.clone(), receiver)).detach();
    }
    let sources = Rc::new(SourceHandle::new(
        core.clone(),
        counters,
        lifecycle.clone(),
        topology.sources.clone(),
        config.max_frame_size,
        config.idle_poll,
    ));
    for (source, batches, offsets) in kafka_sources {
        lifecycle.connection_opened();
        glommio::spawn_local(kafka::source::run_records(
            sources.clone(),
            source,
            batches,
            offsets,
        ))
        .detach();
    }
    let listening = start_sources(&sources, &topology, cores, handoffs);
    if let Some(every) = core.topology.tick_interval() {
        glommio::spawn_local(tick_periodically(core.clone(), every)).detach();
    }
    glommio::spawn_local(end_error_windows(core.clone())).detach();
    let checkpoints = checkpoints.map(Rc::new);
    if let Some(link) = &checkpoints {
        glommio::spawn_local(answer_snapshots(core.clone(), link.clone())).detach();
    }
    if let Some(queries) = queries {
        glommio::spawn_local(answer_queries(core.clone(), queries)).detach();
    }
    let _ = startup.send((id, Startup::Ready(listening)));

    while lifecycle.running() {
        glommio::timer::sleep(flow::PHASE_POLL).await;
    }
    sources.stop();
    if core.topology.has_ticks() {
        while lifecycle.draining() {
            glommio::timer::sleep(flow::PHASE_POLL).await;
        }
        if lifecycle.flushing() {
            core.run_ticks(true);
            lifecycle.core_flushed();
        }
    }
    while !lifecycle.done() {
        glommio::timer::sleep(flow::PHASE_POLL).await;
    }
    if let Some(link) = &checkpoints {
        if let Some(epoch) = checkpoint::final_request(link) {
            core.answer_snapshot(link, epoch);
        }
    }
    // Normally everything is written by now; a sink the main thread gave up on may still
    // block its writer, so closing waits at most flow::SINK_CLOSE_WAIT.
    core.close_sinks();
    futures_lite::future::or(
        async {
            for writer in sink_writers {
                writer.await;
            }
        },
        glommio::timer::sleep(flow::SINK_CLOSE_WAIT),
    )
    .await;
    core.worker.borrow().flush_output();
    Some(core.summary())
}

/// Starts this core's sources: the generators it runs, the readers of connections core 0
/// hands it, and on core 0 the listeners; Err if a listener cannot bind.
fn start_sources(
    sources: &Rc<SourceHandle>,
    topology: &Topology,
    cores: usize,
    handoffs: ConnectedEnds<Handoff>,
) -> Result<(), String> {
    let id = sources.core;
    for receiver in handoffs.from.into_iter().flatten() {
        glommio::spawn_local(tcp_source::adopt(sources.clone(), receiver)).detach();
    }
    for (source, spec) in topology.sources.iter().enumerate() {
        if spec.input == SourceInput::Generator && source % cores == id {
            sources.lifecycle.connection_opened();
            glommio::spawn_local(generator_source::generate(sources.clone(), source)).detach();
        }
    }
    if id != 0 {
        return Ok(());
    }
    let handoff_senders = Rc::new(handoffs.to);
    for (source, spec) in topology.sources.iter().enumerate() {
        if !matches!(spec.input, SourceInput::Tcp { .. }) {
            continue;
        }
        let listener = tcp_source::listen(&spec.address()).map_err(|error| {
            format!(
                "cannot listen on {} for source '{}': {error}",
                spec.address(),
                spec.name
            )
        })?;
        glommio::spawn_local(tcp_source::accept(
            sources.clone(),
            source,
            listener,
            handoff_senders.clone(),
        ))
        .detach();
    }
    Ok(())
}

/// Answers the checkpointer's snapshot requests until the engine is done (the final
/// one, after the drain, is `run_core`'s).
async fn answer_snapshots(core: Rc<Core>, link: Rc<CoreLink>) {
    while !core.lifecycle.done() {
        match checkpoint::pending_request(&link) {
            Asked::Snapshot(epoch) => core.answer_snapshot(&link, epoch),
            Asked::Nothing => glommio::timer::sleep(flow::PAUSED_POLL).await,
            Asked::Gone => break,
        }
    }
}

/// Answers questions about this core's state partitions between batches, until the
/// core stops.
async fn answer_queries(core: Rc<Core>, queries: Receiver<CoreQuery>) {
    while !core.lifecycle.done() {
        match queries.try_recv() {
            Ok(CoreQuery::Keys(reply)) => {
                let _ = reply.send(core.worker.borrow().state_keys());
            }
            Ok(CoreQuery::State { state, key, reply }) => {
                let _ = reply.send(core.worker.borrow().state_json(state, &key));
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                glommio::timer::sleep(flow::QUERY_POLL).await
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
        }
    }
}

/// Runs the periodic tick hooks (windows that end while no message comes) while running;
/// the final ticks at shutdown are run_core's.
async fn tick_periodically(core: Rc<Core>, every: Duration) {
    while core.lifecycle.running() {
        glommio::timer::sleep(every).await;
        // A checkpoint is being taken: what a tick outputs now would belong to no epoch.
        if core.lifecycle.sources_paused() {
            continue;
        }
        core.run_ticks(false);
    }
}

/// Ends the error log's window on time, so errors not logged in it are reported also when
/// no later error comes.
async fn end_error_windows(core: Rc<Core>) {
    while !core.lifecycle.done() {
        glommio::timer::sleep(flow::ERROR_WINDOW_CHECK).await;
        core.worker.borrow_mut().end_error_window();
    }
}

/// Forwards this core's routed batches for `peer`; waits when the peer's channel is full.
async fn send_outbox(
    core: Rc<Core>,
    peer: usize,
    batches: LocalReceiver<RoutedBatch>,
    to_peer: ConnectedSender<RoutedBatch>,
) {
    while let Some(batch) = batches.recv().await {
        let messages = batch.len();
        if to_peer.send(batch).await.is_err() {
            eprintln!(
                "roo: core {}: core {peer} stopped; {messages} routed messages not delivered",
                core.id
            );
            core.lifecycle.routed_done(messages as u64);
            core.backlogs.ran(peer, messages);
        }
        let queued = &core.outboxes[peer].as_ref().expect("outbox exists").queued;
        queued.set(queued.get() - messages);
    }
}

/// Runs batches other cores routed here; pauses while this core's sinks are congested.
async fn receive_routed(core: Rc<Core>, from_peer: ConnectedReceiver<RoutedBatch>) {
    loop {
        while core.sinks_congested() && !core.lifecycle.done() {
            glommio::timer::sleep(flow::PAUSED_POLL).await;
        }
        match from_peer.recv().await {
            Some(batch) => {
                core.run_routed(batch);
                // While batches keep coming, recv is always ready: let the sink writers
                // and sources of this core run between them.
                futures_lite::future::yield_now().await;
            }
            None => break,
        }
    }
}
