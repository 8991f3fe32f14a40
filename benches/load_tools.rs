//! `roo send` unpaced on one connection with 50-byte frames, into `roo receive --framed`:
//! frames per second as the sender reports them (median of 3 runs, min and max).
//! Target: >= 1 M frames/s. `cargo bench --bench load_tools` (env ROO_BENCH_FRAMES).

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};

mod support;

use support::*;

const ROO: &str = env!("CARGO_BIN_EXE_roo");

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let frames: usize = std::env::var("ROO_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let dir = std::env::temp_dir().join(format!("roo-bench-send-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lines.txt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for i in 0..100_000 {
        writeln!(out, "{:050}", i).unwrap(); // 50-byte payloads
    }
    drop(out);
    let mut rates = vec![];
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let receiver = Command::new(ROO)
            .args([
                "receive",
                "--framed",
                "--quiet",
                "--listen",
                &address,
                "--expect",
                &frames.to_string(),
                "--timeout",
                "120",
            ])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut receiver = Guard(receiver);
        let sender = Command::new(ROO)
            .args([
                "send",
                "--quiet",
                "--repeat",
                "--to",
                &address,
                "--messages",
                &frames.to_string(),
                "--file",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(sender.status.success(), "roo send failed");
        assert!(
            receiver.0.wait().unwrap().success(),
            "roo receive did not get every frame"
        );
        // Final line: "sent N messages (B bytes) in S s: R msg/s"
        let report = String::from_utf8_lossy(&sender.stderr);
        let rate: f64 = report
            .lines()
            .rev()
            .find_map(|line| {
                line.strip_suffix(" msg/s")?
                    .rsplit(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .expect("a final rate line");
        rates.push(rate);
    }
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "roo send, 1 connection, 50-byte frames, {frames} frames: median {:.2} M frames/s (min {:.2}, max {:.2}); target >= 1 M",
        rates[1] / 1e6,
        rates[0] / 1e6,
        rates[2] / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}
