//! `ch01-namespaces`: run a command in new namespaces with a directory as its root filesystem.
//!
//! A thin layer over the library: parse the options, build a spec, run it, exit as `docker run`.

use std::path::PathBuf;
use std::process::ExitCode;

use ch01_namespaces::cli::{CommandArgs, narrator};
use ch01_namespaces::{
    CgroupJoin, Container, Error, Exec, ExecSpec, ProcessOptions, User, resolve_env,
};
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
    /// Run a command in a running container, given the host pid of one of its processes
    Exec(ExecArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The directory that becomes the container's /
    #[arg(long, value_name = "DIR")]
    rootfs: PathBuf,

    #[command(flatten)]
    process: CommandArgs,
}

/// `exec`: the options of `docker exec`, with the container named by a process of it.
#[derive(Debug, Args)]
struct ExecArgs {
    /// The host pid of a process of the container (its first one, usually)
    #[arg(long, value_name = "PID")]
    pid: u32,

    /// Set an environment variable (KEY alone copies it from this command's environment)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,

    /// Working directory inside the container (must exist)
    #[arg(short = 'w', long, value_name = "DIR")]
    workdir: Option<PathBuf>,

    /// Run as this user: UID[:GID]
    #[arg(short = 'u', long, value_name = "UID[:GID]")]
    user: Option<User>,

    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    tty: bool,

    /// Keep stdin open (without it the command reads /dev/null)
    #[arg(short = 'i', long)]
    interactive: bool,

    /// Start the command and return at once, its stdio on /dev/null
    #[arg(short = 'd', long)]
    detach: bool,

    /// Add a capability to Docker's default set (e.g. NET_ADMIN, or ALL)
    #[arg(long = "cap-add", value_name = "CAP")]
    cap_add: Vec<String>,

    /// Drop a capability from the set (e.g. CHOWN, or ALL)
    #[arg(long = "cap-drop", value_name = "CAP")]
    cap_drop: Vec<String>,

    /// Every capability the engine has, no seccomp filter
    #[arg(long)]
    privileged: bool,

    /// Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json
    #[arg(long = "security-opt", value_name = "OPTION")]
    security_opt: Vec<String>,

    /// Join this cgroup.procs file instead of the container process's cgroups (repeatable)
    #[arg(long = "cgroup", value_name = "FILE")]
    cgroups: Vec<PathBuf>,

    /// The command to run and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let result = match &cli.command {
        Command::Run(args) => run(args, cli.explain),
        Command::Exec(args) => exec(args, cli.explain),
    };
    match result {
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

fn exec(args: &ExecArgs, explain: bool) -> Result<i32, Error> {
    let security = ProcessOptions {
        cap_add: args.cap_add.clone(),
        cap_drop: args.cap_drop.clone(),
        privileged: args.privileged,
        security_opt: args.security_opt.clone(),
        ..ProcessOptions::default()
    }
    .security()?;
    let spec = ExecSpec {
        env: resolve_env(&args.env),
        user: args.user.unwrap_or_default(),
        workdir: args.workdir.clone(),
        tty: args.tty,
        interactive: args.interactive,
        security,
        cgroups: if args.cgroups.is_empty() {
            CgroupJoin::OfTarget
        } else {
            CgroupJoin::Procs(args.cgroups.clone())
        },
        ..ExecSpec::new(args.command.clone())
    };
    let exec = Exec::new(args.pid, spec).narrate(narrator(explain)?);
    if args.detach {
        exec.detach()?;
        return Ok(0);
    }
    Ok(exec.run()?.code())
}
