// Shared by several test binaries; each uses only part of it.
#![allow(dead_code)]

//! A small stand-in for the engine in pybridge's tests: N threads, each with its own
//! Worker (and interpreter), exchanging routed messages over std channels.

use bytes::Bytes;
use model::{clock, Meta, Placement, Routed, Value};
use protocol::{FrameDecoder, Framing, DEFAULT_MAX_FRAME_SIZE};
use pybridge::{OutputFds, Outputs, PythonMode, Worker};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn app(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apps")
        .join(name)
}

/// Keys go to cores by hash; with `hand_over`, every parallel step runs on the next core
/// (as the engine's does for a core that is behind).
pub struct ByHash {
    pub cores: usize,
    pub hand_over: bool,
}

impl Placement for ByHash {
    fn owner(&self, _state: usize, key: &Value) -> usize {
        (key.stable_hash() % self.cores as u64) as usize
    }

    fn parallel_runner(&self, here: usize) -> usize {
        if self.hand_over {
            (here + 1) % self.cores
        } else {
            here
        }
    }
}

enum Command {
    /// Raw socket bytes for a source, framed by the worker's rules.
    Bytes(usize, Vec<u8>),
    Routed(Vec<Routed>),
    Report(Sender<Report>),
    Stop,
}

#[derive(Debug, Default)]
pub struct Report {
    pub sinks: Vec<Vec<u8>>,
    pub errors: BTreeMap<String, u64>,
    pub routed_in: u64,
    pub routed_out: u64,
    pub handed_over: u64,
}

pub struct Cluster {
    senders: Vec<Sender<Command>>,
    threads: Vec<JoinHandle<()>>,
    in_flight: Arc<AtomicIsize>,
}

impl Cluster {
    pub fn start(
        app_name: &str,
        args: &[&str],
        cores: usize,
        mode: PythonMode,
    ) -> Result<Cluster, String> {
        Cluster::start_with(app_name, args, cores, mode, false)
    }

    /// As `start`, with every parallel step handed to the next core.
    pub fn start_handing_over(
        app_name: &str,
        args: &[&str],
        cores: usize,
    ) -> Result<Cluster, String> {
        Cluster::start_with(app_name, args, cores, PythonMode::Subinterpreters, true)
    }

    fn start_with(
        app_name: &str,
        args: &[&str],
        cores: usize,
        mode: PythonMode,
        hand_over: bool,
    ) -> Result<Cluster, String> {
        let path = app(app_name);
        let mut full_args = vec![path.display().to_string()];
        full_args.extend(args.iter().map(|a| a.to_string()));
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..cores).map(|_| channel::<Command>()).unzip();
        let in_flight = Arc::new(AtomicIsize::new(0));
        let (started_tx, started_rx) = channel();
        let mut threads = vec![];
        for (core, receiver) in receivers.into_iter().enumerate() {
            let (peers, in_flight, started, path, args) = (
                senders.clone(),
                in_flight.clone(),
                started_tx.clone(),
                path.clone(),
                full_args.clone(),
            );
            threads.push(std::thread::spawn(move || {
                match Worker::start(core, mode, &path, &args, OutputFds::PROCESS) {
                    Ok(worker) => {
                        started.send(Ok(())).unwrap();
                        let placement = ByHash {
                            cores: peers.len(),
                            hand_over,
                        };
                        serve(core, worker, placement, receiver, peers, in_flight);
                    }
                    Err(e) => started.send(Err(e)).unwrap(),
                }
            }));
        }
        let mut cluster = Cluster {
            senders,
            threads,
            in_flight,
        };
        for _ in 0..cores {
            if let Err(e) = started_rx.recv().unwrap() {
                cluster.stop();
                for t in cluster.threads.drain(..) {
                    t.join().unwrap();
                }
                return Err(e);
            }
        }
        Ok(cluster)
    }

    /// Bytes arriving on `source`'s connection, owned by `core`.
    pub fn send(&self, core: usize, source: usize, bytes: Vec<u8>) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.senders[core]
            .send(Command::Bytes(source, bytes))
            .unwrap();
    }

    /// Workers hold each other's senders, so they are told to stop rather than disconnected.
    fn stop(&self) {
        for sender in &self.senders {
            let _ = sender.send(Command::Stop);
        }
    }

    /// Waits until nothing is in flight, then collects every core's outputs.
    pub fn finish(mut self) -> Vec<Report> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.in_flight.load(Ordering::SeqCst) != 0 {
            assert!(
                Instant::now() < deadline,
                "messages still in flight after 30 s"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let reports = self
            .senders
            .iter()
            .map(|s| {
                let (tx, rx) = channel();
                s.send(Command::Report(tx)).unwrap();
                rx.recv().unwrap()
            })
            .collect();
        self.stop();
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
        reports
    }
}

fn serve(
    core: usize,
    mut worker: Worker,
    placement: ByHash,
    commands: Receiver<Command>,
    peers: Vec<Sender<Command>>,
    in_flight: Arc<AtomicIsize>,
) {
    let mut out = Outputs::new(worker.topology(), peers.len());
    let mut sinks: Vec<Vec<u8>> = vec![vec![]; worker.topology().sinks.len()];
    let mut decoders: Vec<FrameDecoder> = (0..worker.topology().sources.len())
        .map(|_| FrameDecoder::new(Framing::Raw, DEFAULT_MAX_FRAME_SIZE))
        .collect();
    for (source, decoder) in decoders.iter_mut().enumerate() {
        if let Some(model::HeaderDecoding::BigEndian(width)) =
            worker.topology().sources[source].header()
        {
            *decoder = FrameDecoder::new(Framing::LengthPrefixed(width), DEFAULT_MAX_FRAME_SIZE);
        }
    }
    while let Ok(command) = commands.recv() {
        match command {
            Command::Bytes(source, bytes) => {
                decoders[source].read_buf().extend_from_slice(&bytes);
                let mut frames: Vec<Bytes> = vec![];
                worker
                    .take_frames(source, &mut decoders[source], &mut frames)
                    .expect("framing");
                let meta = Meta {
                    source: source as u32,
                    ingest_ns: clock::now_ns(),
                    event_ns: None,
                };
                worker.run_frames(source, &frames, meta, &placement, &mut out);
            }
            Command::Routed(batch) => worker.run_routed(batch, &placement, &mut out),
            Command::Stop => break,
            Command::Report(reply) => {
                let figures = worker.counters().read();
                reply
                    .send(Report {
                        sinks: std::mem::take(&mut sinks),
                        errors: figures.errors.into_iter().collect(),
                        routed_in: figures.routed_in,
                        routed_out: figures.routed_out,
                        handed_over: figures.handed_over,
                    })
                    .unwrap();
                continue;
            }
        }
        for (sink, buf) in out.sinks.iter_mut().enumerate() {
            sinks[sink].extend_from_slice(&buf.bytes.split());
        }
        for (peer, routed) in out.routed.iter_mut().enumerate() {
            if !routed.is_empty() {
                assert_ne!(peer, core, "a local message was routed");
                in_flight.fetch_add(1, Ordering::SeqCst);
                peers[peer]
                    .send(Command::Routed(std::mem::take(routed)))
                    .unwrap();
            }
        }
        in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A 4-byte big-endian framed payload.
/// The start-up error of `app` (given `args`) on one core; panics if it starts.
pub fn startup_error(app: &str, args: &[&str]) -> String {
    match Cluster::start(app, args, 1, PythonMode::Subinterpreters) {
        Ok(_) => panic!("{app} {args:?} should not start"),
        Err(e) => e,
    }
}

pub fn frame(payload: &str) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload.as_bytes());
    out
}

/// Lines of all sinks of all cores, sorted.
pub fn sorted_lines(reports: &[Report], sink: usize) -> Vec<String> {
    let mut lines: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            String::from_utf8(r.sinks[sink].clone())
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    lines
}

/// Fails, listing them, if any core counted an error.
pub fn assert_no_errors(reports: &[Report]) {
    let errors = total_errors(reports);
    assert!(errors.is_empty(), "{errors:?}");
}

pub fn total_errors(reports: &[Report]) -> BTreeMap<String, u64> {
    let mut all = BTreeMap::new();
    for r in reports {
        for (place, n) in &r.errors {
            *all.entry(place.clone()).or_insert(0) += n;
        }
    }
    all
}
