//! The command line of chapter 06: containers that keep running, and chapter 05's commands
//! carried over. Each subcommand is a module with a clap `Args` struct and an `execute` that
//! calls the library with plain values and prints what it returns; the library never prints.

pub mod attach;
pub mod compose;
pub mod cp;
pub mod exec;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod network;
pub mod port;
pub mod prune;
pub mod ps;
pub mod rename;
pub mod run;
pub mod stats;
pub mod top;
pub mod volume;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ch04_images::cli::{Context, Globals};
use clap::Subcommand;
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, exit_code, report};

use crate::error::{Error, Result};
use crate::lifecycle::start::MonitorCommand;
use crate::monitor::global_args;
use crate::monitor::health::Prober;
use crate::network::build::BuildBridge;
use crate::network::store::Networks;

/// Chapter 06's subcommands, with chapter 05's and those of chapter 04 it keeps.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in a new container; -d leaves it running in the background
    Run(Box<run::RunArgs>),
    /// Create a container from an image without starting it
    Create(Box<run::CreateArgs>),
    /// Start stopped containers
    Start(lifecycle::StartArgs),
    /// Stop running containers: the stop signal, then SIGKILL after a grace period
    Stop(lifecycle::StopArgs),
    /// Stop and start containers again
    Restart(lifecycle::StopArgs),
    /// Send a signal to running containers (SIGKILL by default)
    Kill(lifecycle::KillArgs),
    /// Show a running container's output until it stops, and exit with its status
    Attach(lifecycle::AttachArgs),
    /// Freeze every process of containers (the cgroup freezer)
    Pause(lifecycle::PauseArgs),
    /// Thaw paused containers
    Unpause(lifecycle::PauseArgs),
    /// Wait until containers stop, then print their exit codes
    Wait(lifecycle::WaitArgs),
    /// Remove containers (-f: running ones too)
    Rm(lifecycle::RmArgs),
    /// Manage containers: prune
    #[command(subcommand)]
    Container(lifecycle::ContainerCommand),
    /// Run a command in a running container
    Exec(Box<exec::ExecArgs>),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::CpArgs),
    /// Fetch the logs of a container
    Logs(logs::LogsArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Show containers' (or images') details as JSON
    Inspect(inspect::InspectArgs),
    /// Show the processes of a running container
    Top(top::TopArgs),
    /// List a running container's published ports, or where one port is published
    Port(port::PortArgs),
    /// Show what containers use: CPU, memory, processes
    Stats(stats::StatsArgs),
    /// Give a container another name
    Rename(rename::RenameArgs),
    /// Build an image from a Dockerfile and a context, as the classic `docker build`
    Build(Box<ch05_dockerfile::cli::build::BuildArgs>),
    /// Read a Dockerfile as BuildKit does (chapter 05)
    Parse(ch05_dockerfile::cli::parse::ParseArgs),
    /// Manage volumes: create, ls, inspect, rm, prune
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks: create, ls, inspect, rm, prune
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Define and run multi-container applications: up, down, ps, config…
    Compose(compose::ComposeArgs),
    /// Chapter 04's commands about images and registries
    #[command(flatten)]
    Store(ch04_images::cli::StoreCommand),
}

/// Runs `command` and ends as docker does: its status, or the error's line and status.
pub fn execute(program: &str, globals: &Globals, command: &Command) -> ExitCode {
    let invocation = match command {
        Command::Run(_) | Command::Start(_) => Invocation::Run,
        _ => Invocation::Other,
    };
    if let Command::Compose(args) = command {
        // `config` needs no store: the compose commands open it when they need it.
        return compose::execute(program, globals, args);
    }
    let cx = match Context::open(program, globals) {
        Ok(cx) => cx,
        Err(error) => return report(program, &error, invocation),
    };
    if let Command::Exec(args) = command {
        // `exec` ends with its own statuses (docker's for a process that cannot start).
        return args.execute(program, globals);
    }
    if let Command::Logs(args) = command {
        return logs::execute(program, globals, args);
    }
    if let Command::Volume(command) = command {
        return volume::execute(program, globals, command);
    }
    if let Command::Network(command) = command {
        return network::execute(program, globals, command);
    }
    let status = match command {
        Command::Build(args) => return build(program, &cx, args),
        Command::Parse(args) => return ch05_dockerfile::cli::execute_parse(program, globals, args),
        Command::Store(command) => {
            return ch04_images::cli::execute_store(program, globals, command);
        }
        Command::Run(args) => args.execute(&cx),
        Command::Create(args) => args.execute(&cx),
        Command::Start(args) => args.execute(&cx),
        Command::Stop(args) => args.execute(&cx),
        Command::Restart(args) => args.restart(&cx),
        Command::Kill(args) => args.execute(&cx),
        Command::Wait(args) => args.execute(&cx),
        Command::Attach(args) => args.execute(&cx),
        Command::Pause(args) => args.pause(&cx),
        Command::Unpause(args) => args.unpause(&cx),
        Command::Rm(args) => args.execute(&cx),
        Command::Container(lifecycle::ContainerCommand::Prune(args)) => args.execute(&cx),
        Command::Exec(_)
        | Command::Volume(_)
        | Command::Network(_)
        | Command::Logs(_)
        | Command::Compose(_) => {
            unreachable!("handled above")
        }
        Command::Ps(args) => args.execute(&cx),
        Command::Inspect(args) => args.execute(&cx),
        Command::Top(args) => args.execute(&cx),
        Command::Port(args) => args.execute(&cx),
        Command::Stats(args) => args.execute(&cx),
        Command::Rename(args) => args.execute(&cx),
        Command::Cp(args) => args.execute(&cx),
    };
    match status {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, invocation),
    }
}

/// `build`: chapter 05's, its `RUN` containers on the default bridge as docker's builder runs
/// them (`--network default`); `--network host` and `none` stay chapter 05's own.
fn build(program: &str, cx: &Context, args: &ch05_dockerfile::cli::build::BuildArgs) -> ExitCode {
    let networks = match Networks::open(cx.store.containers()) {
        Ok(networks) => networks,
        Err(error) => return report(program, &Error::from(error), Invocation::Other),
    };
    let bridge = Arc::new(BuildBridge::new(networks));
    ch05_dockerfile::cli::execute_build_with(program, cx.globals, args, Some(bridge))
}

/// How `start` executes a monitor: `ch06-monitor`, installed beside this program, with the
/// same store and storage options.
pub fn monitor_command(cx: &Context) -> Result<MonitorCommand> {
    let storage = &cx.globals.storage;
    Ok(MonitorCommand {
        program: monitor_program()?,
        args: global_args(&storage.root, &storage.storage_opt, "monitor"),
    })
}

/// How a monitor of this process (an attached `run`) runs a health check: `ch06-monitor
/// health-check`.
pub fn prober(cx: &Context) -> Result<Prober> {
    let storage = &cx.globals.storage;
    Ok(Prober {
        program: monitor_program()?,
        args: global_args(&storage.root, &storage.storage_opt, "health-check"),
    })
}

/// `ch06-monitor` beside this program. A program replaced on disk while it runs (an upgrade,
/// a rebuild) reads as "PATH (deleted)": the directory is what counts.
fn monitor_program() -> Result<PathBuf> {
    let this = std::env::current_exe().map_err(Error::io_op("find this program"))?;
    let monitor = this.with_file_name("ch06-monitor");
    if monitor.exists() {
        Ok(monitor)
    } else {
        Err(Error::invalid(
            format!("the monitor program {} is missing", monitor.display()),
            "install ch06-monitor beside ch06-compose (cargo build puts them together)",
        ))
    }
}

/// Writes to stdout, as every command's output goes.
pub fn out(text: impl std::fmt::Display) -> Result<()> {
    write!(std::io::stdout().lock(), "{text}").map_err(Error::io_op("write to stdout"))
}

/// JSON as docker's `inspect` prints it: indented by four spaces.
pub(crate) fn docker_json(value: &impl serde::Serialize) -> String {
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    value
        .serialize(&mut serializer)
        .expect("documents serialize");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// Removes each of `names` with `remove`, as docker's `volume rm` and `network rm` do: each
/// name removed is printed, each failure reported, the others removed all the same; the
/// status is 1 if any failed. (Fails only if stdout cannot be written.)
pub(crate) fn remove_each<E: dockyard_support::EngineError>(
    program: &str,
    names: &[String],
    mut remove: impl FnMut(&str) -> std::result::Result<(), E>,
) -> std::io::Result<i32> {
    use std::io::Write;
    let mut failed = false;
    for name in names {
        match remove(name) {
            Ok(()) => writeln!(std::io::stdout().lock(), "{name}")?,
            Err(error) => {
                dockyard_support::cli::print_error(program, &error);
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}
