//! `ch04-images`: chapter 03's containers, made from images; docker's image commands over a
//! local store, and registries. Every subcommand lives in the library's `cli` module, so
//! later chapters' tools carry them over.

use std::process::ExitCode;

use ch04_images::cli::{Command, Globals, execute};
use clap::Parser;
use dockyard_support::cli::parse_or_exit;

const PROGRAM: &str = "ch04-images";

#[derive(Debug, Parser)]
#[command(name = PROGRAM, version, about = "Dockyard chapter 04: containers from OCI images")]
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
