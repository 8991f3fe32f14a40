//! Defects found by attacking roo: memory held for frames never sent, a drain that cannot
//! be stopped, signals that kill at once, input dropped at SIGTERM, app output that mixes
//! or blocks, and errors that say too little.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Bound on seeing what a test waits for while roo runs.
const SEE_WITHIN: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Memory: a header announcing a large frame costs only the bytes that came

/// 1000 connections (fewer if this process may not open that many) each send only a
/// 4-byte header announcing a 16 MiB frame. roo used to reserve the announced size for
/// each (its RSS grew by about 2 GB); now each holds what arrived.
fn headers_alone_cost_little(cores: usize) {
    let soft = fd_soft_limit();
    let count = 1000.min(soft.saturating_sub(150) as usize);
    assert!(
        count >= 100,
        "open file limit {soft} is too low for this test"
    );
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let dir = TempDir::new(&format!("headers-{cores}"));
    let out = dir.path("out.txt");
    let mut receiver = start_receiver(&out_addr, &out, 1);
    let mut worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    let pid = worker.pid();
    thread::sleep(Duration::from_millis(300));
    let (fds_before, rss_before) = (open_fds(pid), rss_kib(pid));
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = connect_retry(&in_addr);
        stream.write_all(&[0x01, 0x00, 0x00, 0x00]).unwrap();
        held.push(stream);
    }
    wait_until(
        SEE_WITHIN,
        || {
            format!(
                "roo to hold {count} connections; stderr:\n{}",
                worker.stderr()
            )
        },
        || open_fds(pid) >= fds_before + count,
    );
    thread::sleep(Duration::from_millis(500));
    let grown_mib = rss_kib(pid).saturating_sub(rss_before) / 1024;
    eprintln!("roo RSS grew by {grown_mib} MiB with {count} headers of 16 MiB frames");
    assert!(
        grown_mib < 200,
        "{count} 4-byte headers grew roo's RSS by {grown_mib} MiB"
    );
    drop(held);
    let mut stream = connect_retry(&in_addr);
    stream.write_all(&frame(b"still here")).unwrap();
    expect_success(&mut receiver, SEE_WITHIN, &[&worker]);
    assert_eq!(read_out(&out), ["ereh llits"]);
    drop(stream);
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
}
at_core_counts!(headers_alone_cost_little, one_core = 1, two_cores = 2);

fn fd_soft_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files line");
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

// ---------------------------------------------------------------------------------------
// Shutdown: a blocked hook, a second signal, the drain timeout, SIGHUP and SIGUSR1

/// Starts blocking.py, sends "a", waits for it at the receiver, then sends "block" (whose
/// step sleeps an hour): a core is then stuck inside a batch.
fn start_blocked(cores: usize, options: &[&str]) -> (Proc, Proc, TcpStream, TempDir) {
    let dir = TempDir::new(&format!("blocked-{cores}-{}", options.len()));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let receiver = start_receiver_with(&out_addr, &out, None, RECEIVER_TIMEOUT, &[]);
    let worker = start_io_worker(
        &test_app("blocking.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        options,
    );
    let mut stream = connect_retry(&in_addr);
    stream.write_all(&line_frames(&["a"])).unwrap();
    wait_until(
        SEE_WITHIN,
        || format!("output 'a'; stderr:\n{}", worker.stderr()),
        || std::fs::read_to_string(&out).is_ok_and(|t| t == "a\n"),
    );
    stream.write_all(&line_frames(&["block"])).unwrap();
    thread::sleep(Duration::from_millis(200));
    (worker, receiver, stream, dir)
}

/// A drain stuck in app code says what it waits for; a second SIGTERM 2 s or more after
/// the first stops roo with exit 1, naming what was left. (roo used to wait forever.)
fn a_second_signal_stops_a_stuck_drain(cores: usize) {
    let (mut worker, _receiver, _stream, _dir) = start_blocked(cores, &[]);
    worker.signal("TERM");
    worker.wait_for_stderr_within("roo: SIGTERM: draining", SEE_WITHIN);
    // A repeat of the same signal at once (as `timeout` sends) changes nothing.
    worker.signal("TERM");
    worker.wait_for_stderr_within("roo: draining for 5 s, waiting for", SEE_WITHIN);
    assert!(worker.exited().is_none(), "{}", worker.stderr());
    let err = worker.stderr();
    assert!(
        err.contains("1 cores inside a batch (app code running)"),
        "{err}"
    );
    worker.signal("TERM");
    let status = worker.wait_within(Duration::from_secs(10));
    let err = worker.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "roo: stopping without finishing: SIGTERM during the drain; not finished: 1 \
             source connections still being read"
        ) && err.contains("1 cores inside a batch"),
        "{err}"
    );
}
at_core_counts!(
    a_second_signal_stops_a_stuck_drain,
    one_core = 1,
    two_cores = 2
);

/// With --drain-timeout, one signal is enough: the drain ends after that long.
fn the_drain_timeout_stops_a_stuck_drain(cores: usize) {
    let (mut worker, _receiver, _stream, _dir) = start_blocked(cores, &["--drain-timeout", "2"]);
    let signalled = Instant::now();
    worker.signal("INT");
    let status = worker.wait_within(Duration::from_secs(15));
    let err = worker.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(signalled.elapsed() >= Duration::from_secs(2), "{err}");
    assert!(
        err.contains("stopping without finishing: the drain took longer than --drain-timeout 2 s"),
        "{err}"
    );
}
at_core_counts!(
    the_drain_timeout_stops_a_stuck_drain,
    one_core = 1,
    two_cores = 2
);

/// SIGHUP drains like SIGTERM (it used to kill roo at once, without its summary), and
/// SIGUSR1 prints a status line and changes nothing else (it used to kill roo too).
fn sighup_drains_and_sigusr1_reports(cores: usize) {
    let dir = TempDir::new(&format!("hup-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let lines: Vec<String> = (0..500).map(|i| format!("line {i}")).collect();
    let want = reversed(&lines);
    let mut receiver = start_receiver(&out_addr, &out, lines.len());
    let mut worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    worker.signal("USR1");
    worker.wait_for_stderr_within(
        "roo: status (running): 0 source connections open",
        SEE_WITHIN,
    );
    let input = dir.path("in.txt");
    write_lines(&input, &lines);
    send(&in_addr, &input, &[], SEE_WITHIN, &[&worker, &receiver]);
    expect_success(&mut receiver, SEE_WITHIN, &[&worker]);
    assert!(worker.exited().is_none(), "{}", worker.stderr());
    worker.signal("HUP");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let err = worker.stderr();
    assert!(err.contains("roo: SIGHUP: draining"), "{err}");
    assert_eq!(totals(&err), (500, 500, 0), "{err}");
    assert_output(1, read_out(&out), want, "reverse after SIGHUP");
}
at_core_counts!(
    sighup_drains_and_sigusr1_reports,
    one_core = 1,
    two_cores = 2
);

// ---------------------------------------------------------------------------------------
// SIGTERM: what the senders already delivered is still run

/// The sink's receiver reads nothing at first, so roo's sink queue fills and it stops
/// reading its source: what the sender writes then waits in the kernel's socket buffers.
/// The sender writes until those are full, then roo gets SIGTERM and the receiver starts
/// reading: every message written must come out. (roo used to drop what was in the
/// socket buffers: about 100 k messages here.)
fn sigterm_runs_what_the_kernel_holds(cores: usize) {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let sink = TcpListener::bind(&out_addr).unwrap();
    let worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    // Every core connects to the sink.
    let outputs: Vec<TcpStream> = (0..cores).map(|_| sink.accept().unwrap().0).collect();
    let mut sender = connect_retry(&in_addr);
    sender.set_nonblocking(true).unwrap();
    let payload = b"0123456789012345678901234567890123456789";
    let framed = frame(payload);
    let mut sent = 0usize;
    let mut quiet_since = Instant::now();
    // Write whole frames until the kernel has taken nothing for half a second.
    while quiet_since.elapsed() < Duration::from_millis(500) {
        match sender.write(&framed) {
            Ok(n) if n == framed.len() => {
                sent += 1;
                quiet_since = Instant::now();
            }
            Ok(n) => {
                sender.set_nonblocking(false).unwrap();
                worker.signal("TERM");
                // The rest of this frame leaves once roo reads again in its drain.
                let rest = framed[n..].to_vec();
                let writer = thread::spawn(move || sender.write_all(&rest).map(|_| sender));
                sent += 1;
                return finish_sigterm_run(worker, outputs, sent, Some(writer));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("send failed: {e}"),
        }
    }
    worker.signal("TERM");
    finish_sigterm_run(
        worker,
        outputs,
        sent,
        None::<thread::JoinHandle<std::io::Result<TcpStream>>>,
    )
}
at_core_counts!(
    sigterm_runs_what_the_kernel_holds,
    one_core = 1,
    two_cores = 2
);

fn finish_sigterm_run(
    mut worker: Proc,
    outputs: Vec<TcpStream>,
    sent: usize,
    writer: Option<thread::JoinHandle<std::io::Result<TcpStream>>>,
) {
    worker.wait_for_stderr_within("roo: SIGTERM: draining", SEE_WITHIN);
    let readers: Vec<_> = outputs
        .into_iter()
        .map(|mut output| {
            thread::spawn(move || {
                output.set_read_timeout(Some(WAIT)).unwrap();
                let mut text = Vec::new();
                output.read_to_end(&mut text).unwrap();
                text.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
            })
        })
        .collect();
    let lines: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let _sender = writer.map(|w| w.join().unwrap());
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    eprintln!("{sent} messages sent into the kernel's buffers, {lines} came out");
    assert!(
        sent > 10_000,
        "only {sent} messages fit in the socket buffers"
    );
    assert_eq!(lines, sent, "stderr:\n{}", worker.stderr());
}

// ---------------------------------------------------------------------------------------
// App output: whole lines from every core, and a stdout nobody reads

/// With PYTHONUNBUFFERED=1 (common in containers) Python writes each piece of a print
/// at once; lines of different cores used to mix (`said a said b xxx`).
fn printed_lines_stay_whole(cores: usize) {
    let dir = TempDir::new(&format!("whole-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let lines: Vec<String> = (0..4000).map(|i| format!("m{i}")).collect();
    let input = dir.path("in.txt");
    write_lines(&input, &lines);
    let mut receiver = start_receiver(&out_addr, &out, lines.len());
    let printed = dir.path("stdout.txt");
    let mut command = Command::new(roo());
    command
        .env("PYTHONUNBUFFERED", "1")
        .args(["run", "--cores", &cores.to_string()])
        .arg(test_app("chatty.py"))
        .args(["--in", &in_addr, "--out", &out_addr]);
    let stdout = Stdio::from(std::fs::File::create(&printed).unwrap());
    let mut worker = Proc::spawn_with_stdout("roo run chatty.py".into(), command, stdout);
    worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
    let connections = cores.to_string();
    send(
        &in_addr,
        &input,
        &["--connections", &connections],
        SEE_WITHIN,
        &[&worker],
    );
    expect_success(&mut receiver, SEE_WITHIN, &[&worker]);
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let padding = "x".repeat(200);
    let want: Vec<String> = lines
        .iter()
        .map(|l| format!("said {l} {padding}"))
        .collect();
    assert_same_multiset(read_out(&printed), want, "printed lines");
}
at_core_counts!(printed_lines_stay_whole);

/// roo's stdout is a pipe nobody reads: the cores go on (every message reaches the
/// sink), the lines that found no room are counted, and roo still stops when told.
/// (A full pipe used to stall every core inside `print`.)
fn a_stdout_nobody_reads_blocks_no_core(cores: usize) {
    let dir = TempDir::new(&format!("unread-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let lines: Vec<String> = (0..40_000).map(|i| format!("m{i}")).collect();
    let input = dir.path("in.txt");
    write_lines(&input, &lines);
    let mut receiver = start_receiver(&out_addr, &out, lines.len());
    let mut command = Command::new(roo());
    command
        .args(["run", "--cores", &cores.to_string()])
        .arg(test_app("chatty.py"))
        .args(["--in", &in_addr, "--out", &out_addr]);
    let mut worker = Proc::spawn_with_stdout("roo run chatty.py".into(), command, Stdio::piped());
    worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
    send(&in_addr, &input, &[], SEE_WITHIN, &[&worker]);
    expect_success(&mut receiver, SEE_WITHIN, &[&worker]);
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let err = worker.stderr();
    assert_eq!(totals(&err), (40_000, 40_000, 0), "{err}");
    let dropped: u64 = err
        .lines()
        .find_map(|l| {
            l.strip_suffix(
                " lines the app printed were dropped: roo's stdout or stderr was not being read",
            )
        })
        .and_then(|l| l.strip_prefix("roo: "))
        .unwrap_or_else(|| panic!("no dropped-lines line in:\n{err}"))
        .parse()
        .unwrap();
    assert!(dropped > 0, "{err}");
}
at_core_counts!(
    a_stdout_nobody_reads_blocks_no_core,
    one_core = 1,
    two_cores = 2
);

// ---------------------------------------------------------------------------------------
// Error lines that say enough

/// A partial frame ended by a reset names its size, as one ended by a close does.
fn a_reset_names_the_partial_frame(cores: usize) {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let dir = TempDir::new(&format!("reset-{cores}"));
    let out = dir.path("out.txt");
    let _receiver = start_receiver_with(&out_addr, &out, None, RECEIVER_TIMEOUT, &[]);
    let mut worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    let mut stream = connect_retry(&in_addr);
    let mut partial = (100u32).to_be_bytes().to_vec();
    partial.extend_from_slice(b"0123456789");
    stream.write_all(&partial).unwrap();
    thread::sleep(Duration::from_millis(300));
    reset(stream);
    worker.wait_for_stderr_within("losing a partial frame of 14 bytes", SEE_WITHIN);
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
}
at_core_counts!(a_reset_names_the_partial_frame, one_core = 1, two_cores = 2);

/// Closes `stream` with a reset (RST) instead of a FIN: SO_LINGER on, with no time.
fn reset(stream: TcpStream) {
    use nix::sys::socket::{setsockopt, sockopt::Linger};
    let linger = nix::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    setsockopt(&stream, Linger, &linger).unwrap();
    drop(stream);
}

/// One noisy kind of error leaves log lines for the others, and once its window is over
/// it says how many were not logged, also when no later error comes.
fn a_noisy_error_is_summed_up_when_its_window_ends(cores: usize) {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let dir = TempDir::new(&format!("noisy-{cores}"));
    let out = dir.path("out.txt");
    let _receiver = start_receiver_with(&out_addr, &out, None, "60", &[]);
    let mut worker = start_io_worker(
        &example("reverse.py"),
        cores,
        &in_addr,
        &out_addr,
        false,
        &[],
    );
    let bad: Vec<Vec<u8>> = (0..100)
        .map(|i| format!("\u{ff}{i}").into_bytes())
        .collect();
    let not_utf8: Vec<Vec<u8>> = bad.iter().map(|b| [&[0xff][..], b].concat()).collect();
    let mut stream = connect_retry(&in_addr);
    stream
        .write_all(&frames(not_utf8.iter().map(|b| b.as_slice())))
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    let mut other = connect_retry(&in_addr);
    other.write_all(&[0xff, 0xff, 0xff, 0xff]).unwrap();
    worker.wait_for_stderr_within("exceeds the", SEE_WITHIN);
    worker.wait_for_stderr_within(
        "90 more errors in decoder of source 'reverse' of pipeline 'reverse' not logged in the last 10 s",
        Duration::from_secs(25),
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    assert_eq!(errors_at(&worker.stderr(), "decoder of source"), 100);
}
at_core_counts!(
    a_noisy_error_is_summed_up_when_its_window_ends,
    one_core = 1,
    two_cores = 2
);

// ---------------------------------------------------------------------------------------
// Correctness: keys as Python compares them, step results as each API era reads them

/// 1, 1.0 and True are one dict key in Python, so one partition and one state.
fn equal_numbers_are_one_partition(cores: usize) {
    let dir = TempDir::new(&format!("numeric-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let literals = [
        "1", "1.0", "True", "2.5", "2", "2.5", "False", "0.0", "-0.0",
    ];
    let mut receiver = start_receiver(&out_addr, &out, literals.len());
    let mut worker = start_io_worker(
        &test_app("numeric_keys.py"),
        cores,
        &in_addr,
        &out_addr,
        true,
        &[],
    );
    let mut stream = connect_retry(&in_addr);
    stream.write_all(&line_frames(&literals)).unwrap();
    drop(stream);
    expect_success(&mut receiver, SEE_WITHIN, &[&worker]);
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let want = [
        "1 1", "1.0 2", "True 3", "2.5 1", "2 1", "2.5 2", "False 1", "0.0 2", "-0.0 3",
    ];
    assert_same_multiset(
        read_out(&out),
        want.iter().map(|s| s.to_string()).collect(),
        "counts by Python-equal keys",
    );
}
at_core_counts!(equal_numbers_are_one_partition);

/// In the 0.6 API a state computation's `(word, True)` is its output (0.2-0.5's builder
/// reads it as `(output, persist_flag)`, numeric_keys.py above); None items of a
/// compute_multi list are counted; an encoder error names the key and the encoder's line.
fn v06_step_results_are_read_as_0_6_defines_them(cores: usize) {
    let dir = TempDir::new(&format!("edges-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let out = dir.path("out.txt");
    let mut receiver = start_receiver(&out_addr, &out, 4);
    let in_arg = format!("words@{in_addr}");
    let mut worker = start_io_worker(
        &test_app("v06_edges.py"),
        cores,
        &in_arg,
        &out_addr,
        true,
        &[],
    );
    let mut stream = connect_retry(&in_addr);
    stream.write_all(&line_frames(&["a b  ab boom c"])).unwrap();
    drop(stream);
    expect_success(&mut receiver, SEE_WITHIN, &[&worker]);
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    let want = ["a 1 True", "b 1 True", "ab 2 True", "c 1 True"];
    assert_same_multiset(
        read_out(&out),
        want.iter().map(|s| s.to_string()).collect(),
        "0.6 state outputs",
    );
    let err = worker.stderr();
    assert!(
        err.contains("1 None items of compute_multi lists skipped"),
        "{err}"
    );
    let place = format!("encoder of sink {out_addr} ({}:", test_app("v06_edges.py"));
    assert!(err.contains(&place), "{err}");
    assert!(err.contains("key \"b\": message dropped"), "{err}");
    assert!(err.contains("cannot encode boom"), "{err}");
}
at_core_counts!(v06_step_results_are_read_as_0_6_defines_them);

// ---------------------------------------------------------------------------------------
// New users' mistakes and tools

/// --in equal to --out would make roo read its own output: refused at start-up.
#[test]
fn the_same_address_for_in_and_out_is_refused() {
    let addr = free_addr();
    let mut worker = Proc::start(&[
        "run",
        "--cores",
        "1",
        &example("reverse.py"),
        "--in",
        &addr,
        "--out",
        &addr,
    ]);
    let status = worker.wait();
    let err = worker.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "the sink {addr} is source 'reverse''s own address"
        )),
        "{err}"
    );
}

/// Lines of text sent to a source that expects length headers: the error says so.
#[test]
fn text_without_headers_is_named() {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let dir = TempDir::new("text-headers");
    let out = dir.path("out.txt");
    let _receiver = start_receiver_with(&out_addr, &out, None, RECEIVER_TIMEOUT, &[]);
    let mut worker = start_io_worker(&example("reverse.py"), 1, &in_addr, &out_addr, false, &[]);
    let mut stream = connect_retry(&in_addr);
    stream.write_all(b"Roo reads frames\n").unwrap();
    worker.wait_for_stderr_within(
        "the input looks like lines of text without the length headers",
        SEE_WITHIN,
    );
    assert!(
        worker.stderr().contains("frame of 1383034656 bytes"),
        "{}",
        worker.stderr()
    );
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
}

/// A roo that closed a bad connection (leaving it in TIME-WAIT) can be started again on
/// the same port at once.
#[test]
fn a_restart_on_the_same_port_right_after_a_bad_connection_works() {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let dir = TempDir::new("restart");
    let out = dir.path("out.txt");
    let _receiver = start_receiver_with(&out_addr, &out, None, RECEIVER_TIMEOUT, &[]);
    let mut first = start_io_worker(&example("reverse.py"), 1, &in_addr, &out_addr, false, &[]);
    let mut stream = connect_retry(&in_addr);
    stream.write_all(&[0xff, 0xff, 0xff, 0xff]).unwrap();
    first.wait_for_stderr_within("exceeds the", SEE_WITHIN);
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    first.signal("TERM");
    expect_success(&mut first, EXIT_WITHIN, &[]);
    let mut second = start_io_worker(&example("reverse.py"), 1, &in_addr, &out_addr, false, &[]);
    second.signal("TERM");
    expect_success(&mut second, EXIT_WITHIN, &[]);
}

/// `roo receive` stopped with Ctrl-C (SIGINT) still prints its final report.
#[test]
fn roo_receive_reports_on_ctrl_c() {
    let addr = free_addr();
    let mut receiver = Proc::start(&["receive", "--listen", &addr]);
    let mut stream = connect_retry(&addr);
    stream.write_all(b"one\ntwo\n").unwrap();
    thread::sleep(Duration::from_millis(300));
    receiver.signal("INT");
    let status = receiver.wait_within(Duration::from_secs(10));
    let err = receiver.stderr();
    assert!(status.success(), "{err}");
    assert!(err.contains("received 2 messages"), "{err}");
}

/// `roo send --file` skips empty lines, as giles sender did (an empty word was counted).
#[test]
fn roo_send_skips_empty_lines() {
    let dir = TempDir::new("empty-lines");
    let input = dir.path("in.txt");
    std::fs::write(&input, "one\n\ntwo\n\n").unwrap();
    let addr = free_addr();
    let out = dir.path("out.txt");
    let mut receiver = start_receiver_with(&addr, &out, Some(2), RECEIVER_TIMEOUT, &["--framed"]);
    let mut sender = Proc::start(&["send", "--to", &addr, "--file", s(&input)]);
    expect_success(&mut sender, SEE_WITHIN, &[&receiver]);
    assert!(
        sender.stderr().contains("sent 2 messages"),
        "{}",
        sender.stderr()
    );
    expect_success(&mut receiver, SEE_WITHIN, &[]);
    assert_eq!(read_out(&out), ["one", "two"]);
}

// ---------------------------------------------------------------------------------------
// The embedded Python's environment

/// `roo --version`'s "CPython X.Y".
fn embedded_version() -> String {
    let out = Command::new(roo()).arg("--version").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text.find("CPython ").expect("roo --version names CPython") + 8;
    text[start..]
        .split([',', ' ', ')'])
        .next()
        .unwrap()
        .to_string()
}

/// Runs environment.py with `venv` as VIRTUAL_ENV (if any) and `app_args`; returns its
/// exit status, its stdout and its stderr.
fn run_environment_app(
    venv: Option<&std::path::Path>,
    app_args: &[&str],
) -> (bool, String, String) {
    let dir = TempDir::new(&format!("env-{}", app_args.len() + venv.is_some() as usize));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let printed = dir.path("stdout.txt");
    let mut command = Command::new(roo());
    command.env_remove("VIRTUAL_ENV");
    if let Some(venv) = venv {
        command.env("VIRTUAL_ENV", venv);
    }
    command
        .args([
            "run",
            "--cores",
            "1",
            "--exit-when-idle",
            &test_app("environment.py"),
        ])
        .args(["--in", &in_addr, "--out", &out_addr])
        .args(app_args);
    let stdout = Stdio::from(std::fs::File::create(&printed).unwrap());
    let mut worker = Proc::spawn_with_stdout("roo run environment.py".into(), command, stdout);
    let deadline = Instant::now() + READY_WITHIN;
    while !worker.stderr().contains("roo: ready") && worker.exited().is_none() {
        assert!(Instant::now() < deadline, "{}", worker.stderr());
        thread::sleep(Duration::from_millis(20));
    }
    if worker.exited().is_none() {
        worker.signal("TERM");
    }
    let status = worker.wait();
    (
        status.success(),
        std::fs::read_to_string(&printed).unwrap(),
        worker.stderr(),
    )
}

/// sys.executable is the embedded Python's own interpreter (it used to be whichever
/// python3 came first on PATH, often another version).
#[test]
fn sys_executable_is_the_embedded_python() {
    let (ok, printed, err) = run_environment_app(None, &[]);
    assert!(ok, "{err}");
    let executable = printed
        .lines()
        .find_map(|l| l.strip_prefix("executable="))
        .unwrap_or_else(|| panic!("{printed}"));
    let out = Command::new(executable).arg("--version").output().unwrap();
    let version = String::from_utf8(out.stdout).unwrap();
    assert!(
        version.starts_with(&format!("Python {}.", embedded_version())),
        "{executable} is {version}"
    );
}

/// VIRTUAL_ENV of the embedded version: its packages are importable and it is
/// sys.executable; of another version: a warning says so; a missing module's error names
/// the Python roo embeds.
#[test]
fn a_virtualenv_is_honoured_or_named() {
    let dir = TempDir::new("venvs");
    let version = embedded_version();
    let same = dir.path("same");
    let site = same.join(format!("lib/python{version}/site-packages"));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("roo_venv_probe.py"), "").unwrap();
    let (ok, printed, err) = run_environment_app(Some(&same), &["--import", "roo_venv_probe"]);
    assert!(ok, "{err}");
    assert!(
        printed.contains(&format!("executable={}", same.join("bin/python").display())),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("imported roo_venv_probe from {}", site.display())),
        "{printed}"
    );

    let other = dir.path("other");
    std::fs::create_dir_all(other.join("lib/python3.0/site-packages")).unwrap();
    std::fs::write(
        other.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.0.1\n",
    )
    .unwrap();
    let (ok, _, err) = run_environment_app(Some(&other), &["--import", "roo_venv_probe"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains(&format!(
            "roo: warning: the activated virtualenv {} was made with Python 3.0.1, and roo embeds CPython {version}",
            other.display()
        )),
        "{err}"
    );
    assert!(err.contains("No module named 'roo_venv_probe'"), "{err}");
    assert!(
        err.contains(&format!("hint: roo embeds CPython {version} ("))
            && err.contains("site-packages"),
        "{err}"
    );
}

/// `roo run --help` shows how an app gets its addresses; `roo send --help` says first that
/// -h is the host (as in giles sender), not help.
#[test]
fn the_help_texts_name_in_out_and_dash_h() {
    let help = |args: &[&str]| {
        let out = Command::new(roo()).args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let run = help(&["run", "--help"]);
    assert!(
        run.contains("--in HOST:PORT") && run.contains("--out HOST:PORT"),
        "{run}"
    );
    let send = help(&["send", "--help"]);
    let first = send.lines().next().unwrap();
    assert!(first.contains("-h is the host"), "{first}");
}
