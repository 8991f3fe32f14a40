//! `roo run`: run a Python application on this machine's cores.

use clap::{Args, ValueEnum};
use engine::{DrainEnd, EngineConfig, KafkaOptions, Resilience};
use pybridge::PythonMode;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// One subinterpreter per core (own GIL on Python >= 3.12).
    Subinterpreters,
    /// All cores share the main interpreter (for C extensions that refuse subinterpreters).
    Main,
}

#[derive(Args)]
#[command(after_help = "The app's own arguments follow APP.py and reach \
    application_setup(args). The examples, and most Wallaroo apps, read their addresses there: \
    --in HOST:PORT (where roo listens for input; NAME@HOST:PORT names a source, and several \
    are separated by commas) and --out HOST:PORT (where roo's sinks connect to), e.g.\n\n  \
    roo run examples/word_count.py --in 127.0.0.1:7010 --out 127.0.0.1:7002\n\n\
    SIGINT, SIGTERM or SIGHUP drain: roo stops reading, finishes what it read, flushes its \
    sinks and prints its counters; a second signal 2 s or more later, or --drain-timeout, \
    stops it without finishing (exit 1). SIGUSR1 prints a status line.")]
pub struct RunArgs {
    /// Number of cores (one pinned executor and interpreter each); default: every usable CPU.
    #[arg(long, value_parser = at_least_one_core)]
    cores: Option<usize>,
    /// How the cores run Python.
    #[arg(long, value_enum, default_value = "subinterpreters")]
    python_mode: Mode,
    /// A name for this worker in its log lines.
    #[arg(long, default_value = "roo")]
    name: String,
    /// Largest frame a source accepts, in bytes; a larger header closes that connection.
    #[arg(long, default_value_t = protocol::DEFAULT_MAX_FRAME_SIZE)]
    max_frame_size: usize,
    /// Stop (draining everything) once every source connection has closed.
    #[arg(long)]
    exit_when_idle: bool,
    /// Seconds a drain (after SIGINT/SIGTERM/SIGHUP, or with --exit-when-idle) may take
    /// before roo stops without finishing it, exiting 1 and naming what was left.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    drain_timeout: u64,
    /// Microseconds an idle core keeps polling for input before it sleeps: lower
    /// latency for sparse input, paid in CPU time while idle (0: sleep at once).
    #[arg(long, default_value_t = 0, value_name = "US")]
    poll_us: u64,
    /// A librdkafka setting for every Kafka consumer and producer (repeatable), e.g.
    /// --kafka-option session.timeout.ms=6000.
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    kafka_option: Vec<(String, String)>,
    /// Milliseconds between Kafka commit points: sources pause, what was read runs and
    /// is written out, and the offsets run are committed.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    kafka_commit_interval_ms: u64,
    /// Take checkpoints (state partitions, generator positions, Kafka offsets) in DIR,
    /// and start from the newest one found there (Wallaroo's flag).
    #[arg(long, value_name = "DIR")]
    resilience_dir: Option<PathBuf>,
    /// Take checkpoints in --resilience-dir, or in /tmp/roo-resilience without it
    /// (Wallaroo's flag).
    #[arg(long)]
    run_with_resilience: bool,
    /// Nanoseconds between checkpoints (Wallaroo's unit).
    #[arg(long, default_value_t = 1_000_000_000, value_name = "NS")]
    time_between_checkpoints: u64,
    /// Serve Wallaroo's external control channel on HOST:PORT (see `roo external`). A
    /// Wallaroo-style `--external HOST:PORT` among the app's arguments counts too.
    #[arg(long, short = 'e', value_name = "HOST:PORT")]
    external: Option<String>,
    /// Wallaroo's (machida's) way to name the app: NAME.py, looked for in the current
    /// directory and then on PYTHONPATH; every positional argument then goes to the app.
    #[arg(long, value_name = "NAME")]
    application_module: Option<String>,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics and a live dashboard at
    /// http://HOST:PORT/ (port 0: any free port, printed at start-up).
    #[arg(long, value_name = "HOST:PORT")]
    metrics_listen: Option<String>,
    /// Print a progress line to stderr every 2 s: messages in and out per second, p99
    /// latency, backlog, sink bytes pending, errors. On by default when stderr is a terminal.
    #[arg(long, overrides_with = "no_progress")]
    progress: bool,
    /// No progress line, also when stderr is a terminal.
    #[arg(long, overrides_with = "progress")]
    no_progress: bool,
    #[command(flatten)]
    pony: crate::giles::PonyRuntimeFlags,
    /// The application file, then its own arguments (passed to application_setup unchanged).
    #[arg(
        required_unless_present = "application_module",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "APP.py [ARGS]"
    )]
    app: Vec<String>,
}

/// NAME.py in the current directory or on PYTHONPATH, as machida imported the app module.
fn find_module(name: &str) -> Result<PathBuf, String> {
    let file = format!("{}.py", name.replace('.', "/"));
    let path_var = std::env::var_os("PYTHONPATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::iter::once(PathBuf::from("."))
        .chain(std::env::split_paths(&path_var).filter(|dir| !dir.as_os_str().is_empty()))
        .collect();
    dirs.iter()
        .map(|dir| dir.join(&file))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            format!(
                "application module '{name}' not found: no {file} in {}",
                searched.join(", ")
            )
        })
}

/// Machida took `--application-module NAME` anywhere on its command line, also after
/// the app's own flags (`-i ... -o ... --application-module NAME`), where clap has
/// already taken everything as the app's arguments: (the module named there, the rest).
fn module_among_app_args(app: &[String]) -> (Option<String>, Vec<String>) {
    let mut module = None;
    let mut rest = vec![];
    let mut tokens = app.iter();
    while let Some(token) = tokens.next() {
        if module.is_none() {
            if token == "--application-module" {
                if let Some(name) = tokens.next() {
                    module = Some(name.clone());
                    continue;
                }
            } else if let Some(name) = token.strip_prefix("--application-module=") {
                module = Some(name.to_string());
                continue;
            }
        }
        rest.push(token.clone());
    }
    (module, rest)
}

/// The value of a Wallaroo worker flag (`FLAG VALUE` or `FLAG=VALUE`) among the app's
/// arguments: machida read its own flags from the same command line as the app's.
fn flag_among_app_args(app_args: &[String], flag: &str) -> Option<String> {
    let prefix = format!("{flag}=");
    app_args.iter().enumerate().find_map(|(i, arg)| match arg {
        _ if arg == flag => app_args.get(i + 1).cloned(),
        _ => arg.strip_prefix(&prefix).map(String::from),
    })
}

pub fn main(args: RunArgs) -> ExitCode {
    let (module, app_args) = match &args.application_module {
        Some(name) => (Some(name.clone()), args.app.clone()),
        None => module_among_app_args(&args.app),
    };
    let app = match &module {
        Some(name) => match find_module(name) {
            Ok(path) => std::iter::once(path.display().to_string())
                .chain(app_args)
                .collect(),
            Err(message) => {
                eprintln!("{}: {message}", args.name);
                return ExitCode::FAILURE;
            }
        },
        None => app_args,
    };
    if let Some(option) = app.first().filter(|first| first.starts_with('-')) {
        eprintln!(
            "{}: {option} is not an option of roo run, and the app (APP.py) must come before \
             its own options: roo run [ROO OPTIONS] APP.py [APP OPTIONS]",
            args.name
        );
        return ExitCode::FAILURE;
    }
    let cores = args.cores.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let config = EngineConfig {
        app_path: PathBuf::from(&app[0]),
        app_args: app.clone(),
        cores,
        python_mode: match args.python_mode {
            Mode::Subinterpreters => PythonMode::Subinterpreters,
            Mode::Main => PythonMode::Main,
        },
        max_frame_size: args.max_frame_size,
        exit_when_idle: args.exit_when_idle,
        idle_poll: std::time::Duration::from_micros(args.poll_us),
        drain_timeout: std::time::Duration::from_secs(args.drain_timeout),
        kafka: KafkaOptions {
            overrides: args.kafka_option.clone(),
            commit_interval: std::time::Duration::from_millis(args.kafka_commit_interval_ms),
        },
        external: args
            .external
            .clone()
            .or_else(|| flag_among_app_args(&app, "--external")),
        resilience: (args.run_with_resilience || args.resilience_dir.is_some()).then(|| {
            Resilience {
                dir: args
                    .resilience_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("/tmp/roo-resilience")),
                interval: std::time::Duration::from_nanos(args.time_between_checkpoints.max(1)),
            }
        }),
        metrics_listen: args.metrics_listen.clone(),
        progress: args.progress || (!args.no_progress && std::io::stderr().is_terminal()),
    };
    eprintln!("{}: starting {} on {cores} cores", args.name, app[0]);
    if let Some(warning) = pybridge::PythonEnvironment::warning() {
        eprintln!("{warning}");
    }
    match engine::run(config) {
        Ok(report) => {
            if let DrainEnd::Cut(what) = &report.drain {
                eprintln!("{what}");
            } else {
                eprint!("{}", engine::summary::render(&report.summaries));
            }
            if report.output_lines_dropped > 0 {
                eprintln!(
                    "{}: {} lines the app printed were dropped: roo's stdout or stderr was not \
                     being read",
                    args.name, report.output_lines_dropped
                );
            }
            if report.drain == DrainEnd::Complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(message) => {
            eprintln!("{}: {message}", args.name);
            ExitCode::FAILURE
        }
    }
}

/// `KEY=VALUE` of `--kafka-option`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{text}'")),
    }
}

/// `--cores 0` would leave no core to run the app: refused with the rest of the arguments.
fn at_least_one_core(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("roo needs at least one core".into()),
        Ok(cores) => Ok(cores),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::flag_among_app_args;

    #[test]
    fn a_wallaroo_worker_flag_is_found_among_the_app_arguments() {
        let args: Vec<String> = ["app.py", "--in", "x", "--external", "127.0.0.1:5050"]
            .map(String::from)
            .to_vec();
        let found = flag_among_app_args(&args, "--external");
        assert_eq!(found.as_deref(), Some("127.0.0.1:5050"));
        let joined = ["app.py".to_string(), "--external=h:1".to_string()];
        assert_eq!(
            flag_among_app_args(&joined, "--external").as_deref(),
            Some("h:1")
        );
        assert_eq!(flag_among_app_args(&args[..3], "--external"), None);
    }
}
