//! End-to-end tests of the example applications: `roo run` with real processes and real
//! loopback sockets, fed by `roo send` and collected by `roo receive`, each at 1 and 2 cores.
//!
//! Flow of a test: start the receiver, start `roo run --exit-when-idle`, wait (bounded) for
//! `roo: ready`, run the sender to completion, wait for the receiver to get the expected
//! number of messages, wait for roo to exit 0, then compare outputs with values computed
//! here. Every process is killed when its guard drops, so nothing outlives a failed test.

mod common;

use common::rng::Rng;
use common::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// Bound on `roo send` (it blocks while the worker applies backpressure).
const SEND_WITHIN: Duration = Duration::from_secs(40);
/// Bound on the receiver (a little more than its own `RECEIVER_TIMEOUT`).
const RECEIVE_WITHIN: Duration = Duration::from_secs(40);

// ---------------------------------------------------------------------------------------
// Harness

/// [`start_receiver`], optionally `--framed` and with `--delay-us`.
fn start_slow_receiver(
    addr: &str,
    out: &Path,
    expect: usize,
    framed: bool,
    delay_us: Option<u32>,
) -> Proc {
    let delay = delay_us.map(|d| d.to_string());
    let mut extra = Vec::new();
    if framed {
        extra.push("--framed");
    }
    if let Some(d) = &delay {
        extra.extend(["--delay-us", d]);
    }
    start_receiver_with(addr, out, Some(expect), RECEIVER_TIMEOUT, &extra)
}

/// One run of an app over a file of input.
struct Flow<'a> {
    app: String,
    cores: usize,
    input: &'a Path,
    /// Extra `roo send` arguments.
    send_args: &'a [&'a str],
    /// Extra `roo run` options.
    run_args: &'a [&'a str],
    /// Messages the receiver waits for.
    expect: usize,
    framed: bool,
    delay_us: Option<u32>,
    /// Start the receiver only after all input was sent, and 1 s more.
    late_receiver: bool,
}

struct Finished {
    out: PathBuf,
    worker: String,
}

impl Flow<'_> {
    fn run(&self, dir: &TempDir) -> Finished {
        let in_addr = free_addr();
        let out_addr = free_addr();
        let out = dir.path("out");
        let receiver_now = !self.late_receiver;
        let receiver =
            || start_slow_receiver(&out_addr, &out, self.expect, self.framed, self.delay_us);
        let mut receiver_proc = receiver_now.then(receiver);
        let mut worker = start_io_worker(
            &self.app,
            self.cores,
            &in_addr,
            &out_addr,
            true,
            self.run_args,
        );

        let sender = send(
            &in_addr,
            self.input,
            self.send_args,
            SEND_WITHIN,
            &[&worker],
        );
        let started = Instant::now();
        // For --nocapture: how long the sender was held up by backpressure.
        eprint!("{}", sender.stderr());

        if self.late_receiver {
            thread::sleep(Duration::from_secs(1));
            receiver_proc = Some(receiver());
        }
        let mut receiver = receiver_proc.unwrap();
        expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
        eprintln!(
            "receiver done {:.3} s after the sender",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(
            count_after(&receiver.stderr(), "received "),
            self.expect as u64
        );
        expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
        let worker = worker.stderr();
        let (_, out_count, _) = totals(&worker);
        assert_eq!(
            out_count, self.expect as u64,
            "roo wrote more or fewer messages than the receiver expected:\n{worker}"
        );
        Finished { out, worker }
    }
}

// ---------------------------------------------------------------------------------------
// Word count

/// A vocabulary of `n` distinct pronounceable lowercase words of 1 to 3 syllables.
fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "st", "qu",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "oo"];
    rng.vocabulary(n, |_| 1..=3, &ONSETS, &VOWELS, &[])
}

/// Deterministic text: `lines` lines of 0 to 16 tokens with capitals, punctuation around
/// and inside words, numbers, punctuation-only tokens, double and leading spaces.
fn text_lines(seed: u64, lines: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut vocab = vocabulary(&mut rng, 250);
    vocab.extend(
        [
            "don't",
            "rock-n-roll",
            "e-mail",
            "42",
            "3rd",
            "x.y",
            "o'clock",
            "well-known",
            "a",
            "i",
        ]
        .map(str::to_owned),
    );
    const BEFORE: [&str; 6] = ["(", "\"", "'", "[", "--", "_"];
    const AFTER: [&str; 12] = [
        ",", ".", "!", "?", ";", ":", "...", ")", "\"", "'", "!?", "],",
    ];
    const ALONE: [&str; 5] = ["--", "...", "&", "#", "*"];
    (0..lines)
        .map(|_| {
            if rng.below(100) == 0 {
                return String::new();
            }
            let mut line = String::new();
            if rng.below(20) == 0 {
                line.push(' ');
            }
            let tokens = 1 + rng.below(16);
            for t in 0..tokens {
                if t > 0 {
                    line.push_str(if rng.below(20) == 0 { "  " } else { " " });
                }
                if rng.below(30) == 0 {
                    line.push_str(rng.pick(&ALONE[..]));
                    continue;
                }
                if rng.below(10) == 0 {
                    line.push_str(rng.pick(&BEFORE));
                }
                let word = rng.pick(&vocab);
                match rng.below(10) {
                    0 | 1 => {
                        let mut c = word.chars();
                        let first = c.next().unwrap().to_ascii_uppercase();
                        line.push(first);
                        line.push_str(c.as_str());
                    }
                    2 => line.push_str(&word.to_uppercase()),
                    _ => line.push_str(&word),
                }
                if rng.below(4) == 0 {
                    line.push_str(rng.pick(&AFTER));
                }
            }
            line
        })
        .collect()
}

/// Checks word_count.py's output against an independent count.
fn check_word_count(got: Vec<String>, counts: &BTreeMap<String, usize>) {
    let mut largest: HashMap<String, usize> = HashMap::new();
    for line in &got {
        let (w, n) = line
            .rsplit_once(" => ")
            .unwrap_or_else(|| panic!("not a `word => count` line: {line:?}"));
        let n: usize = n
            .parse()
            .unwrap_or_else(|_| panic!("bad count in {line:?}"));
        let e = largest.entry(w.to_owned()).or_insert(0);
        *e = (*e).max(n);
    }
    for (w, &n) in counts {
        assert_eq!(largest.get(w), Some(&n), "largest count of {w:?}");
    }
    assert_eq!(largest.len(), counts.len(), "words in the output");
    assert_same_multiset(got, word_count_output(counts), "word count");
}

/// Runs a word count `app` (examples/word_count.py's input and output) over `lines` on
/// `cores`, checks every frame was read, no error counted and each word's counts against
/// an independent count; returns roo's log.
fn run_word_count(
    dir: &TempDir,
    app: String,
    cores: usize,
    lines: &[String],
    run_args: &[&str],
) -> String {
    let input = dir.path("in.txt");
    write_lines(&input, lines);
    let counts = count_words(lines, split_words);
    let total: usize = counts.values().sum();
    let done = Flow {
        app,
        cores,
        input: &input,
        send_args: &["--connections", "2"],
        run_args,
        expect: total,
        framed: false,
        delay_us: None,
        late_receiver: false,
    }
    .run(dir);
    let (frames, _, errors) = totals(&done.worker);
    assert_eq!(frames, lines.len() as u64, "{}", done.worker);
    assert_eq!(errors, 0, "{}", done.worker);
    check_word_count(read_out(&done.out), &counts);
    done.worker
}

/// Runs the word count example and returns roo's stderr.
fn word_count(cores: usize, run_args: &[&str]) -> String {
    let dir = TempDir::new(&format!("wc-{cores}{}", run_args.concat()));
    let lines = text_lines(7, 400);
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    assert!(bytes > 8 * 1024);
    run_word_count(&dir, example("word_count.py"), cores, &lines, run_args)
}

const SHARED_GIL_NOTE: &str = "share one GIL";

/// With one core, or own-GIL subinterpreters (Python >= 3.12), nothing is said about the
/// GIL; on 3.11 several cores share one and roo says so.
fn word_count_example(cores: usize) {
    let worker = word_count(cores, &[]);
    let own_gil = cores == 1 || worker.contains("core 1: subinterpreter, own GIL");
    assert_eq!(worker.contains(SHARED_GIL_NOTE), !own_gil, "{worker}");
}
at_core_counts!(word_count_example);

/// Every core on the main interpreter (for C extensions that refuse subinterpreters): the
/// same counts, and a note that the cores take turns with Python.
#[test]
fn word_count_2_cores_on_the_main_interpreter() {
    let worker = word_count(2, &["--python-mode", "main"]);
    assert!(worker.contains("core 1: main interpreter"), "{worker}");
    assert!(worker.contains(SHARED_GIL_NOTE), "{worker}");
}

#[test]
fn word_count_2_cores_polling_when_idle() {
    word_count(2, &["--poll-us", "200"]);
}

/// Parallel steps handed to another core, over all cores, from roo's summary.
fn handed_over(worker: &str) -> u64 {
    worker
        .lines()
        .filter(|l| l.starts_with("core "))
        .filter_map(|l| {
            l.split_once(" parallel steps handed over")?
                .0
                .rsplit_once('(')?
                .1
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// One core owns every word's count (each count slowed down, so this holds on a loaded
/// machine too): it falls behind the other core, which only splits lines, and hands it
/// part of its splitting (a `to_parallel` step may run on any core). Counts stay exact.
#[test]
fn a_core_behind_hands_its_parallel_steps_to_a_core_keeping_up() {
    let dir = TempDir::new("lopsided");
    let lines = text_lines(11, 2_000);
    let worker = run_word_count(&dir, test_app("lopsided_count.py"), 2, &lines, &[]);
    let handed = handed_over(&worker);
    eprintln!(
        "parallel steps handed over: {handed} of {} lines",
        lines.len()
    );
    assert!(handed > 0, "{worker}");
}

// ---------------------------------------------------------------------------------------
// Reverse and Celsius

fn reverse_input() -> Vec<String> {
    let mut rng = Rng(11);
    let pieces = [
        "hello",
        "world",
        "Roo",
        "wallaroo",
        "héllo",
        "wörld",
        "日本語",
        "😀",
        "a b",
        "!?",
        "123",
        "tab\there",
        "  ",
        "zz",
    ];
    (0..1000)
        .map(|i| {
            if i == 500 {
                return String::new();
            }
            let n = 1 + rng.below(6);
            let mut line = format!("{i}:");
            for _ in 0..n {
                line.push_str(rng.pick(&pieces));
            }
            line
        })
        .collect()
}

fn reverse(cores: usize, late_receiver: bool) {
    let dir = TempDir::new(&format!("reverse-{cores}-{late_receiver}"));
    let input = dir.path("in.txt");
    let lines = reverse_input();
    write_lines(&input, &lines);
    let done = Flow {
        app: example("reverse.py"),
        cores,
        input: &input,
        send_args: &[],
        run_args: &[],
        expect: lines.len(),
        framed: false,
        delay_us: None,
        late_receiver,
    }
    .run(&dir);
    if late_receiver {
        assert!(
            done.worker.contains("not reachable"),
            "the sink should have had to retry:\n{}",
            done.worker
        );
    }
    let got = read_out(&done.out);
    let want = reversed(&lines);
    assert_output(cores, got, want, "reverse");
}

fn reverse_with_receiver_up(cores: usize) {
    reverse(cores, false);
}
at_core_counts!(reverse_example = reverse_with_receiver_up);

/// Wallaroo's command line named the app as a module: `--application-module reverse`
/// finds reverse.py on PYTHONPATH wherever it stands, and machida's own flags reach the
/// app untouched.
#[test]
fn an_application_module_is_found_on_pythonpath() {
    // Machida's order (the module first), and the older docs' (the app's flags, short
    // forms included, then --application-module last).
    let shapes: [fn(&str, &str) -> Vec<String>; 2] = [
        |input, output| {
            [
                "--application-module",
                "reverse",
                "--in",
                input,
                "--out",
                output,
            ]
            .map(String::from)
            .to_vec()
        },
        |input, output| {
            [
                "-i",
                input,
                "-o",
                output,
                "-n",
                "worker-name",
                "--application-module",
                "reverse",
            ]
            .map(String::from)
            .to_vec()
        },
    ];
    for (shape, app_command_line) in shapes.iter().enumerate() {
        let dir = TempDir::new(&format!("app-module-{shape}"));
        let input = dir.path("in.txt");
        let lines = reverse_input();
        write_lines(&input, &lines);
        let (in_addr, out_addr) = (free_addr(), free_addr());
        let out = dir.path("out.txt");
        let mut receiver = start_receiver(&out_addr, &out, lines.len());
        let mut command = std::process::Command::new(roo());
        command
            .current_dir(dir.path(""))
            .env(
                "PYTHONPATH",
                format!("{}/examples", env!("CARGO_MANIFEST_DIR")),
            )
            // The Pony runtime's flags may also stand before the app, as roo's own.
            .args(["run", "--ponythreads=2", "--cores", "2", "--exit-when-idle"])
            .args(app_command_line(&in_addr, &out_addr))
            .args([
                "--metrics",
                "127.0.0.1:5001",
                "--ponythreads=1",
                "--ponynoblock",
            ]);
        let mut worker = Proc::spawn("roo run --application-module reverse".into(), command);
        worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
        send(&in_addr, &input, &[], WAIT, &[&worker, &receiver]);
        expect_success(&mut receiver, WAIT, &[&worker]);
        expect_success(&mut worker, EXIT_WITHIN, &[&receiver]);
        assert_output(
            2,
            read_out(&out),
            reversed(&lines),
            &format!("reverse by module name, command line shape {shape}"),
        );
    }
}

fn celsius(cores: usize) {
    let dir = TempDir::new(&format!("celsius-{cores}"));
    let input = dir.path("in.txt");
    let mut lines: Vec<String> = (-600..=1500)
        .step_by(7)
        .map(|k| format!("{:.1}", k as f64 / 10.0))
        .collect();
    lines.extend(["100", "-40", "0", "-0", "1e2", " 21.5 ", "36.6", "-273.15"].map(str::to_owned));
    write_lines(&input, &lines);
    let want: Vec<String> = lines
        .iter()
        .map(|l| {
            let c: f64 = l.trim().parse().unwrap();
            let f = c * 1.8;
            format!("{:.2}", f + 32.0)
        })
        .collect();
    let done = Flow {
        app: example("celsius.py"),
        cores,
        input: &input,
        send_args: &[],
        run_args: &[],
        expect: lines.len(),
        framed: false,
        delay_us: None,
        late_receiver: false,
    }
    .run(&dir);
    let got = read_out(&done.out);
    assert_output(cores, got, want, "celsius");
}

at_core_counts!(celsius = celsius);

// ---------------------------------------------------------------------------------------
// Alphabet (binary frames, state partitioned by letter)

fn alphabet(cores: usize) {
    let dir = TempDir::new(&format!("alphabet-{cores}"));
    let input = dir.path("votes.bin");
    let mut rng = Rng(3);
    let votes: Vec<(u8, u32)> = (0..3000)
        .map(|_| (b'a' + rng.below(26) as u8, 1 + rng.below(1000) as u32))
        .collect();
    let mut data = Vec::with_capacity(votes.len() * 9);
    for &(letter, n) in &votes {
        data.extend_from_slice(&5u32.to_be_bytes());
        data.push(letter);
        data.extend_from_slice(&n.to_be_bytes());
    }
    std::fs::write(&input, &data).unwrap();

    // Per letter, the running totals in send order.
    let mut want: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
    for &(letter, n) in &votes {
        let totals = want.entry(letter).or_default();
        let last = totals.last().copied().unwrap_or(0);
        totals.push(last + n);
    }

    let done = Flow {
        app: example("alphabet.py"),
        cores,
        input: &input,
        send_args: &["--binary", "--msg-size", "9"],
        run_args: &[],
        expect: votes.len(),
        framed: true,
        delay_us: None,
        late_receiver: false,
    }
    .run(&dir);

    // `roo receive --framed --out` writes each payload (5 bytes here) and then '\n'.
    let out = std::fs::read(&done.out).unwrap();
    assert_eq!(out.len(), votes.len() * 6, "output file size");
    let mut got: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
    for record in out.chunks(6) {
        assert_eq!(record[5], b'\n', "record {record:?}");
        assert!(record[0].is_ascii_lowercase(), "record {record:?}");
        let total = u32::from_be_bytes(record[1..5].try_into().unwrap());
        got.entry(record[0]).or_default().push(total);
    }
    for (letter, totals) in &got {
        assert!(
            totals.windows(2).all(|w| w[0] < w[1]),
            "totals of {:?} not increasing: {totals:?}",
            *letter as char
        );
    }
    let finals = |m: &BTreeMap<u8, Vec<u32>>| -> BTreeMap<char, u32> {
        m.iter()
            .map(|(l, t)| (*l as char, *t.last().unwrap()))
            .collect()
    };
    assert_eq!(finals(&got), finals(&want), "final totals per letter");
    assert_eq!(got, want, "running totals per letter");
}

at_core_counts!(alphabet = alphabet);

// ---------------------------------------------------------------------------------------
// Sinks: a receiver that starts late, a receiver that is slow

fn reverse_with_late_receiver(cores: usize) {
    reverse(cores, true);
}
at_core_counts!(receiver_starting_late_loses_nothing = reverse_with_late_receiver);

fn slow_receiver(cores: usize) {
    let dir = TempDir::new(&format!("slow-{cores}"));
    let input = dir.path("in.txt");
    // 10k words of 4 to 8 KB, ~60 MB of output, taking the receiver seconds at 200 us a
    // message. What backs up must exceed loopback's socket buffers (about 20 MB here) and
    // the engine's 8 MB per-sink high-water mark before sources pause.
    let mut rng = Rng(5);
    let vocab: Vec<String> = vocabulary(&mut rng, 1500)
        .into_iter()
        .map(|stem| format!("{stem}x{}", "y".repeat(4000 + rng.below(4000) as usize)))
        .collect();
    let lines: Vec<String> = (0..1250)
        .map(|_| {
            (0..8)
                .map(|_| rng.pick(&vocab))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    write_lines(&input, &lines);
    let counts = count_words(&lines, split_words);
    let total: usize = counts.values().sum();
    let done = Flow {
        app: example("word_count.py"),
        cores,
        input: &input,
        send_args: &[],
        run_args: &[],
        expect: total,
        framed: false,
        delay_us: Some(200),
        late_receiver: false,
    }
    .run(&dir);
    assert_same_multiset(
        read_out(&done.out),
        word_count_output(&counts),
        "word count through a slow receiver",
    );
}

at_core_counts!(slow_receiver_loses_nothing = slow_receiver);

// ---------------------------------------------------------------------------------------
// Stopping and errors

fn sigterm(cores: usize) {
    // Idle, never fed: SIGTERM stops it.
    let mut worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &free_addr(),
        &free_addr(),
        false,
        &[],
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    assert_eq!(totals(&worker.stderr()), (0, 0, 0));

    // Fed, its output delivered, still running: SIGTERM stops it.
    let dir = TempDir::new(&format!("sigterm-{cores}"));
    let input = dir.path("in.txt");
    let out = dir.path("out");
    let lines: Vec<String> = (0..200).map(|i| format!("message {i}")).collect();
    write_lines(&input, &lines);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let mut receiver = start_receiver(&out_addr, &out, lines.len());
    let mut worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    send(&in_addr, &input, &[], SEND_WITHIN, &[&worker]);
    expect_success(&mut receiver, RECEIVE_WITHIN, &[&worker]);
    assert!(
        worker.exited().is_none(),
        "roo run without --exit-when-idle stopped by itself:\n{}",
        worker.stderr()
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let err = worker.stderr();
    assert!(err.contains("total: frames in"), "{err}");
    assert_eq!(totals(&err), (200, 200, 0), "{err}");
    assert_same_multiset(read_out(&out), reversed(&lines), "reverse before SIGTERM");
}

at_core_counts!(sigterm_stops_roo_run = sigterm);

/// A polling source (`--poll-us`, which reads its socket directly) still stops on SIGTERM
/// while its sender keeps sending, and delivers everything it read. The drain reads what
/// the sender had sent up to its limit; the sender never stops, so the connection is cut
/// there, mid-frame: that partial frame is the one error.
#[test]
fn sigterm_stops_a_polling_source_under_load() {
    let dir = TempDir::new("sigterm-polling");
    let input = dir.path("in.txt");
    let out = dir.path("out");
    let lines: Vec<String> = (0..1000).map(|i| format!("message {i}")).collect();
    write_lines(&input, &lines);
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let receiver = start_receiver_with(&out_addr, &out, None, "0", &[]);
    let mut worker = start_io_worker(
        &example("reverse.py"),
        1,
        &in_addr,
        &out_addr,
        false,
        &["--poll-us", "1000"],
    );
    let sender = Proc::start(&[
        "send",
        "--to",
        &in_addr,
        "--file",
        s(&input),
        "--repeat",
        "--quiet",
    ]);
    thread::sleep(Duration::from_millis(500));
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[&sender, &receiver]);
    let (frames_in, messages_out, errors) = totals(&worker.stderr());
    assert!(
        frames_in > 0 && frames_in == messages_out && errors <= 1,
        "{}",
        worker.stderr()
    );
    if errors == 1 {
        assert!(
            worker
                .stderr()
                .contains("still sending after 16777216 bytes read in the drain"),
            "{}",
            worker.stderr()
        );
    }
    let deadline = Instant::now() + RECEIVE_WITHIN;
    while (read_out(&out).len() as u64) < messages_out {
        assert!(
            Instant::now() < deadline,
            "receiver got {} of {messages_out}",
            read_out(&out).len()
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(read_out(&out).len() as u64, messages_out);
}

/// Python floor division, as `1000 // n`.
fn floor_div(a: i64, b: i64) -> i64 {
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn python_errors(cores: usize) {
    let dir = TempDir::new(&format!("flaky-{cores}"));
    let input = dir.path("in.txt");
    let lines: Vec<String> = (0..600i64)
        .map(|i| match i {
            _ if i % 10 == 4 => format!("bad{i}"),
            _ if i % 25 == 0 => "0".to_owned(),
            _ => (i - 300).to_string(),
        })
        .collect();
    write_lines(&input, &lines);
    // Expected output, and errors per step (see tests/apps/flaky.py).
    let mut want = Vec::new();
    let [mut parse, mut invert, mut check, mut encoder] = [0u64; 4];
    for line in &lines {
        match line.parse::<i64>() {
            Err(_) => parse += 1,
            Ok(0) => invert += 1,
            Ok(n) if n % 7 == 0 => check += 1,
            Ok(13) => encoder += 1,
            Ok(n) => want.push(format!("{n} -> {}", floor_div(1000, n))),
        }
    }
    assert!(parse > 50 && invert > 10 && check > 50 && encoder == 1 && want.len() > 300);
    let done = Flow {
        app: test_app("flaky.py"),
        cores,
        input: &input,
        send_args: &[],
        run_args: &[],
        expect: want.len(),
        framed: false,
        delay_us: None,
        late_receiver: false,
    }
    .run(&dir);
    let errors = parse + invert + check + encoder;
    assert_eq!(
        totals(&done.worker),
        (lines.len() as u64, want.len() as u64, errors),
        "{}",
        done.worker
    );
    let places = errors_by_place(&done.worker);
    let count = |prefix: &str| errors_at(&done.worker, prefix);
    assert_eq!(count("step 'parse'"), parse, "{places:?}");
    assert_eq!(count("step 'invert'"), invert, "{places:?}");
    assert_eq!(count("step 'check'"), check, "{places:?}");
    assert_eq!(count("encoder of sink"), encoder, "{places:?}");
    assert!(
        done.worker
            .contains("ValueError: invalid literal for int()"),
        "the first errors are logged with their traceback:\n{}",
        done.worker
    );
    let got = read_out(&done.out);
    assert_output(cores, got, want, "flaky");
}

at_core_counts!(python_exceptions_drop_only_bad_messages = python_errors);
