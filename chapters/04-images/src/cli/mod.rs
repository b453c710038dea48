//! The command line of chapter 04: docker's image commands, and chapter 03's container
//! commands carried over, one module per subcommand. Each is a clap `Args` struct and an
//! `execute` that calls the library with plain values and prints what it returns as docker
//! prints it; the library itself never prints. Later chapters' tools add their commands
//! beside these: they flatten [`Globals`] and [`Command`] into their own and call
//! [`execute`].

pub mod commit;
pub mod history;
pub mod images;
pub mod import;
pub mod inspect;
pub mod load;
pub mod login;
pub mod logout;
pub mod progress;
pub mod pull;
pub mod push;
pub mod rmi;
pub mod run;
pub mod save;
pub mod tag;

use std::io::Write;
use std::process::ExitCode;

use ch01_namespaces::Narrator;
use ch01_namespaces::cli::narrator;
use ch03_union_fs::cli::ps::{self, Origin, PsArgs};
use ch03_union_fs::cli::{StorageArgs, diff, rm};
use clap::{Args, Subcommand};
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, exit_code, report};

use crate::error::{Error, Result};
use crate::remove::collect_garbage;
use crate::store::ImageStore;

/// The options every command takes, as dockerd's and docker's global flags.
#[derive(Debug, Args)]
pub struct Globals {
    /// Narrate every kernel-visible step on stderr
    #[arg(long, global = true)]
    pub explain: bool,

    #[command(flatten)]
    pub storage: StorageArgs,

    /// A registry that may be spoken to over plain HTTP (loopback registries always may)
    #[arg(long = "insecure-registry", global = true, value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
}

/// What a subcommand works with.
#[derive(Debug)]
pub struct Context<'a> {
    /// The tool's name, for error lines.
    pub program: &'a str,
    /// The global options.
    pub globals: &'a Globals,
    /// The store under `--root`.
    pub store: ImageStore,
    /// `--explain`'s narrator.
    pub narrator: Narrator,
}

impl<'a> Context<'a> {
    /// The store under `--root` and the narrator `--explain` asks for.
    pub fn open(program: &'a str, globals: &'a Globals) -> Result<Self> {
        Ok(Context {
            program,
            globals,
            narrator: narrator(globals.explain)?,
            store: ImageStore::open(&globals.storage.root)?,
        })
    }
}

/// Chapter 04's subcommands: those a later chapter replaces with its own (chapter 06's
/// containers keep running), and those it keeps.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// `run`, `ps`, `rm`, `inspect`
    #[command(flatten)]
    Containers(ContainerCommand),
    /// Every other command
    #[command(flatten)]
    Store(StoreCommand),
}

/// The commands about running containers, which chapter 06 replaces.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Run a command in a new container made from an image
    Run(Box<run::RunArgs>),
    /// List containers
    Ps(PsArgs),
    /// Remove containers and their writable layers
    Rm {
        /// Container names or ids
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Show images' details as JSON
    Inspect(inspect::InspectArgs),
}

/// The commands about images, registries and containers' changes, which later chapters keep.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Download an image from a registry
    Pull(pull::PullArgs),
    /// Upload an image to a registry
    Push(push::PushArgs),
    /// Log in to a registry (Docker Hub by default); credentials go to $DOCKER_CONFIG/config.json
    Login(login::LoginArgs),
    /// Log out from a registry
    Logout(logout::LogoutArgs),
    /// Load images from a `docker save` archive or an OCI image layout (directory or tar)
    Load(load::LoadArgs),
    /// Save images to a `docker save` archive (the default) or an OCI image layout tar
    Save(save::SaveArgs),
    /// Make a one-layer image from a root filesystem archive (tar, tar.gz or tar.zst)
    Import(import::ImportArgs),
    /// List images
    Images(images::ImagesArgs),
    /// Give an image another name
    Tag(tag::TagArgs),
    /// Remove image names, and images left without one
    Rmi(rmi::RmiArgs),
    /// Show the steps an image was made in
    History(history::HistoryArgs),
    /// Show the files a container added (A), changed (C) and deleted (D)
    Diff {
        /// Container name or id
        container: String,
    },
    /// Make a new image from a container's changes (or, with -o, write them as a layer archive)
    Commit(commit::CommitArgs),
}

/// Runs `command` and ends as docker does: its status, or the error's line and status.
pub fn execute(program: &str, globals: &Globals, command: &Command) -> ExitCode {
    let invocation = match command {
        Command::Containers(ContainerCommand::Run(_)) => Invocation::Run,
        _ => Invocation::Other,
    };
    match dispatch(program, globals, command) {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, invocation),
    }
}

fn dispatch(program: &str, globals: &Globals, command: &Command) -> Result<i32> {
    let cx = Context::open(program, globals)?;
    let containers = cx.store.containers();
    match command {
        Command::Store(command) => dispatch_store(&cx, command),
        Command::Containers(ContainerCommand::Run(args)) => args.execute(&cx),
        Command::Containers(ContainerCommand::Inspect(args)) => args.execute(&cx),
        Command::Containers(ContainerCommand::Ps(args)) => {
            Ok(ps::execute(containers, args, Origin::Image)?)
        }
        Command::Containers(ContainerCommand::Rm { containers: names }) => {
            let status = rm::execute(program, containers, names)?;
            // The layers of an image deleted while the container stood on them go now.
            collect_garbage(&cx.store)?;
            Ok(status)
        }
    }
}

/// Runs one of the commands later chapters keep, and ends as docker does.
pub fn execute_store(program: &str, globals: &Globals, command: &StoreCommand) -> ExitCode {
    match Context::open(program, globals).and_then(|cx| dispatch_store(&cx, command)) {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, Invocation::Other),
    }
}

fn dispatch_store(cx: &Context, command: &StoreCommand) -> Result<i32> {
    let containers = cx.store.containers();
    match command {
        StoreCommand::Pull(args) => args.execute(cx),
        StoreCommand::Push(args) => args.execute(cx),
        StoreCommand::Login(args) => args.execute(cx),
        StoreCommand::Logout(args) => args.execute(),
        StoreCommand::Load(args) => args.execute(cx),
        StoreCommand::Save(args) => args.execute(cx),
        StoreCommand::Import(args) => args.execute(cx),
        StoreCommand::Images(args) => args.execute(cx),
        StoreCommand::Tag(args) => args.execute(cx),
        StoreCommand::Rmi(args) => args.execute(cx),
        StoreCommand::History(args) => args.execute(cx),
        StoreCommand::Diff { container } => Ok(diff::execute(containers, container)?),
        StoreCommand::Commit(args) => args.execute(cx),
    }
}

/// Writes to stdout, as every command's output goes.
pub fn out(text: impl std::fmt::Display) -> Result<()> {
    write!(std::io::stdout().lock(), "{text}").map_err(Error::io_op("write to stdout"))
}
