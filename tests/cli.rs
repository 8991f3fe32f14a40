//! The command line and start-up, end to end: real `roo` processes whose flags, version
//! text or start-up conditions are wrong or worth checking (a port already in use, an app
//! that fails on every core at once, `--cores 0`, `--version`, an unknown option). Every
//! wait is bounded.

mod common;

use common::*;

/// A second roo on the same --in port is refused at start-up rather than quietly sharing
/// the port (and its connections) with the first.
#[test]
fn a_source_port_in_use_is_a_start_up_error() {
    let (in_addr, out_addr) = (free_addr(), free_addr());
    let app = example("reverse.py");
    let first = start_io_worker(&app, 1, &in_addr, &out_addr, false, &[]);
    let mut second = Proc::start(&[
        "run", "--cores", "1", &app, "--in", &in_addr, "--out", &out_addr,
    ]);
    let status = second.wait_within(EXIT_WITHIN);
    assert!(!status.success(), "{}", second.stderr());
    assert!(
        second
            .stderr()
            .contains(&format!("cannot listen on {in_addr} for source")),
        "{}",
        second.stderr()
    );
    assert!(first.stderr().contains("roo: ready"), "{}", first.stderr());
}

/// Every core fails to load the app at the same moment; each time, roo reports it and exits
/// 1 (no crash while the interpreters end, whatever C modules the app imported).
#[test]
fn an_app_failing_on_every_core_at_once_is_reported_every_time() {
    let app = test_app("datetime_then_raise.py");
    for run in 0..6 {
        let mut worker = Proc::start(&[
            "run",
            "--cores",
            "2",
            &app,
            "--in",
            &free_addr(),
            "--out",
            &free_addr(),
        ]);
        let status = worker.wait_within(EXIT_WITHIN);
        assert_eq!(
            status.code(),
            Some(1),
            "run {run}: {status}\n{}",
            worker.stderr()
        );
        assert!(
            worker
                .stderr()
                .contains("ValueError: the app failed at import"),
            "run {run}:\n{}",
            worker.stderr()
        );
    }
}

/// `--cores 0` is refused before anything starts, naming the flag.
#[test]
fn zero_cores_is_refused() {
    let mut worker = Proc::start(&[
        "run",
        "--cores",
        "0",
        &example("reverse.py"),
        "--in",
        &free_addr(),
        "--out",
        &free_addr(),
    ]);
    let status = worker.wait_within(EXIT_WITHIN);
    assert_eq!(status.code(), Some(2), "{}", worker.stderr());
    let stderr = worker.stderr();
    assert!(stderr.contains("--cores"), "{stderr}");
    assert!(stderr.contains("at least one core"), "{stderr}");
    assert!(!stderr.contains("starting"), "{stderr}");
}

/// `roo --version` names the CPython it embeds and how libpython is linked (build.rs).
#[test]
fn the_version_names_the_embedded_python() {
    let output = std::process::Command::new(roo())
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        text.trim(),
        format!("roo {} ({})", env!("CARGO_PKG_VERSION"), env!("ROO_EMBEDS"))
    );
    assert!(text.contains("(CPython 3."), "{text}");
    assert!(text.contains(", libpython linked "), "{text}");
}

/// An option roo does not know, standing where the app should be, is named as such
/// rather than read as the app's path.
#[test]
fn an_unknown_option_before_the_app_is_named() {
    let mut worker = Proc::start(&[
        "run",
        "--cores",
        "1",
        "--metrics",
        "127.0.0.1:5001",
        &example("reverse.py"),
    ]);
    let status = worker.wait_within(EXIT_WITHIN);
    assert_eq!(status.code(), Some(1), "{}", worker.stderr());
    let stderr = worker.stderr();
    assert!(
        stderr.contains("--metrics is not an option of roo run"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot read"), "{stderr}");
}
