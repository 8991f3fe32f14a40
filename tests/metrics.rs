//! Live metrics of a running `roo run` (#23): `/metrics` in the Prometheus text format,
//! `/topology.json`, the dashboard at `/` as headless Chromium shows it, and the
//! `--progress` line, each checked against what the app was sent.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The body of `GET path` on `address`, which must answer 200.
fn http_get(address: &str, path: &str) -> String {
    let (status, body) = http_get_status(address, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The status and body of `GET path` on `address` (HTTP/1.0, so the server closes after
/// it).
fn http_get_status(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect to the metrics port");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP header in {response:?}"));
    let status = head
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    (status, body.to_string())
}

/// Every sample of a Prometheus text exposition: (name, labels, value).
fn samples(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("NAME VALUE");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|label| !label.is_empty())
                .map(|label| {
                    let (key, value) = label.split_once("=\"").expect("KEY=\"VALUE\"");
                    (key.to_string(), value.trim_end_matches('"').to_string())
                })
                .collect();
            (name.to_string(), labels, value.parse().expect("a number"))
        })
        .collect()
}

/// The sum of `name`'s samples whose labels include every pair of `with`.
fn sum(text: &str, name: &str, with: &[(&str, &str)]) -> f64 {
    samples(text)
        .iter()
        .filter(|(n, labels, _)| {
            n == name
                && with
                    .iter()
                    .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(v))
        })
        .map(|(_, _, value)| value)
        .sum()
}

/// Lines of three words from a small vocabulary (no punctuation, so each token is a
/// word; different first letters, so the word count's keys fall on both cores).
fn lines(count: usize) -> Vec<String> {
    const WORDS: [&str; 12] = [
        "apple", "berry", "cherry", "date", "elder", "fig", "grape", "honey", "iris", "jade",
        "kiwi", "lime",
    ];
    (0..count)
        .map(|i| {
            format!(
                "{} {} {}",
                WORDS[i % 12],
                WORDS[i / 3 % 12],
                WORDS[i * 7 % 12]
            )
        })
        .collect()
}

const PIPELINE: &str = "Split and Count";

/// The word count at `cores` cores with its metrics port, after `lines` went through it and
/// one connection sent a frame over --max-frame-size (an error at the source).
struct Counted {
    worker: Proc,
    metrics: String,
    lines: usize,
    words: usize,
    /// Bytes the lines took on the wire (each behind a 4-byte length header).
    bytes: usize,
    _receiver: Proc,
    _dir: TempDir,
}

fn run_counted(name: &str, count: usize, cores: usize) -> Counted {
    let dir = TempDir::new(name);
    let (input, output) = (dir.path("in.txt"), dir.path("out.txt"));
    let lines = lines(count);
    write_lines(&input, &lines);
    let words = lines.len() * 3;
    let bytes = lines.iter().map(|line| 4 + line.len()).sum();
    let (in_addr, out_addr, metrics) = (free_addr(), free_addr(), free_addr());
    let receiver = start_receiver(&out_addr, &output, words);
    let worker = start_io_worker(
        &example("word_count.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &["--metrics-listen", &metrics, "--max-frame-size", "100"],
    );
    assert!(
        worker
            .stderr()
            .contains(&format!("metrics on http://{metrics}/metrics")),
        "{}",
        worker.stderr()
    );
    send(&in_addr, &input, &[], WAIT, &[&worker, &receiver]);
    let mut oversized = connect_retry(&in_addr);
    oversized.write_all(&frame(&[b'x'; 200])).unwrap();
    let mut rest = vec![];
    let _ = oversized.read_to_end(&mut rest); // roo closes the connection
    let mut receiver = receiver;
    expect_success(&mut receiver, WAIT, &[&worker]);
    let text = || http_get(&metrics, "/metrics");
    wait_until(WAIT, text, || {
        let text = text();
        sum(&text, "roo_errors_total", &[]) == 1.0
            && sum(&text, "roo_messages_out_total", &[]) == words as f64
    });
    Counted {
        worker,
        metrics,
        lines: lines.len(),
        words,
        bytes,
        _receiver: receiver,
        _dir: dir,
    }
}

/// Every count of `/metrics` is what the word count was sent and wrote, and the
/// shutdown summary (read from the same counters) agrees.
fn metrics_count_what_the_word_count_did(cores: usize) {
    let mut run = run_counted(&format!("metrics-counts-{cores}"), 2_000, cores);
    let text = http_get(&run.metrics, "/metrics");
    let of_pipeline = [("pipeline", PIPELINE)];
    let (lines, words) = (run.lines as f64, run.words as f64);
    assert_eq!(sum(&text, "roo_source_frames_total", &of_pipeline), lines);
    assert_eq!(sum(&text, "roo_messages_in_total", &of_pipeline), lines);
    assert_eq!(sum(&text, "roo_messages_out_total", &of_pipeline), words);
    assert!(
        sum(&text, "roo_source_bytes_total", &of_pipeline) >= run.bytes as f64,
        "{text}"
    );
    let step = |name| sum(&text, "roo_step_messages_total", &[("step", name)]);
    assert_eq!(step("split into words"), lines);
    assert_eq!(step("Count Word"), words);
    // Several cores: the words whose keys another core owns were routed to it.
    let routed_out = sum(&text, "roo_routed_out_total", &[]);
    assert_eq!(routed_out > 0.0, cores > 1, "{text}");
    assert_eq!(sum(&text, "roo_routed_in_total", &[]), routed_out);
    assert_eq!(sum(&text, "roo_backlog_messages", &[]), 0.0);
    assert_eq!(sum(&text, "roo_sink_pending_bytes", &[]), 0.0);
    let errors = samples(&text)
        .into_iter()
        .filter(|(name, _, _)| name == "roo_errors_total")
        .collect::<Vec<_>>();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].1["place"].starts_with("source 'Split and Count'"),
        "{text}"
    );
    // One latency sample per output, in buckets that add up.
    let latency = "roo_ingest_to_sink_latency_seconds";
    assert_eq!(sum(&text, &format!("{latency}_count"), &of_pipeline), words);
    assert_eq!(
        sum(&text, &format!("{latency}_bucket"), &[("le", "+Inf")]),
        words
    );
    assert!(sum(&text, &format!("{latency}_sum"), &[]) > 0.0);
    assert!(sum(&text, "roo_process_resident_memory_bytes", &[]) > 1e6);
    assert!(sum(&text, "roo_process_cpu_seconds_total", &[]) > 0.0);
    // Every series is per core.
    for (name, labels, _) in samples(&text) {
        if !name.starts_with("roo_process_") {
            assert!(labels.contains_key("core"), "{name} has no core label");
        }
    }

    let topology = http_get(&run.metrics, "/topology.json");
    for part in [
        "\"app\":\"Word Count Application\"",
        &format!("\"cores\":{cores}"),
        "{\"name\":\"split into words\",\"kind\":\"stateless\",\"parallel\":true}",
        "{\"name\":\"Count Word\",\"kind\":\"state\",\"parallel\":false}",
    ] {
        assert!(topology.contains(part), "{part} not in {topology}");
    }

    run.worker.signal("INT");
    assert!(run.worker.wait_within(EXIT_WITHIN).success());
    let (frames, messages_out, errors) = totals(&run.worker.stderr());
    assert_eq!(
        (frames, messages_out, errors),
        (run.lines as u64, run.words as u64, 1)
    );
}
at_core_counts!(metrics_count_what_the_word_count_did);

/// The numbers in the element with id `id` of a dumped DOM ("12 345" -> 12345).
fn shown(dom: &str, id: &str) -> u64 {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id} in the page:\n{dom}"));
    let text = &dom[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    let text = &text[..text.find('<').unwrap()];
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{id} shows {text:?}, not a number"))
}

/// The dashboard, loaded in headless Chromium while the app runs, shows the totals that
/// `/metrics` gives, per core too, and the pipeline's steps.
#[test]
fn the_dashboard_in_chromium_shows_the_numbers_of_metrics() {
    let run = run_counted("metrics-dashboard", 1_000, 2);
    let dir = TempDir::new("metrics-dashboard-dom");
    let dom_file = dir.path("dom.html");
    let mut chromium = Command::new("chromium");
    chromium.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--virtual-time-budget=5000",
        "--dump-dom",
        &format!("http://{}/", run.metrics),
    ]);
    let stdout = std::fs::File::create(&dom_file).unwrap();
    let mut browser =
        Proc::spawn_with_stdout("chromium --dump-dom".into(), chromium, Stdio::from(stdout));
    assert!(browser.wait_within(WAIT).success(), "{}", browser.stderr());
    let dom = std::fs::read_to_string(&dom_file).unwrap();
    let text = http_get(&run.metrics, "/metrics");
    assert!(
        dom.contains("data-polls=\"") && !dom.contains("data-polls=\"1\""),
        "the page polled /metrics more than once: {dom}"
    );
    assert_eq!(shown(&dom, "total-in") as usize, run.lines);
    assert_eq!(shown(&dom, "total-out") as usize, run.words);
    assert_eq!(shown(&dom, "total-errors"), 1);
    for core in ["0", "1"] {
        let out = sum(&text, "roo_messages_out_total", &[("core", core)]);
        assert_eq!(shown(&dom, &format!("core-{core}-out")) as f64, out);
    }
    assert_eq!(shown(&dom, "backlog"), 0);
    for part in [
        "Word Count Application",
        "split into words",
        "Count Word",
        "2 cores",
    ] {
        assert!(dom.contains(part), "{part} not shown:\n{dom}");
    }
}

/// `--progress` prints a line every 2 s with the rates; a drain whose sink is not there
/// says what it waits for (the bytes the sink has not taken), and ends once it comes.
#[test]
fn progress_lines_and_a_drain_that_says_what_it_waits_for() {
    let dir = TempDir::new("metrics-progress");
    let (input, output) = (dir.path("in.txt"), dir.path("out.txt"));
    let lines = lines(3_000);
    write_lines(&input, &lines);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let mut worker = start_io_worker(
        &example("word_count.py"),
        1,
        &in_addr,
        &out_addr,
        false,
        &["--progress"],
    );
    worker.wait_for_stderr_within("roo: progress: in 0 msg/s", Duration::from_secs(10));
    // No receiver yet: the outputs wait in the sink's queue.
    send(&in_addr, &input, &[], WAIT, &[&worker]);
    wait_until(
        WAIT,
        || worker.stderr(),
        || {
            worker.stderr().lines().any(|line| {
                line.starts_with("roo: progress: in ")
                    && !line.starts_with("roo: progress: in 0 msg/s")
                    && !line.contains("sink bytes pending 0,")
            })
        },
    );
    worker.signal("INT");
    worker.wait_for_stderr("draining: finishing what was read");
    let waiting = worker
        .stderr()
        .lines()
        .find(|line| line.contains("draining: finishing what was read"))
        .unwrap()
        .to_string();
    let pending: u64 = waiting
        .rsplit_once(" sink bytes not written")
        .and_then(|(before, _)| before.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no pending bytes in {waiting:?}"));
    assert!(pending > 0, "{waiting}");
    worker.wait_for_stderr("roo: progress (draining): ");
    let mut receiver = start_receiver(&out_addr, &output, lines.len() * 3);
    expect_success(&mut receiver, WAIT, &[&worker]);
    assert!(
        worker.wait_within(EXIT_WITHIN).success(),
        "{}",
        worker.stderr()
    );
    assert_eq!(read_out(&output).len(), lines.len() * 3);
}

/// `/state/STATE/KEY` answers one partition's state as the owning core holds it (the
/// word count's partitions are first letters, each a WordTotals of its words), and 404
/// with an error for a partition or a state that is not there.
fn state_of_a_partition(cores: usize) {
    let run = run_counted(&format!("state-query-{cores}"), 300, cores);
    let words: Vec<String> = lines(300).iter().flat_map(|l| split_words(l)).collect();
    let apples = words.iter().filter(|w| *w == "apple").count();
    let body = http_get(&run.metrics, "/state/word%20totals/a");
    let state: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(state["__class__"], "word_count:WordTotals", "{body}");
    assert_eq!(state["word_totals"], serde_json::json!({ "apple": apples }));
    let (status, body) = http_get_status(&run.metrics, "/state/word%20totals/z");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("has no partition 'z'"), "{body}");
    let (status, body) = http_get_status(&run.metrics, "/state/nothing/a");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no state named 'nothing'"), "{body}");
}
at_core_counts!(state_of_a_partition);
