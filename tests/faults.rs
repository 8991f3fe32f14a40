//! Faults and bad input, end to end: real `roo run` processes on loopback fed with hand-made
//! bytes over raw `TcpStream`s (oversized, truncated, empty and non-UTF-8 frames, random
//! garbage, floods), user hooks returning wrong types, a receiver that goes away and comes
//! back, a thousand idle connections, and SIGINT in the middle of a paced run.
//!
//! Every test asserts exact counts: output lines at `roo receive`, and roo's summary
//! (`total: frames in X, messages out Y, errors Z`, `core N:   K errors in PLACE`) and error
//! log lines (`roo: core N: error in PLACE: DETAIL`).
//!
//! `--exit-when-idle` stops roo once every source connection has closed, so a test with
//! several connections keeps one of them (the "last" one) open until everything the others
//! carried was processed (their output arrived, or their error was logged): otherwise a
//! connection still waiting in the accept backlog could be left unread.

mod common;

use common::rng::Rng;
use common::*;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// Bound on the receiver (a little more than its own `RECEIVER_TIMEOUT`).
const RECEIVE_WITHIN: Duration = Duration::from_secs(35);
/// Bound on waiting for a log line or a condition.
const SEE_WITHIN: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Harness

/// roo's `roo: core N: error in PLACE: DETAIL` log lines.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("roo: core ") && l.contains(": error in "))
        .collect()
}

/// Waits until `path` holds at least `n` lines (bounded); returns how many it holds.
fn wait_lines(path: &Path, n: usize, within: Duration, others: &[&Proc]) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let have = std::fs::read(path)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if have >= n {
            return have;
        }
        if Instant::now() >= deadline {
            panic!(
                "{} has {have} lines, not {n}, after {within:?}{}",
                path.display(),
                others_stderr(others)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until the peer closes `stream` (EOF or reset); panics if it stays open.
fn expect_closed_by_peer(stream: &mut TcpStream, within: Duration, worker: &Proc) {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue, // roo never writes to a source; ignore anyway
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!(
                "roo did not close the connection within {within:?} ({e}); roo stderr:\n{}",
                worker.stderr()
            ),
        }
    }
}

/// The soft and hard limits of open files of a process, from /proc/PID/limits.
fn fd_limits(pid: &str) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files line");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

/// word_count.py's state: feeds texts in order, giving the `word => n` lines they produce.
#[derive(Default)]
struct WordCounter {
    counts: HashMap<String, usize>,
}

impl WordCounter {
    fn feed(&mut self, text: &str) -> Vec<String> {
        assert!(text.is_ascii(), "the model handles ASCII only: {text:?}");
        split_words(text)
            .into_iter()
            .map(|w| {
                let n = self.counts.entry(w.clone()).or_insert(0);
                *n += 1;
                format!("{w} => {n}")
            })
            .collect()
    }

    fn feed_all<S: AsRef<str>>(&mut self, texts: &[S]) -> Vec<String> {
        texts.iter().flat_map(|t| self.feed(t.as_ref())).collect()
    }
}

/// `n` lines of 1 to 8 words (from 60 words with capitals and punctuation), seeded.
fn word_lines(seed: u64, n: usize) -> Vec<String> {
    const WORDS: [&str; 12] = [
        "roo", "wallaroo", "Stream", "core", "frame", "byte", "state", "Key", "sink", "pipe",
        "queue", "batch",
    ];
    const SUFFIX: [&str; 5] = ["", "s", "ed", "ing", "er"];
    const AFTER: [&str; 6] = ["", "", "", ",", ".", "!"];
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let k = 1 + rng.below(8);
            (0..k)
                .map(|_| {
                    format!(
                        "{}{}{}",
                        rng.pick(&WORDS),
                        rng.pick(&SUFFIX),
                        rng.pick(&AFTER)
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Starts a receiver expecting `expect` lines and word_count.py on `cores` cores.
fn word_count_run(
    dir: &TempDir,
    cores: usize,
    expect: usize,
    extra: &[&str],
) -> (Proc, Proc, String, std::path::PathBuf) {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out");
    let receiver = start_receiver(&out_addr, &out, expect);
    let worker = start_io_worker(
        &example("word_count.py"),
        cores,
        &in_addr,
        &out_addr,
        true,
        extra,
    );
    (receiver, worker, in_addr, out)
}

/// Waits for the receiver (all expected lines), then for roo to exit 0; returns roo's stderr.
fn finish(receiver: &mut Proc, worker: &mut Proc, expect: usize) -> String {
    expect_success(receiver, RECEIVE_WITHIN, &[worker]);
    assert_eq!(
        count_after(&receiver.stderr(), "received "),
        expect as u64,
        "{}",
        worker.stderr()
    );
    expect_success(worker, EXIT_WITHIN, &[receiver]);
    worker.stderr()
}

/// Waits for the receiver (all expected lines), closes `last` (the source connection kept
/// open so far), then waits for roo to exit 0; returns roo's stderr.
fn finish_closing(receiver: &mut Proc, worker: &mut Proc, last: TcpStream) -> String {
    expect_success(receiver, RECEIVE_WITHIN, &[worker]);
    drop(last);
    expect_success(worker, EXIT_WITHIN, &[receiver]);
    worker.stderr()
}

// ---------------------------------------------------------------------------------------
// 1. A frame header over --max-frame-size

fn oversized_frame(cores: usize) {
    let dir = TempDir::new(&format!("oversized-{cores}"));
    // Good connection: 3000 lines and one payload of exactly the limit (200 words).
    let good_lines = word_lines(1, 3000);
    let at_limit = "limit ".repeat(166) + "edge"; // 996 + 4 bytes
    assert_eq!(at_limit.len(), 1000);
    // Bad connection: 20 good lines, then a header announcing 1001 bytes (and those bytes).
    let bad_lines = word_lines(2, 20);
    let mut model = WordCounter::default();
    let mut want = model.feed_all(&bad_lines);
    want.extend(model.feed_all(&good_lines));
    want.extend(model.feed(&at_limit));
    let (mut receiver, mut worker, in_addr, out) =
        word_count_run(&dir, cores, want.len(), &["--max-frame-size", "1000"]);

    let mut good = connect_retry(&in_addr);
    let mut bad = connect_retry(&in_addr);
    let bad_peer = bad.local_addr().unwrap().to_string();
    // The good connection streams in pieces while the bad one goes wrong.
    let writer = thread::spawn(move || {
        let mut bytes = line_frames(&good_lines);
        bytes.extend(frame(at_limit.as_bytes()));
        for piece in bytes.chunks(4096) {
            good.write_all(piece).unwrap();
            thread::sleep(Duration::from_millis(1));
        }
        good
    });
    let mut bytes = line_frames(&bad_lines);
    bytes.extend(frame(&[b'x'; 1001]));
    let _ = bad.write_all(&bytes); // roo may close it before the end: that is the point
    expect_closed_by_peer(&mut bad, SEE_WITHIN, &worker);
    let good = writer.join().unwrap();

    let err = finish_closing(&mut receiver, &mut worker, good);

    let logged = error_lines(&err);
    assert_eq!(
        logged.len(),
        1,
        "one log line for the bad connection:\n{err}"
    );
    let line = logged[0];
    assert!(
        line.contains(&bad_peer),
        "names the peer {bad_peer}: {line}"
    );
    assert!(
        line.contains(" 1001 ") && line.contains("1000"),
        "names the size 1001 and the limit 1000: {line}"
    );
    assert_eq!(totals(&err), (20 + 3000 + 1, want.len() as u64, 1), "{err}");
    assert_eq!(errors_at(&err, "source '"), 1, "{err}");
    assert_same_multiset(
        read_out(&out),
        want,
        "word count next to an oversized frame",
    );
}

at_core_counts!(oversized_frame_closes_only_its_connection = oversized_frame);

// ---------------------------------------------------------------------------------------
// 2. A truncated frame at disconnect

fn truncated_frame(cores: usize) {
    let dir = TempDir::new(&format!("truncated-{cores}"));
    let a_lines = word_lines(3, 300);
    let b_lines = word_lines(4, 200);
    let last_lines = word_lines(5, 100);
    let mut model = WordCounter::default();
    let mut want = model.feed_all(&a_lines);
    want.extend(model.feed_all(&b_lines));
    want.extend(model.feed_all(&last_lines));
    let (mut receiver, mut worker, in_addr, out) = word_count_run(&dir, cores, want.len(), &[]);

    let mut last = connect_retry(&in_addr);
    let mut a = connect_retry(&in_addr);
    let mut b = connect_retry(&in_addr);
    // A: complete frames, then a header announcing 100 bytes and 30 of them (34 bytes held).
    let mut bytes = line_frames(&a_lines);
    bytes.extend_from_slice(&100u32.to_be_bytes());
    bytes.extend_from_slice(&[b'y'; 30]);
    a.write_all(&bytes).unwrap();
    // B: complete frames, then half a header (2 bytes held).
    let mut bytes = line_frames(&b_lines);
    bytes.extend_from_slice(&[0, 0]);
    b.write_all(&bytes).unwrap();
    last.write_all(&line_frames(&last_lines)).unwrap();
    drop(a);
    drop(b);
    worker.wait_for_stderr_within("partial frame of 34 bytes", SEE_WITHIN);
    worker.wait_for_stderr_within("partial frame of 2 bytes", SEE_WITHIN);
    let err = finish_closing(&mut receiver, &mut worker, last);

    assert_eq!(
        totals(&err),
        (600, want.len() as u64, 2),
        "all complete frames processed, each partial one counted:\n{err}"
    );
    assert_eq!(errors_at(&err, "source '"), 2, "{err}");
    let logged = error_lines(&err);
    assert_eq!(logged.len(), 2, "{err}");
    assert!(
        logged.iter().all(|l| l.contains("partial frame of ")),
        "{err}"
    );
    assert_same_multiset(read_out(&out), want, "word count around truncated frames");
}

at_core_counts!(truncated_frame_at_disconnect_is_counted = truncated_frame);

// ---------------------------------------------------------------------------------------
// 3. Zero-length frames

fn zero_length_frames(cores: usize) {
    let dir = TempDir::new(&format!("empty-{cores}"));
    let lines = word_lines(6, 1000);
    // Empty frames first, last, one after every good one, and 50 in a row in the middle.
    let mut payloads: Vec<&[u8]> = vec![b""];
    for (i, l) in lines.iter().enumerate() {
        payloads.push(l.as_bytes());
        payloads.push(b"");
        if i == 500 {
            payloads.extend(std::iter::repeat_n(&b""[..], 50));
        }
    }
    payloads.push(b"");
    let empties = payloads.iter().filter(|p| p.is_empty()).count();
    assert_eq!(empties, 1000 + 50 + 2);
    let want = WordCounter::default().feed_all(&lines);
    let (mut receiver, mut worker, in_addr, out) = word_count_run(&dir, cores, want.len(), &[]);

    let mut conn = connect_retry(&in_addr);
    conn.write_all(&frames(payloads.iter().copied())).unwrap();
    drop(conn);
    let err = finish(&mut receiver, &mut worker, want.len());

    assert_eq!(
        totals(&err),
        (payloads.len() as u64, want.len() as u64, 0),
        "{err}"
    );
    let got = read_out(&out);
    assert_output(cores, got, want, "word count with empty frames");
}

at_core_counts!(zero_length_frames_are_harmless = zero_length_frames);

// ---------------------------------------------------------------------------------------
// 4. Non-UTF-8 payloads to a str decoder

const NOT_UTF8: [&[u8]; 7] = [
    b"\xff",
    b"caf\xe9 au lait",      // Latin-1
    b"\xc3\x28 pair",        // bad continuation
    b"ok \xed\xa0\x80 ok",   // a surrogate
    b"cut \xe2\x82",         // truncated sequence
    b"\xf8\x88\x80\x80\x80", // 5-byte form
    b"\xc0\xaf overlong",    // overlong '/'
];

/// Good lines with every bad payload mixed in (at the start, the end, and runs of them).
fn mixed_payloads(seed: u64, good: &[String]) -> (Vec<Vec<u8>>, usize) {
    let mut rng = Rng(seed);
    let mut payloads: Vec<Vec<u8>> = vec![NOT_UTF8[0].to_vec()];
    let mut bad = 1;
    for (i, l) in good.iter().enumerate() {
        payloads.push(l.as_bytes().to_vec());
        let run = if i % 37 == 0 {
            3
        } else {
            rng.below(4) as usize / 3
        };
        for _ in 0..run {
            payloads.push(rng.pick(&NOT_UTF8).to_vec());
            bad += 1;
        }
    }
    payloads.push(NOT_UTF8[6].to_vec());
    bad += 1;
    (payloads, bad)
}

fn non_utf8(cores: usize) {
    let dir = TempDir::new(&format!("utf8-{cores}"));
    // One connection per core.
    let batches: Vec<(Vec<String>, Vec<Vec<u8>>, usize)> = (0..cores as u64)
        .map(|c| {
            let good = word_lines(10 + c, 500);
            let (payloads, bad) = mixed_payloads(20 + c, &good);
            (good, payloads, bad)
        })
        .collect();
    let mut model = WordCounter::default();
    let want: Vec<String> = batches
        .iter()
        .flat_map(|(good, _, _)| model.feed_all(good))
        .collect();
    let bad: usize = batches.iter().map(|b| b.2).sum();
    let frames_sent: usize = batches.iter().map(|b| b.1.len()).sum();
    assert!(bad > 150, "{bad} bad payloads");
    let (mut receiver, mut worker, in_addr, out) = word_count_run(&dir, cores, want.len(), &[]);

    let conns: Vec<TcpStream> = batches.iter().map(|_| connect_retry(&in_addr)).collect();
    let writers: Vec<_> = conns
        .into_iter()
        .zip(batches.iter().map(|b| frames(b.1.iter().map(|p| &p[..]))))
        .map(|(mut c, bytes)| {
            thread::spawn(move || {
                c.write_all(&bytes).unwrap();
                c
            })
        })
        .collect();
    let mut conns: Vec<TcpStream> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let last = conns.pop().unwrap();
    drop(conns);
    let err = finish_closing(&mut receiver, &mut worker, last);

    assert_eq!(
        totals(&err),
        (frames_sent as u64, want.len() as u64, bad as u64),
        "{err}"
    );
    let places = errors_by_place(&err);
    assert!(
        places.keys().all(|p| p.starts_with("decoder of source")),
        "{places:?}"
    );
    assert_eq!(errors_at(&err, "decoder of source"), bad as u64, "{err}");
    assert!(err.contains("UnicodeDecodeError"), "{err}");
    let got = read_out(&out);
    assert_output(cores, got, want, "word count between non-UTF-8 payloads");
}

at_core_counts!(non_utf8_payloads_are_decoder_errors = non_utf8);

// ---------------------------------------------------------------------------------------
// 5. Random garbage

/// What roo must make of one connection's bytes (4-byte big-endian headers, word_count.py's
/// UTF-8 decoder), written whole and then closed.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    frames: u64,
    texts: Vec<String>,
    decode_errors: u64,
    /// An oversized header (the connection is closed there) or a partial frame at the end.
    source_errors: u64,
}

fn simulate(bytes: &[u8], max_frame: usize) -> Expected {
    let mut e = Expected::default();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at < 4 {
            e.source_errors += 1; // partial frame at close
            break;
        }
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if len > max_frame {
            e.source_errors += 1; // closed
            break;
        }
        if bytes.len() - at - 4 < len {
            e.source_errors += 1; // partial frame at close
            break;
        }
        let payload = &bytes[at + 4..at + 4 + len];
        e.frames += 1;
        match std::str::from_utf8(payload) {
            Ok(text) => e.texts.push(text.to_owned()),
            Err(_) => e.decode_errors += 1,
        }
        at += 4 + len;
    }
    e
}

/// Random bytes that are not valid non-ASCII UTF-8 (whose word split Python and this model
/// could disagree on): either invalid UTF-8 or ASCII.
fn random_payload(rng: &mut Rng, len: usize) -> Vec<u8> {
    loop {
        let p: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if std::str::from_utf8(&p).is_err() || p.is_ascii() {
            return p;
        }
    }
}

fn garbage(cores: usize) {
    let dir = TempDir::new(&format!("garbage-{cores}"));
    let mut rng = Rng(0x5eed);
    // G1: 64 KiB of noise. G2: 300 well-framed random payloads of 0..40 bytes, then noise.
    let g1 = random_payload(&mut rng, 64 * 1024);
    let mut g2 = Vec::new();
    for _ in 0..300 {
        let len = rng.below(40) as usize;
        g2.extend(frame(&random_payload(&mut rng, len)));
    }
    g2.extend(random_payload(&mut rng, 2000));
    let (e1, e2) = (
        simulate(&g1, protocol::DEFAULT_MAX_FRAME_SIZE),
        simulate(&g2, protocol::DEFAULT_MAX_FRAME_SIZE),
    );
    assert!(e2.frames >= 300 && e2.decode_errors > 100, "{e2:?}");
    for (name, e) in [("G1", &e1), ("G2", &e2)] {
        eprintln!(
            "{name}: {} frames, {} decoded, {} decoder errors, {} source errors",
            e.frames,
            e.texts.len(),
            e.decode_errors,
            e.source_errors
        );
    }
    let good_lines = word_lines(7, 2000);

    let mut model = WordCounter::default();
    let mut want = model.feed_all(&e1.texts);
    want.extend(model.feed_all(&e2.texts));
    want.extend(model.feed_all(&good_lines));
    let (mut receiver, mut worker, in_addr, out) = word_count_run(&dir, cores, want.len(), &[]);

    let mut good = connect_retry(&in_addr);
    let noisy: Vec<_> = [g1, g2]
        .into_iter()
        .map(|bytes| {
            let mut c = connect_retry(&in_addr);
            thread::spawn(move || {
                let _ = c.write_all(&bytes); // roo may close it early
                let _ = c.shutdown(std::net::Shutdown::Write);
                c
            })
        })
        .collect();
    good.write_all(&line_frames(&good_lines)).unwrap();
    for handle in noisy {
        let mut c = handle.join().unwrap();
        expect_closed_by_peer(&mut c, SEE_WITHIN, &worker);
    }
    let err = finish_closing(&mut receiver, &mut worker, good);

    let frames_in = e1.frames + e2.frames + good_lines.len() as u64;
    let decode_errors = e1.decode_errors + e2.decode_errors;
    let source_errors = e1.source_errors + e2.source_errors;
    assert_eq!(
        totals(&err),
        (frames_in, want.len() as u64, decode_errors + source_errors),
        "expected {e1:?} and {e2:?}:\n{err}"
    );
    assert_eq!(errors_at(&err, "decoder of source"), decode_errors, "{err}");
    assert_eq!(errors_at(&err, "source '"), source_errors, "{err}");
    assert_same_multiset(read_out(&out), want, "word count next to garbage");
}

at_core_counts!(random_garbage_is_dropped_and_counted = garbage);

// ---------------------------------------------------------------------------------------
// 6. A flood of bad messages

fn flood(cores: usize) {
    let dir = TempDir::new(&format!("flood-{cores}"));
    let before = word_lines(8, 100);
    let after = word_lines(9, 100);
    let mut model = WordCounter::default();
    let mut want = model.feed_all(&before);
    want.extend(model.feed_all(&after));
    let (mut receiver, mut worker, in_addr, out) = word_count_run(&dir, cores, want.len(), &[]);

    let mut bytes = line_frames(&before);
    for i in 0..5000u32 {
        let mut p = b"\xff bad ".to_vec();
        p.extend_from_slice(i.to_string().as_bytes());
        bytes.extend(frame(&p));
    }
    bytes.extend(line_frames(&after));
    let mut conn = connect_retry(&in_addr);
    conn.write_all(&bytes).unwrap();
    drop(conn);
    let started = Instant::now();
    let err = finish(&mut receiver, &mut worker, want.len());

    assert_eq!(totals(&err), (5200, want.len() as u64, 5000), "{err}");
    assert_eq!(errors_at(&err, "decoder of source"), 5000, "{err}");
    let logged = error_lines(&err).len();
    eprintln!("{logged} error lines for 5000 errors");
    // 20 lines per 10 s per core; all bad frames are on one connection, so one core.
    assert!(
        logged <= 25 && logged > 0,
        "{logged} error lines logged for 5000 errors (in {:?}):\n{err}",
        started.elapsed()
    );
    let got = read_out(&out);
    assert_output(cores, got, want, "word count after a flood");
}

at_core_counts!(flood_of_bad_messages_is_rate_limited = flood);

// ---------------------------------------------------------------------------------------
// 7. Wrong return types (tests/apps/wrong_types.py)

#[derive(Default)]
struct WrongTypesModel {
    counts: [u64; 2],
    fan_out: u64,
    partition: u64,
    tally: u64,
    encoder: u64,
}

impl WrongTypesModel {
    /// The output lines of one message, counting its errors by step.
    fn feed(&mut self, text: &str) -> Vec<String> {
        let pieces: Vec<&str> = match text {
            "multi-str" | "multi-int" | "multi-tuple" | "multi-dict" => {
                self.fan_out += 1;
                return vec![];
            }
            "multi-none" => return vec![],
            _ => text.split('+').collect(),
        };
        let mut out = Vec::new();
        for piece in pieces {
            if piece.starts_with("raise") {
                self.partition += 1;
                continue;
            }
            if piece == "state-raise" {
                self.tally += 1;
                continue;
            }
            if piece == "state-none" {
                continue;
            }
            let n = &mut self.counts[piece.len() % 2];
            *n += 1;
            if matches!(piece, "enc-int" | "enc-none" | "enc-list") {
                self.encoder += 1;
                continue;
            }
            out.push(format!("{piece} #{n}"));
        }
        out
    }
}

const BAD_TYPES: [&str; 13] = [
    "multi-str",
    "multi-int",
    "multi-tuple",
    "multi-dict",
    "raise",
    "raise-odd",
    "state-raise",
    "state-none",
    "state-plain",
    "enc-int",
    "enc-none",
    "enc-list",
    "x+raise+yy+state-raise+state-plain+enc-int+zzz",
];

fn wrong_types(cores: usize) {
    let dir = TempDir::new(&format!("wrong-types-{cores}"));
    let mut rng = Rng(77);
    let mut batch1: Vec<String> = Vec::new();
    for i in 0..600 {
        batch1.push(format!("m{i}"));
        if i % 3 == 0 {
            batch1.push(rng.pick(&BAD_TYPES).to_owned());
        }
        if i % 50 == 0 {
            batch1.push("multi-none".into());
            batch1.push(format!("a{i}+bb{i}+ccc{i}"));
        }
    }
    batch1.extend(BAD_TYPES.map(str::to_owned));
    // End on good messages of both keys, so batch 1 is done once its output is.
    batch1.extend(["end1".into(), "end12".into()]);
    let batch2: Vec<String> = (0..300).map(|i| format!("after{i}")).collect();
    let mut model = WrongTypesModel::default();
    let want1: Vec<String> = batch1.iter().flat_map(|t| model.feed(t)).collect();
    let want2: Vec<String> = batch2.iter().flat_map(|t| model.feed(t)).collect();
    assert!(model.fan_out > 10 && model.partition > 10 && model.tally > 10 && model.encoder > 10);
    let total_out = want1.len() + want2.len();

    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out");
    let mut receiver = start_receiver(&out_addr, &out, total_out);
    // Without --exit-when-idle: it must keep running after the bad messages.
    let mut worker = start_io_worker(
        &test_app("wrong_types.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    let mut conn = connect_retry(&in_addr);
    conn.write_all(&line_frames(&batch1)).unwrap();
    drop(conn);
    wait_lines(&out, want1.len(), SEE_WITHIN, &[&worker, &receiver]);
    assert!(worker.exited().is_none(), "{}", worker.stderr());
    let mut conn = connect_retry(&in_addr);
    conn.write_all(&line_frames(&batch2)).unwrap();
    drop(conn);
    expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
    let err = worker.stderr();

    let errors = model.fan_out + model.partition + model.tally + model.encoder;
    assert_eq!(
        totals(&err),
        (
            (batch1.len() + batch2.len()) as u64,
            total_out as u64,
            errors
        ),
        "{err}"
    );
    assert_eq!(errors_at(&err, "step 'fan out'"), model.fan_out, "{err}");
    assert_eq!(
        errors_at(&err, "partition function of step 'tally'"),
        model.partition,
        "{err}"
    );
    assert_eq!(errors_at(&err, "step 'tally'"), model.tally, "{err}");
    assert_eq!(errors_at(&err, "encoder of sink"), model.encoder, "{err}");
    for text in [
        "compute_multi returned str, expected a list",
        "TypeError: no state for 'state-raise'",
        "encode returned int, expected bytes or str",
        "ValueError: no key for 'raise",
    ] {
        assert!(err.contains(text), "no {text:?} in the log:\n{err}");
    }
    let mut want = want1;
    want.extend(want2);
    let got = read_out(&out);
    assert_output(cores, got, want, "wrong types");
}

at_core_counts!(wrong_return_types_drop_only_their_messages = wrong_types);

// ---------------------------------------------------------------------------------------
// 8. The receiver goes away and another comes back on the same port

fn receiver_comes_back(cores: usize) {
    let dir = TempDir::new(&format!("comeback-{cores}"));
    let batch1 = word_lines(12, 400);
    let batch2 = word_lines(13, 400);
    let mut model = WordCounter::default();
    let want1 = model.feed_all(&batch1);
    let want2 = model.feed_all(&batch2);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let (out_a, out_b) = (dir.path("a"), dir.path("b"));

    let receiver_a = start_receiver_with(&out_addr, &out_a, None, RECEIVER_TIMEOUT, &[]);
    let mut worker = start_io_worker(
        &example("word_count.py"),
        cores,
        &in_addr,
        &out_addr,
        true,
        &[],
    );
    let mut conn = connect_retry(&in_addr);
    conn.write_all(&line_frames(&batch1)).unwrap();
    wait_lines(&out_a, want1.len(), SEE_WITHIN, &[&worker, &receiver_a]);
    drop(receiver_a); // killed
    thread::sleep(Duration::from_millis(200));
    let mut receiver_b = start_receiver_with(&out_addr, &out_b, Some(want2.len()), "12", &[]);
    thread::sleep(Duration::from_millis(500));
    conn.write_all(&line_frames(&batch2)).unwrap();
    drop(conn);
    expect_success(&mut receiver_b, RECEIVE_WITHIN, &[&worker]);
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver_b]);
    let err = worker.stderr();

    let total_out = (want1.len() + want2.len()) as u64;
    assert_same_multiset(read_out(&out_a), want1, "batch 1 at receiver A");
    assert_same_multiset(read_out(&out_b), want2.clone(), "batch 2 at receiver B");
    assert!(
        err.contains(" lost (") || err.contains("not reachable"),
        "a reconnect is logged:\n{err}"
    );
    assert_eq!(totals(&err), (800, total_out, 0), "{err}");
}

at_core_counts!(receiver_coming_back_gets_everything_after_reconnect = receiver_comes_back);

// ---------------------------------------------------------------------------------------
// 9. Many connections

/// Idle connections held open next to the 10 busy ones: 1000, or if this process's open
/// file limit is too low for that, the soft limit minus 100 (minus the busy ones). roo is
/// started with a soft open file limit of 512, below what 1000 connections need, to check
/// that it raises its soft limit to the hard one.
fn many_connections(cores: usize) {
    let (soft, _) = fd_limits("self");
    let idle_count = 1000.min(soft.saturating_sub(100 + 10) as usize);
    assert!(
        idle_count >= 100,
        "open file limit {soft} is too low for this test"
    );
    let dir = TempDir::new(&format!("many-{cores}"));
    let input = dir.path("in.txt");
    let lines = word_lines(14, 3000);
    write_lines(&input, &lines);
    let want = WordCounter::default().feed_all(&lines);

    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out");
    let mut receiver = start_receiver(&out_addr, &out, want.len());
    // roo with a soft limit of 512 open files (its hard limit as inherited).
    let cores_arg = cores.to_string();
    let mut command = std::process::Command::new("sh");
    command.args([
        "-c",
        "ulimit -Sn 512 && exec \"$0\" \"$@\"",
        roo(),
        "run",
        "--cores",
        &cores_arg,
        &example("word_count.py"),
        "--in",
        &in_addr,
        "--out",
        &out_addr,
    ]);
    let mut worker = Proc::spawn(
        format!("roo run --cores {cores} (soft fd limit 512)"),
        command,
    );
    worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
    let pid = worker.pid();
    // Baseline once the sink connections are made and the count is steady.
    let mut baseline = open_fds(pid);
    wait_until(
        SEE_WITHIN,
        || "a steady descriptor count".into(),
        || {
            thread::sleep(Duration::from_millis(200));
            let now = open_fds(pid);
            let steady = now == baseline;
            baseline = now;
            steady
        },
    );

    let mut idle = Vec::with_capacity(idle_count);
    for _ in 0..idle_count {
        idle.push(connect_retry(&in_addr));
    }
    wait_until(
        SEE_WITHIN,
        || {
            format!(
                "roo holds the {idle_count} idle connections (fds now {}, before {baseline}); \
                 stderr:\n{}",
                open_fds(pid),
                worker.stderr()
            )
        },
        || open_fds(pid) >= baseline + idle_count,
    );
    let peak = open_fds(pid);
    let (roo_soft, roo_hard) = fd_limits(&pid.to_string());
    eprintln!("roo: fd limit {roo_soft}/{roo_hard}, fds {baseline} before, {peak} with {idle_count} idle connections");
    send(
        &in_addr,
        &input,
        &["--connections", "10"],
        RECEIVE_WITHIN,
        &[&worker],
    );
    expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
    assert!(worker.exited().is_none(), "{}", worker.stderr());
    drop(idle);
    let mut now = 0;
    let settled = Instant::now() + SEE_WITHIN;
    while Instant::now() < settled {
        now = open_fds(pid);
        if now <= baseline + 3 {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    eprintln!("roo: fds {now} after they closed");
    assert!(
        now <= baseline + 3,
        "roo holds {now} descriptors after all connections closed, {baseline} before they opened"
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
    let err = worker.stderr();
    assert_eq!(
        totals(&err),
        (lines.len() as u64, want.len() as u64, 0),
        "{err}"
    );
    assert_same_multiset(read_out(&out), want, "word count next to idle connections");
}

at_core_counts!(many_idle_connections_leak_nothing = many_connections);

// ---------------------------------------------------------------------------------------
// 10. SIGINT while messages flow

fn sigint_drains(cores: usize) {
    let dir = TempDir::new(&format!("sigint-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out");
    let mut receiver = start_receiver_with(
        &out_addr,
        &out,
        None,
        RECEIVER_TIMEOUT,
        &["--idle-exit", "3", "--timeout", RECEIVER_TIMEOUT],
    );
    let mut worker = start_io_worker(
        &example("word_count.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    let mut sender = Proc::start(&[
        "send",
        "--to",
        &in_addr,
        "--connections",
        "2",
        "--generate",
        "words",
        "--rate",
        "2000",
        "--duration",
        "20",
        "--quiet",
    ]);
    // Interrupt once output flows (at least ~0.5 s of input).
    wait_lines(&out, 5000, SEE_WITHIN, &[&worker, &sender]);
    worker.signal("INT");
    expect_success(&mut worker, EXIT_WITHIN, &[&sender, &receiver]);
    let err = worker.stderr();
    let (frames_in, messages_out, errors) = totals(&err);
    assert_eq!(errors, 0, "{err}");
    assert!(frames_in >= 500 && messages_out >= 5000, "{err}");
    // The sender loses its peer (or finishes); either way it stops in bounded time.
    let _ = sender.wait_within(EXIT_WITHIN);
    expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
    assert_eq!(
        count_after(&receiver.stderr(), "received "),
        messages_out,
        "every message roo counted out reached the receiver:\n{err}"
    );
    let got = read_out(&out);
    assert_eq!(got.len() as u64, messages_out);
    assert!(
        got.iter().all(|l| l
            .rsplit_once(" => ")
            .is_some_and(|(_, n)| n.parse::<u64>().is_ok())),
        "only `word => n` lines"
    );
}

at_core_counts!(sigint_drains_what_was_read = sigint_drains);

/// A drain that outlasts the 10 s roo gives a sink that accepts nothing: when the sender
/// closes, core 1 still has 12 s of slow state steps routed to it, which output nothing
/// for their first 10.4 s, and all of them run. (The drain used to count only sink bytes
/// as progress: it saw none, gave up after 10 s and lost the rest.) A SIGINT delivered
/// twice during it, as `timeout` does, changes nothing.
#[test]
fn a_drain_longer_than_the_sink_give_up_loses_nothing() {
    let dir = TempDir::new("slow-drain");
    let mut lines: Vec<String> = (0..2999).map(|i| format!("m{i}")).collect();
    lines.push("last".into());
    let input = dir.path("in.txt");
    write_lines(&input, &lines);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let mut receiver = start_receiver_with(&out_addr, &out, Some(2), "60", &[]);
    let mut worker = start_io_worker(
        &test_app("slow_state.py"),
        2,
        &in_addr,
        &out_addr,
        true,
        &[],
    );
    send(&in_addr, &input, &[], SEE_WITHIN, &[&worker, &receiver]);
    thread::sleep(Duration::from_secs(1));
    worker.signal("INT");
    worker.signal("INT");
    expect_success(&mut worker, Duration::from_secs(60), &[&receiver]);
    expect_success(&mut receiver, Duration::from_secs(65), &[&worker]);
    let err = worker.stderr();
    assert!(!err.contains("giving up"), "{err}");
    let want = vec!["m2599 => 2600".to_string(), "last => 3000".to_string()];
    assert_eq!(read_out(&out), want, "{err}");
}
