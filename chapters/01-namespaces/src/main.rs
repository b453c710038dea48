//! `ch01-namespaces`: run a command in new namespaces with a directory as its root filesystem.
//!
//! A thin layer over the library: parse the options, build a spec, run it, exit as `docker run`.

use std::path::PathBuf;
use std::process::ExitCode;

use ch01_namespaces::cli::{CommandArgs, narrator};
use ch01_namespaces::{Container, Error};
use clap::{Args, Parser, Subcommand};
use dockyard_support::cli::{Invocation, exit_code, parse_or_exit, report};

const PROGRAM: &str = "ch01-namespaces";

#[derive(Debug, Parser)]
#[command(name = PROGRAM, version, about = "Dockyard chapter 01: an isolated process")]
struct Cli {
    /// Narrate every kernel-visible step on stderr
    #[arg(long, global = true)]
    explain: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command in new namespaces, with DIR as its root filesystem
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The directory that becomes the container's /
    #[arg(long, value_name = "DIR")]
    rootfs: PathBuf,

    #[command(flatten)]
    process: CommandArgs,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let Command::Run(args) = cli.command;
    match run(&args, cli.explain) {
        Ok(status) => exit_code(status),
        Err(error) => report(PROGRAM, &error, Invocation::Run),
    }
}

fn run(args: &RunArgs, explain: bool) -> Result<i32, Error> {
    let command = &args.process;
    let spec =
        (command.process.options()?).to_spec(args.rootfs.clone(), command.command.clone())?;
    let status = Container::new(spec).narrate(narrator(explain)?).run()?;
    Ok(status.code())
}
