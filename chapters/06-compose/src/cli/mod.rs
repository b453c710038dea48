//! The command line of chapter 06: containers that keep running, and chapter 05's commands
//! carried over. Each subcommand is a module with a clap `Args` struct and an `execute` that
//! calls the library with plain values and prints what it returns; the library never prints.

pub mod inspect;
pub mod ps;
pub mod rename;
pub mod stats;
pub mod top;

use std::process::ExitCode;

use ch04_images::cli::{Context, Globals};
use clap::Subcommand;
use dockyard_support::cli::{Invocation, exit_code, report};

use crate::error::Result;

/// Chapter 06's subcommands, with chapter 05's and those of chapter 04 it keeps.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an image from a Dockerfile and a context, as the classic `docker build`
    Build(Box<ch05_dockerfile::cli::build::BuildArgs>),
    /// Read a Dockerfile as BuildKit does (chapter 05)
    Parse(ch05_dockerfile::cli::parse::ParseArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Show containers' (or images') details as JSON
    Inspect(inspect::InspectArgs),
    /// Show the processes of a running container
    Top(top::TopArgs),
    /// Show what containers use: CPU, memory, processes
    Stats(stats::StatsArgs),
    /// Give a container another name
    Rename(rename::RenameArgs),
    /// Chapter 04's commands about images and registries
    #[command(flatten)]
    Store(ch04_images::cli::StoreCommand),
}

/// Runs `command` and ends as docker does: its status, or the error's line and status.
pub fn execute(program: &str, globals: &Globals, command: &Command) -> ExitCode {
    match command {
        Command::Build(args) => ch05_dockerfile::cli::execute_build(program, globals, args),
        Command::Parse(args) => ch05_dockerfile::cli::execute_parse(program, globals, args),
        Command::Ps(args) => run(program, globals, |cx| args.execute(cx)),
        Command::Inspect(args) => run(program, globals, |cx| args.execute(cx)),
        Command::Top(args) => run(program, globals, |cx| args.execute(cx)),
        Command::Stats(args) => run(program, globals, |cx| args.execute(cx)),
        Command::Rename(args) => run(program, globals, |cx| args.execute(cx)),
        Command::Store(command) => ch04_images::cli::execute_store(program, globals, command),
    }
}

/// Opens the store and runs one of this chapter's commands in it; ends as docker does.
fn run(
    program: &str,
    globals: &Globals,
    command: impl FnOnce(&Context) -> Result<i32>,
) -> ExitCode {
    let status = Context::open(program, globals)
        .map_err(crate::Error::from)
        .and_then(|cx| command(&cx));
    match status {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, Invocation::Other),
    }
}
