//! Kafka sources and sinks end to end, on a real broker (tansu) and the real roo binary:
//! word counts read from and written to topics, exact; two roo processes splitting one
//! topic's partitions in a consumer group; a record that fails to decode; Kafka to TCP
//! and TCP to Kafka.

mod common;

use common::kafka::{Broker, ROO_KAFKA_OPTIONS};
use common::rng::Rng;
use common::*;
use std::collections::BTreeMap;
use std::time::Duration;

/// Bound on reading roo's complete output from a topic.
const OUTPUT_WITHIN: Duration = Duration::from_secs(90);

/// `lines` lines of 1 to 8 words from a vocabulary of 40 (`w0` .. `w39`).
fn lines_of_words(seed: u64, lines: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..lines)
        .map(|_| {
            let words = 1 + rng.below(8);
            (0..words)
                .map(|_| format!("w{}", rng.below(40)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The highest count read for each word, from `word count` records.
fn highest_counts(records: &[(Option<Vec<u8>>, Vec<u8>)]) -> BTreeMap<String, usize> {
    let mut highest = BTreeMap::new();
    for (_, value) in records {
        let text = String::from_utf8_lossy(value);
        let (word, count) = text.split_once(' ').expect("'word count'");
        let count: usize = count.trim().parse().expect("a count");
        let entry = highest.entry(word.to_string()).or_insert(0);
        *entry = count.max(*entry);
    }
    highest
}

/// The word count example's Kafka arguments for topics `lines` and `counts` on `broker`.
fn word_count_args(broker: &Broker) -> Vec<String> {
    [
        "--kafka_source_topic",
        "lines",
        "--kafka_source_brokers",
        &broker.address,
        "--kafka_sink_topic",
        "counts",
        "--kafka_sink_brokers",
        &broker.address,
    ]
    .map(String::from)
    .to_vec()
}

fn start_kafka_worker(app: &str, cores: usize, app_args: &[String]) -> Proc {
    let args: Vec<&str> = app_args.iter().map(String::as_str).collect();
    start_worker(app, cores, false, &ROO_KAFKA_OPTIONS, &args)
}

/// Kafka -> word count -> Kafka: every word's last count is its true count, every
/// occurrence gave one record, and a record that is not UTF-8 is an error of the decoder
/// that loses nothing else.
fn kafka_word_count(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let lines = lines_of_words(cores as u64, 600);
    let want = count_words(&lines, split_words);
    let total: usize = want.values().sum();
    let mut input: Vec<(Option<&[u8]>, &[u8])> =
        lines.iter().map(|l| (None, l.as_bytes())).collect();
    input.insert(300, (None, b"\xff\xfe not utf-8"));
    broker.produce("lines", &input);

    let mut worker = start_kafka_worker(
        &example("word_count_kafka.py"),
        cores,
        &word_count_args(&broker),
    );
    let read = broker.read_until("counts", 2, OUTPUT_WITHIN, |read| {
        highest_counts(read) == want
    });
    assert_eq!(read.len(), total, "one count record per word read");
    for (key, value) in &read {
        let word = String::from_utf8_lossy(value)
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(key.as_deref(), Some(word.as_bytes()), "the key is the word");
    }
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let stderr = worker.stderr();
    assert!(
        stderr.contains(&format!("{total} records delivered")),
        "{stderr}"
    );
    assert_eq!(errors_at(&stderr, "decoder of source"), 1, "{stderr}");
}
at_core_counts!(kafka_word_count);

/// Two roo processes in one consumer group split a 4-partition topic between them;
/// records keyed by word keep each word in one partition, so between them the counts
/// are exact.
fn two_processes_share_a_topic(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let args = word_count_args(&broker);
    let mut first = start_kafka_worker(&example("word_count_kafka.py"), cores, &args);
    first.wait_for_stderr_within("assigned partitions", READY_WITHIN);
    let mut second = start_kafka_worker(&example("word_count_kafka.py"), cores, &args);
    second.wait_for_stderr_within("assigned partitions", READY_WITHIN);
    wait_until(
        READY_WITHIN,
        || {
            format!(
                "the first process to give up half its partitions:\n{}",
                first.stderr()
            )
        },
        || first.stderr().matches("assigned partitions").count() >= 2,
    );
    let words: Vec<String> = lines_of_words(7, 800)
        .iter()
        .flat_map(|line| split_words(line))
        .collect();
    let input: Vec<(Option<&[u8]>, &[u8])> = words
        .iter()
        .map(|w| (Some(w.as_bytes()), w.as_bytes()))
        .collect();
    broker.produce("lines", &input);
    let want = count_words(&words, split_words);
    let read = broker.read_until("counts", 2, OUTPUT_WITHIN, |read| {
        highest_counts(read) == want
    });
    assert_eq!(read.len(), words.len(), "one count record per word");
    for worker in [&mut first, &mut second] {
        worker.signal("TERM");
        expect_success(worker, EXIT_WITHIN, &[]);
    }
    for worker in [&first, &second] {
        let (_, messages_out, errors) = totals(&worker.stderr());
        assert!(
            messages_out > 0,
            "each process counted some words:\n{}",
            worker.stderr()
        );
        assert_eq!(errors, 0, "{}", worker.stderr());
    }
}
at_core_counts!(two_processes_share_a_topic, one_core = 1, two_cores = 2);

/// A topic that does not exist is a start-up error naming it.
#[test]
fn a_missing_topic_is_a_start_up_error() {
    let broker = Broker::start();
    broker.create_topic("counts", 1);
    let mut args = vec!["run", "--cores", "1"];
    args.extend_from_slice(&ROO_KAFKA_OPTIONS);
    let app = example("word_count_kafka.py");
    args.push(&app);
    let app_args = word_count_args(&broker);
    args.extend(app_args.iter().map(String::as_str));
    let mut worker = Proc::start(&args);
    let status = worker.wait_within(EXIT_WITHIN);
    assert!(!status.success());
    let stderr = worker.stderr();
    assert!(
        stderr.contains("kafka topic 'lines'") && stderr.contains("does not exist"),
        "{stderr}"
    );
}
