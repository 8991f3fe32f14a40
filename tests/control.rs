//! Wallaroo's external control channel (`roo run --external`) end to end: the real word
//! count with the channel on a free port is asked, by `roo external` and by a bare TCP
//! client of its own framing, for its status, sources, partitions and state entities
//! (checked against the words sent), prints on request, and drains and exits on
//! CleanShutdown with every count written.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `roo external -e ADDR ARGS --timeout 10`: (success, stdout).
fn external(addr: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(roo())
        .args(["external", "-e", addr, "--timeout", "10"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run roo external");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The JSON answer of query `kind`.
fn query(addr: &str, kind: &str) -> serde_json::Value {
    let (ok, out) = external(addr, &["-t", kind, "--json"]);
    assert!(ok, "{kind}: {out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{kind}: {e}: {out:?}"))
}

/// word_count.py's partition keys for `lines`: the distinct first letters of the words.
fn first_letters(lines: &[String]) -> Vec<String> {
    let mut letters: Vec<String> = count_words(lines, split_words)
        .into_keys()
        .map(|word| word[..1].to_string())
        .collect();
    letters.sort();
    letters.dedup();
    letters
}

fn sorted_strings(value: &serde_json::Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|item| item.as_str().unwrap().to_string())
        .collect();
    items.sort();
    items
}

fn control_channel(cores: usize) {
    let dir = TempDir::new(&format!("control-{cores}"));
    let input = dir.path("in.txt");
    let out = dir.path("out.txt");
    let stdout = dir.path("stdout.txt");
    let lines: Vec<String> = vec![
        "the quick brown fox".into(),
        "jumps over the lazy dog".into(),
        "the dog sleeps".into(),
    ];
    write_lines(&input, &lines);
    let words = first_letters(&lines);
    let total: usize = count_words(&lines, split_words).values().sum();
    let (in_addr, out_addr, control) = (free_addr(), free_addr(), free_addr());
    let mut receiver = start_receiver(&out_addr, &out, total);
    let mut command = Command::new(roo());
    command
        .args(["run", "--cores", &cores.to_string(), "--external", &control])
        .arg(example("word_count.py"))
        .args(["--in", &in_addr, "--out", &out_addr]);
    let mut worker = Proc::spawn_with_stdout(
        format!("roo run with --external {control}"),
        command,
        Stdio::from(std::fs::File::create(&stdout).unwrap()),
    );
    worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
    send(&in_addr, &input, &[], WAIT, &[&worker, &receiver]);
    expect_success(&mut receiver, WAIT, &[&worker]);

    let status = query(&control, "cluster-status-query");
    assert_eq!(
        status,
        serde_json::json!({"worker_count": 1, "worker_names": ["initializer"], "processing_messages": true})
    );
    let (ok, text) = external(&control, &["-t", "cluster-status-query"]);
    assert!(ok);
    assert_eq!(
        text,
        "Connected...\nCluster Status:\nProcessing messages: true, Worker count: 1, Workers: |initializer,|\n"
    );
    assert_eq!(
        query(&control, "source-ids-query"),
        serde_json::json!({"source_ids": ["0"]})
    );

    // One state (word totals by first letter), a partition per letter sent, over all cores.
    let entities = query(&control, "state-entity-query");
    let states = entities.as_object().unwrap();
    assert_eq!(states.len(), 1, "{entities}");
    let (state, keys) = states.iter().next().unwrap();
    assert_eq!(sorted_strings(keys), words);
    assert_eq!(
        query(&control, "state-entity-count-query"),
        serde_json::json!({ state.as_str(): words.len() })
    );
    let partitions = query(&control, "partition-query");
    assert_eq!(
        sorted_strings(&partitions["state_partitions"][state]["initializer"]),
        words
    );
    assert_eq!(partitions["stateless_partitions"], serde_json::json!({}));
    assert_eq!(
        query(&control, "partition-count-query")["state_partitions"][state]["initializer"],
        words.len()
    );
    assert_eq!(
        query(&control, "cluster-state-entity-count-query"),
        serde_json::json!({"initializer": { state.as_str(): { state.as_str(): words.len() } }})
    );

    // An independent client of the framing: u32 length, u16 id 9; the answer is id 10.
    let mut raw = TcpStream::connect(&control).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(&[0, 0, 0, 2, 0, 9]).unwrap();
    let mut header = [0u8; 6];
    raw.read_exact(&mut header).unwrap();
    let length = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
    assert_eq!(u16::from_be_bytes([header[4], header[5]]), 10);
    let mut body = vec![0u8; length - 2];
    raw.read_exact(&mut body).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        status
    );
    // An unknown id gets no answer and the connection stays usable.
    raw.write_all(&[0, 0, 0, 2, 0, 99, 0, 0, 0, 2, 0, 14])
        .unwrap();
    raw.read_exact(&mut header).unwrap();
    assert_eq!(u16::from_be_bytes([header[4], header[5]]), 15);

    let (ok, _) = external(&control, &["-t", "print", "-m", "hello from outside"]);
    assert!(ok);
    wait_until(
        WAIT,
        || "the print on roo's stdout".into(),
        || {
            std::fs::read_to_string(&stdout)
                .unwrap_or_default()
                .contains("$$$ ExternalPrint: hello from outside $$$")
        },
    );

    let (ok, _) = external(&control, &["-t", "clean-shutdown"]);
    assert!(ok);
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let stderr = worker.stderr();
    assert!(
        stderr.contains("clean shutdown asked on the external channel"),
        "{stderr}"
    );
    assert!(stderr.contains("unknown message id 99"), "{stderr}");
    assert_eq!(read_out(&out).len(), total);
}

at_core_counts!(control_channel);

/// `roo run` with an address it cannot listen on for the channel fails at start-up,
/// naming it.
#[test]
fn an_external_address_in_use_is_a_start_up_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let control = taken.local_addr().unwrap().to_string();
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let mut worker = Proc::start(&[
        "run",
        "--cores",
        "1",
        "--external",
        &control,
        &example("word_count.py"),
        "--in",
        &in_addr,
        "--out",
        &out_addr,
    ]);
    let status = worker.wait_within(EXIT_WITHIN);
    assert!(!status.success());
    let stderr = worker.stderr();
    assert!(
        stderr.contains(&format!("--external {control}: cannot listen")),
        "{stderr}"
    );
}
