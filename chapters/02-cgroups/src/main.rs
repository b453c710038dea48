//! `ch02-cgroups`: everything `ch01-namespaces run` does, inside a cgroup with limits.

use std::path::PathBuf;
use std::process::ExitCode;

use ch01_namespaces::Container;
use ch01_namespaces::cli::{CommandArgs, narrator};
use ch02_cgroups::cli::{LimitArgs, outcome_report};
use ch02_cgroups::{CGROUP_ROOT, CgroupStep, Error};
use clap::{Args, Parser, Subcommand};
use dockyard_support::cli::{Invocation, exit_code, parse_or_exit, report};

const PROGRAM: &str = "ch02-cgroups";

#[derive(Debug, Parser)]
#[command(name = PROGRAM, version, about = "Dockyard chapter 02: an isolated process with resource limits")]
struct Cli {
    /// Narrate every kernel-visible step on stderr
    #[arg(long, global = true)]
    explain: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command in new namespaces and a new cgroup, with DIR as its root filesystem
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The directory that becomes the container's /
    #[arg(long, value_name = "DIR")]
    rootfs: PathBuf,

    #[command(flatten)]
    limits: LimitArgs,

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
    let options = args.limits.options()?;
    let command = &args.process;
    let spec =
        (command.process.options()?).to_spec(args.rootfs.clone(), command.command.clone())?;
    let mut cgroup = CgroupStep::new(
        CGROUP_ROOT,
        &options.parent,
        spec.id.as_str(),
        options.limits,
    )
    .features(options.features);
    let status = Container::new(spec)
        .narrate(narrator(explain)?)
        .step(&mut cgroup)
        .run()?
        .code();
    if let Some(outcome) = cgroup.outcome() {
        eprint!(
            "{}",
            outcome_report(PROGRAM, outcome, cgroup.limits(), status)
        );
    }
    Ok(status)
}
