//! What an app prints reaches roo's stdout as it happens, also when stdout is a file and
//! Python was not told to be unbuffered, and nothing it printed is lost at shutdown.

mod common;

use common::*;
use std::fs::File;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn prints_reach_stdout(cores: usize) {
    let dir = TempDir::new(&format!("printing-{cores}"));
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let input = dir.path("in.txt");
    write_lines(&input, &["a".into(), "b".into(), "bye".into()]);
    let out = dir.path("out.txt");
    let mut receiver = start_receiver(&out_addr, &out, 3);
    let stdout_path = dir.path("stdout.txt");
    let mut command = Command::new(roo());
    command
        .env_remove("PYTHONUNBUFFERED")
        .args(["run", "--cores", &cores.to_string()])
        .arg(test_app("printing.py"))
        .args(["--in", &in_addr, "--out", &out_addr]);
    let stdout = Stdio::from(File::create(&stdout_path).unwrap());
    let mut worker = Proc::spawn_with_stdout("roo run printing.py".into(), command, stdout);
    worker.wait_for_stderr_within("roo: ready", READY_WITHIN);
    send(&in_addr, &input, &[], WAIT, &[&worker, &receiver]);
    expect_success(&mut receiver, WAIT, &[&worker]);

    // While roo runs: each finished line is there (one "setting up" per core's interpreter).
    let printed = || std::fs::read_to_string(&stdout_path).unwrap();
    let deadline = Instant::now() + WAIT;
    while !(printed().contains("got a\n") && printed().contains("got b\n")) {
        assert!(Instant::now() < deadline, "stdout so far: {:?}", printed());
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        printed().matches("setting up\n").count(),
        cores,
        "{}",
        printed()
    );

    // At shutdown: the unfinished last line too.
    worker.signal("TERM");
    expect_success(&mut worker, EXIT_WITHIN, &[]);
    assert!(printed().ends_with("last words"), "{:?}", printed());
    assert_eq!(read_out(&out), ["a", "b", "bye"]);
}

at_core_counts!(prints_reach_stdout_while_running_and_at_shutdown = prints_reach_stdout);
