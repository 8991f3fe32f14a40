//! Shared harness of the integration tests: real `roo` processes on loopback.
//!
//! Every child is killed (by pid) and reaped when its guard drops, also when an assertion
//! fails, and every wait is bounded. Each child's stderr is collected by a thread, line by
//! line, so failure messages can show all of it.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The deterministic random numbers and words of the test data: roo send's own generator.
#[path = "../../src/rng.rs"]
pub mod rng;

pub mod kafka;

/// Default bound of every wait.
pub const WAIT: Duration = Duration::from_secs(60);
/// Bound on `roo run` start-up until `roo: ready`.
pub const READY_WITHIN: Duration = Duration::from_secs(20);
/// The receiver's own `--timeout` (s).
pub const RECEIVER_TIMEOUT: &str = "30";
/// Bound on roo's exit once its input is closed (or it got a signal).
pub const EXIT_WITHIN: Duration = Duration::from_secs(30);

/// The punctuation word_count.py's Split (and word_count_v06.py) strips.
pub const PUNCTUATION: &str = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

pub fn roo() -> &'static str {
    env!("CARGO_BIN_EXE_roo")
}

/// The path of `examples/NAME`.
pub fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The path of `tests/apps/NAME`.
pub fn test_app(name: &str) -> String {
    format!("{}/tests/apps/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A port that was free a moment ago (bound to 127.0.0.1:0, then released), and not
/// handed out before by this test process: the kernel may give a just-released port
/// again, and two "free" addresses of one test (a source and a sink) must differ.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap();
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// `127.0.0.1:<a free port>`.
pub fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// A child process, killed (by pid) and reaped on drop.
pub struct Proc {
    pub name: String,
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `roo ARGS`.
    pub fn start(args: &[&str]) -> Proc {
        let mut command = Command::new(roo());
        command.args(args);
        Proc::spawn(format!("roo {}", args.join(" ")), command)
    }

    /// Starts any command (stdin and stdout closed, stderr collected).
    pub fn spawn(name: String, command: Command) -> Proc {
        Proc::spawn_with_stdout(name, command, Stdio::null())
    }

    /// Starts any command with its stdout going to `stdout` (stdin closed, stderr collected).
    pub fn spawn_with_stdout(name: String, mut command: Command, stdout: Stdio) -> Proc {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Proc {
            name,
            child,
            stderr,
            reader: Some(reader),
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The exit status if the process has exited (without waiting).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits for the exit (at most `WAIT`) and for all of stderr.
    pub fn wait(&mut self) -> ExitStatus {
        self.wait_within(WAIT)
    }

    /// Waits for the exit (at most `limit`, else panics showing stderr) and for all of stderr.
    pub fn wait_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                if let Some(r) = self.reader.take() {
                    r.join().unwrap();
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {limit:?}; stderr:\n{}",
                self.name,
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until stderr contains `needle` (at most `WAIT`).
    pub fn wait_for_stderr(&mut self, needle: &str) {
        self.wait_for_stderr_within(needle, WAIT)
    }

    /// Waits until stderr contains `needle`; panics (showing stderr) after `limit` or if the
    /// process exits without having printed it.
    pub fn wait_for_stderr_within(&mut self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.stderr().contains(needle) {
            if let Some(status) = self.exited() {
                // Its last lines may still be on their way through the pipe.
                if let Some(r) = self.reader.take() {
                    r.join().unwrap();
                }
                assert!(
                    self.stderr().contains(needle),
                    "{} exited ({status}) without printing {needle:?}; stderr:\n{}",
                    self.name,
                    self.stderr()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not print {needle:?} within {limit:?}; stderr:\n{}",
                self.name,
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends a signal (`"TERM"`, `"INT"`, ...) to the process with `kill`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal} {} failed", self.pid());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The stderr of each of `others`, each after a `--- NAME stderr:` heading.
pub fn others_stderr(others: &[&Proc]) -> String {
    let mut text = String::new();
    for o in others {
        text.push_str(&format!("\n--- {} stderr:\n{}", o.name, o.stderr()));
    }
    text
}

/// Waits (bounded) for `p` to exit 0; on failure shows its stderr and the others'.
pub fn expect_success(p: &mut Proc, within: Duration, others: &[&Proc]) {
    let deadline = Instant::now() + within;
    let context = |p: &Proc| format!("stderr:\n{}{}", p.stderr(), others_stderr(others));
    loop {
        if p.exited().is_some() {
            let status = p.wait();
            assert!(
                status.success(),
                "{} exited with {status}; {}",
                p.name,
                context(p)
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not exit within {within:?}; {}",
            p.name,
            context(p)
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `roo run --cores N [--exit-when-idle] OPTIONS APP APP_ARGS` and waits (at most
/// `READY_WITHIN`) for `roo: ready`.
pub fn start_worker(
    app: &str,
    cores: usize,
    idle_exit: bool,
    options: &[&str],
    app_args: &[&str],
) -> Proc {
    let cores = cores.to_string();
    let mut args = vec!["run", "--cores", &cores];
    if idle_exit {
        args.push("--exit-when-idle");
    }
    args.extend_from_slice(options);
    args.push(app);
    args.extend_from_slice(app_args);
    let mut worker = Proc::start(&args);
    worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
    worker
}

/// Starts `roo run --cores N [--exit-when-idle] OPTIONS APP --in IN --out OUT` and waits for
/// `roo: ready`.
pub fn start_io_worker(
    app: &str,
    cores: usize,
    in_addr: &str,
    out_addr: &str,
    idle_exit: bool,
    options: &[&str],
) -> Proc {
    start_worker(
        app,
        cores,
        idle_exit,
        options,
        &["--in", in_addr, "--out", out_addr],
    )
}

/// Starts `roo receive --listen ADDR --out OUT [--expect N --timeout T] --quiet EXTRA`: with
/// `expect`, it exits 0 once that many messages arrived (1 after `timeout` s if they did not).
pub fn start_receiver_with(
    addr: &str,
    out: &Path,
    expect: Option<usize>,
    timeout: &str,
    extra: &[&str],
) -> Proc {
    let expect = expect.map(|n| n.to_string());
    let mut args = vec!["receive", "--listen", addr, "--out", s(out)];
    if let Some(n) = &expect {
        args.extend(["--expect", n, "--timeout", timeout]);
    }
    args.push("--quiet");
    args.extend_from_slice(extra);
    Proc::start(&args)
}

/// A newline-delimited `roo receive` writing every line to `out`, exiting 0 once `expect`
/// lines arrived (within `RECEIVER_TIMEOUT`).
pub fn start_receiver(addr: &str, out: &Path, expect: usize) -> Proc {
    start_receiver_with(addr, out, Some(expect), RECEIVER_TIMEOUT, &[])
}

/// Runs `roo send --to ADDR --file FILE --keep-empty-lines --quiet EXTRA` to completion
/// (every line of FILE, also an empty one, is a message) (exit 0 within
/// `within`, else panics showing the others' stderr); returns the finished sender.
pub fn send(to: &str, file: &Path, extra: &[&str], within: Duration, others: &[&Proc]) -> Proc {
    let mut args = vec![
        "send",
        "--to",
        to,
        "--file",
        s(file),
        "--keep-empty-lines",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let mut sender = Proc::start(&args);
    expect_success(&mut sender, within, others);
    sender
}

/// A scratch directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("roo-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn multiset<I: IntoIterator<Item = String>>(items: I) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for i in items {
        *m.entry(i).or_insert(0) += 1;
    }
    m
}

/// Writes `lines`, each ended by '\n', to `path`.
pub fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// Asserts that `got` holds the lines of `want`, in any order (showing what differs).
pub fn assert_same_multiset(got: Vec<String>, want: Vec<String>, what: &str) {
    let (n_got, n_want) = (got.len(), want.len());
    let (got, want) = (multiset(got), multiset(want));
    if got != want {
        let missing: Vec<_> = want
            .iter()
            .filter(|(k, n)| got.get(*k) != Some(n))
            .take(10)
            .collect();
        let extra: Vec<_> = got
            .iter()
            .filter(|(k, n)| want.get(*k) != Some(n))
            .take(10)
            .collect();
        panic!(
            "{what}: outputs differ ({n_got} lines, {n_want} expected); expected (count) not \
             matched: {missing:?}; got instead: {extra:?}"
        );
    }
    assert_eq!(n_got, n_want, "{what}: number of output lines");
}

/// One core (one connection): `got` equals `want` in order; more cores: in any order.
pub fn assert_output(cores: usize, got: Vec<String>, want: Vec<String>, what: &str) {
    if cores == 1 {
        assert_eq!(got, want, "{what}: one core, in input order");
    } else {
        assert_same_multiset(got, want, what);
    }
}

/// The lines of a text file.
pub fn read_out(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The N of a `<prefix> N messages` line.
pub fn count_after(stderr: &str, prefix: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stderr}"));
    line[prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The numbers of roo's `total: frames in X, messages out Y, errors Z` line.
pub fn totals(stderr: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("total: frames in "))
        .unwrap_or_else(|| panic!("no summary total line in:\n{stderr}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 3, "unexpected total line: {line}");
    (numbers[0], numbers[1], numbers[2])
}

/// Errors per place over all cores, from roo's `core N:   K errors in PLACE` lines.
pub fn errors_by_place(stderr: &str) -> BTreeMap<String, u64> {
    let mut places = BTreeMap::new();
    for line in stderr.lines().filter(|l| l.starts_with("core ")) {
        let Some((_, rest)) = line.split_once(":   ") else {
            continue;
        };
        let Some((count, place)) = rest.split_once(" errors in ") else {
            continue;
        };
        *places.entry(place.to_owned()).or_insert(0) += count.parse::<u64>().unwrap();
    }
    places
}

/// Errors counted at places starting with `prefix`.
pub fn errors_at(stderr: &str, prefix: &str) -> u64 {
    errors_by_place(stderr)
        .iter()
        .filter(|(place, _)| place.starts_with(prefix))
        .map(|(_, n)| n)
        .sum()
}

/// Words as word_count.py's Split finds them: split on '\n' and ' ', lowercase, strip
/// punctuation, drop empties.
pub fn split_words(text: &str) -> Vec<String> {
    text.split('\n')
        .flat_map(|line| line.split(' '))
        .map(|w| w.to_lowercase())
        .map(|w| w.trim_matches(|c| PUNCTUATION.contains(c)).to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Occurrences of each word of `lines`, as `split` finds them.
pub fn count_words(
    lines: &[String],
    split: impl Fn(&str) -> Vec<String>,
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in lines {
        for w in split(line) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// For each word w seen n times, the lines `w => 1` .. `w => n`.
pub fn word_count_output(counts: &BTreeMap<String, usize>) -> Vec<String> {
    counts
        .iter()
        .flat_map(|(w, &n)| (1..=n).map(move |i| format!("{w} => {i}")))
        .collect()
}

/// Each line reversed by code point, as examples/reverse.py outputs it.
pub fn reversed(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| l.chars().rev().collect()).collect()
}

/// A payload behind its 4-byte big-endian length header.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// The payloads, each framed by [`frame`], one after another.
pub fn frames<'a>(payloads: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    payloads.into_iter().flat_map(frame).collect()
}

/// Text lines as frames, one a line.
pub fn line_frames<S: AsRef<str>>(lines: &[S]) -> Vec<u8> {
    frames(lines.iter().map(|l| l.as_ref().as_bytes()))
}

pub fn connect_retry(addr: &str) -> TcpStream {
    let deadline = Instant::now() + WAIT;
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => return s,
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot connect to {addr}: {e}");
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Runs a scenario `fn NAME(cores: usize)` as one test per core count, in a module of the
/// same name: `at_core_counts!(NAME)` at 1, 2 and 3 cores (3 deals unevenly on 2 CPUs),
/// or `at_core_counts!(NAME, one_core = 1, two_cores = 2)`.
/// `at_core_counts!(TESTS = SCENARIO[, ...])` names the module TESTS instead.
#[macro_export]
macro_rules! at_core_counts {
    ($tests:ident = $scenario:ident $(, $test:ident = $cores:literal)+) => {
        mod $tests {
            $(
                #[test]
                fn $test() {
                    super::$scenario($cores)
                }
            )+
        }
    };
    ($scenario:ident $(, $test:ident = $cores:literal)+) => {
        mod $scenario {
            $(
                #[test]
                fn $test() {
                    super::$scenario($cores)
                }
            )+
        }
    };
    ($tests:ident = $scenario:ident) => {
        at_core_counts!($tests = $scenario, one_core = 1, two_cores = 2, three_cores = 3);
    };
    ($scenario:ident) => {
        at_core_counts!($scenario, one_core = 1, two_cores = 2, three_cores = 3);
    };
}

/// Entries of /proc/PID/fd.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The resident set size of a process in KiB, from /proc/PID/status.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Waits (at most `within`) until `cond` holds; panics with `what()` otherwise.
pub fn wait_until(within: Duration, what: impl Fn() -> String, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "not within {within:?}: {}",
            what()
        );
        thread::sleep(Duration::from_millis(10));
    }
}
