//! The command line of chapter 06: containers that keep running, and chapter 05's commands
//! carried over. Each subcommand is a module with a clap `Args` struct and an `execute` that
//! calls the library with plain values and prints what it returns; the library never prints.

pub mod logs;

use std::process::ExitCode;

use ch04_images::cli::Globals;
use clap::Subcommand;

/// Chapter 06's subcommands, with chapter 05's and those of chapter 04 it keeps.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an image from a Dockerfile and a context, as the classic `docker build`
    Build(Box<ch05_dockerfile::cli::build::BuildArgs>),
    /// Read a Dockerfile as BuildKit does (chapter 05)
    Parse(ch05_dockerfile::cli::parse::ParseArgs),
    /// Fetch the logs of a container
    Logs(logs::LogsArgs),
    /// Chapter 04's commands about images and registries
    #[command(flatten)]
    Store(ch04_images::cli::StoreCommand),
}

/// Runs `command` and ends as docker does: its status, or the error's line and status.
pub fn execute(program: &str, globals: &Globals, command: &Command) -> ExitCode {
    match command {
        Command::Build(args) => ch05_dockerfile::cli::execute_build(program, globals, args),
        Command::Parse(args) => ch05_dockerfile::cli::execute_parse(program, globals, args),
        Command::Logs(args) => logs::execute(program, globals, args),
        Command::Store(command) => ch04_images::cli::execute_store(program, globals, command),
    }
}
