//! Starting the engine: one executor per core, the start-up handshake (every core loads
//! the app, the main thread checks they agree and deals the partitions), then the main
//! thread's supervision until the drain ends.

use crate::app_output::AppOutput;
use crate::backlog::Backlogs;
use crate::checkpoint::{self, Checkpointer, Resilience, Usable};
use crate::control::{self, StateQueries};
use crate::flow;
use crate::kafka::{self, KafkaOptions};
use crate::lifecycle::{DrainEnd, DrainLimits, Lifecycle};
use crate::mesh;
use crate::metrics::http::MetricsServer;
use crate::metrics::{progress, Metrics};
use crate::partition_table::{self, PartitionTable};
use crate::shard::{self, CoreChannels, Go, Startup};
use crate::summary::CoreSummary;
use glommio::{LocalExecutorBuilder, Placement};
use model::Placement as _;
use model::{SourceInput, Topology};
use pybridge::{GilKind, PythonMode};
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::Duration;

pub struct EngineConfig {
    pub app_path: PathBuf,
    /// What `application_setup` receives: the app path, then the app's arguments.
    pub app_args: Vec<String>,
    pub cores: usize,
    pub python_mode: PythonMode,
    pub max_frame_size: usize,
    /// Stop once every source connection has closed (after at least one was accepted).
    pub exit_when_idle: bool,
    /// How long an idle executor keeps polling before it parks.
    pub idle_poll: Duration,
    /// The longest a drain may take before roo stops without finishing it.
    pub drain_timeout: Duration,
    pub kafka: KafkaOptions,
    /// Checkpoints (`--resilience-dir`), if on.
    pub resilience: Option<Resilience>,
    /// Where Wallaroo's external control channel listens (`--external`), if anywhere.
    pub external: Option<String>,
    /// Where to serve `/metrics` and the dashboard (`--metrics-listen`), if anywhere.
    pub metrics_listen: Option<String>,
    /// Print a progress line every few seconds (`--progress`).
    pub progress: bool,
}

/// How the run ended.
pub struct RunReport {
    /// Every core's counters (none when the drain was cut short: a core may be stuck).
    pub summaries: Vec<CoreSummary>,
    pub drain: DrainEnd,
    /// Lines the app printed that were dropped because roo's stdout or stderr was not
    /// being read.
    pub output_lines_dropped: u64,
}

/// Runs the app until a signal (or idleness with `exit_when_idle`). Err for start-up failures.
pub fn run(config: EngineConfig) -> Result<RunReport, String> {
    let cores = config.cores.max(1);
    let cpus = core_affinity::get_core_ids().unwrap_or_default();
    if cores > cpus.len() {
        eprintln!(
            "roo: {cores} cores asked for, {} CPUs usable: executors will not be pinned",
            cpus.len()
        );
    }
    raise_open_file_limit();
    let metrics_server = config
        .metrics_listen
        .as_deref()
        .map(MetricsServer::bind)
        .transpose()?;
    let lifecycle = Lifecycle::new()?;
    let (app_output, mut output_fds) = AppOutput::start(cores)?;
    pybridge::subinterpreter::initialize();
    let config = Arc::new(config);
    let (startup_tx, startup_rx) = mpsc::channel();
    let mut routed = mesh::full_mesh(cores, flow::MESH_CAPACITY).into_iter();
    let mut handoffs = mesh::full_mesh(cores, flow::MESH_CAPACITY).into_iter();
    let mut go_senders = vec![];
    let mut executors = vec![];
    for id in 0..cores {
        let channels = CoreChannels {
            routed: routed.next().expect("one per core"),
            handoffs: handoffs.next().expect("one per core"),
            output: output_fds.remove(0),
        };
        let (go_tx, go_rx) = mpsc::channel();
        go_senders.push(go_tx);
        let placement = if cores <= cpus.len() {
            Placement::Fixed(cpus[id].id)
        } else {
            Placement::Unbound
        };
        let (config, lifecycle, startup) = (config.clone(), lifecycle.clone(), startup_tx.clone());
        let executor = LocalExecutorBuilder::new(placement)
            .name(&format!("roo-core-{id}"))
            .spin_before_park(config.idle_poll)
            .spawn(move || shard::run_core(id, config, lifecycle, channels, startup, go_rx))
            .map_err(|e| format!("cannot start the executor of core {id}: {e}"))?;
        executors.push(executor);
    }
    drop(startup_tx);

    let (metrics, queries, kafka_clients, checkpointer) =
        match start_up(cores, &startup_rx, &go_senders, &config, &lifecycle) {
            Ok(started) => started,
            Err(message) => {
                lifecycle.abort();
                drop(go_senders);
                for executor in executors {
                    let _ = executor.join();
                }
                app_output.finish(flow::OUTPUT_FLUSH_WAIT);
                return Err(message);
            }
        };
    if let Some(server) = metrics_server {
        eprintln!(
            "roo: metrics on http://{0}/metrics, dashboard on http://{0}/",
            server.address()
        );
        server.serve(metrics.clone(), queries)?;
    }
    if config.progress {
        progress::start(metrics.clone(), lifecycle.clone())?;
    }
    eprintln!("roo: ready");
    let flush_cores = if metrics.topology.has_ticks() {
        cores as u64
    } else {
        0
    };
    let limits = DrainLimits {
        drain_timeout: config.drain_timeout,
        give_up: flow::SINK_GIVE_UP,
    };
    let drain = lifecycle.supervise(config.exit_when_idle, limits, flush_cores);
    let mut summaries = vec![];
    // A cut drain may have left a core inside app code that never returns: its executor
    // is not waited for.
    if !matches!(drain, DrainEnd::Cut(_)) {
        for executor in executors {
            if let Ok(Some(summary)) = executor.join() {
                summaries.push(summary);
            }
        }
        if let Some(report) = checkpointer.and_then(Checkpointer::finish) {
            eprintln!("roo: {}", checkpoint::summary(&report));
        }
        kafka_clients.finish();
    }
    let output_lines_dropped = app_output.finish(flow::OUTPUT_FLUSH_WAIT);
    Ok(RunReport {
        summaries,
        drain,
        output_lines_dropped,
    })
}

/// A server with many connections needs many descriptors: take the hard limit.
fn raise_open_file_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            if let Err(error) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                eprintln!("roo: cannot raise the open file limit from {soft} to {hard}: {error}");
            }
        }
    }
}

/// Several cores on one GIL run Python one at a time and hand the GIL back and forth,
/// which costs more than one core running alone (benches/RESULTS.md).
fn shared_gil_note(cores: usize) -> String {
    format!(
        "roo: note: the {cores} cores share one GIL (Python < 3.12, or --python-mode main), so \
         only one runs Python at a time; --cores 1 is usually faster for Python-bound apps"
    )
}

/// A sink whose address is one of the app's own TCP sources would feed roo its own output
/// (usually `--in` and `--out` given the same address): the reason, if one does.
fn sink_into_own_source(topology: &Topology) -> Option<String> {
    use std::net::ToSocketAddrs;
    let resolve = |address: &str| -> Vec<std::net::SocketAddr> {
        address
            .to_socket_addrs()
            .map(|addrs| addrs.collect())
            .unwrap_or_default()
    };
    for source in &topology.sources {
        if !matches!(source.input, SourceInput::Tcp { .. }) {
            continue;
        }
        let listens = resolve(&source.address());
        for sink in topology.sinks.iter().filter(|sink| !sink.is_kafka()) {
            let same = resolve(&sink.address()).iter().any(|to| {
                listens.iter().any(|on| {
                    on.port() == to.port() && (on.ip() == to.ip() || on.ip().is_unspecified())
                })
            });
            if same {
                return Some(format!(
                    "the sink {} is source '{}''s own address ({}): roo would read its own \
                     output; give --out (the sink) another address than --in (the source)",
                    sink.address(),
                    source.name,
                    source.address()
                ));
            }
        }
    }
    None
}

/// Collects every core's loaded topology, checks they agree, sends the partition table,
/// and waits until every core is serving; returns the topology and counters to read.
fn start_up(
    cores: usize,
    startup: &mpsc::Receiver<(usize, Startup)>,
    go: &[mpsc::Sender<Go>],
    config: &EngineConfig,
    lifecycle: &Arc<Lifecycle>,
) -> Result<
    (
        Arc<Metrics>,
        StateQueries,
        kafka::Clients,
        Option<Checkpointer>,
    ),
    String,
> {
    let mut loaded = vec![None; cores];
    for _ in 0..cores {
        match startup.recv() {
            Ok((id, Startup::Loaded(Ok(loaded_core)))) => loaded[id] = Some(loaded_core),
            Ok((_, Startup::Loaded(Err(message)))) => return Err(message),
            Ok((_, Startup::Ready(_))) | Err(_) => {
                return Err("a core stopped during start-up".into())
            }
        }
    }
    let loaded: Vec<_> = loaded.into_iter().flatten().collect();
    let topology = loaded[0].0.clone();
    if let Some(id) = loaded.iter().position(|(other, _, _)| *other != topology) {
        return Err(format!("core {id} built a different application than core 0: application_setup must not depend on which interpreter runs it"));
    }
    if let Some(message) = sink_into_own_source(&topology) {
        return Err(message);
    }
    let table = Arc::new(PartitionTable::new(&topology, cores));
    for (id, (_, gil, _)) in loaded.iter().enumerate() {
        let (listed, slots) = table.owned_by(id);
        eprintln!("roo: core {id}: {gil}; owns {listed} listed partition keys and {slots} of {} hash slots", partition_table::VIRTUAL_PARTITIONS);
    }
    if cores > 1 && loaded[0].1 != GilKind::OwnGil {
        eprintln!("{}", shared_gil_note(cores));
    }
    let backlogs = Arc::new(Backlogs::new(cores));
    // Transactional sinks first: starting them fences off an earlier run's producers, so
    // the groups' committed offsets read next are final.
    let transactions = config
        .resilience
        .as_ref()
        .map(|resilience| checkpoint::transactions(resilience, &topology));
    let (mut kafka_clients, mut kafka_shares) = kafka::Clients::start_producers(
        &topology,
        cores,
        &config.kafka,
        lifecycle,
        transactions.as_ref(),
    )?;
    let transactional = kafka_clients.transactional_producers();
    let usable = match transactional.is_empty() {
        true => Usable::Newest,
        false => Usable::Committed(kafka::committed_offsets(&topology, &config.kafka)?),
    };
    let restored = match &config.resilience {
        Some(resilience) => {
            let restored =
                checkpoint::restore(resilience, &topology, cores, usable, |state, key| {
                    table.owner(state, key)
                })?;
            match &restored {
                Some(restored) => eprintln!(
                    "roo: restoring checkpoint {} of {}",
                    restored.epoch,
                    resilience.dir.display()
                ),
                None => eprintln!(
                    "roo: no checkpoint in {} yet: starting with empty state",
                    resilience.dir.display()
                ),
            }
            Some(restored)
        }
        None => None,
    };
    let resume = restored.as_ref().map(|restored| {
        restored
            .as_ref()
            .map(|r| r.kafka.clone())
            .unwrap_or_default()
    });
    let checkpointed = kafka_clients.start_consumers(
        &mut kafka_shares,
        &topology,
        &config.kafka,
        lifecycle,
        resume.as_ref(),
    )?;
    let (checkpointer, mut links) = match &config.resilience {
        Some(resilience) => {
            let plan = checkpoint::Plan {
                resilience: resilience.clone(),
                app: topology.name.clone(),
                shape: checkpoint::shape_of(&topology),
                kafka: checkpointed,
                transactions: transactional,
                transaction_timeout: transactions.as_ref().map_or(Duration::ZERO, |t| t.timeout),
            };
            let (checkpointer, links) = Checkpointer::start(plan, cores, lifecycle.clone())?;
            (Some(checkpointer), links.into_iter().map(Some).collect())
        }
        None => (None, (0..cores).map(|_| None).collect::<Vec<_>>()),
    };
    let (query_senders, query_links) = control::links(cores);
    let mut query_links = query_links.into_iter();
    let mut entries = restored
        .flatten()
        .map(|restored| restored.entries)
        .unwrap_or_else(|| (0..cores).map(|_| vec![]).collect());
    for (core, (sender, share)) in go.iter().zip(kafka_shares).enumerate() {
        let _ = sender.send(Go {
            table: table.clone(),
            backlogs: backlogs.clone(),
            kafka_sources: share.sources,
            kafka_producers: share.producers,
            restore: std::mem::take(&mut entries[core]),
            checkpoints: links[core].take(),
            queries: query_links
                .next()
                .filter(|_| config.external.is_some() || config.metrics_listen.is_some()),
        });
    }
    for _ in 0..cores {
        match startup.recv() {
            Ok((_, Startup::Ready(Ok(())))) => {}
            Ok((_, Startup::Ready(Err(message)))) => return Err(message),
            _ => return Err("a core stopped during start-up".into()),
        }
    }
    let queries = StateQueries::new(query_senders, table.clone(), Arc::new(topology.clone()));
    if let Some(address) = &config.external {
        let channel = control::external::Channel {
            lifecycle: lifecycle.clone(),
            queries: queries.clone(),
        };
        control::external::start(address, channel)?;
    }
    for (index, source) in topology.sources.iter().enumerate() {
        match source.input {
            SourceInput::Generator => eprintln!(
                "roo: source '{}' is a generator, run by core {}",
                source.name,
                index % cores
            ),
            SourceInput::Tcp { .. } => eprintln!(
                "roo: source '{}' listening on {}",
                source.name,
                source.address()
            ),
            SourceInput::Kafka(ref kafka) => eprintln!(
                "roo: source '{}' reading {} as group '{}'",
                source.name,
                source.address(),
                kafka.group
            ),
        }
    }
    let counters = loaded
        .into_iter()
        .map(|(_, _, counters)| counters)
        .collect();
    let metrics = Arc::new(Metrics::new(topology, counters, backlogs));
    Ok((metrics, queries, kafka_clients, checkpointer))
}
