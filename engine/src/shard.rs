//! One core: its glommio executor's shared state (the Python worker, the batch outputs,
//! the queues to sinks and to other cores) and the code that starts its tasks.

use crate::backlog::Backlogs;
use crate::flow;
use crate::input_budget::InputBudget;
use crate::lifecycle::Lifecycle;
use crate::mesh::MeshEnds;
use crate::partition_table::PartitionTable;
use crate::summary::CoreSummary;
use crate::tcp_sink;
use crate::tcp_source::{self, Handoff};
use crate::EngineConfig;
use bytes::{Bytes, BytesMut};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::channels::shared_channel::{ConnectedReceiver, ConnectedSender};
use glommio::net::TcpListener;
use protocol::{FrameDecoder, FrameError};
use pybridge::{
    GilKind, HeaderDecoding, Meta, OutputFds, Outputs, Placement, Routed, SourceInput, Topology,
    Value, Worker,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// How long a stopped core waits for its sink writers to close their connections.
const SINK_CLOSE_WAIT: Duration = Duration::from_secs(1);

/// A batch of messages for another core.
pub type RoutedBatch = Vec<Routed>;

/// What a core needs from the main thread once every core has loaded the app.
pub struct Go {
    pub table: Arc<PartitionTable>,
    pub backlogs: Arc<Backlogs>,
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

/// Encoder output on its way to one sink connection. Batches append to `pending` and the
/// writer takes all of it at once: output made while a write is in flight leaves in the
/// next single write (one send, one wake-up of the receiver), not a write per batch.
struct SinkQueue {
    pending: RefCell<BytesMut>,
    /// Bytes appended and not yet written (pending plus the write in flight).
    queued: Cell<usize>,
    /// Rung when `pending` stops being empty; the writer waits on it when it has nothing.
    /// Taken (closed) once the core has stopped, which ends the writer.
    doorbell: RefCell<Option<LocalSender<()>>>,
}

pub struct Core {
    pub id: usize,
    pub lifecycle: Arc<Lifecycle>,
    pub max_frame_size: usize,
    /// How long an idle source keeps trying to read before it waits (`--poll-us`).
    pub idle_poll: Duration,
    /// Bytes this core's source connections hold that are not yet whole frames.
    pub input_budget: InputBudget,
    worker: RefCell<Worker>,
    outputs: RefCell<Outputs>,
    table: Arc<PartitionTable>,
    backlogs: Arc<Backlogs>,
    topology: Topology,
    /// Sink index -> index into `sink_queues` (sinks with the same address share one).
    sink_connection: Vec<usize>,
    sink_queues: Vec<SinkQueue>,
    outboxes: Vec<Option<Outbox>>,
    stoppers: RefCell<Vec<LocalSender<()>>>,
    frames_in: Cell<u64>,
    sink_reconnects: Cell<u64>,
}

impl Core {
    pub fn source_name(&self, source: usize) -> &str {
        &self.topology.sources[source].name
    }

    pub fn source_address(&self, source: usize) -> String {
        self.topology.sources[source].address()
    }

    pub fn header(&self, source: usize) -> HeaderDecoding {
        self.topology.sources[source]
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

    pub fn record_error(&self, place: &str, detail: &str) {
        self.worker.borrow_mut().record_error(place, detail);
    }

    pub fn count_sink_reconnect(&self) {
        self.sink_reconnects.set(self.sink_reconnects.get() + 1);
    }

    /// Everything queued for sink connection `connection` so far (empty if nothing).
    pub fn take_sink_output(&self, connection: usize) -> Bytes {
        self.sink_queues[connection]
            .pending
            .borrow_mut()
            .split()
            .freeze()
    }

    /// Closes every sink writer's doorbell: each writes what is left and closes its socket.
    fn close_sinks(&self) {
        for queue in &self.sink_queues {
            queue.doorbell.borrow_mut().take();
        }
    }

    pub fn sink_written(&self, connection: usize, bytes: usize) {
        let queued = &self.sink_queues[connection].queued;
        queued.set(queued.get() - bytes);
        self.lifecycle.sink_bytes_written(bytes as u64);
    }

    fn sinks_congested(&self) -> bool {
        self.sink_queues
            .iter()
            .any(|q| q.queued.get() > flow::SINK_HIGH_WATER)
    }

    fn congested(&self) -> bool {
        self.sinks_congested()
            || self.backlogs.should_pause(self.id)
            || self
                .outboxes
                .iter()
                .flatten()
                .any(|q| q.queued.get() > flow::OUTBOX_HIGH_WATER)
    }

    /// Waits while a sink or an outbox of this core is over its high-water mark, or a core
    /// is far behind with routed input (`Backlogs::should_pause`): sources then stop
    /// reading, and TCP pushes back on the senders.
    pub async fn wait_for_room(&self) {
        while self.congested() && !self.lifecycle.done() {
            glommio::timer::sleep(flow::PAUSED_POLL).await;
        }
    }

    /// Cuts every complete frame `decoder` holds into `frames`.
    pub fn take_frames(
        &self,
        source: usize,
        decoder: &mut FrameDecoder,
        frames: &mut Vec<Bytes>,
    ) -> Result<(), FrameError> {
        let framed = self
            .worker
            .borrow_mut()
            .take_frames(source, decoder, frames);
        self.frames_in
            .set(self.frames_in.get() + frames.len() as u64);
        framed
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

    /// Runs frames through the steps and hands their output on.
    pub fn run_frames(&self, source: usize, frames: &[Bytes], meta: Meta) {
        self.batch(|worker, outputs| worker.run_frames(source, frames, meta, self, outputs));
    }

    /// Runs up to `count` messages of a generator source; false once it has ended.
    fn run_generator(&self, source: usize, count: usize) -> bool {
        self.batch(|worker, outputs| worker.run_generator(source, count, self, outputs))
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
            if buffer.is_empty() {
                continue;
            }
            let queue = &self.sink_queues[self.sink_connection[sink]];
            let bytes = buffer.len();
            queue.queued.set(queue.queued.get() + bytes);
            self.lifecycle.sink_bytes_queued(bytes as u64);
            // `pending` is bounded by flow::SINK_HIGH_WATER through wait_for_room.
            let mut pending = queue.pending.borrow_mut();
            if pending.is_empty() {
                std::mem::swap(&mut *pending, buffer);
                // Full only when already rung and not yet heard: nothing is lost.
                if let Some(doorbell) = &*queue.doorbell.borrow() {
                    let _ = doorbell.try_send(());
                }
            } else {
                pending.extend_from_slice(buffer);
                buffer.clear();
            }
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
            core: self.id,
            frames_in: self.frames_in.get(),
            decoded: worker.stats().decoded,
            messages_out: outputs.sunk,
            routed_out: worker.stats().routed_out,
            routed_in: worker.stats().routed_in,
            handed_over: worker.stats().handed_over,
            none_outputs: worker.stats().none_outputs,
            errors: worker.errors().counts(),
            sink_reconnects: self.sink_reconnects.get(),
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
    /// The app loaded (its topology, and how the interpreter shares its GIL), or why not.
    Loaded(Result<(Topology, GilKind), String>),
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
        Startup::Loaded(Ok((worker.topology().clone(), worker.gil_kind()))),
    ));
    // Start-up only: block this executor until every core has loaded (or one failed).
    let Go { table, backlogs } = go.recv().ok()?;
    let routed = channels.routed.connect().await;
    let handoffs = channels.handoffs.connect().await;
    let cores = routed.to.len();
    let topology = worker.topology().clone();

    let mut sink_addresses: Vec<String> = vec![];
    let sink_connection = topology
        .sinks
        .iter()
        .map(|sink| {
            let address = sink.address();
            match sink_addresses.iter().position(|a| *a == address) {
                Some(index) => index,
                None => {
                    sink_addresses.push(address);
                    sink_addresses.len() - 1
                }
            }
        })
        .collect();
    let mut sink_doorbells = vec![];
    let sink_queues = sink_addresses
        .iter()
        .map(|_| {
            let (doorbell, heard) = local_channel::new_bounded(1);
            sink_doorbells.push(heard);
            SinkQueue {
                pending: RefCell::new(BytesMut::new()),
                queued: Cell::new(0),
                doorbell: RefCell::new(Some(doorbell)),
            }
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
        max_frame_size: config.max_frame_size,
        idle_poll: config.idle_poll,
        input_budget: InputBudget::new(flow::INPUT_BYTES_PER_CORE),
        outputs: RefCell::new(Outputs::new(&topology, cores)),
        worker: RefCell::new(worker),
        table,
        backlogs,
        topology,
        sink_connection,
        sink_queues,
        outboxes,
        stoppers: RefCell::new(vec![]),
        frames_in: Cell::new(0),
        sink_reconnects: Cell::new(0),
    });

    let sink_writers: Vec<_> = sink_addresses
        .into_iter()
        .zip(sink_doorbells)
        .enumerate()
        .map(|(connection, (address, doorbell))| {
            glommio::spawn_local(tcp_sink::write_sink(
                core.clone(),
                connection,
                address,
                doorbell,
            ))
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
    let handoff_senders = Rc::new(handoffs.to);
    for receiver in handoffs.from.into_iter().flatten() {
        glommio::spawn_local(tcp_source::adopt(core.clone(), receiver)).detach();
    }
    for (source, spec) in core.topology.sources.iter().enumerate() {
        if spec.input == SourceInput::Generator && source % cores == id {
            // Counted as a connection: --exit-when-idle waits for a generator to end.
            lifecycle.connection_opened();
            glommio::spawn_local(generate(core.clone(), source)).detach();
        }
    }
    let mut listening = Ok(());
    if id == 0 {
        for (source, spec) in core.topology.sources.iter().enumerate() {
            if spec.input == SourceInput::Generator {
                continue;
            }
            match listen(&spec.address()) {
                Ok(listener) => {
                    glommio::spawn_local(tcp_source::accept(
                        core.clone(),
                        source,
                        listener,
                        handoff_senders.clone(),
                    ))
                    .detach();
                }
                Err(error) => {
                    listening = Err(format!(
                        "cannot listen on {} for source '{}': {error}",
                        spec.address(),
                        spec.name
                    ));
                    break;
                }
            }
        }
    }
    if let Some(every) = core.topology.tick_interval() {
        glommio::spawn_local(tick_periodically(core.clone(), every)).detach();
    }
    glommio::spawn_local(end_error_windows(core.clone())).detach();
    let _ = startup.send((id, Startup::Ready(listening)));

    while lifecycle.running() {
        glommio::timer::sleep(flow::PHASE_POLL).await;
    }
    core.stoppers.borrow_mut().clear();
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
    // Normally everything is written by now; a sink the main thread gave up on may still
    // block its writer, so closing waits at most SINK_CLOSE_WAIT.
    core.close_sinks();
    futures_lite::future::or(
        async {
            for writer in sink_writers {
                writer.await;
            }
        },
        glommio::timer::sleep(SINK_CLOSE_WAIT),
    )
    .await;
    core.worker.borrow().flush_output();
    Some(core.summary())
}

/// glommio listens with SO_REUSEPORT, which would let a second roo share the port and
/// silently take part of the connections: a port something already accepts connections on
/// is a start-up error. (A bind without SO_REUSEPORT would tell too, but it collides with
/// the closed connections, in TIME-WAIT, of a roo that has just stopped.)
fn listen(address: &str) -> Result<TcpListener, String> {
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

/// Drives a generator source (GenSourceConfig) until it ends or the engine drains, a batch
/// at a time, pausing as a socket's reader does (`Core::wait_for_room`).
async fn generate(core: Rc<Core>, source: usize) {
    while core.lifecycle.running() {
        core.wait_for_room().await;
        if !core.run_generator(source, flow::MESSAGES_PER_BATCH) {
            eprintln!(
                "roo: core {}: generator of source '{}' ended",
                core.id,
                core.source_name(source)
            );
            break;
        }
        glommio::yield_if_needed().await;
    }
    core.lifecycle.connection_closed();
}

/// Runs the periodic tick hooks (windows that end while no message comes) while running;
/// the final ticks at shutdown are run_core's.
async fn tick_periodically(core: Rc<Core>, every: Duration) {
    while core.lifecycle.running() {
        glommio::timer::sleep(every).await;
        core.run_ticks(false);
    }
}

/// Ends the error log's window on time, so errors not logged in it are reported also when
/// no later error comes.
async fn end_error_windows(core: Rc<Core>) {
    while !core.lifecycle.done() {
        glommio::timer::sleep(ERROR_WINDOW_CHECK).await;
        core.worker.borrow_mut().end_error_window();
    }
}

/// How often a core looks whether its error log's window is over.
const ERROR_WINDOW_CHECK: Duration = Duration::from_secs(1);

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
