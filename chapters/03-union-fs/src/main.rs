//! `ch03-union-fs`: chapter 02's container on a stack of layers, with docker's `ps`, `diff`,
//! `commit -o` and `rm` for the containers' writable layers.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ch01_namespaces::Narrator;
use ch01_namespaces::cli::{CommandArgs, narrator};
use ch02_cgroups::cli::LimitArgs;
use ch03_union_fs::archive::{self, ApplyOptions, Whiteouts};
use ch03_union_fs::cli::ps::{Origin, PsArgs};
use ch03_union_fs::cli::{LayerArgs, StorageArgs, commit, diff, ps, rm};
use ch03_union_fs::{Error, RunRequest, Store, lifecycle};
use clap::{Args, Parser, Subcommand, ValueEnum};
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, exit_code, parse_or_exit, report};

const PROGRAM: &str = "ch03-union-fs";

#[derive(Debug, Parser)]
#[command(name = PROGRAM, version, about = "Dockyard chapter 03: containers on a stack of layers")]
struct Cli {
    /// Narrate every kernel-visible step on stderr
    #[arg(long, global = true)]
    explain: bool,

    #[command(flatten)]
    storage: StorageArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command in a new container whose root filesystem stacks the given layers
    Run(Box<RunArgs>),
    /// List containers
    Ps(PsArgs),
    /// Show the files a container added (A), changed (C) and deleted (D)
    Diff {
        /// Container name or id
        container: String,
    },
    /// Write a container's changes as an OCI layer archive
    Commit {
        /// Container name or id
        container: String,
        /// The archive to write ("-" for stdout)
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Remove containers and their writable layers
    Rm {
        /// Container names or ids
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Unpack a layer archive (tar, tar.gz or tar.zst) onto a directory
    Apply {
        /// The layer archive
        archive: PathBuf,
        /// The directory to apply it to (created if missing)
        dir: PathBuf,
        /// What the archive's whiteouts become: overlay whiteouts (the directory is a layer),
        /// or deletions (the directory is a flat root filesystem)
        #[arg(long, value_enum, default_value_t = WhiteoutMode::Overlay)]
        whiteouts: WhiteoutMode,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum WhiteoutMode {
    Overlay,
    Delete,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    layers: LayerArgs,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    process: CommandArgs,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let invocation = match cli.command {
        Command::Run(_) => Invocation::Run,
        _ => Invocation::Other,
    };
    match execute(&cli) {
        Ok(status) => exit_code(status),
        Err(error) => report(PROGRAM, &error, invocation),
    }
}

fn execute(cli: &Cli) -> Result<i32, Error> {
    let n = narrator(cli.explain)?;
    if let Command::Apply {
        archive,
        dir,
        whiteouts,
    } = &cli.command
    {
        // Unpacking needs no state directory.
        return apply(archive, dir, *whiteouts, &n);
    }
    let store = Store::open(&cli.storage.root)?;
    match &cli.command {
        Command::Run(args) => run(&store, &cli.storage, args, &n),
        Command::Ps(args) => ps::execute(&store, args, Origin::Layers),
        Command::Diff { container } => diff::execute(&store, container),
        Command::Commit { container, output } => commit::execute_layer(&store, container, output),
        Command::Rm { containers } => rm::execute(PROGRAM, &store, containers),
        Command::Apply { .. } => unreachable!("handled above"),
    }
}

// ANCHOR: run_cli
fn run(store: &Store, storage: &StorageArgs, args: &RunArgs, n: &Narrator) -> Result<i32, Error> {
    let cgroup = args.limits.options()?;
    let limits = cgroup.limits.clone();
    let command = &args.process;
    let request = RunRequest {
        spec: (command.process.options()?).to_spec(PathBuf::new(), command.command.clone())?,
        layers: lifecycle::check_layers(&args.layers.layers)?,
        image: None,
        config: None,
        name: args.layers.container.name.clone(),
        remove: args.layers.container.rm,
        cgroup,
    };
    let events = |event| ch03_union_fs::cli::run::print_event(PROGRAM, event);
    let end = ch03_union_fs::run::run(store, request, &storage.options()?, n, &events)?;
    Ok(ch03_union_fs::cli::run::finish(PROGRAM, &end, &limits))
}
// ANCHOR_END: run_cli

fn apply(archive: &Path, dir: &Path, whiteouts: WhiteoutMode, n: &Narrator) -> Result<i32, Error> {
    std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    let options = ApplyOptions::for_this_process(match whiteouts {
        WhiteoutMode::Overlay => Whiteouts::Overlay,
        WhiteoutMode::Delete => Whiteouts::Delete,
    });
    let applied = archive::apply_file(archive, dir, &options, n)?;
    println!("{}", applied.diff_id);
    Ok(0)
}
