//! A Kafka source's consumer thread: joins the group, deals records to the cores, and
//! commits what has run at commit points (see the module above).

use super::{ClientLog, KafkaOptions};
use crate::flow;
use crate::lifecycle::Lifecycle;
use bytes::{Bytes, BytesMut};
use model::topology::{kafka_place, KafkaSource};
use model::Record;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, ConsumerGroupMetadata, Rebalance,
};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The next offset to commit per partition of one source: after the last record a core
/// ran. Cores record it once per batch; the consumer thread commits it.
#[derive(Default)]
pub struct RunOffsets {
    next: Mutex<BTreeMap<i32, i64>>,
}

impl RunOffsets {
    /// The records of a batch have run.
    pub fn ran(&self, records: &[Record]) {
        let mut next = self.next.lock().expect("offsets lock");
        for record in records {
            next.insert(record.partition, record.offset + 1);
        }
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<i32, i64> {
        self.next.lock().expect("offsets lock").clone()
    }

    fn forget(&self, partition: i32) {
        self.next.lock().expect("offsets lock").remove(&partition);
    }
}

/// What the cores get of a Kafka source: their batches of records, and where they say
/// what has run.
pub struct Dealt {
    pub batches: Vec<Receiver<Vec<Record>>>,
    pub offsets: Arc<RunOffsets>,
    /// The consumer's group, for committing offsets in a sink's transaction.
    pub group: Option<ConsumerGroupMetadata>,
}

/// The consumer's side of commit points and rebalances (librdkafka calls the rebalance
/// hooks inside `poll`, on the consumer thread).
struct Committer {
    topic: String,
    lifecycle: Arc<Lifecycle>,
    offsets: Arc<RunOffsets>,
    /// Offsets this consumer committed, per partition.
    committed: Mutex<BTreeMap<i32, i64>>,
    /// Partition -> core, for the partitions assigned to this process.
    deal: Mutex<HashMap<i32, usize>>,
    /// Bumped at every assignment, so the thread knows to reread `deal`.
    assignments: AtomicU64,
    /// Per partition, the offset after the last record handed to a core.
    sent: Mutex<HashMap<i32, i64>>,
    /// `sent` of the partitions taken away whose offsets could not be committed (the
    /// broker was down, or the group had forgotten this member). Those records have run
    /// here; if a partition comes back from an older committed offset, they are
    /// skipped, not run twice.
    sent_before_failed_commit: Mutex<HashMap<i32, i64>>,
    cores: usize,
    /// With checkpoints, offsets are committed only as part of a durable checkpoint.
    checkpointed: bool,
    log: ClientLog,
}

impl ClientContext for Committer {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.log.client_log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.log.client_error(error, reason);
    }
}

impl ConsumerContext for Committer {
    /// Partitions taken away are no longer dealt (their records not yet handed to a
    /// core are dropped: they are read again by whoever gets them) and are committed
    /// as far as they have run, so the member that gets them goes on from there; where
    /// the commit fails, how far they were sent is kept (`sent_before_failed_commit`).
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(revoked) = rebalance {
            if self.checkpointed {
                return;
            }
            let partitions: Vec<i32> = revoked.elements().iter().map(|e| e.partition()).collect();
            self.deal
                .lock()
                .expect("lock")
                .retain(|partition, _| !partitions.contains(partition));
            self.assignments.fetch_add(1, Ordering::AcqRel);
            let committed = self.commit_point(consumer, Some(&partitions));
            let mut sent = self.sent.lock().expect("lock");
            let mut kept = self.sent_before_failed_commit.lock().expect("lock");
            for partition in &partitions {
                match (committed, sent.remove(partition)) {
                    (false, Some(next)) => kept.insert(*partition, next),
                    _ => kept.remove(partition),
                };
            }
            for partition in partitions {
                self.offsets.forget(partition);
                self.committed.lock().expect("lock").remove(&partition);
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(assigned) => {
                let mut partitions: Vec<i32> =
                    assigned.elements().iter().map(|e| e.partition()).collect();
                partitions.sort_unstable();
                let deal = partitions
                    .iter()
                    .enumerate()
                    .map(|(i, &partition)| (partition, i % self.cores))
                    .collect();
                *self.deal.lock().expect("lock") = deal;
                self.assignments.fetch_add(1, Ordering::AcqRel);
                eprintln!(
                    "roo: kafka topic '{}': assigned partitions {partitions:?}",
                    self.topic
                );
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => self
                .log
                .print("rebalance", &format!("rebalance failed: {error}")),
        }
    }
}

impl Committer {
    /// Pauses every source, waits until what was read has run and been written out, and
    /// commits the offsets run (of `only` these partitions, or of every one assigned).
    /// False if that could not be done.
    fn commit_point(&self, consumer: &BaseConsumer<Self>, only: Option<&[i32]>) -> bool {
        self.lifecycle.pause_sources();
        let settled = self.lifecycle.settle();
        let committed = settled && self.commit(consumer, only);
        if !settled {
            self.log.print(
                "unsettled",
                "offsets not committed at this commit point: input did not finish running \
                 within the time allowed (they are committed at a later one)",
            );
        }
        self.lifecycle.resume_sources();
        committed
    }

    /// Notes how far `batch`'s partitions have been handed to the cores.
    fn note_sent(&self, batch: &[Record]) {
        let mut sent = self.sent.lock().expect("lock");
        for (i, record) in batch.iter().enumerate() {
            let last_of_its_partition = batch
                .get(i + 1)
                .is_none_or(|next| next.partition != record.partition);
            if last_of_its_partition {
                sent.insert(record.partition, record.offset + 1);
            }
        }
    }

    /// Commits the run offsets that moved since the last commit; false if that failed.
    fn commit(&self, consumer: &BaseConsumer<Self>, only: Option<&[i32]>) -> bool {
        self.commit_offsets(consumer, self.offsets.snapshot(), only)
    }

    /// Commits `offsets` (of `only` these partitions, or of every one assigned) where
    /// they moved since the last commit; false if the broker refused or did not answer.
    fn commit_offsets(
        &self,
        consumer: &BaseConsumer<Self>,
        offsets: BTreeMap<i32, i64>,
        only: Option<&[i32]>,
    ) -> bool {
        let assigned = match only {
            Some(partitions) => partitions.to_vec(),
            None => self.deal.lock().expect("lock").keys().copied().collect(),
        };
        let mut committed = self.committed.lock().expect("lock");
        let mut list = TopicPartitionList::new();
        let mut moved = vec![];
        for (partition, next) in offsets {
            if assigned.contains(&partition) && committed.get(&partition) != Some(&next) {
                let _ = list.add_partition_offset(&self.topic, partition, Offset::Offset(next));
                moved.push((partition, next));
            }
        }
        if moved.is_empty() {
            return true;
        }
        match consumer.commit(&list, CommitMode::Sync) {
            Ok(()) => {
                committed.extend(moved);
                true
            }
            Err(error) => {
                self.log
                    .print("commit", &format!("committing offsets failed: {error}"));
                false
            }
        }
    }
}

/// Creates the consumer of Kafka source `spec`, checks its topic, and starts its thread.
/// Err (a start-up error) if the topic does not exist; a broker that cannot be reached
/// is only reported, and tried again by librdkafka.
pub fn start(
    name: &str,
    spec: &KafkaSource,
    cores: usize,
    options: &KafkaOptions,
    lifecycle: Arc<Lifecycle>,
    checkpoints: Option<Checkpointed>,
) -> Result<(JoinHandle<()>, Dealt), String> {
    let place = source_place(name, spec);
    // With checkpoints, every partition the restored checkpoint knows stays in the next
    // checkpoints, also one that brings no record in this run.
    let offsets = Arc::new(RunOffsets {
        next: Mutex::new(
            checkpoints
                .as_ref()
                .map(|c| c.resume.clone())
                .unwrap_or_default(),
        ),
    });
    let committer = Committer {
        topic: spec.topic.clone(),
        lifecycle: lifecycle.clone(),
        offsets: offsets.clone(),
        committed: Mutex::default(),
        deal: Mutex::default(),
        assignments: AtomicU64::new(0),
        sent: Mutex::default(),
        sent_before_failed_commit: Mutex::default(),
        cores,
        checkpointed: checkpoints.is_some(),
        log: ClientLog::new(place.clone()),
    };
    // A checkpoint's offset that the broker says is out of range is an error, not a
    // silent jump to the earliest record (that would apply records twice).
    let reset = match checkpoints {
        Some(_) => "error",
        None => "earliest",
    };
    let config = options.client_config(
        &spec.brokers,
        &[
            ("group.id", &spec.group),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", reset),
            ("enable.partition.eof", "false"),
            // librdkafka's 500 ms lets a broker hold a fetch that long when records come
            // slowly, and that is latency (benches/RESULTS.md, "Kafka peers").
            ("fetch.wait.max.ms", "10"),
        ],
    );
    let consumer: BaseConsumer<Committer> = config
        .create_with_context(committer)
        .map_err(|e| format!("{place}: cannot create a consumer: {e}"))?;
    let partitions = topic_partitions(&consumer, &spec.topic, &place)?;
    let group = consumer.group_metadata();
    let commits = match checkpoints {
        Some(Checkpointed { resume, commits }) => {
            let partitions = partitions.ok_or_else(|| {
                format!("{place}: cannot read the topic's partitions: no broker answers")
            })?;
            assign_from_checkpoint(&consumer, &spec.topic, &partitions, &resume, &place)?;
            Some(commits)
        }
        None => {
            consumer
                .subscribe(&[&spec.topic])
                .map_err(|e| format!("{place}: cannot subscribe: {e}"))?;
            None
        }
    };
    let (senders, batches): (Vec<_>, Vec<_>) = (0..cores)
        .map(|_| mpsc::sync_channel(flow::KAFKA_BATCHES_QUEUED))
        .unzip();
    let thread = std::thread::Builder::new()
        .name(format!("roo-kafka-{name}"))
        .spawn({
            let interval = options.commit_interval;
            move || consume(consumer, senders, lifecycle, interval, commits)
        })
        .map_err(|e| format!("{place}: cannot start the consumer thread: {e}"))?;
    Ok((
        thread,
        Dealt {
            batches,
            offsets,
            group,
        },
    ))
}

/// The topic's partitions (sorted), or None if the brokers do not answer (reported; left
/// to librdkafka's retries). A topic the brokers say does not exist is a start-up error.
fn topic_partitions<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    place: &str,
) -> Result<Option<Vec<i32>>, String> {
    let metadata = match consumer.fetch_metadata(Some(topic), flow::KAFKA_METADATA_WAIT) {
        Ok(metadata) => metadata,
        Err(error) => {
            eprintln!(
                "roo: {place}: brokers not reachable ({error}); roo keeps trying to reach them"
            );
            return Ok(None);
        }
    };
    let found = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .filter(|t| {
            t.error() != Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                && !t.partitions().is_empty()
        });
    let Some(found) = found else {
        return Err(format!(
            "{place}: the topic does not exist: create it first (for example with \
             scripts/kafka-broker.sh topic {topic} PARTITIONS)"
        ));
    };
    let mut partitions: Vec<i32> = found.partitions().iter().map(|p| p.id()).collect();
    partitions.sort_unstable();
    Ok(Some(partitions))
}

/// The offsets Kafka source `spec`'s group has committed for its topic, per partition
/// (partitions without one are left out). With a transactional sink these say which
/// checkpoint's transaction was the last committed.
pub fn committed_offsets(
    name: &str,
    spec: &KafkaSource,
    options: &KafkaOptions,
) -> Result<BTreeMap<i32, i64>, String> {
    let place = source_place(name, spec);
    let consumer: BaseConsumer = options
        .client_config(&spec.brokers, &[("group.id", &spec.group)])
        .create()
        .map_err(|e| format!("{place}: cannot create a consumer: {e}"))?;
    let partitions = topic_partitions(&consumer, &spec.topic, &place)?.ok_or_else(|| {
        format!("{place}: cannot read the group's committed offsets: no broker answers")
    })?;
    let mut list = TopicPartitionList::new();
    for partition in partitions {
        list.add_partition(&spec.topic, partition);
    }
    let committed = consumer
        .committed_offsets(list, flow::KAFKA_METADATA_WAIT)
        .map_err(|e| format!("{place}: cannot read the group's committed offsets: {e}"))?;
    Ok(committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(next) => Some((e.partition(), next)),
            _ => None,
        })
        .collect())
}

fn source_place(name: &str, spec: &KafkaSource) -> String {
    format!(
        "source '{name}' ({})",
        kafka_place(&spec.topic, &spec.brokers)
    )
}

/// The consumer thread's loop: poll, deal, commit; at the end, the last commit.
fn consume(
    consumer: BaseConsumer<Committer>,
    senders: Vec<SyncSender<Vec<Record>>>,
    lifecycle: Arc<Lifecycle>,
    commit_interval: Duration,
    checkpoint_commits: Option<Receiver<BTreeMap<i32, i64>>>,
) {
    let context = consumer.context();
    let cores = senders.len();
    let mut dealer = Dealer::new(cores);
    let mut assignment = Assignment::default();
    let hand_over = |core: usize, batch: Vec<Record>| {
        context.note_sent(&batch);
        send(&senders[core], batch, &lifecycle);
    };
    let mut next_commit = Instant::now() + commit_interval;
    while lifecycle.running() {
        let mut timeout = flow::KAFKA_POLL;
        for _ in 0..flow::KAFKA_RECORDS_PER_POLL {
            let Some(polled) = consumer.poll(timeout) else {
                break;
            };
            timeout = Duration::ZERO;
            assignment.follow(context, &mut dealer);
            match polled {
                Ok(message) => {
                    let Some(core) = assignment.core_of(&message, context) else {
                        continue;
                    };
                    if let Some(full) = dealer.add(core, &message) {
                        hand_over(core, full);
                    }
                }
                Err(error) => context
                    .log
                    .print("poll", &format!("reading failed: {error}")),
            }
        }
        assignment.follow(context, &mut dealer);
        for (core, batch) in dealer.take_all() {
            hand_over(core, batch);
        }
        match &checkpoint_commits {
            Some(commits) => {
                while let Ok(offsets) = commits.try_recv() {
                    context.commit_offsets(&consumer, offsets, None);
                }
            }
            None if Instant::now() >= next_commit => {
                context.commit_point(&consumer, None);
                next_commit = Instant::now() + commit_interval;
            }
            None => {}
        }
    }
    // Draining: what was dealt and not run is read again next time. Once the engine is
    // done, everything run has been written: commit it.
    drop(senders);
    match checkpoint_commits {
        // The final checkpoint's offsets, once it is durable (or nothing, if it is not
        // taken: the drain was cut).
        Some(commits) => {
            while let Ok(offsets) = commits.recv() {
                context.commit_offsets(&consumer, offsets, None);
            }
        }
        None => {
            while !lifecycle.done() {
                std::thread::sleep(flow::PHASE_POLL);
            }
            context.commit(&consumer, None);
        }
    }
}

/// The consumer thread's copy of its partitions' deal to the cores, and the records to
/// skip (see `Committer::sent_before_failed_commit`).
#[derive(Default)]
struct Assignment {
    seen: u64,
    deal: HashMap<i32, usize>,
    /// Per partition: the offset below which records have already run here, and how
    /// many were skipped so far.
    skip_below: HashMap<i32, (i64, u64)>,
}

impl Assignment {
    /// Takes up a new assignment (or a revocation) made in a rebalance: the new deal,
    /// the records to skip, and drops the records not yet handed over of partitions no
    /// longer assigned.
    fn follow(&mut self, context: &Committer, dealer: &mut Dealer) {
        let assignments = context.assignments.load(Ordering::Acquire);
        if assignments == self.seen {
            return;
        }
        self.seen = assignments;
        self.deal = context.deal.lock().expect("lock").clone();
        let kept = std::mem::take(&mut *context.sent_before_failed_commit.lock().expect("lock"));
        self.skip_below.extend(
            kept.into_iter()
                .map(|(partition, next)| (partition, (next, 0))),
        );
        dealer.keep_only(&self.deal);
    }

    /// The core `message` goes to, or None if it has run here already.
    fn core_of<M: Message>(&mut self, message: &M, context: &Committer) -> Option<usize> {
        let partition = message.partition();
        if !self.skip_below.is_empty() {
            if let Some((below, skipped)) = self.skip_below.get_mut(&partition) {
                if message.offset() < *below {
                    *skipped += 1;
                    return None;
                }
                if *skipped > 0 {
                    context.log.print(
                        "skipped",
                        &format!(
                            "partition {partition}: {skipped} records before offset {below} \
                             were read again after offsets could not be committed; they ran \
                             here before, so they are skipped"
                        ),
                    );
                }
                self.skip_below.remove(&partition);
            }
        }
        Some(self.deal.get(&partition).copied().unwrap_or(0))
    }
}

/// A Kafka source's part in checkpoints: the offsets of the checkpoint it starts from,
/// and where the offsets of each durable checkpoint come to be committed.
pub struct Checkpointed {
    pub resume: BTreeMap<i32, i64>,
    pub commits: Receiver<BTreeMap<i32, i64>>,
}

/// With checkpoints the checkpoint, not the group, says where each partition goes on
/// from: the consumer takes every partition of the topic itself (one roo process per
/// resilience directory), from the checkpoint's offsets, or for a partition the
/// checkpoint does not have (none of its records is in the state), from its beginning.
/// The group's offsets are still committed after each durable checkpoint, for tools
/// that read them.
fn assign_from_checkpoint(
    consumer: &BaseConsumer<Committer>,
    topic: &str,
    partitions: &[i32],
    offsets: &BTreeMap<i32, i64>,
    place: &str,
) -> Result<(), String> {
    let mut list = TopicPartitionList::new();
    for &partition in partitions {
        let offset = offsets
            .get(&partition)
            .map_or(Offset::Beginning, |&next| Offset::Offset(next));
        let _ = list.add_partition_offset(topic, partition, offset);
    }
    consumer
        .assign(&list)
        .map_err(|e| format!("{place}: cannot take the topic's partitions: {e}"))?;
    let context = consumer.context();
    *context.deal.lock().expect("lock") = partitions
        .iter()
        .enumerate()
        .map(|(i, &partition)| (partition, i % context.cores))
        .collect();
    context.assignments.fetch_add(1, Ordering::AcqRel);
    eprintln!(
        "roo: {place}: reading partitions {partitions:?} from the checkpoint's offsets {offsets:?}"
    );
    Ok(())
}

/// Hands `batch` to its core, waiting while the core's queue is full (the core is busy:
/// the consumer then stops polling too); gives up once the engine drains. The waits grow
/// up to `flow::KAFKA_FULL_QUEUE_WAIT`: a full queue holds work for far longer than that,
/// and a consumer thread waking more often takes CPU from the core it waits for.
fn send(to: &SyncSender<Vec<Record>>, mut batch: Vec<Record>, lifecycle: &Lifecycle) {
    let mut wait = flow::PAUSED_POLL;
    loop {
        match to.try_send(batch) {
            Ok(()) => return,
            Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(back)) => {
                if !lifecycle.running() {
                    return;
                }
                batch = back;
                std::thread::sleep(wait);
                wait = (wait * 2).min(flow::KAFKA_FULL_QUEUE_WAIT);
            }
        }
    }
}

/// Per core, the records polled for it and not yet sent, with their bytes in one buffer
/// per batch (each record's `Bytes` is a slice of it: no allocation per record).
struct Dealer {
    batches: Vec<Vec<Record>>,
    arenas: Vec<BytesMut>,
}

impl Dealer {
    fn new(cores: usize) -> Dealer {
        Dealer {
            batches: (0..cores).map(|_| Vec::new()).collect(),
            arenas: (0..cores).map(|_| BytesMut::new()).collect(),
        }
    }

    /// Adds a record for `core`; returns its batch when that is full.
    fn add<M: Message>(&mut self, core: usize, message: &M) -> Option<Vec<Record>> {
        let arena = &mut self.arenas[core];
        let mut copy = |bytes: &[u8]| -> Bytes {
            if arena.capacity() - arena.len() < bytes.len() {
                arena.reserve(bytes.len().max(flow::KAFKA_ARENA));
            }
            arena.extend_from_slice(bytes);
            arena.split().freeze()
        };
        let value = copy(message.payload().unwrap_or_default());
        let key = message.key().map(&mut copy);
        let batch = &mut self.batches[core];
        batch.push(Record {
            partition: message.partition(),
            offset: message.offset(),
            value,
            key,
            timestamp_ms: message.timestamp().to_millis(),
        });
        (batch.len() >= flow::MESSAGES_PER_BATCH).then(|| std::mem::take(batch))
    }

    /// Drops the records of partitions not in `deal`.
    fn keep_only(&mut self, deal: &HashMap<i32, usize>) {
        for batch in &mut self.batches {
            batch.retain(|record| deal.contains_key(&record.partition));
        }
    }

    /// Every batch with records in it.
    fn take_all(&mut self) -> impl Iterator<Item = (usize, Vec<Record>)> + '_ {
        self.batches
            .iter_mut()
            .enumerate()
            .filter(|(_, batch)| !batch.is_empty())
            .map(|(core, batch)| (core, std::mem::take(batch)))
    }
}
