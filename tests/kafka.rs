//! Kafka sources and sinks end to end, on a real broker (nisshi) and the real roo binary:
//! word counts read from and written to topics, exact; two roo processes splitting one
//! topic's partitions in a consumer group; a broker killed and restarted mid-stream; a
//! record that fails to decode; Kafka to TCP and TCP to Kafka.

mod common;

use common::kafka::{
    self, count_differences, highest_counts, start_kafka_worker, word_count_args, Broker,
    ROO_KAFKA_OPTIONS,
};
use common::rng::Rng;
use common::*;
use std::time::Duration;

/// Bound on reading roo's complete output from a topic.
const OUTPUT_WITHIN: Duration = Duration::from_secs(90);

/// `lines` lines of words, seeded.
fn lines_of_words(seed: u64, lines: usize) -> Vec<String> {
    kafka::lines_of_words(&mut Rng(seed), lines)
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
        &[],
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
    let mut first = start_kafka_worker(&example("word_count_kafka.py"), cores, &[], &args);
    first.wait_for_stderr_within("assigned partitions", READY_WITHIN);
    let mut second = start_kafka_worker(&example("word_count_kafka.py"), cores, &[], &args);
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

fn lines_of_text(seed: u64, count: usize) -> Vec<String> {
    lines_of_words(seed, count)
        .into_iter()
        .enumerate()
        .map(|(i, line)| format!("{i}: {line} é"))
        .collect()
}

/// Kafka in, TCP out: every record's value arrives reversed at the receiver.
fn kafka_to_tcp(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("in", 3);
    let lines = lines_of_text(11, 500);
    let input: Vec<(Option<&[u8]>, &[u8])> = lines.iter().map(|l| (None, l.as_bytes())).collect();
    broker.produce("in", &input);
    let dir = TempDir::new(&format!("kafka-to-tcp-{cores}"));
    let out = dir.path("out.txt");
    let receiver_addr = free_addr();
    let mut receiver = start_receiver(&receiver_addr, &out, lines.len());
    let app_args = [
        "--kafka_source_topic".to_string(),
        "in".into(),
        "--kafka_source_brokers".into(),
        broker.address.clone(),
        "--out".into(),
        receiver_addr.clone(),
    ];
    let mut worker = start_kafka_worker(&test_app("kafka_reverse.py"), cores, &[], &app_args);
    expect_success(&mut receiver, WAIT, &[&worker]);
    assert_same_multiset(read_out(&out), reversed(&lines), "reversed records");
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
}
at_core_counts!(kafka_to_tcp);

/// Starts `kafka_reverse.py` reading TCP and writing to `broker`'s topic "out" (with
/// `app_options` too), and sends it `frames`.
fn reverse_tcp_into_kafka(
    broker: &Broker,
    cores: usize,
    frames: &[String],
    app_options: &[&str],
) -> Proc {
    let source_addr = free_addr();
    // Named by the source's port: tests run at once, each on ports of its own.
    let dir = TempDir::new(&format!("tcp-into-kafka-{}", source_addr.replace(':', "-")));
    let input = dir.path("in.txt");
    write_lines(&input, frames);
    let mut app_args = vec![
        "--in".to_string(),
        source_addr.clone(),
        "--kafka_sink_topic".into(),
        "out".into(),
        "--kafka_sink_brokers".into(),
        broker.address.clone(),
    ];
    app_args.extend(app_options.iter().map(|option| option.to_string()));
    let worker = start_kafka_worker(&test_app("kafka_reverse.py"), cores, &[], &app_args);
    send(&source_addr, &input, &[], WAIT, &[&worker]);
    worker
}

/// TCP in, Kafka out: every frame becomes a record, the original as its key; records
/// over `--kafka_sink_max_message_size` are dropped, counted and logged, and the others
/// around them still arrive.
fn tcp_to_kafka(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("out", 2);
    let lines = lines_of_text(12, 500);
    let oversized: Vec<String> = (0..3)
        .map(|i| format!("{i} {}", "x".repeat(3000)))
        .collect();
    let mut frames = lines.clone();
    for (i, line) in oversized.iter().enumerate() {
        frames.insert(100 + 150 * i, line.clone());
    }
    let mut worker = reverse_tcp_into_kafka(
        &broker,
        cores,
        &frames,
        &["--kafka_sink_max_message_size", "2000"],
    );
    let read = broker.read_until("out", 2, OUTPUT_WITHIN, |read| read.len() >= lines.len());
    let got: Vec<String> = read
        .iter()
        .map(|(key, value)| {
            let key = String::from_utf8(key.clone().expect("a key")).unwrap();
            let value = String::from_utf8(value.clone()).unwrap();
            assert_eq!(value, key.chars().rev().collect::<String>());
            key
        })
        .collect();
    assert_same_multiset(got, lines.clone(), "keys of the records");
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let stderr = worker.stderr();
    assert!(
        stderr.contains(&format!(
            "{} records delivered, 0 not delivered, {} not sent",
            lines.len(),
            oversized.len()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "a record of 3002 bytes is larger than --kafka_sink_max_message_size (2000): dropped"
        ),
        "{stderr}"
    );
}
at_core_counts!(tcp_to_kafka);

/// An encoder that returns (value, key, partition) puts each record in that partition.
fn records_go_to_the_partition_their_encoder_names(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("out", 3);
    let lines = lines_of_text(13, 300);
    let mut worker = reverse_tcp_into_kafka(&broker, cores, &lines, &["--to-partitions", "3"]);
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let mut keys = vec![];
    for (partition, records) in broker
        .read_sealed_partitions("out", 3)
        .into_iter()
        .enumerate()
    {
        for (key, _) in records {
            let key = String::from_utf8(key.expect("a key")).unwrap();
            let characters = key.chars().count();
            assert_eq!(characters % 3, partition, "{key:?} in {partition}");
            keys.push(key);
        }
    }
    assert_same_multiset(keys, lines, "keys of the records");
}
at_core_counts!(records_go_to_the_partition_their_encoder_names);

/// Wallaroo's celsius over Kafka (the 0.5 ApplicationBuilder with the default Kafka CLI
/// parsers): every temperature converted, a value that is no number counted.
fn celsius_over_kafka(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("celsius", 2);
    broker.create_topic("fahrenheit", 1);
    let celsius: Vec<String> = (0..300).map(|i| format!("{}.5", i - 100)).collect();
    let mut input: Vec<(Option<&[u8]>, &[u8])> =
        celsius.iter().map(|c| (None, c.as_bytes())).collect();
    input.push((None, b"warm"));
    broker.produce("celsius", &input);
    let app_args = [
        "--kafka_source_topic",
        "celsius",
        "--kafka_source_brokers",
        &broker.address,
        "--kafka_sink_topic",
        "fahrenheit",
        "--kafka_sink_brokers",
        &broker.address,
    ]
    .map(String::from);
    let mut worker = start_kafka_worker(&example("celsius_kafka.py"), cores, &[], &app_args);
    let read = broker.read_until("fahrenheit", 1, OUTPUT_WITHIN, |read| {
        read.len() >= celsius.len()
    });
    let got: Vec<String> = read
        .iter()
        .map(|(_, value)| String::from_utf8(value.clone()).unwrap())
        .collect();
    let want: Vec<String> = celsius
        .iter()
        .map(|c| format!("{:.2}", c.parse::<f64>().unwrap() * 1.8 + 32.0))
        .collect();
    assert_same_multiset(got, want, "fahrenheit values");
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    assert_eq!(
        errors_at(&worker.stderr(), "decoder of source"),
        1,
        "{}",
        worker.stderr()
    );
}
at_core_counts!(celsius_over_kafka, one_core = 1, two_cores = 2);

/// Offsets are committed for what has run: a word count stopped and started again reads
/// only the records that came after it stopped.
#[test]
fn a_restarted_worker_goes_on_from_the_committed_offsets() {
    let broker = Broker::start();
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let args = word_count_args(&broker);
    let produce_lines = |seed: u64| {
        let lines = lines_of_words(seed, 300);
        let input: Vec<(Option<&[u8]>, &[u8])> =
            lines.iter().map(|l| (None, l.as_bytes())).collect();
        broker.produce("lines", &input);
        split_words(&lines.join("\n")).len()
    };
    let first_words = produce_lines(21);
    let mut first = start_kafka_worker(&example("word_count_kafka.py"), 2, &[], &args);
    broker.read_until("counts", 2, OUTPUT_WITHIN, |read| read.len() >= first_words);
    first.signal("TERM");
    expect_success(&mut first, EXIT_WITHIN, &[]);

    let second_words = produce_lines(22);
    let mut second = start_kafka_worker(&example("word_count_kafka.py"), 2, &[], &args);
    broker.read_until("counts", 2, OUTPUT_WITHIN, |read| {
        read.len() >= first_words + second_words
    });
    second.signal("TERM");
    expect_success(&mut second, EXIT_WITHIN, &[]);
    let (records_in, _, _) = totals(&second.stderr());
    assert_eq!(
        records_in,
        300,
        "the second run read only the new records:\n{}",
        second.stderr()
    );
}

/// The broker is killed (`kill -9`) mid-stream and started again two seconds later on
/// the same port and data (SQLite storage): nothing is lost, the counts stay exact, and
/// records the producer sent twice are few.
#[test]
fn a_broker_killed_and_restarted_mid_stream_loses_nothing() {
    let data = TempDir::new("kafka-restart");
    let mut broker = Broker::start_stored(&data.path("nisshi.db"));
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let lines = lines_of_words(31, 4000);
    let want = count_words(&lines, split_words);
    let total: usize = want.values().sum();
    let input: Vec<(Option<&[u8]>, &[u8])> = lines.iter().map(|l| (None, l.as_bytes())).collect();
    let (early, late) = input.split_at(2000);
    broker.produce("lines", early);
    let mut worker = start_kafka_worker(
        &example("word_count_kafka.py"),
        2,
        &[],
        &word_count_args(&broker),
    );
    broker.read_until("counts", 2, OUTPUT_WITHIN, |read| !read.is_empty());
    broker.restart_after(Duration::from_secs(2));
    broker.produce("lines", late);
    let (read, done) = broker.read_sealed_for("counts", 2, OUTPUT_WITHIN, |read| {
        highest_counts(read) == want
    });
    assert!(
        done,
        "{} records read; {}\n{}",
        read.len(),
        count_differences(&highest_counts(&read), &want),
        worker.stderr()
    );
    let duplicates = read.len() - total;
    eprintln!("{duplicates} duplicate records of {total}");
    assert!(
        duplicates <= total / 10,
        "{duplicates} duplicate records of {total}"
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let outage = format!("Connect to ipv4#{} failed", broker.address);
    assert!(
        worker.stderr().contains(&outage),
        "no outage seen:\n{}",
        worker.stderr()
    );
}

/// Windows over a Kafka source use the records' timestamps: records an hour old, 10, 20
/// and 30 of them in three 10 s windows of their timestamps (all produced at once), come
/// out as those three windows' counts, whatever their arrival times.
fn windows_use_kafka_timestamps(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("events", 1);
    broker.create_topic("windows", 1);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let hour_ago = (now_ms - 3_600_000) / 10_000 * 10_000;
    let mut records: Vec<(&[u8], i64)> = vec![];
    for (window, count) in [(0, 10), (1, 20), (2, 30)] {
        for i in 0..count {
            records.push((b"sensor", hour_ago + window * 10_000 + i * 300));
        }
    }
    broker.produce_at("events", &records);
    let args: Vec<String> = [
        "--kafka_source_topic",
        "events",
        "--kafka_source_brokers",
        &broker.address,
        "--kafka_sink_topic",
        "windows",
        "--kafka_sink_brokers",
        &broker.address,
    ]
    .map(String::from)
    .to_vec();
    let mut worker = start_kafka_worker(&test_app("kafka_windows.py"), cores, &[], &args);
    // The first two windows end as later records go by; the third when roo stops.
    let (read, done) = broker.read_sealed_for("windows", 1, OUTPUT_WITHIN, |read| read.len() >= 2);
    assert!(done, "{read:?}\n{}", worker.stderr());
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let values: Vec<String> = broker
        .read_sealed_all("windows", 1)
        .iter()
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        .collect();
    assert_eq!(values, ["sensor 10", "sensor 20", "sensor 30"]);
}
at_core_counts!(windows_use_kafka_timestamps, one_core = 1, two_cores = 2);
