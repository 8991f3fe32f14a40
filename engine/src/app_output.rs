//! What the app prints, from every core to roo's stdout and stderr, whole lines at a time
//! and without ever blocking a core.
//!
//! Each core's `sys.stdout` and `sys.stderr` write to a pipe of their own (see
//! `pybridge::OutputFds`). One reader thread collects every pipe, cuts what arrives into
//! lines per pipe (so lines of different cores never mix, however Python buffers) and
//! queues whole lines for one writer thread per stream, which writes them to fd 1 or 2.
//! When a writer cannot keep up (nobody reads roo's stdout), the queue fills and further
//! lines are dropped and counted instead of stalling the cores.

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags};
use pybridge::OutputFds;
use std::collections::VecDeque;
use std::io::{PipeReader, Read, Write};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of app output queued for one stream beyond which further lines are dropped.
const QUEUED_BYTES: usize = 4 * 1024 * 1024;
/// A line longer than this is passed on in pieces of this size, so one line with no end
/// cannot hold unbounded memory.
const LONGEST_LINE: usize = 1024 * 1024;
/// How often (ms) the reader looks at its stop flag while no output comes.
const READER_POLL_MS: i32 = 100;

#[derive(Clone, Copy, PartialEq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Whole lines waiting for one stream's writer.
#[derive(Default)]
struct LineQueue {
    state: Mutex<Queued>,
    changed: Condvar,
    dropped_lines: AtomicU64,
}

#[derive(Default)]
struct Queued {
    lines: VecDeque<Vec<u8>>,
    bytes: usize,
    /// The reader has stopped: the writer ends once the queue is empty.
    closed: bool,
    /// The writer is inside a write (the queue being empty is not yet "all written").
    writing: bool,
}

impl LineQueue {
    /// Queues `line`, or drops and counts it when the queue is full.
    fn push(&self, line: Vec<u8>) {
        let mut state = self.state.lock().unwrap();
        if state.bytes + line.len() > QUEUED_BYTES && !state.lines.is_empty() {
            self.dropped_lines.fetch_add(1, Ordering::Relaxed);
            return;
        }
        state.bytes += line.len();
        state.lines.push_back(line);
        self.changed.notify_all();
    }

    fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.changed.notify_all();
    }

    /// Writes queued lines to `stream` until the queue is closed and empty.
    fn write_out(&self, stream: Stream) {
        loop {
            let line = {
                let mut state = self.state.lock().unwrap();
                state.writing = false;
                self.changed.notify_all();
                loop {
                    if let Some(line) = state.lines.pop_front() {
                        state.bytes -= line.len();
                        state.writing = true;
                        break line;
                    }
                    if state.closed {
                        return;
                    }
                    state = self.changed.wait(state).unwrap();
                }
            };
            // A failed write (a closed stdout) has nowhere to be reported but stderr;
            // the line is lost either way.
            let _ = match stream {
                Stream::Stdout => std::io::stdout().lock().write_all(&line),
                Stream::Stderr => std::io::stderr().lock().write_all(&line),
            };
        }
    }

    /// Waits until everything queued was written, at most until `deadline`; the lines
    /// dropped, counting those still queued then (the process exits without them).
    fn wait_written(&self, deadline: Instant) -> u64 {
        let mut state = self.state.lock().unwrap();
        while !state.lines.is_empty() || state.writing {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self.changed.wait_timeout(state, left).unwrap().0;
        }
        self.dropped_lines.load(Ordering::Relaxed) + state.lines.len() as u64
    }
}

/// One core's pipe for one stream, read by the reader thread.
struct Pipe {
    reader: PipeReader,
    /// Where its lines go: its stream's queue.
    queue: Arc<LineQueue>,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
}

impl Pipe {
    /// Reads what the pipe holds (non-blocking) and queues its whole lines.
    fn drain(&mut self) {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.cut_lines(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return, // WouldBlock: empty for now
            }
        }
    }

    fn cut_lines(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&bytes[..=end]);
            self.queue.push(line);
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        if self.partial.len() >= LONGEST_LINE {
            self.queue.push(std::mem::take(&mut self.partial));
        }
    }

    /// Queues an unfinished last line (the app's last `print(..., end="")`).
    fn end(&mut self) {
        if !self.partial.is_empty() {
            self.queue.push(std::mem::take(&mut self.partial));
        }
    }
}

/// The threads that carry the app's output; one pair of pipes per core.
pub struct AppOutput {
    stopping: Arc<AtomicBool>,
    reader: Option<thread::JoinHandle<()>>,
    stdout: Arc<LineQueue>,
    stderr: Arc<LineQueue>,
}

impl AppOutput {
    /// Starts the threads and makes `cores` pairs of pipes; returns each core's write ends.
    pub fn start(cores: usize) -> Result<(AppOutput, Vec<OutputFds>), String> {
        let stdout = Arc::new(LineQueue::default());
        let stderr = Arc::new(LineQueue::default());
        let mut pipes = vec![];
        let mut fds = vec![];
        for _ in 0..cores {
            let (stdout_pipe, stdout_fd) = pipe(&stdout)?;
            let (stderr_pipe, stderr_fd) = pipe(&stderr)?;
            pipes.extend([stdout_pipe, stderr_pipe]);
            fds.push(OutputFds {
                stdout: stdout_fd,
                stderr: stderr_fd,
            });
        }
        let stopping = Arc::new(AtomicBool::new(false));
        for (queue, stream) in [(&stdout, Stream::Stdout), (&stderr, Stream::Stderr)] {
            let queue = queue.clone();
            thread::Builder::new()
                .name("roo-app-output".into())
                .spawn(move || queue.write_out(stream))
                .map_err(|e| format!("cannot start the app output writer: {e}"))?;
        }
        let reader = {
            let (stopping, stdout, stderr) = (stopping.clone(), stdout.clone(), stderr.clone());
            thread::Builder::new()
                .name("roo-app-output".into())
                .spawn(move || read_pipes(pipes, &stopping, &stdout, &stderr))
                .map_err(|e| format!("cannot start the app output reader: {e}"))?
        };
        Ok((
            AppOutput {
                stopping,
                reader: Some(reader),
                stdout,
                stderr,
            },
            fds,
        ))
    }

    /// Passes on what the cores printed last (they have flushed Python's buffers into
    /// their pipes) and waits for it to be written, at most `within`; returns how many
    /// lines were dropped because nobody read them (or not written by then).
    pub fn finish(mut self, within: Duration) -> u64 {
        let deadline = Instant::now() + within;
        self.stopping.store(true, Ordering::Release);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.stdout.wait_written(deadline) + self.stderr.wait_written(deadline)
    }
}

/// A pipe whose read end is non-blocking; the write end's descriptor is handed to a core's
/// interpreter and stays open for the life of the process (Python's `sys.stdout` may
/// still be reached after the core stops, and a closed descriptor could be reused).
fn pipe(queue: &Arc<LineQueue>) -> Result<(Pipe, i32), String> {
    let (reader, writer) = std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    fcntl(reader.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map_err(|e| format!("cannot make a pipe non-blocking: {e}"))?;
    let pipe = Pipe {
        reader,
        queue: queue.clone(),
        partial: Vec::new(),
    };
    Ok((pipe, writer.into_raw_fd()))
}

/// The reader thread: waits for output on any pipe, queues its lines; once `stopping`,
/// takes what is left, ends unfinished lines and closes the queues.
fn read_pipes(mut pipes: Vec<Pipe>, stopping: &AtomicBool, stdout: &LineQueue, stderr: &LineQueue) {
    while !stopping.load(Ordering::Acquire) {
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = pipes
                .iter()
                .map(|p| PollFd::new(&p.reader, PollFlags::POLLIN))
                .collect();
            if poll(&mut fds, READER_POLL_MS).unwrap_or(0) <= 0 {
                continue;
            }
            fds.iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        for (pipe, ready) in pipes.iter_mut().zip(ready) {
            if ready {
                pipe.drain();
            }
        }
    }
    for pipe in &mut pipes {
        pipe.drain();
        pipe.end();
    }
    stdout.close();
    stderr.close();
}
