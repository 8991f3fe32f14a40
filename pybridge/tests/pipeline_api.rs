//! The Wallaroo 0.6 pipeline API and decorators, loaded into 1 and 2 interpreters.

mod common;

use common::{assert_no_errors, frame, sorted_lines, Cluster};
use pybridge::PythonMode;

fn le_frame(payload: &str) -> Vec<u8> {
    let mut out = (payload.len() as u16).to_le_bytes().to_vec();
    out.extend_from_slice(payload.as_bytes());
    out
}

#[test]
fn every_element_at_one_and_two_cores() {
    let args = [
        "--in",
        "A@127.0.0.1:7100,127.0.0.1:7101",
        "--out",
        "127.0.0.1:7102,127.0.0.1:7103",
    ];
    for cores in [1, 2] {
        let cluster = Cluster::start(
            "v06_everything.py",
            &args,
            cores,
            PythonMode::Subinterpreters,
        )
        .unwrap();
        cluster.send(0, 0, [frame("ab ac"), frame("bd")].concat());
        cluster.send(cores - 1, 1, [le_frame("drop"), le_frame("ze")].concat());
        let reports = cluster.finish();
        let expected: Vec<String> = [
            "AB:1", "AB:1", "AC:2", "AC:2", "BD:1", "BD:1", "ZE:1", "ZE:1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // to_sinks: each sink receives every output.
        assert_eq!(
            sorted_lines(&reports, 0),
            expected,
            "sink 0 at {cores} cores"
        );
        assert_eq!(
            sorted_lines(&reports, 1),
            expected,
            "sink 1 at {cores} cores"
        );
        assert_no_errors(&reports);
    }
}

#[test]
fn declared_big_endian_headers_are_framed_natively() {
    let cluster = Cluster::start(
        "v06_everything.py",
        &["--in", "A@h:1,h:2", "--out", "h:3,h:4"],
        1,
        PythonMode::Subinterpreters,
    )
    .unwrap();
    drop(cluster.finish());
    // Loading the same app directly to look at its topology.
    let interpreter = pybridge::Interpreter::new(PythonMode::Subinterpreters).unwrap();
    let path = common::app("v06_everything.py");
    let args = [
        path.display().to_string(),
        "--in".into(),
        "A@h:1,h:2".into(),
        "--out".into(),
        "h:3".into(),
    ];
    interpreter.with(|py| {
        let (topology, objects) =
            pybridge::app::load(py, &path, &args, pybridge::OutputFds::PROCESS).unwrap();
        assert_eq!(
            topology.sources[0].header(),
            Some(model::HeaderDecoding::BigEndian(protocol::LengthWidth::U32))
        );
        assert_eq!(
            topology.sources[1].header(),
            Some(model::HeaderDecoding::Python { header_length: 2 })
        );
        assert_eq!(topology.sources[0].name, "A");
        assert_eq!(
            topology.chains.len(),
            3,
            "two source chains and the merged chain"
        );
        drop(objects);
    });
}

#[test]
fn a_state_computation_before_key_by_is_one_state() {
    let cluster =
        Cluster::start("v06_single_state.py", &[], 2, PythonMode::Subinterpreters).unwrap();
    cluster.send(
        0,
        0,
        (0..20).flat_map(|i| frame(&format!("m{i}"))).collect(),
    );
    let reports = cluster.finish();
    let mut expected: Vec<String> = (0..20).map(|i| format!("{} m{i}", i + 1)).collect();
    expected.sort();
    assert_eq!(sorted_lines(&reports, 0), expected);
}

fn startup_error(mistake: &str) -> String {
    common::startup_error("v06_mistakes.py", &[mistake])
}

#[test]
fn building_mistakes_name_the_pipeline_or_step() {
    let e = startup_error("no sink");
    assert!(e.contains("pipeline 'lonely' has no sink"), "{e}");
    let e = startup_error("merge self");
    assert!(
        e.contains("cannot merge pipeline 'lonely' with itself"),
        "{e}"
    );
    let e = startup_error("slide twice");
    assert!(e.contains("call with_slide() once per window"), "{e}");
    let e = startup_error("slide over range");
    assert!(e.contains("must be > 0 and <= the range"), "{e}");
    let e = startup_error("no combine");
    assert!(
        e.contains("aggregation NoCombine")
            && e.contains("v06_mistakes.py:")
            && e.contains("no combine() method"),
        "{e}"
    );
    let e = startup_error("self param");
    assert!(
        e.contains("state computation count (")
            && e.contains("v06_mistakes.py:")
            && e.contains("must take 2 arguments; it takes (self, data, state)"),
        "{e}"
    );
    let e = startup_error("bad step");
    assert!(
        e.contains("to(42)") && e.contains("not a @computation"),
        "{e}"
    );
}

/// Wallaroo 0.4-0.5 apps decorated their functions and passed them to the
/// ApplicationBuilder, with `@partition`, `(output, persist)` results and `to_sinks`.
#[test]
fn decorators_of_wallaroo_05_run_on_the_application_builder() {
    let args = [
        "--in",
        "127.0.0.1:7100",
        "--out",
        "127.0.0.1:7101,127.0.0.1:7102",
    ];
    for cores in [1, 2] {
        let cluster = Cluster::start(
            "v05_decorators.py",
            &args,
            cores,
            PythonMode::Subinterpreters,
        )
        .unwrap();
        cluster.send(0, 0, [frame("ab 1"), frame("skip"), frame("a 2")].concat());
        let reports = cluster.finish();
        // Doubled votes: a 2, b 2, then a 4. "add votes" keeps a total per letter; "running
        // total" is one state over everything, passes each message on and emits the
        // upper-cased grand total so far.
        let lines = sorted_lines(&reports, 0);
        let (totals, per_letter): (Vec<&String>, Vec<&String>) = lines
            .iter()
            .partition(|l| l.starts_with(char::is_uppercase));
        assert_eq!(per_letter, ["a => 2", "a => 6", "b => 2"], "{lines:?}");
        let mut grand: Vec<u32> = totals
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        grand.sort();
        if cores == 1 {
            // One core: the order is the input's.
            assert_eq!(totals, ["A => 10", "A => 2", "B => 4"], "{lines:?}");
        } else {
            // a and b may be owned by different cores and reach the single grand total in
            // either order; it still ends at 10 after three messages.
            assert_eq!((grand.len(), grand[2]), (3, 10), "{lines:?}");
        }
        assert_eq!(
            sorted_lines(&reports, 0),
            sorted_lines(&reports, 1),
            "to_sinks"
        );
        assert_no_errors(&reports);
    }
}

fn v05_startup_error(mistake: &str) -> String {
    common::startup_error("v05_mistakes.py", &[mistake])
}

#[test]
fn decorator_mistakes_are_reported_at_start_up() {
    let e = v05_startup_error("no state");
    assert!(
        e.contains("state computation 'count'")
            && e.contains("v05_mistakes.py:")
            && e.contains("state=StateClass"),
        "{e}"
    );
    let e = v05_startup_error("state as stateless");
    assert!(
        e.contains("'count'") && e.contains("used as a stateless step"),
        "{e}"
    );
    // A Kafka source without its topic on the command line.
    let e = v05_startup_error("kafka");
    assert!(
        e.contains("DefaultKafkaSourceCLIParser --kafka_source_topic: no topic given"),
        "{e}"
    );
    let e = v05_startup_error("connector");
    assert!(
        e.contains("SourceConnectorConfig: Wallaroo's connectors are not supported"),
        "{e}"
    );
    let e = v05_startup_error("step after sink");
    assert!(
        e.contains("to() after pipeline 'p' already ended with to_sink()"),
        "{e}"
    );
    let e = v05_startup_error("no decoder");
    assert!(
        e.contains("the TCPSourceConfig of pipeline 'p' has no decoder"),
        "{e}"
    );
    let e = v05_startup_error("no encoder");
    assert!(
        e.contains("a TCPSinkConfig of pipeline 'p' has no encoder"),
        "{e}"
    );
}

/// A message in Wallaroo's connector framing: little-endian length, event time, message.
fn connector_frame(event_time: i64, message: &str) -> Vec<u8> {
    let mut out = ((message.len() + 8) as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&event_time.to_le_bytes());
    out.extend_from_slice(message.as_bytes());
    out
}

/// BYOI configs, `@wallaroo.state`, `wallaroo._ARGS`, the connector codecs over TCP and the
/// `TCPSourceConfig(host, port, name, decoder)` order.
#[test]
fn wallaroo_names_outside_the_two_apis() {
    for (cores, initializer) in [(1, true), (2, false)] {
        let mut args = vec![
            "--in",
            "127.0.0.1:7400,127.0.0.1:7401",
            "--out",
            "127.0.0.1:7402,127.0.0.1:7403",
        ];
        if initializer {
            args.push("--cluster-initializer");
        }
        let cluster = Cluster::start(
            "wallaroo_extras.py",
            &args,
            cores,
            PythonMode::Subinterpreters,
        )
        .unwrap();
        cluster.send(0, 0, [frame("ab"), frame("ba"), frame("ab")].concat());
        let feed = [connector_frame(7, "one"), connector_frame(-1, "two")].concat();
        cluster.send(cores - 1, 1, feed);
        let reports = cluster.finish();
        let flag = if initializer { "True" } else { "False" };
        assert_eq!(
            sorted_lines(&reports, 0),
            [
                format!("ab 1 {flag}"),
                format!("ab 2 {flag}"),
                format!("ba 1 {flag}")
            ],
            "at {cores} cores"
        );
        let fed: Vec<u8> = reports.iter().flat_map(|r| r.sinks[1].clone()).collect();
        assert_eq!(
            fed,
            [connector_frame(0, "ONE"), connector_frame(0, "TWO")].concat(),
            "at {cores} cores"
        );
        assert_no_errors(&reports);
    }
}

/// The key key_by takes stays with the message through later steps, stateless or state,
/// until collect(); the steps after it see data the extractor could not even read.
#[test]
fn a_key_by_key_is_carried_through_later_steps() {
    let args = ["--in", "127.0.0.1:7500", "--out", "127.0.0.1:7501"];
    for cores in [1, 2] {
        let cluster = Cluster::start(
            "v06_key_carried.py",
            &args,
            cores,
            PythonMode::Subinterpreters,
        )
        .unwrap();
        let input: Vec<u8> = ["1", "2", "3", "4"].iter().flat_map(|n| frame(n)).collect();
        cluster.send(0, 0, input);
        let reports = cluster.finish();
        assert_no_errors(&reports);
        let lines = sorted_lines(&reports, 0);
        // Per key, in input order: odd sees 10 then 30, even 20 then 40.
        let per_key: Vec<String> = lines
            .iter()
            .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
            .collect();
        assert_eq!(
            per_key,
            ["seen:10 1", "seen:10,30 2", "seen:20 1", "seen:20,40 2"],
            "at {cores} cores"
        );
        // After collect(), one state counts all four.
        let mut totals: Vec<&str> = lines
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap())
            .collect();
        totals.sort();
        assert_eq!(totals, ["1", "2", "3", "4"], "at {cores} cores");
    }
}

/// A key taken before a merge (key_by as the last operation of a merged pipeline, or
/// earlier with steps after it) goes on with the message into the merged pipeline.
#[test]
fn keys_taken_before_a_merge_are_carried_into_it() {
    let args = [
        "--in",
        "127.0.0.1:7510,127.0.0.1:7511",
        "--out",
        "127.0.0.1:7512",
    ];
    for cores in [1, 2] {
        let cluster = Cluster::start(
            "v06_key_merged.py",
            &args,
            cores,
            PythonMode::Subinterpreters,
        )
        .unwrap();
        let numbers: Vec<u8> = ["1", "2", "3"].iter().flat_map(|n| frame(n)).collect();
        let tagged: Vec<u8> = ["even:x", "odd:y"].iter().flat_map(|t| frame(t)).collect();
        cluster.send(0, 0, numbers);
        cluster.send(0, 1, tagged);
        let reports = cluster.finish();
        assert_no_errors(&reports);
        let lines = sorted_lines(&reports, 0);
        let counts_of = |members: &[&str]| {
            let mut counts: Vec<&str> = lines
                .iter()
                .filter(|l| members.contains(&l.split(' ').next().unwrap()))
                .map(|l| l.rsplit(' ').next().unwrap())
                .collect();
            counts.sort();
            counts
        };
        assert_eq!(
            counts_of(&["1", "3", "y"]),
            ["1", "2", "3"],
            "odd at {cores} cores: {lines:?}"
        );
        assert_eq!(
            counts_of(&["2", "x"]),
            ["1", "2"],
            "even at {cores} cores: {lines:?}"
        );
    }
}
