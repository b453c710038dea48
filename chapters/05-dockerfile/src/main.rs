//! `ch05-dockerfile`: chapter 04's tool, plus reading (and, in part two, building)
//! Dockerfiles. Every subcommand lives in the library's `cli` module.

use std::process::ExitCode;

use ch04_images::cli::Globals;
use ch05_dockerfile::cli::{Command, execute};
use clap::Parser;
use dockyard_support::cli::parse_or_exit;

const PROGRAM: &str = "ch05-dockerfile";

#[derive(Debug, Parser)]
#[command(name = PROGRAM, version, about = "Dockyard chapter 05: Dockerfiles")]
struct Cli {
    #[command(flatten)]
    globals: Globals,

    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    execute(PROGRAM, &cli.globals, &cli.command)
}
