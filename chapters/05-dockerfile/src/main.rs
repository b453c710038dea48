//! `ch05-dockerfile`: chapter 04's tool, plus reading (and, in part two, building)
//! Dockerfiles.

use std::process::ExitCode;

use ch04_images::cli::Globals;
use clap::{Parser, Subcommand};
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Chapter 04's commands: images, containers, registries
    #[command(flatten)]
    Images(ch04_images::cli::Command),
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    match &cli.command {
        Command::Images(command) => ch04_images::cli::execute(PROGRAM, &cli.globals, command),
    }
}
