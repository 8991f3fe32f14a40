//! Loading apps into 1 and 2 interpreters and running messages through every element of
//! the ApplicationBuilder API.

mod common;

use common::{assert_no_errors, frame, sorted_lines, total_errors, Cluster};
use model::Value;
use pybridge::{Interpreter, PythonMode, ValueCodec};
use pyo3::prelude::*;

const COUNTING_ARGS: &[&str] = &[
    "--in",
    "127.0.0.1:7000,127.0.0.1:7001",
    "--out",
    "127.0.0.1:7002",
];

/// Every (word, count-so-far) line a correct word count emits for `words`.
fn expected_counts(words: &[&str]) -> Vec<String> {
    let mut seen = std::collections::HashMap::new();
    let mut lines: Vec<String> = words
        .iter()
        .map(|w| {
            let n = seen.entry(*w).or_insert(0);
            *n += 1;
            format!("{w}={n}")
        })
        .collect();
    lines.sort();
    lines
}

fn le_frame(payload: &str) -> Vec<u8> {
    let mut out = (payload.len() as u16).to_le_bytes().to_vec();
    out.extend_from_slice(payload.as_bytes());
    out
}

fn counting_run(cores: usize, mode: PythonMode) {
    let cluster = Cluster::start("counting.py", COUNTING_ARGS, cores, mode).unwrap();
    let lines = [
        "apple banana cherry",
        "avocado skip apple",
        "",
        "banana  date",
        "zebra apple",
    ];
    let mut bytes = vec![];
    for line in lines {
        bytes.extend(frame(line));
    }
    // Split across calls at an awkward point, as a socket would.
    let (first, second) = bytes.split_at(7);
    cluster.send(0, 0, first.to_vec());
    cluster.send(0, 0, second.to_vec());
    // The second pipeline (little-endian u16 headers) shares the "tallies" state.
    cluster.send(cores - 1, 1, [le_frame("banana"), le_frame("egg")].concat());
    let reports = cluster.finish();
    let words = [
        "apple", "banana", "cherry", "avocado", "apple", "banana", "date", "zebra", "apple",
        "banana", "egg",
    ];
    let mut from_both: Vec<String> = sorted_lines(&reports, 0)
        .into_iter()
        .chain(sorted_lines(&reports, 1))
        .collect();
    from_both.sort();
    assert_eq!(from_both, expected_counts(&words));
    assert_no_errors(&reports);
    if cores > 1 {
        assert!(
            reports.iter().map(|r| r.routed_out).sum::<u64>() > 0,
            "nothing crossed cores"
        );
        assert_eq!(
            reports.iter().map(|r| r.routed_out).sum::<u64>(),
            reports.iter().map(|r| r.routed_in).sum::<u64>()
        );
    }
}

/// counting.py's split is a `to_parallel` step: run on the other core, it gives the same
/// counts (the engine hands parallel steps over when a core is behind).
#[test]
fn parallel_steps_run_on_another_core_give_the_same_counts() {
    let cluster = Cluster::start_handing_over("counting.py", COUNTING_ARGS, 2).unwrap();
    let lines = ["apple banana cherry", "avocado skip apple", "banana  date"];
    for line in lines {
        cluster.send(0, 0, frame(line));
    }
    let reports = cluster.finish();
    let words = [
        "apple", "banana", "cherry", "avocado", "apple", "banana", "date",
    ];
    assert_eq!(sorted_lines(&reports, 0), expected_counts(&words));
    assert_no_errors(&reports);
    assert_eq!(reports[0].handed_over, lines.len() as u64);
    assert_eq!(
        reports[1].handed_over, 0,
        "a step handed over runs where it arrives"
    );
}

#[test]
fn word_counting_on_one_interpreter() {
    counting_run(1, PythonMode::Subinterpreters);
}

#[test]
fn word_counting_across_two_interpreters() {
    counting_run(2, PythonMode::Subinterpreters);
}

#[test]
fn word_counting_on_the_main_interpreter_from_two_cores() {
    counting_run(2, PythonMode::Main);
}

#[test]
fn an_error_in_each_hook_drops_only_that_message() {
    let cluster =
        Cluster::start("counting.py", COUNTING_ARGS, 2, PythonMode::Subinterpreters).unwrap();
    let inputs = [
        "boom-decode",
        "boom-split",
        "not-a-list",
        "bee boom-partition",
        "boom-state bee",
        "b-plain",
        "boom-encode",
        "int-encode",
        "bee",
    ];
    cluster.send(0, 0, inputs.iter().flat_map(|i| frame(i)).collect());
    let reports = cluster.finish();
    assert_eq!(
        sorted_lines(&reports, 0),
        vec!["b-plain=0", "bee=1", "bee=2", "bee=3"]
    );
    let errors = total_errors(&reports);
    let count = |needle: &str| {
        errors
            .iter()
            .filter(|(place, _)| place.contains(needle))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    assert_eq!(count("decoder of source 'words'"), 1, "{errors:?}");
    assert_eq!(count("step 'split'"), 2, "{errors:?}"); // raised, and returned a str
    assert_eq!(
        count("partition function of step 'count word'"),
        1,
        "{errors:?}"
    );
    assert_eq!(
        count("step 'count word'") - count("partition function"),
        1,
        "{errors:?}"
    ); // raised
    assert_eq!(count("encoder of sink 127.0.0.1:7002"), 2, "{errors:?}"); // raised, returned int
    assert_eq!(errors.values().sum::<u64>(), 7, "{errors:?}");
    for place in errors.keys() {
        assert!(
            place.contains("pipeline 'words'"),
            "place without pipeline: {place}"
        );
    }
}

#[test]
fn u64_keys_lazy_states_and_a_single_state() {
    let numbers: Vec<u64> = (1..=50).map(|i| i * 37 % 2500).collect();
    for cores in [1, 2] {
        let cluster =
            Cluster::start("u64_keys.py", &[], cores, PythonMode::Subinterpreters).unwrap();
        cluster.send(
            0,
            0,
            numbers.iter().flat_map(|n| frame(&n.to_string())).collect(),
        );
        let reports = cluster.finish();
        // Per key (n % 1000) running sums; keys that are 0 are filtered (None output).
        let mut sums = std::collections::HashMap::new();
        let mut expected: Vec<String> = numbers
            .iter()
            .filter_map(|n| {
                let total = sums.entry(n % 1000).or_insert(0);
                *total += n;
                (n % 1000 != 0).then(|| format!("{}:{}", n % 1000, total))
            })
            .collect();
        expected.sort();
        assert_eq!(sorted_lines(&reports, 0), expected, "cores={cores}");
        assert_no_errors(&reports);
    }
}

#[test]
fn keys_that_are_the_same_object_again_count_by_their_content() {
    let words = ["a", "b", "a", "c", "b", "a", "dd", "a", "c", "dd"];
    let messages: Vec<String> = (0..40)
        .map(|i| format!("{}:{}", ["s", "b", "l", "f"][i % 4], words[i % words.len()]))
        .collect();
    for cores in [1, 2] {
        let cluster =
            Cluster::start("shared_keys.py", &[], cores, PythonMode::Subinterpreters).unwrap();
        cluster.send(0, 0, messages.iter().flat_map(|m| frame(m)).collect());
        let reports = cluster.finish();
        let mut seen = std::collections::HashMap::new();
        let mut expected: Vec<String> = messages
            .iter()
            .map(|m| {
                let count = seen.entry(m.as_str()).or_insert(0);
                *count += 1;
                format!("{m}:{count}")
            })
            .collect();
        expected.sort();
        assert_eq!(sorted_lines(&reports, 0), expected, "cores={cores}");
        assert_no_errors(&reports);
    }
}

#[test]
fn app_classes_cross_interpreters_by_their_serialize() {
    let cluster = Cluster::start("pickled.py", &[], 2, PythonMode::Subinterpreters).unwrap();
    let points: Vec<(i32, i32)> = (0..40).map(|i| (i % 7, i)).collect();
    cluster.send(
        0,
        0,
        points
            .iter()
            .flat_map(|(x, y)| frame(&format!("{x},{y}")))
            .collect(),
    );
    let reports = cluster.finish();
    let mut per_x = std::collections::HashMap::new();
    let mut expected: Vec<String> = points
        .iter()
        .map(|(x, y)| {
            let n = per_x.entry(*x).or_insert(0);
            *n += 1;
            format!("{x}:{n}:{y}")
        })
        .collect();
    expected.sort();
    assert_eq!(sorted_lines(&reports, 0), expected);
    assert!(reports[1].routed_in > 0, "no Point crossed to core 1");
    assert_no_errors(&reports);
}

#[test]
fn values_round_trip_natively_or_by_pickle() {
    let interpreter = Interpreter::new(PythonMode::Subinterpreters).unwrap();
    interpreter.with(|py| {
        let codec = ValueCodec::new(py).unwrap();
        let cases = [
            "None", "True", "-7", "2**70", "1.5", "'héllo'", "b'\\x00\\xff'", "(1, 'a', (None,))",
            "[1, [2.5, b'x']]", "{'a': 1, 2: [3]}", "{1, 2}", "type('K', (), {})", "frozenset([1])",
        ];
        for case in cases {
            let object = py.eval(&std::ffi::CString::new(case).unwrap(), None, None).unwrap();
            let value = match codec.to_value(&object) {
                Ok(value) => value,
                // Classes made by type() in eval cannot be pickled by reference: a clear error.
                Err(text) => {
                    assert!(case.starts_with("type("), "{case}: {text}");
                    assert!(text.contains("PicklingError") || text.contains("pickle"), "{text}");
                    continue;
                }
            };
            let back = codec.to_python(py, &value).unwrap();
            assert!(pyo3::types::PyAnyMethods::eq(&back, &object).unwrap(), "{case} came back as {back}");
            assert_eq!(back.get_type().name().unwrap().to_string(), object.get_type().name().unwrap().to_string());
        }
        assert!(matches!(codec.to_value(&py.eval(c"'x'", None, None).unwrap()).unwrap(), Value::Str(s) if s == "x"));
        assert!(matches!(codec.to_value(&py.eval(c"2**70", None, None).unwrap()).unwrap(), Value::Pickled(_)));
    });
}

fn startup_error(app: &str) -> String {
    common::startup_error(app, &[])
}

#[test]
fn app_mistakes_fail_at_start_naming_file_line_or_step() {
    let e = startup_error("no_setup.py");
    assert!(
        e.contains("no_setup.py") && e.contains("no application_setup"),
        "{e}"
    );
    let e = startup_error("syntax_error.py");
    assert!(
        e.contains("syntax_error.py") && e.contains("line 3") && e.contains("SyntaxError"),
        "{e}"
    );
    let e = startup_error("no_compute.py");
    assert!(
        e.contains("'lazy step'") && e.contains("no_compute.py:") && e.contains("compute()"),
        "{e}"
    );
    let e = startup_error("no_sink.py");
    assert!(e.contains("pipeline 'echo pipeline' has no sink"), "{e}");
    let e = startup_error("does_not_exist.py");
    assert!(
        e.contains("does_not_exist.py") && e.contains("cannot read"),
        "{e}"
    );
}

/// An app that reads its addresses from the command line fails on its own when a flag is
/// missing; the error says which.
#[test]
fn a_missing_in_or_out_address_is_named() {
    let e = common::startup_error("counting.py", &[]);
    assert!(
        e.contains("application_setup failed") && e.contains("no --in and no --out address"),
        "{e}"
    );
    let e = common::startup_error("counting.py", &["--in", "127.0.0.1:7320"]);
    assert!(
        e.contains("no --out address") && !e.contains("no --in"),
        "{e}"
    );
}

/// Failures that have nothing to do with addresses get no note about --in and --out.
#[test]
fn other_setup_failures_get_no_address_note() {
    for args in [&[][..], &["--exit"][..]] {
        let e = common::startup_error("setup_refuses.py", args);
        assert!(e.contains("application_setup failed"), "{e}");
        assert!(!e.contains("--in"), "{e}");
    }
    let e = common::startup_error("setup_refuses.py", &[]);
    assert!(e.contains("no configuration file given"), "{e}");
    let e = common::startup_error("setup_refuses.py", &["--exit"]);
    assert!(e.contains("usage: setup_refuses.py --config FILE"), "{e}");
}

/// Own-GIL subinterpreters refuse single-phase C extensions (numpy, most pyo3 modules):
/// the error says how to run such an app.
#[cfg(Py_3_12)]
#[test]
fn an_extension_refusing_subinterpreters_gets_a_hint() {
    let e = startup_error("single_phase_extension.py");
    assert!(
        e.contains("does not support loading in subinterpreters")
            && e.contains("roo run --python-mode main"),
        "{e}"
    );
}

#[test]
fn the_earliest_api_takes_addresses_from_in_and_out() {
    let args = [
        "--in",
        "127.0.0.1:7300,127.0.0.1:7301",
        "--out",
        "127.0.0.1:7302",
    ];
    let cluster = Cluster::start("early_api.py", &args, 1, PythonMode::Subinterpreters).unwrap();
    cluster.send(0, 0, frame("hey"));
    cluster.send(0, 1, frame("you"));
    let reports = cluster.finish();
    assert_eq!(sorted_lines(&reports, 0), vec!["HEY!"]);
    assert_eq!(sorted_lines(&reports, 1), vec!["you!"]);
    let interpreter = Interpreter::new(PythonMode::Subinterpreters).unwrap();
    let path = common::app("early_api.py");
    let mut full = vec![path.display().to_string()];
    full.extend(args.iter().map(|a| a.to_string()));
    interpreter.with(|py| {
        let (topology, objects) =
            pybridge::app::load(py, &path, &full, pybridge::OutputFds::PROCESS).unwrap();
        let addresses: Vec<String> = topology.sources.iter().map(|s| s.address()).collect();
        assert_eq!(addresses, ["127.0.0.1:7300", "127.0.0.1:7301"]);
        assert_eq!(topology.sinks[0].address(), "127.0.0.1:7302");
        drop(objects);
    });
}

/// Wallaroo 0.1-0.2: decoder and encoder passed apart from their addresses, and state
/// computations returning their output alone.
#[test]
fn wallaroo_02_forms_and_plain_state_results() {
    let args = [
        "--in",
        "127.0.0.1:7310,127.0.0.1:7311",
        "--out",
        "127.0.0.1:7312",
    ];
    for cores in [1, 2] {
        let cluster =
            Cluster::start("v02_api.py", &args, cores, PythonMode::Subinterpreters).unwrap();
        cluster.send(0, 0, [frame("a 1"), frame("b 2"), frame("a 3")].concat());
        cluster.send(cores - 1, 1, [frame("a 5"), frame("b 6")].concat());
        let reports = cluster.finish();
        assert_eq!(
            sorted_lines(&reports, 0),
            ["a => 1", "a => 4", "b => 2"],
            "at {cores} cores"
        );
        assert_eq!(
            sorted_lines(&reports, 1),
            ["total 11", "total 5"],
            "at {cores} cores"
        );
        assert_no_errors(&reports);
    }
}

const CLASSES: &std::ffi::CStr = c"
class Plain:
    def __init__(self, a, b):
        self.a = a
        self.b = b
    def __eq__(self, other):
        return type(other) is type(self) and vars(self) == vars(other)

class Slotted:
    __slots__ = ('a',)
    def __init__(self, a):
        self.a = a
    def __eq__(self, other):
        return type(other) is Slotted and self.a == other.a

class Reduced(Plain):
    def __reduce__(self):
        return (Reduced, (self.a, self.b))

import dataclasses

@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: str

def serialize(obj):
    return b'custom:' + repr(vars(obj)).encode()

def deserialize(bs):
    return None
";

#[test]
fn plain_app_objects_travel_without_pickle_and_serialize_replaces_pickle() {
    let interpreter = Interpreter::new(PythonMode::Subinterpreters).unwrap();
    interpreter.with(|py| {
        pybridge::api_package::install(py).unwrap();
        let module =
            pyo3::types::PyModule::from_code(py, CLASSES, c"classes.py", c"transfer_classes")
                .unwrap();
        let codec = ValueCodec::new(py).unwrap();
        let make = |expr: &str| {
            py.eval(
                &std::ffi::CString::new(expr).unwrap(),
                Some(&module.dict()),
                None,
            )
            .unwrap()
        };
        let plain = make("Plain(1, ('x', [2.5, Plain(None, b'y')]))");
        let value = codec.to_value(&plain).unwrap();
        assert!(
            matches!(&value, Value::Object { class, .. } if &**class == "transfer_classes:Plain"),
            "{value:?}"
        );
        let back = codec.to_python(py, &value).unwrap();
        assert!(pyo3::types::PyAnyMethods::eq(&back, &plain).unwrap());
        // Slots, a reduce hook, a non-native field, a __setattr__ that refuses (frozen).
        for pickled in [
            "Slotted(3)",
            "Reduced(1, 2)",
            "Plain(1, {2, 3})",
            "Frozen(1, 'x')",
        ] {
            let object = make(pickled);
            let value = codec.to_value(&object).unwrap();
            assert!(matches!(value, Value::Pickled(_)), "{pickled} -> {value:?}");
            let back = codec.to_python(py, &value).unwrap();
            assert!(
                pyo3::types::PyAnyMethods::eq(&back, &object).unwrap(),
                "{pickled}"
            );
        }
        let custom = ValueCodec::for_app(module.as_any()).unwrap();
        match custom.to_value(&make("Plain(1, 2)")).unwrap() {
            Value::Pickled(bytes) => assert!(bytes.starts_with(b"custom:"), "{bytes:?}"),
            other => panic!("serialize was not used: {other:?}"),
        }
    });
}
