//! Shared harness of the integration tests: real `roo` processes on loopback.
//!
//! Every child is killed (by pid) and reaped when its guard drops, also when an assertion
//! fails, and every wait is bounded. Each child's stderr is collected by a thread, line by
//! line, so failure messages can show all of it.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Default bound of every wait.
pub const WAIT: Duration = Duration::from_secs(60);

pub fn roo() -> &'static str {
    env!("CARGO_BIN_EXE_roo")
}

/// A port that was free a moment ago (bound to 127.0.0.1:0, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
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
    pub fn spawn(name: String, mut command: Command) -> Proc {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
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

/// SplitMix64: deterministic test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A uniformly chosen item.
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}
