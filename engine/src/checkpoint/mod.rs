//! Checkpoints (`--resilience-dir`): every `--time-between-checkpoints` a consistent cut
//! of the whole process is written to disk, and a restarted roo starts from the newest
//! complete one.
//!
//! A checkpoint is a commit point (see `kafka`) that also saves state: the checkpointer
//! thread pauses every source, waits until what was read has run and been written out
//! (`Lifecycle::settle`), asks every core for its snapshot (its state partitions and
//! generator positions, encoded on the core: `Worker::snapshot`), takes the Kafka
//! sources' offsets run, lets the sources go on, and only then writes the files (off the
//! cores' threads: `files`). Once the checkpoint is durable, each Kafka consumer commits
//! the offsets it holds (without transactional sinks; with them, see below). After kill -9, the newest complete checkpoint's state and
//! offsets belong to one cut: replaying from those offsets applies every update once.
//!
//! With Kafka sinks, the output between two checkpoints is one transaction of each
//! sink's producer. The sources stay paused until the checkpoint is durable and the
//! transactions are committed, the Kafka sources' offsets with them (so no output of
//! the next epoch can join this one's transaction). A restart restores the newest
//! checkpoint whose offsets are the ones the groups committed; newer ones (written, their
//! transaction not committed, their output aborted) are removed.

pub mod files;

use crate::flow;
use crate::kafka::producer::KafkaProducer;
use crate::kafka::{CheckpointedSource, GroupOffsets, Transactions};
use crate::lifecycle::Lifecycle;
use files::Manifest;
use model::snapshot::Saved;
use model::Topology;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where and how often checkpoints are taken.
#[derive(Clone, Debug)]
pub struct Resilience {
    pub dir: PathBuf,
    pub interval: Duration,
}

/// The exit status when a Kafka sink's transaction cannot be committed (or would time
/// out because checkpoints keep failing).
pub const EXIT_TRANSACTION_FAILED: i32 = 75;

/// One core's answer to a snapshot request: its entries, or why they cannot be saved.
pub struct CoreSnapshot {
    pub core: usize,
    pub epoch: u64,
    pub body: Result<Vec<u8>, String>,
}

/// A core's end of the checkpointer: requests (by epoch) come in, snapshots go out.
pub struct CoreLink {
    pub requests: Receiver<u64>,
    pub answers: Sender<CoreSnapshot>,
}

/// A hash of what a checkpoint must agree with: the app's name, its states and sources.
pub fn shape_of(topology: &Topology) -> u64 {
    let mut text = format!("app {}\n", topology.name);
    for state in &topology.states {
        text += &format!("state {}\n", state.name);
    }
    for source in &topology.sources {
        text += &format!("source {}\n", source.name);
    }
    files::checksum(text.as_bytes())
}

/// How this run's Kafka sinks are transactional: ids that are the same for every run of
/// this app on this resilience directory (so a restart fences off the run before it),
/// and a transaction timeout of two checkpoint intervals and a minute, within Kafka's
/// default limit (`transaction.max.timeout.ms`, 15 minutes).
pub fn transactions(resilience: &Resilience, topology: &Topology) -> Transactions {
    let dir = resilience
        .dir
        .canonicalize()
        .unwrap_or_else(|_| resilience.dir.clone());
    let place = files::checksum(dir.to_string_lossy().as_bytes());
    let wanted = resilience.interval * 2 + Duration::from_secs(60);
    if wanted > flow::KAFKA_TRANSACTION_LONGEST {
        eprintln!(
            "roo: warning: with --time-between-checkpoints {:?} a Kafka sink's transaction \
             stays open longer than brokers allow by default ({:?}); give a shorter interval",
            resilience.interval,
            flow::KAFKA_TRANSACTION_LONGEST
        );
    }
    Transactions {
        id: format!("roo-{}-{place:016x}", topology.name.replace(' ', "_")),
        timeout: wanted.min(flow::KAFKA_TRANSACTION_LONGEST),
    }
}

/// The checkpoint a run starts from.
pub struct Restored {
    pub epoch: u64,
    /// Per core: the entries it owns.
    pub entries: Vec<Vec<Saved>>,
    /// Per Kafka source (by index): the offsets to go on from.
    pub kafka: BTreeMap<usize, BTreeMap<i32, i64>>,
}

/// Whether two offset maps agree, a source without offsets being one not listed.
fn same_offsets(a: &GroupOffsets, b: &GroupOffsets) -> bool {
    let listed = |m: &GroupOffsets| -> GroupOffsets {
        m.iter()
            .filter(|(_, offsets)| !offsets.is_empty())
            .map(|(source, offsets)| (*source, offsets.clone()))
            .collect()
    };
    listed(a) == listed(b)
}

/// Which checkpoint a restart may use.
pub enum Usable {
    /// The newest complete one (no transactional sink).
    Newest,
    /// The newest whose Kafka offsets are these, the ones the sinks' last committed
    /// transaction committed for the sources' groups.
    Committed(GroupOffsets),
}

/// Reads the checkpoint of `resilience.dir` that `usable` says (None: there is none) and
/// deals its entries to the cores that own them now (`owner`: state and key -> core;
/// generators go to the core that runs their source). With transactional sinks, the
/// checkpoints after the committed one (their output was aborted) are removed. Err if
/// the checkpoint belongs to another app.
pub fn restore(
    resilience: &Resilience,
    topology: &Topology,
    cores: usize,
    usable: Usable,
    owner: impl Fn(usize, &model::Value) -> usize,
) -> Result<Option<Restored>, String> {
    let dir = &resilience.dir;
    let loaded = match usable {
        Usable::Newest => files::newest(dir, |_| Ok(()))?,
        Usable::Committed(committed) => {
            let found = files::newest(dir, |manifest| {
                match same_offsets(&manifest.kafka, &committed) {
                    true => Ok(()),
                    false => Err("its sinks' transaction was not committed: its offsets are \
                                  not the ones the consumer groups committed"
                        .into()),
                }
            })?;
            // None has them: the committed one is torn or corrupt (or the groups' offsets
            // were moved). The oldest complete one loses nothing; what its epochs after it
            // wrote is written again.
            let found = match found {
                None if !same_offsets(&committed, &GroupOffsets::new()) => {
                    let oldest = files::oldest(dir)?;
                    if let Some(oldest) = &oldest {
                        eprintln!(
                            "roo: warning: no checkpoint in {} has the offsets the consumer \
                             groups committed ({committed:?}): restoring the oldest, epoch {}; \
                             the sinks' output after it is written again",
                            dir.display(),
                            oldest.manifest.epoch
                        );
                    }
                    oldest
                }
                found => found,
            };
            let kept = found.as_ref().map_or(0, |l| l.manifest.epoch);
            files::remove_after(dir, kept).map_err(|e| {
                format!(
                    "cannot remove uncommitted checkpoints from {}: {e}",
                    dir.display()
                )
            })?;
            found
        }
    };
    let Some(loaded) = loaded else {
        return Ok(None);
    };
    let manifest = &loaded.manifest;
    if manifest.app != topology.name || manifest.shape != shape_of(topology) {
        return Err(format!(
            "the checkpoint in {} is of app '{}' with other states or sources than this app \
             ('{}'): give another --resilience-dir, or remove it to start afresh",
            dir.display(),
            manifest.app,
            topology.name
        ));
    }
    let mut entries: Vec<Vec<Saved>> = (0..cores).map(|_| vec![]).collect();
    for (core, body) in loaded.bodies.iter().enumerate() {
        let saved = Saved::read_all(body).map_err(|e| {
            format!(
                "the checkpoint of epoch {} in {} cannot be read (core {core}: {})",
                manifest.epoch,
                dir.display(),
                e.0
            )
        })?;
        for entry in saved {
            let to = match &entry {
                Saved::State { state, key, .. } => owner(*state as usize, key),
                Saved::Generator { source, .. } => *source as usize % cores,
            };
            entries[to].push(entry);
        }
    }
    Ok(Some(Restored {
        epoch: manifest.epoch,
        entries,
        kafka: manifest.kafka.clone(),
    }))
}

/// What the checkpointer reports at the end of a run.
pub struct Report {
    pub taken: u64,
    /// How long sources were paused for each checkpoint.
    pub pauses: Vec<Duration>,
}

/// The checkpointer thread of a run.
pub struct Checkpointer {
    thread: JoinHandle<Report>,
}

/// What the checkpointer needs besides the cores' links.
pub struct Plan {
    pub resilience: Resilience,
    pub app: String,
    pub shape: u64,
    /// The Kafka sources: their run offsets, and how their offsets are committed.
    pub kafka: Vec<CheckpointedSource>,
    /// The Kafka sinks' transactional producers (none: sinks are not transactional).
    pub transactions: Vec<Arc<KafkaProducer>>,
    /// How long the sinks' transactions may stay open.
    pub transaction_timeout: Duration,
}

impl Checkpointer {
    /// Starts the checkpointer; returns it and each core's link to it.
    pub fn start(
        plan: Plan,
        cores: usize,
        lifecycle: Arc<Lifecycle>,
    ) -> Result<(Checkpointer, Vec<CoreLink>), String> {
        std::fs::create_dir_all(&plan.resilience.dir).map_err(|e| {
            format!(
                "cannot create the resilience directory {}: {e}",
                plan.resilience.dir.display()
            )
        })?;
        let (answers, answered) = mpsc::channel();
        let mut requests = vec![];
        let links = (0..cores)
            .map(|_| {
                let (ask, asked) = mpsc::channel();
                requests.push(ask);
                CoreLink {
                    requests: asked,
                    answers: answers.clone(),
                }
            })
            .collect();
        let first_epoch = files::next_epoch(&plan.resilience.dir)
            .map_err(|e| format!("cannot read {}: {e}", plan.resilience.dir.display()))?;
        let thread = std::thread::Builder::new()
            .name("roo-checkpoints".into())
            .spawn(move || {
                let mut run = Run {
                    plan,
                    lifecycle,
                    requests,
                    answered,
                    report: Report {
                        taken: 0,
                        pauses: vec![],
                    },
                };
                run.serve(first_epoch);
                run.report
            })
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
        Ok((Checkpointer { thread }, links))
    }

    /// Waits for the final checkpoint (taken once the drain is done) and reports.
    pub fn finish(self) -> Option<Report> {
        self.thread.join().ok()
    }
}

struct Run {
    plan: Plan,
    lifecycle: Arc<Lifecycle>,
    requests: Vec<Sender<u64>>,
    answered: Receiver<CoreSnapshot>,
    report: Report,
}

impl Run {
    fn serve(&mut self, first_epoch: u64) {
        let mut epoch = first_epoch;
        let mut next = Instant::now() + self.plan.resilience.interval;
        let mut last_taken = Instant::now();
        while self.lifecycle.running() {
            std::thread::sleep(
                flow::PHASE_POLL.min(next.saturating_duration_since(Instant::now())),
            );
            if Instant::now() < next || !self.lifecycle.running() {
                continue;
            }
            if self.take(epoch, true) {
                epoch += 1;
                last_taken = Instant::now();
            } else if !self.plan.transactions.is_empty()
                && last_taken.elapsed() > self.plan.transaction_timeout / 2
            {
                // The open transaction would soon be aborted by the broker, and what the
                // sinks write after that is lost.
                eprintln!(
                    "roo: no checkpoint could be taken for {:?}: the Kafka sinks' transaction \
                     would time out; roo stops, so that a restart goes on from the last \
                     committed checkpoint",
                    last_taken.elapsed()
                );
                std::process::exit(EXIT_TRANSACTION_FAILED);
            }
            next = Instant::now() + self.plan.resilience.interval;
        }
        while !self.lifecycle.done() {
            std::thread::sleep(flow::PHASE_POLL);
        }
        // Drained: everything read has run and been written; the final checkpoint needs
        // no pause.
        self.take(epoch, false);
    }

    /// Takes checkpoint `epoch`; false if it could not be (logged).
    fn take(&mut self, epoch: u64, pause: bool) -> bool {
        let started = Instant::now();
        if pause {
            self.lifecycle.pause_sources();
            if !self.lifecycle.settle() {
                self.lifecycle.resume_sources();
                eprintln!(
                    "roo: checkpoint {epoch} not taken: what was read did not finish running \
                     within {:?}",
                    flow::COMMIT_SETTLE_LIMIT
                );
                return false;
            }
        }
        let cut = self.cut(epoch);
        // The files are written while the sources go on, unless the sinks' transactions
        // must be committed before the next epoch's output starts.
        let transactional = !self.plan.transactions.is_empty();
        if pause && !transactional {
            self.lifecycle.resume_sources();
            self.report.pauses.push(started.elapsed());
        }
        let written = cut.and_then(|(bodies, kafka)| self.write(epoch, &bodies, kafka));
        if let (true, Ok(kafka)) = (transactional, &written) {
            self.commit_transactions(epoch, kafka);
        }
        if pause && transactional {
            self.lifecycle.resume_sources();
            self.report.pauses.push(started.elapsed());
        }
        let kafka = match written {
            Ok(kafka) => kafka,
            Err(why) => {
                eprintln!("roo: checkpoint {epoch} not taken: {why}");
                return false;
            }
        };
        self.report.taken += 1;
        if !transactional {
            for source in &self.plan.kafka {
                if let Some(offsets) = kafka.get(&source.source) {
                    let _ = source.commits.send(offsets.clone());
                }
            }
        }
        true
    }

    /// The cut of checkpoint `epoch`: every core's snapshot and the Kafka offsets run.
    fn cut(&mut self, epoch: u64) -> Result<(Vec<Vec<u8>>, GroupOffsets), String> {
        let bodies = self.collect(epoch)?;
        let kafka = self
            .plan
            .kafka
            .iter()
            .map(|source| (source.source, source.offsets.snapshot()))
            .collect();
        Ok((bodies, kafka))
    }

    /// Writes checkpoint `epoch`; returns its offsets.
    fn write(
        &self,
        epoch: u64,
        bodies: &[Vec<u8>],
        kafka: GroupOffsets,
    ) -> Result<GroupOffsets, String> {
        let manifest = Manifest {
            app: self.plan.app.clone(),
            shape: self.plan.shape,
            epoch,
            cores: vec![],
            kafka: kafka.clone(),
        };
        files::write(&self.plan.resilience.dir, manifest, bodies).map_err(|error| {
            format!(
                "it could not be written to {}: {error}",
                self.plan.resilience.dir.display()
            )
        })?;
        Ok(kafka)
    }

    /// Commits every sink's transaction. The first sink's, committed last, carries the
    /// Kafka sources' `offsets`: once it is committed the checkpoint is the one a restart
    /// goes on from (a sink committed before it may have its epoch's output written again). A transaction that cannot be committed leaves
    /// this run's output and the checkpoint apart: roo stops, and a restart goes on from
    /// the last committed checkpoint.
    fn commit_transactions(&self, epoch: u64, offsets: &GroupOffsets) {
        let mut with_first = vec![];
        for source in &self.plan.kafka {
            let (Some(group), Some(offsets)) = (&source.group, offsets.get(&source.source)) else {
                continue;
            };
            with_first.push((source.topic.as_str(), group, offsets));
        }
        for (index, producer) in self.plan.transactions.iter().enumerate().rev() {
            let with = if index == 0 { &with_first[..] } else { &[] };
            if let Err(why) = producer.commit_epoch(with) {
                eprintln!(
                    "roo: checkpoint {epoch}: {why}; roo stops, so that a restart goes on from \
                     the last checkpoint whose output was committed"
                );
                std::process::exit(EXIT_TRANSACTION_FAILED);
            }
        }
    }

    /// Every core's snapshot for `epoch`, in core order.
    fn collect(&mut self, epoch: u64) -> Result<Vec<Vec<u8>>, String> {
        for ask in &self.requests {
            ask.send(epoch)
                .map_err(|_| "a core has stopped".to_string())?;
        }
        let mut bodies: Vec<Option<Vec<u8>>> = vec![None; self.requests.len()];
        let deadline = Instant::now() + flow::SNAPSHOT_WAIT;
        while bodies.iter().any(Option::is_none) {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.answered.recv_timeout(wait) {
                Ok(answer) if answer.epoch == epoch => bodies[answer.core] = Some(answer.body?),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the cores did not answer within {:?}",
                        flow::SNAPSHOT_WAIT
                    ))
                }
                Err(RecvTimeoutError::Disconnected) => return Err("a core has stopped".into()),
            }
        }
        Ok(bodies.into_iter().flatten().collect())
    }
}

/// Pauses and their quantiles, for the summary: `N checkpoints, pause p50 X p99 Y max Z`.
pub fn summary(report: &Report) -> String {
    let mut pauses = report.pauses.clone();
    pauses.sort_unstable();
    let at = |q: f64| -> Duration {
        match pauses.len() {
            0 => Duration::ZERO,
            n => pauses[((n as f64 * q).ceil() as usize).clamp(1, n) - 1],
        }
    };
    format!(
        "{} checkpoints written; sources paused p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        report.taken,
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    )
}

/// What a core finds on its link to the checkpointer.
pub enum Asked {
    /// A snapshot for this epoch.
    Snapshot(u64),
    Nothing,
    /// The checkpointer has stopped.
    Gone,
}

/// The checkpointer's request waiting on `link` now (a core's task polls it).
pub fn pending_request(link: &CoreLink) -> Asked {
    match link.requests.try_recv() {
        Ok(epoch) => Asked::Snapshot(epoch),
        Err(mpsc::TryRecvError::Empty) => Asked::Nothing,
        Err(mpsc::TryRecvError::Disconnected) => Asked::Gone,
    }
}

/// Waits (at most `flow::SNAPSHOT_WAIT`) for the final request, once the core has
/// stopped; None if none comes.
pub fn final_request(link: &CoreLink) -> Option<u64> {
    link.requests.recv_timeout(flow::SNAPSHOT_WAIT).ok()
}
