//! The command line of chapter 05: `parse`, and chapter 04's commands carried over. Each
//! subcommand is a module with a clap `Args` struct and an `execute` that calls the library
//! with plain values and prints what it returns; the library itself never prints.

pub mod build;
pub mod parse;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use ch04_images::cli::Globals;
use clap::Subcommand;
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, print_error, status_of};

use crate::build::NetworkPlug;
use crate::error::{Error, Result};

/// Chapter 05's subcommands, chapter 04's among them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an image from a Dockerfile and a context, as the classic `docker build`
    Build(Box<build::BuildArgs>),
    /// Read a Dockerfile as BuildKit does: an outline with line numbers and stages, the AST
    /// (--dump), or the build checks' findings (--check)
    Parse(parse::ParseArgs),
    /// Chapter 04's commands: images, containers, registries
    #[command(flatten)]
    Images(ch04_images::cli::Command),
}

/// Runs `command` and ends as docker does: its status, or the error's lines and status.
pub fn execute(program: &str, globals: &Globals, command: &Command) -> ExitCode {
    match command {
        Command::Images(command) => ch04_images::cli::execute(program, globals, command),
        Command::Parse(args) => execute_parse(program, globals, args),
        Command::Build(args) => execute_build(program, globals, args),
    }
}

/// Runs `parse` (chapter 06 keeps it).
pub fn execute_parse(program: &str, globals: &Globals, args: &parse::ParseArgs) -> ExitCode {
    match args.execute(program, globals) {
        Ok(status) => status,
        Err(error) => report(program, &error),
    }
}

/// Runs `build` (chapter 06 keeps it).
pub fn execute_build(program: &str, globals: &Globals, args: &build::BuildArgs) -> ExitCode {
    execute_build_with(program, globals, args, None)
}

/// Runs `build` with the network docker's `--network default` means (chapter 06's bridge);
/// without one, `RUN` uses the host's.
pub fn execute_build_with(
    program: &str,
    globals: &Globals,
    args: &build::BuildArgs,
    bridge: Option<Arc<dyn NetworkPlug>>,
) -> ExitCode {
    match args.execute(globals, bridge) {
        Ok(status) => status,
        // A failed RUN ends the build with the command's own status, as docker's.
        Err(error @ Error::RunFailed { code, .. }) => {
            print_error(program, &error);
            dockyard_support::cli::exit_code(code)
        }
        Err(error) => report(program, &error),
    }
}

/// Prints a Dockerfile error as `docker build` shows one: the line naming file, line and
/// cause (with a hint), then the offending line as written; exit status 1.
pub fn report(program: &str, error: &Error) -> ExitCode {
    print_error(program, error);
    if let Error::Syntax {
        line,
        source_line: Some(source_line),
        ..
    } = error
    {
        eprintln!("{line:>5} | {}", shortened(source_line));
    }
    dockyard_support::cli::exit_code(status_of(error, Invocation::Build))
}

/// The longest part of an offending line shown (a line may hold 64 KiB).
const SHOWN_LINE_CHARS: usize = 120;

fn shortened(line: &str) -> String {
    match line.char_indices().nth(SHOWN_LINE_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_owned(),
    }
}

/// Writes to stdout, as every command's output goes.
pub fn out(text: impl std::fmt::Display) -> Result<()> {
    write!(std::io::stdout().lock(), "{text}").map_err(Error::io_op("write to stdout"))
}
