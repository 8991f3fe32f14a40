//! Integration tests of `roo send` and `roo receive`, run as real processes on
//! loopback. Every child is killed when its guard drops, also when an
//! assertion fails, and every wait is bounded.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `n` distinct lines of about `width` bytes to `path`; returns them.
fn write_sized_lines(path: &Path, n: usize, width: usize) -> Vec<String> {
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let head = format!("line {i} ");
            let pad = width.saturating_sub(head.len());
            format!("{head}{}", &"abcdefghij".repeat(pad / 10 + 1)[..pad])
        })
        .collect();
    write_lines(path, &lines);
    lines
}

/// Waits for `p` to exit 0, else panics with `who` and its stderr.
fn assert_exits_ok(p: &mut Proc, who: &str) {
    assert!(p.wait().success(), "{who}: {}", p.stderr());
}

/// Starts `roo receive --listen ADDR ARGS`.
fn start_receive(addr: &str, args: &[&str]) -> Proc {
    let mut all = vec!["receive", "--listen", addr];
    all.extend_from_slice(args);
    Proc::start(&all)
}

/// Starts `roo send --to TO ARGS`.
fn start_send(to: &str, args: &[&str]) -> Proc {
    let mut all = vec!["send", "--to", to];
    all.extend_from_slice(args);
    Proc::start(&all)
}

/// Sends a file's lines over 3 connections; the receiver gets exactly them.
/// Framed, the receiver also busy-polls its connections (`--poll`), which must lose nothing.
fn round_trip(framed: bool) {
    let dir = TempDir::new(if framed { "rt-framed" } else { "rt-newline" });
    let input = dir.path("in.txt");
    let out = dir.path("out.txt");
    let sent = write_sized_lines(&input, 5000, 40);
    let addr = free_addr();
    let mut recv_args = vec![
        "--expect",
        "5000",
        "--timeout",
        "50",
        "--out",
        s(&out),
        "--quiet",
    ];
    if framed {
        recv_args.extend(["--framed", "--poll"]);
    }
    let mut receiver = start_receive(&addr, &recv_args);
    let mut send_args = vec!["--connections", "3", "--file", s(&input)];
    if !framed {
        send_args.push("--newline");
    }
    let mut sender = start_send(&addr, &send_args);
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");
    assert_eq!(count_after(&sender.stderr(), "sent "), 5000);
    assert_eq!(count_after(&receiver.stderr(), "received "), 5000);
    assert_eq!(multiset(read_out(&out)), multiset(sent));
}

#[test]
fn framed_round_trip_over_three_connections() {
    round_trip(true);
}

#[test]
fn newline_round_trip_over_three_connections() {
    round_trip(false);
}

/// Three receivers, one per connection: each gets every third line in order. `pacing`
/// adds sender options.
fn message_i_goes_on_connection_i_mod_n(pacing: &[&str]) {
    let dir = TempDir::new(&format!("order-{}", pacing.len()));
    let input = dir.path("in.txt");
    let sent = write_sized_lines(&input, 300, 20);
    let addrs: Vec<String> = (0..3).map(|_| free_addr()).collect();
    let outs: Vec<PathBuf> = (0..3).map(|i| dir.path(&format!("out{i}"))).collect();
    let mut receivers: Vec<Proc> = (0..3)
        .map(|i| {
            start_receive(
                &addrs[i],
                &[
                    "--framed",
                    "--expect",
                    "100",
                    "--out",
                    s(&outs[i]),
                    "--quiet",
                ],
            )
        })
        .collect();
    let to = addrs.join(",");
    let mut args = vec!["--connections", "3", "--file", s(&input)];
    args.extend_from_slice(pacing);
    let mut sender = start_send(&to, &args);
    assert_exits_ok(&mut sender, "sender");
    for (i, r) in receivers.iter_mut().enumerate() {
        assert_exits_ok(r, &format!("receiver {i}"));
        let want: Vec<String> = sent.iter().skip(i).step_by(3).cloned().collect();
        assert_eq!(read_out(&outs[i]), want);
    }
}

#[test]
fn unpaced_message_i_goes_on_connection_i_mod_n() {
    message_i_goes_on_connection_i_mod_n(&[]);
}

#[test]
fn paced_message_i_goes_on_connection_i_mod_n() {
    message_i_goes_on_connection_i_mod_n(&["--rate", "3000", "--batch", "2"]);
}

#[test]
fn expect_exits_0_and_timeout_exits_1() {
    let dir = TempDir::new("expect");
    let input = dir.path("in.txt");
    write_sized_lines(&input, 100, 30);

    let addr = free_addr();
    let mut receiver = start_receive(&addr, &["--expect", "100", "--quiet"]);
    let mut sender = start_send(&addr, &["--newline", "--file", s(&input)]);
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");

    let addr = free_addr();
    let mut receiver = start_receive(&addr, &["--expect", "200", "--timeout", "1.5", "--quiet"]);
    let mut sender = start_send(&addr, &["--newline", "--file", s(&input)]);
    assert_exits_ok(&mut sender, "sender");
    let status = receiver.wait();
    let err = receiver.stderr();
    assert_eq!(status.code(), Some(1), "receiver: {err}");
    assert!(err.contains("100 of 200"), "receiver: {err}");
    assert_eq!(count_after(&err, "received "), 100);
}

#[test]
fn slow_receiver_pauses_the_sender_without_loss() {
    let dir = TempDir::new("slow");
    let input = dir.path("in.txt");
    let out = dir.path("out.txt");
    // 48 MB: more than loopback socket buffers can hold, so the sender must wait.
    let sent = write_sized_lines(&input, 3000, 16_000);
    let addr = free_addr();
    let mut receiver = start_receive(
        &addr,
        &[
            "--framed",
            "--expect",
            "3000",
            "--delay-us",
            "300",
            "--out",
            s(&out),
            "--quiet",
        ],
    );
    let mut sender = start_send(&addr, &["--file", s(&input)]);
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");
    let err = sender.stderr();
    assert_eq!(count_after(&err, "sent "), 3000);
    // "sent N messages (B bytes) in S s: ..."
    let secs: f64 = err
        .lines()
        .find(|l| l.starts_with("sent "))
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {err}"));
    assert!(
        secs > 0.2,
        "the sender did not wait for the slow receiver: {secs} s"
    );
    assert_eq!(multiset(read_out(&out)), multiset(sent));
}

#[test]
fn receiver_survives_partial_and_oversized_frames() {
    let dir = TempDir::new("partial");
    let out = dir.path("out.txt");
    let addr = free_addr();
    let mut receiver = start_receive(
        &addr,
        &[
            "--framed",
            "--expect",
            "15",
            "--max-frame",
            "1000",
            "--out",
            s(&out),
            "--quiet",
            "--timeout",
            "50",
        ],
    );

    // 10 complete frames, then a header announcing 100 bytes and only 30 of them.
    let complete: Vec<String> = (0..10).map(|i| format!("complete {i}")).collect();
    let mut wire = line_frames(&complete);
    wire.extend_from_slice(&100u32.to_be_bytes());
    wire.extend_from_slice(&[b'x'; 30]);
    let mut c = connect_retry(&addr);
    c.write_all(&wire).unwrap();
    drop(c);
    receiver.wait_for_stderr("closed with a partial frame of 34 bytes");

    // A frame over --max-frame closes that connection only.
    let mut big = connect_retry(&addr);
    big.write_all(&5000u32.to_be_bytes()).unwrap();
    receiver.wait_for_stderr("5000");
    drop(big);
    let err = receiver.stderr();
    assert!(
        err.contains("1000"),
        "error should name size and limit: {err}"
    );

    // Another connection afterwards still works.
    let input = dir.path("in.txt");
    let later = write_sized_lines(&input, 5, 10);
    let mut sender = start_send(&addr, &["--file", s(&input)]);
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");
    let mut want = complete;
    want.extend(later);
    assert_eq!(multiset(read_out(&out)), multiset(want));
}

/// 2000 stamped messages paced at 4000/s over 2 connections; `pacing` adds sender options.
fn stamped_paced_send(pacing: &[&str]) {
    let addr = free_addr();
    let mut receiver = start_receive(&addr, &["--latency", "--expect", "2000", "--quiet"]);
    let mut args = vec![
        "--newline",
        "--generate",
        "words",
        "--messages",
        "2000",
        "--rate",
        "4000",
        "--stamp",
        "--connections",
        "2",
        "--quiet",
    ];
    args.extend_from_slice(pacing);
    let mut sender = start_send(&addr, &args);
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");
    let err = receiver.stderr();
    let line = err
        .lines()
        .find(|l| l.starts_with("latency_us"))
        .unwrap_or_else(|| panic!("no latency line: {err}"));
    for q in [
        "p50=",
        "p90=",
        "p99=",
        "p99.9=",
        "p99.99=",
        "max=",
        "2000 stamped",
        "0 unstamped",
    ] {
        assert!(line.contains(q), "{q} missing in {line}");
    }
    // Paced at 4000/s, 2000 messages take about half a second.
    let secs: f64 = sender
        .stderr()
        .split(" in ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert!(secs > 0.4, "not paced: {secs} s");
}

#[test]
fn stamped_paced_send_gives_a_latency_line() {
    stamped_paced_send(&[]);
}

#[test]
fn paced_send_by_sleeping_only_keeps_the_rate() {
    stamped_paced_send(&["--spin-us", "0"]);
}

#[test]
fn paced_send_in_bursts_keeps_the_rate() {
    stamped_paced_send(&["--batch", "50"]);
}

#[test]
fn binary_records_are_sent_as_they_are() {
    let dir = TempDir::new("binary");
    let input = dir.path("in.bin");
    let out = dir.path("out.txt");
    // 50 records of 12 bytes, each a 4-byte header and 8 bytes of payload.
    let mut data = Vec::new();
    for i in 0..50 {
        data.extend_from_slice(&8u32.to_be_bytes());
        data.extend_from_slice(format!("rec{i:05}").as_bytes());
    }
    std::fs::write(&input, &data).unwrap();
    let addr = free_addr();
    let mut receiver = start_receive(
        &addr,
        &["--framed", "--expect", "100", "--out", s(&out), "--quiet"],
    );
    let mut sender = start_send(
        &addr,
        &[
            "--binary",
            "--msg-size",
            "12",
            "--file",
            s(&input),
            "--repeat",
            "--messages",
            "100",
        ],
    );
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");
    let want: Vec<String> = (0..100).map(|i| format!("rec{:05}", i % 50)).collect();
    assert_eq!(read_out(&out), want);
}

/// giles sender's `--binary --variable-size`: records of any size, each behind its own
/// 4-byte big-endian length header, sent with it.
#[test]
fn variable_size_records_are_sent_with_their_headers() {
    let dir = TempDir::new("variable-size");
    let input = dir.path("in.bin");
    let out = dir.path("out.txt");
    let payloads: Vec<String> = (0..20).map(|i| "v".repeat(i + 1)).collect();
    let mut data = Vec::new();
    for payload in &payloads {
        data.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        data.extend_from_slice(payload.as_bytes());
    }
    std::fs::write(&input, &data).unwrap();
    let addr = free_addr();
    let mut receiver = start_receive(
        &addr,
        &["--framed", "--expect", "20", "--out", s(&out), "--quiet"],
    );
    let mut sender = start_send(&addr, &["--binary", "--variable-size", "--file", s(&input)]);
    assert_exits_ok(&mut sender, "sender");
    assert_exits_ok(&mut receiver, "receiver");
    assert_eq!(read_out(&out), payloads);

    // A record whose header promises more than the file holds is a clear error.
    std::fs::write(&input, [&data[..], &[0, 0, 0, 9, b'x']].concat()).unwrap();
    let mut sender = start_send(&addr, &["--binary", "--variable-size", "--file", s(&input)]);
    assert!(!sender.wait().success());
    assert!(
        sender
            .stderr()
            .contains("says 9 bytes, but the file ends first"),
        "{}",
        sender.stderr()
    );
}

#[test]
fn sender_errors_name_the_address() {
    // Nobody listening: gives up after --connect-timeout.
    let addr = free_addr();
    let mut sender = start_send(&addr, &["--generate", "words", "--connect-timeout", "0.3"]);
    assert_eq!(sender.wait().code(), Some(1));
    let err = sender.stderr();
    assert!(err.contains(&addr) && err.contains("connect"), "{err}");

    // A peer that goes away mid-stream.
    let addr = free_addr();
    let mut receiver = start_receive(&addr, &["--expect", "1000", "--quiet"]);
    let mut sender = start_send(&addr, &["--newline", "--generate", "words"]);
    assert_exits_ok(&mut receiver, "receiver");
    assert_eq!(sender.wait().code(), Some(1));
    let err = sender.stderr();
    assert!(
        err.contains(&addr) && err.contains("messages sent"),
        "{err}"
    );
    assert!(count_after(&err, "sent ") >= 1000, "{err}");
}

/// A load test typed as in Wallaroo's docs (giles sender and receiver flags, the Pony
/// runtime's flags, counts with underscores) runs with only the program names changed;
/// `--out -` prints what arrives, as Wallaroo's data_receiver did.
#[test]
fn wallaroo_load_tool_flags_are_understood() {
    let dir = TempDir::new("giles-flags");
    let input = dir.path("in.txt");
    let printed = dir.path("printed.txt");
    let lines: Vec<String> = (0..4).map(|i| format!("message {i}")).collect();
    write_lines(&input, &lines);
    let addr = free_addr();
    let mut receive = Command::new(roo());
    receive.args([
        "receive",
        "--ponythreads=1",
        "--ponynoblock",
        "-n",
        "receiver",
        "-p",
        "127.0.0.1:1",
        "-l",
        &addr,
        "-f",
        "-w",
        "-e",
        "9",
        "--timeout",
        "30",
        "--out",
        "-",
        "--quiet",
    ]);
    let stdout = std::fs::File::create(&printed).unwrap();
    let mut receiver = Proc::spawn_with_stdout("roo receive".into(), receive, stdout.into());
    let mut sender = Proc::start(&[
        "send",
        "--host",
        &addr,
        "--file",
        s(&input),
        "--batch-size",
        "2",
        "--interval",
        "1_000_000",
        "--messages",
        "6",
        "--repeat",
        "--no-write",
        "--ponythreads=1",
        "--ponynoblock",
        "--quiet",
    ]);
    assert_exits_ok(&mut sender, "sender");
    // --batch-size alone paces as giles did: a batch every 5 ms.
    let mut sender = Proc::start(&[
        "send",
        "--host",
        &addr,
        "--file",
        s(&input),
        "--batch-size",
        "3",
        "--messages",
        "3",
        "--quiet",
    ]);
    assert_exits_ok(&mut sender, "second sender");
    assert_exits_ok(&mut receiver, "receiver");
    let got = std::fs::read_to_string(&printed).unwrap();
    let want: Vec<&str> = [0, 1, 2, 3, 0, 1, 0, 1, 2]
        .iter()
        .map(|&i| lines[i].as_str())
        .collect();
    assert_eq!(got.lines().collect::<Vec<_>>(), want);
}

/// giles sender's short flags, as Wallaroo's docs typed them (`sender -h HOST:PORT -m N -s
/// N -i NS -f FILE -r -y -g N -w`), and its counting up when no file is given.
#[test]
fn giles_short_flags_and_counting_up() {
    let dir = TempDir::new("giles-short");
    let records = dir.path("records.bin");
    let out = dir.path("out.bin");
    // Three fixed-size framed records of 4 + 6 bytes, as giles's --msg-size counted them.
    let payloads = ["abcdef", "ghijkl", "mnopqr"];
    let data: Vec<u8> = payloads
        .iter()
        .flat_map(|p| [&6u32.to_be_bytes()[..], p.as_bytes()].concat())
        .collect();
    std::fs::write(&records, &data).unwrap();
    let addr = free_addr();
    // data_receiver's -f (--framed) and -n (its --no-write: nothing is written but --out).
    let mut receiver = start_receive(
        &addr,
        &[
            "-f",
            "-n",
            "--expect",
            "14",
            "--timeout",
            "30",
            "--out",
            s(&out),
            "--quiet",
        ],
    );
    let send = |args: &[&str]| {
        let mut all = vec!["send", "-h", &addr];
        all.extend_from_slice(args);
        let mut sender = Proc::start(&all);
        assert_exits_ok(&mut sender, &format!("roo send {args:?}"));
    };
    let file = [
        "-f",
        s(&records),
        "-y",
        "-g",
        "10",
        "-m",
        "5",
        "-r",
        "-s",
        "2",
    ];
    send(&[&file[..], &["-i", "1_000_000", "-w", "--ponythreads=1"]].concat());
    send(&[
        "-m",
        "3",
        "-s",
        "1",
        "-i",
        "1_000_000",
        "-n",
        "sender",
        "-p",
        "127.0.0.1:1",
    ]);
    send(&["-m", "2", "-v", "41"]);
    send(&["-m", "2", "-u", "-v", "1_000"]);
    send(&["-m", "2", "-u"]);
    assert_exits_ok(&mut receiver, "receiver");

    let mut want: Vec<u8> = Vec::new();
    for message in [
        &b"abcdef"[..],
        b"ghijkl",
        b"mnopqr",
        b"abcdef",
        b"ghijkl", // the file, repeated
        b"1",
        b"2",
        b"3", // counting up from 1
        b"42",
        b"43", // from --start-from 41
    ] {
        want.extend_from_slice(message);
        want.push(b'\n');
    }
    for n in [1_001u64, 1_002, 1, 2] {
        want.extend_from_slice(&n.to_be_bytes());
        want.push(b'\n');
    }
    assert_eq!(std::fs::read(&out).unwrap(), want);
}
