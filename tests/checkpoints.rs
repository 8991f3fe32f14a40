//! Checkpoints (`--resilience-dir`) end to end, with the real roo binary: a Kafka word
//! count killed with SIGKILL again and again ends with exact counts (also when the core
//! count changes between runs), a corrupt newest checkpoint falls back to the one before,
//! and a TCP word count keeps its counts across a clean stop.

mod common;

use common::kafka::{highest_counts, lines_of_words, start_kafka_worker, word_count_args, Broker};
use common::rng::Rng;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Bound on reading roo's complete output from a topic.
const OUTPUT_WITHIN: Duration = Duration::from_secs(120);
/// Checkpoints every 200 ms (Wallaroo's unit: ns).
const CHECKPOINT_EVERY: &str = "200000000";

/// (word, got, want) of every word whose highest count is not its true count.
fn differences(
    got: &BTreeMap<String, usize>,
    want: &BTreeMap<String, usize>,
) -> Vec<(String, usize, usize)> {
    want.iter()
        .map(|(word, &n)| (word.clone(), got.get(word).copied().unwrap_or(0), n))
        .filter(|(_, got, want)| got != want)
        .collect()
}

fn start_resilient_word_count(broker: &Broker, cores: usize, dir: &Path) -> Proc {
    let options = [
        "--resilience-dir",
        s(dir),
        "--time-between-checkpoints",
        CHECKPOINT_EVERY,
    ];
    start_kafka_worker(
        &example("word_count_kafka.py"),
        cores,
        &options,
        &word_count_args(broker),
    )
}

fn produce_lines(broker: &Broker, lines: &[String]) {
    let input: Vec<(Option<&[u8]>, &[u8])> = lines.iter().map(|l| (None, l.as_bytes())).collect();
    broker.produce("lines", &input);
}

/// Ten runs of a Kafka word count with checkpoints, each killed with SIGKILL at a random
/// moment while more input arrives, the core count alternating from `cores`; an eleventh
/// run finishes the input. Every word's last count is its true count: no update was lost
/// or applied twice.
fn killed_again_and_again(cores: usize) {
    let broker = Broker::start();
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let dir = TempDir::new(&format!("kill-loop-{cores}"));
    let mut rng = Rng(40 + cores as u64);
    let mut all = vec![];
    for run in 0..10 {
        let lines = lines_of_words(&mut rng, 300);
        produce_lines(&broker, &lines);
        all.extend(lines);
        let run_cores = if run % 2 == 0 { cores } else { 3 - cores };
        let worker = start_resilient_word_count(&broker, run_cores, &dir.path("state"));
        std::thread::sleep(Duration::from_millis(200 + rng.below(1300)));
        worker.signal("KILL");
        drop(worker);
    }
    let want = count_words(&all, split_words);
    let mut last = start_resilient_word_count(&broker, cores, &dir.path("state"));
    let (read, finished) = broker.read_sealed_for("counts", 2, OUTPUT_WITHIN, |read| {
        highest_counts(read) == want
    });
    assert!(
        finished,
        "counts (got, want) that differ: {:?}\n{}",
        differences(&highest_counts(&read), &want),
        last.stderr()
    );
    last.signal("TERM");
    expect_success(&mut last, EXIT_WITHIN, &[]);
    let stderr = last.stderr();
    assert!(stderr.contains("roo: restoring checkpoint"), "{stderr}");
    let highest = highest_counts(&broker.read_sealed_all("counts", 2));
    assert_eq!(
        differences(&highest, &want),
        vec![],
        "no count beyond the true one (no update applied twice)"
    );
}
at_core_counts!(killed_again_and_again, one_core = 1, two_cores = 2);

/// A first run of the Kafka word count with checkpoints, stopped cleanly; then `tamper`
/// changes its resilience directory (given the epochs' directories, oldest first), more
/// input comes, and a second run must end with exact counts over all of it. Returns the
/// second run's stderr.
fn restart_after_tampering(name: &str, tamper: impl Fn(&[std::path::PathBuf])) -> String {
    let broker = Broker::start();
    broker.create_topic("lines", 4);
    broker.create_topic("counts", 2);
    let dir = TempDir::new(name);
    let state = dir.path("state");
    let mut rng = Rng(77);
    let first = lines_of_words(&mut rng, 400);
    produce_lines(&broker, &first);
    let mut worker = start_resilient_word_count(&broker, 2, &state);
    let want_first = count_words(&first, split_words);
    let (_, seen) = broker.read_sealed_for("counts", 2, OUTPUT_WITHIN, |read| {
        highest_counts(read) == want_first
    });
    assert!(seen, "the first run's counts");
    std::thread::sleep(Duration::from_millis(600));
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let mut epochs: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    epochs.sort();
    assert_eq!(
        epochs.len(),
        2,
        "the two newest checkpoints are kept: {epochs:?}"
    );
    tamper(&epochs);

    let second = lines_of_words(&mut rng, 400);
    produce_lines(&broker, &second);
    let mut all = first.clone();
    all.extend(second);
    let want = count_words(&all, split_words);
    let mut worker = start_resilient_word_count(&broker, 2, &state);
    let (read, seen) = broker.read_sealed_for("counts", 2, OUTPUT_WITHIN, |read| {
        highest_counts(read) == want
    });
    assert!(seen, "{:?}", differences(&highest_counts(&read), &want));
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    worker.stderr()
}

/// The newest checkpoint's file corrupted: roo says so, starts from the one before it,
/// and (its Kafka offsets being that checkpoint's) still ends with exact counts.
#[test]
fn a_corrupt_newest_checkpoint_falls_back_to_the_one_before() {
    let stderr = restart_after_tampering("corrupt-checkpoint", |epochs| {
        let newest = epochs.last().unwrap().join("core-0.snap");
        let mut bytes = std::fs::read(&newest).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(&newest, bytes).unwrap();
    });
    assert!(stderr.contains("is not usable"), "{stderr}");
}

/// A newer checkpoint than the last committed one (as after a crash between writing it
/// and committing its sink's transaction): roo passes it over, restores the committed
/// one (the epoch the transaction recorded) and removes it, so the counts are still
/// exact.
#[test]
fn a_checkpoint_whose_transaction_was_not_committed_is_passed_over() {
    let stderr = restart_after_tampering("uncommitted-checkpoint", |epochs| {
        let newest = epochs.last().unwrap();
        let name = newest.file_name().unwrap().to_str().unwrap();
        let epoch: u64 = name.strip_prefix("epoch-").unwrap().parse().unwrap();
        let later = newest.with_file_name(format!("epoch-{:012}", epoch + 1));
        std::fs::create_dir_all(&later).unwrap();
        for file in std::fs::read_dir(newest).unwrap() {
            let file = file.unwrap().path();
            let text = std::fs::read(&file).unwrap();
            std::fs::write(later.join(file.file_name().unwrap()), text).unwrap();
        }
        // The next epoch, its offsets moved on past the committed ones.
        let manifest = std::fs::read_to_string(later.join("manifest")).unwrap();
        let moved: Vec<String> = manifest
            .lines()
            .map(|line| match line.strip_prefix("kafka ") {
                Some(rest) => {
                    let fields: Vec<&str> = rest.split(' ').collect();
                    let offset: i64 = fields[2].parse().unwrap();
                    format!("kafka {} {} {}", fields[0], fields[1], offset + 5)
                }
                None if line.starts_with("epoch ") => format!("epoch {}", epoch + 1),
                None => line.to_string(),
            })
            .collect();
        assert_ne!(moved.join("\n") + "\n", manifest, "{manifest}");
        std::fs::write(later.join("manifest"), moved.join("\n") + "\n").unwrap();
    });
    assert!(
        stderr.contains("sinks' transaction was not committed"),
        "{stderr}"
    );
    assert!(stderr.contains("roo: restoring checkpoint"), "{stderr}");
}

/// A TCP word count keeps its counts across a clean stop: the second run's counts go on
/// from the first run's, also at another core count.
fn tcp_counts_survive_a_clean_stop(cores: usize) {
    let dir = TempDir::new(&format!("tcp-resilience-{cores}"));
    let state = dir.path("state");
    let input = dir.path("in.txt");
    let out = dir.path("out.txt");
    let lines: Vec<String> = vec!["roo roo wallaroo".into(), "roo kangaroo".into()];
    write_lines(&input, &lines);
    let run = |cores: usize, expect: usize| {
        let (source, sink) = (free_addr(), free_addr());
        let mut receiver = start_receiver(&sink, &out, expect);
        let options = ["--resilience-dir", s(&state)];
        let mut worker = start_worker(
            &example("word_count.py"),
            cores,
            true,
            &options,
            &["--in", &source, "--out", &sink],
        );
        send(&source, &input, &[], WAIT, &[&worker]);
        expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
        expect_success(&mut receiver, WAIT, &[&worker]);
        let mut got = read_out(&out);
        got.sort();
        got
    };
    assert_eq!(
        run(cores, 5),
        [
            "kangaroo => 1",
            "roo => 1",
            "roo => 2",
            "roo => 3",
            "wallaroo => 1"
        ]
    );
    // Also with another core count: the state is dealt to the keys' new owners.
    assert_eq!(
        run(cores % 3 + 1, 5),
        [
            "kangaroo => 2",
            "roo => 4",
            "roo => 5",
            "roo => 6",
            "wallaroo => 2"
        ]
    );
}
at_core_counts!(tcp_counts_survive_a_clean_stop);

/// A TCP word count killed with SIGKILL after a checkpoint was taken of everything it had
/// counted keeps those counts (input read after the last checkpoint would be lost: TCP
/// sources cannot be replayed).
fn tcp_counts_survive_a_kill(cores: usize) {
    let dir = TempDir::new(&format!("tcp-kill-{cores}"));
    let state = dir.path("state");
    let input = dir.path("in.txt");
    let out = dir.path("out.txt");
    let lines: Vec<String> = (0..50)
        .map(|i| format!("roo w{} wallaroo", i % 7))
        .collect();
    write_lines(&input, &lines);
    let per_run = count_words(&lines, split_words);
    let run = |kill: bool| {
        let (source, sink) = (free_addr(), free_addr());
        let expect: usize = per_run.values().sum();
        let mut receiver = start_receiver(&sink, &out, expect);
        let options = [
            "--resilience-dir",
            s(&state),
            "--time-between-checkpoints",
            CHECKPOINT_EVERY,
        ];
        let mut worker = start_worker(
            &example("word_count.py"),
            cores,
            !kill,
            &options,
            &["--in", &source, "--out", &sink],
        );
        send(&source, &input, &[], WAIT, &[&worker]);
        expect_success(&mut receiver, WAIT, &[&worker]);
        if kill {
            // Two checkpoint intervals and more: the last checkpoint holds every count.
            std::thread::sleep(Duration::from_millis(1000));
            worker.signal("KILL");
        } else {
            expect_success(&mut worker, EXIT_WITHIN, &[]);
        }
        read_out(&out)
    };
    run(true);
    let second = run(false);
    let mut highest: BTreeMap<String, usize> = BTreeMap::new();
    for line in second {
        let (word, count) = line.split_once(" => ").unwrap();
        let entry = highest.entry(word.to_string()).or_insert(0);
        *entry = (*entry).max(count.parse().unwrap());
    }
    let want: BTreeMap<String, usize> = per_run.iter().map(|(w, n)| (w.clone(), 2 * n)).collect();
    assert_eq!(
        highest, want,
        "the second run's counts go on from the first run's"
    );
}
at_core_counts!(tcp_counts_survive_a_kill);

/// A state that cannot be encoded: every checkpoint is refused with an error naming the
/// state and the key, and the app goes on counting.
#[test]
fn a_state_that_cannot_be_saved_is_an_error_naming_state_and_key() {
    let dir = TempDir::new("unsaveable");
    let input = dir.path("in.txt");
    let out = dir.path("out.txt");
    write_lines(&input, &["alpha".into(), "alpha".into()]);
    let (source, sink) = (free_addr(), free_addr());
    let mut receiver = start_receiver(&sink, &out, 2);
    let state = dir.path("state");
    let options = [
        "--resilience-dir",
        s(&state),
        "--time-between-checkpoints",
        CHECKPOINT_EVERY,
    ];
    let mut worker = start_worker(
        &test_app("unsaveable_state.py"),
        1,
        true,
        &options,
        &["--in", &source, "--out", &sink],
    );
    send(&source, &input, &[], WAIT, &[&worker]);
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
    expect_success(&mut receiver, WAIT, &[&worker]);
    assert_eq!(read_out(&out), ["alpha 1", "alpha 2"]);
    let stderr = worker.stderr();
    assert!(
        stderr.contains("the state 'count' of key \"alpha\" cannot be saved in a checkpoint"),
        "{stderr}"
    );
}

/// A resilience directory holding another app's checkpoint is refused at start-up, with
/// the way out in the message.
#[test]
fn another_apps_checkpoint_is_refused() {
    let dir = TempDir::new("other-app");
    let state = dir.path("state");
    let input = dir.path("in.txt");
    write_lines(&input, &["roo".into()]);
    let (source, sink) = (free_addr(), free_addr());
    let mut receiver = start_receiver(&sink, &dir.path("out.txt"), 1);
    let options = ["--resilience-dir", s(&state)];
    let mut worker = start_worker(
        &example("word_count.py"),
        1,
        true,
        &options,
        &["--in", &source, "--out", &sink],
    );
    send(&source, &input, &[], WAIT, &[&worker]);
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
    expect_success(&mut receiver, WAIT, &[&worker]);
    let mut other = Proc::start(&[
        "run",
        "--cores",
        "1",
        "--resilience-dir",
        s(&state),
        &example("alerts_windowed.py"),
        "--in",
        &free_addr(),
        "--out",
        &free_addr(),
    ]);
    assert!(!other.wait_within(EXIT_WITHIN).success());
    let stderr = other.stderr();
    assert!(
        stderr.contains("is of app 'Word Count Application'")
            && stderr.contains("give another --resilience-dir"),
        "{stderr}"
    );
}
