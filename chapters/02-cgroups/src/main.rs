//! `ch02-cgroups`: everything `ch01-namespaces run` does, inside a cgroup with limits.

use std::path::PathBuf;
use std::process::ExitCode;

use ch01_namespaces::Container;
use ch01_namespaces::cli::{ProcessArgs, exit_status, narrator, parse_or_exit, report};
use ch02_cgroups::cli::{LimitArgs, oom_message};
use ch02_cgroups::{CGROUP_ROOT, CgroupStep, Error};
use clap::{Args, Parser, Subcommand};

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
    process: ProcessArgs,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let Command::Run(args) = cli.command;
    match run(&args, cli.explain) {
        Ok(code) => exit_status(code),
        Err(error) => report(PROGRAM, &error),
    }
}

fn run(args: &RunArgs, explain: bool) -> Result<i32, Error> {
    let limits = args.limits.limits()?;
    let spec = args.process.to_spec(args.rootfs.clone())?;
    let mut cgroup = CgroupStep::new(
        CGROUP_ROOT,
        &args.limits.cgroup_parent,
        spec.id.as_str(),
        limits,
    )
    .features(args.limits.features());
    let status = Container::new(spec)
        .narrate(narrator(explain)?)
        .step(&mut cgroup)
        .run()?
        .code();
    if let Some(outcome) = cgroup.outcome() {
        if let Some(message) = oom_message(outcome, cgroup.limits(), status) {
            eprintln!("{PROGRAM}: {message}");
        }
        if let Some(stats) = &outcome.stats {
            eprint!("{stats}");
        }
    }
    Ok(status)
}
