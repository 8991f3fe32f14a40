//! `roo run`: not built yet.

use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct RunArgs {}

pub fn main(_args: RunArgs) -> ExitCode {
    eprintln!("roo run: not built yet");
    ExitCode::from(2)
}
