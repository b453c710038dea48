//! `ch03-union-fs`: chapter 02's container on a stack of layers, with docker's `ps`, `diff`,
//! `commit -o` and `rm` for the containers' writable layers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ch01_namespaces::cli::{ProcessArgs, exit_status, narrator, parse_or_exit, report};
use ch01_namespaces::{Container, Narrator};
use ch02_cgroups::cli::{LimitArgs, oom_message};
use ch02_cgroups::{CGROUP_ROOT, CgroupStep};
use ch03_union_fs::archive::{self, ApplyOptions, Whiteouts};
use ch03_union_fs::cli::{LayerArgs, StorageArgs};
use ch03_union_fs::format::{ellipsis, human_duration, human_size, table};
use ch03_union_fs::store::{now, now_ns};
use ch03_union_fs::{Error, Record, State, Store, driver, lifecycle};
use clap::{Args, Parser, Subcommand, ValueEnum};

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
    process: ProcessArgs,
}

#[derive(Debug, Args)]
struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Only display container ids
    #[arg(short, long)]
    quiet: bool,
    /// Display the size of each writable layer
    #[arg(short, long)]
    size: bool,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let result = (|| {
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
            Command::Ps(args) => ps(&store, args),
            Command::Diff { container } => diff(&store, container),
            Command::Commit { container, output } => commit(&store, container, output),
            Command::Rm { containers } => rm(&store, containers),
            Command::Apply { .. } => unreachable!("handled above"),
        }
    })();
    match result {
        Ok(code) => exit_status(code),
        Err(error) => report(PROGRAM, &error),
    }
}

// ANCHOR: run
fn run(store: &Store, storage: &StorageArgs, args: &RunArgs, n: &Narrator) -> Result<i32, Error> {
    let limits = args.limits.limits()?;
    let api = storage.mount_api()?;
    let layers = lifecycle::check_layers(&args.layers.layers)?;
    let (driver, notice) = driver::select(storage.storage_driver, store.root());
    if let Some(notice) = notice {
        eprintln!("{PROGRAM}: {notice}");
    }
    let mut spec = args.process.to_spec(PathBuf::new())?;
    let mut record = Record {
        id: spec.id.to_string(),
        name: args.layers.name.clone(),
        created_ns: now_ns(),
        command: args.process.command.clone(),
        layers,
        driver,
        state: lifecycle::starting_now(),
    };
    let rootfs = lifecycle::create(store, &record, api, n)?;
    spec.rootfs = store.rootfs_dir(&record);

    let mut cgroup = CgroupStep::new(CGROUP_ROOT, &args.limits.cgroup_parent, &record.id, limits);
    let mut container = Container::new(spec).narrate(n.clone()).step(&mut cgroup);
    if let Some(mount) = rootfs.mount() {
        container = container.mount_rootfs(mount);
    }
    let outcome = container.run();
    lifecycle::explain_upper(store, &record, n)?;
    if args.layers.rm {
        store.remove(&record)?;
    } else {
        lifecycle::ended(store, &mut record, &outcome)?;
    }
    let status = outcome?.code();
    if let Some(outcome) = cgroup.outcome() {
        if let Some(message) = oom_message(outcome, cgroup.limits(), status) {
            eprintln!("{PROGRAM}: {message}");
        }
        if args.limits.stats {
            eprint!("{}", outcome.stats);
        }
    }
    Ok(status)
}
// ANCHOR_END: run

fn ps(store: &Store, args: &PsArgs) -> Result<i32, Error> {
    let now = now();
    let ago = |then: u64| human_duration(now.saturating_sub(then));
    let mut rows = Vec::new();
    for record in store.list()?.iter().rev() {
        let state = lifecycle::effective_state(record);
        let running = matches!(state, State::Running { .. });
        if !args.all && !running {
            continue;
        }
        if args.quiet {
            println!("{}", record.short_id());
            continue;
        }
        let status = match state {
            State::Created => "Created".to_string(),
            State::Running { started, .. } => format!("Up {}", ago(started)),
            State::Exited { code, finished } => format!("Exited ({code}) {} ago", ago(finished)),
        };
        let mut row = vec![
            record.short_id().to_string(),
            format!("\"{}\"", ellipsis(&record.command.join(" "), 20)),
            format!("{} ago", ago(record.created_ns / 1_000_000_000)),
            status,
            format!("{} ({})", record.layers.len(), record.driver),
            record.name.clone().unwrap_or_default(),
        ];
        if args.size {
            let writable = lifecycle::disk_usage(&lifecycle::changes_source(store, record));
            let layers: u64 = record.layers.iter().map(|l| lifecycle::disk_usage(l)).sum();
            row.push(format!(
                "{} (virtual {})",
                human_size(writable),
                human_size(writable + layers)
            ));
        }
        rows.push(row);
    }
    if !args.quiet {
        let mut header = vec![
            "CONTAINER ID",
            "COMMAND",
            "CREATED",
            "STATUS",
            "LAYERS",
            "NAMES",
        ];
        if args.size {
            header.push("SIZE");
        }
        print!("{}", table(&header, &rows));
    }
    Ok(0)
}

fn diff(store: &Store, container: &str) -> Result<i32, Error> {
    let record = store.find(container)?;
    let mut out = std::io::stdout().lock();
    for change in lifecycle::changes(store, &record)? {
        writeln!(out, "{change}").map_err(Error::io("write", "stdout"))?;
    }
    Ok(0)
}

// ANCHOR: commit
fn commit(store: &Store, container: &str, output: &Path) -> Result<i32, Error> {
    let record = store.find(container)?;
    let changes = lifecycle::changes(store, &record)?;
    let source = lifecycle::changes_source(store, &record);
    if output.as_os_str() == "-" {
        archive::write_layer(&changes, &source, std::io::stdout().lock())?;
        return Ok(0);
    }
    // Written beside the destination and renamed: a failed commit leaves no partial archive.
    let partial = output.with_extension("partial");
    let written = File::create(&partial)
        .map_err(Error::io("create", &partial))
        .and_then(|file| archive::write_layer(&changes, &source, BufWriter::new(file)));
    match written {
        Ok(_) => std::fs::rename(&partial, output).map_err(Error::io("create", output))?,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    }
    Ok(0)
}
// ANCHOR_END: commit

fn rm(store: &Store, containers: &[String]) -> Result<i32, Error> {
    let mut failed = None;
    for reference in containers {
        match store
            .find(reference)
            .and_then(|r| lifecycle::remove(store, &r))
        {
            Ok(()) => println!("{reference}"),
            // Like docker: report each failure, go on with the others, fail at the end.
            Err(error) => {
                let code = report(PROGRAM, &error);
                failed = Some(code);
            }
        }
    }
    Ok(if failed.is_some() { 1 } else { 0 })
}

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
