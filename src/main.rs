//! The `roo` command: run a Python stream application, or drive one with the load tools.

mod external;
mod giles;
mod receive;
mod rng;
mod run;
mod send;
mod stamp;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Messages routed between cores are allocated on one core's thread and freed on another's;
/// mimalloc frees those without the arena locking glibc's malloc does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "roo",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("ROO_EMBEDS"), ")"),
    about = "Thread-per-core stream processing for Python apps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Python application (Wallaroo API) on this machine's cores.
    Run(run::RunArgs),
    /// Send framed messages to one or more TCP addresses (load generator). As in giles
    /// sender, -h is the host (--host/--to); help is --help.
    Send(send::SendArgs),
    /// Receive framed or newline-delimited messages and report rates and latency.
    Receive(receive::ReceiveArgs),
    /// Send a message on a running roo's external control channel (Wallaroo's
    /// external_sender): a clean shutdown, a print, or a query whose answer is printed.
    External(external::ExternalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::main(args),
        Command::Send(args) => send::main(args),
        Command::Receive(args) => receive::main(args),
        Command::External(args) => external::main(args),
    }
}
