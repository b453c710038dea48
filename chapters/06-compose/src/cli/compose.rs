//! `compose [-f FILE]... [-p NAME] ... COMMAND`: `docker compose`'s global options and its
//! subcommands. The command line gives the library the process environment and directory;
//! the library loads the project ([`crate::compose::load`]) and acts on it through an
//! [`Engine`](crate::compose::engine::Engine) on the store; this module prints what they
//! return.
//!
//! Docker Compose ends every failure with status 1 (not docker's 125 for a bad request), so
//! these commands do too.

mod act;
mod down;
mod exec;
mod images;
mod listing;
mod logs;
mod ps;
mod up;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use ch04_images::cli::{Context, Globals};
use clap::{Args, Subcommand, ValueEnum};
use dockyard_support::cli::{exit_code, print_error};

use crate::compose::engine::Local;
use crate::compose::events::ComposeEvent;
use crate::compose::{ComposeError, LoadOptions, Project, load};
use crate::error::Result;

/// `compose`'s global options, then a subcommand.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Compose configuration files (default: compose.yaml in the current directory)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    project_name: Option<String>,
    /// Alternate environment files (default: .env in the project directory)
    #[arg(long = "env-file", value_name = "FILE")]
    env_files: Vec<PathBuf>,
    /// Profiles to enable
    #[arg(long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
    /// Alternate working directory (default: the first file's directory)
    #[arg(long, value_name = "DIR")]
    project_directory: Option<PathBuf>,
    #[command(subcommand)]
    command: ComposeCommand,
}

/// `compose`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum ComposeCommand {
    /// Create and start containers
    Up(up::UpArgs),
    /// Stop and remove containers, networks (and with -v, volumes)
    Down(down::DownArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// View output from containers
    Logs(logs::LogsArgs),
    /// Start services
    Start(act::ServicesArgs),
    /// Stop services
    Stop(act::StopArgs),
    /// Restart service containers
    Restart(act::StopArgs),
    /// Force stop service containers
    Kill(act::KillArgs),
    /// Pause services
    Pause(act::ServicesArgs),
    /// Unpause services
    Unpause(act::ServicesArgs),
    /// Removes stopped service containers
    Rm(act::RmArgs),
    /// Execute a command in a running container
    Exec(exec::ComposeExecArgs),
    /// Run a one-off command on a service
    Run(exec::ComposeRunArgs),
    /// Build or rebuild services
    Build(images::BuildArgs),
    /// Pull service images
    Pull(images::TransferArgs),
    /// Push service images
    Push(images::TransferArgs),
    /// List images used by the created containers
    Images(listing::ImagesArgs),
    /// List running compose projects
    Ls(listing::LsArgs),
    /// Print the public port for a port binding
    Port(listing::ComposePortArgs),
    /// Display the running processes
    Top(listing::ComposeTopArgs),
    /// Parse, resolve and render the compose files in canonical form
    Config(ConfigArgs),
}

/// `compose config`'s options.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the service names, one per line, in dependency order
    #[arg(long)]
    services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    volumes: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    profiles: bool,
    /// Don't check the model's consistency (depends_on naming no service)
    #[arg(long)]
    no_consistency: bool,
    /// Format the output
    #[arg(long, value_enum, default_value = "yaml")]
    format: Format,
}

/// `config --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Runs a `compose` subcommand; status 1 on any failure, as Docker Compose.
pub fn execute(program: &str, globals: &Globals, args: &ComposeArgs) -> ExitCode {
    if let ComposeCommand::Exec(exec) = &args.command {
        // Its status is the command's, or docker exec's when it cannot run.
        return exec.execute(program, globals, args);
    }
    let status = match &args.command {
        ComposeCommand::Exec(_) => unreachable!("handled above"),
        ComposeCommand::Run(run) => run.execute(program, globals, args),
        ComposeCommand::Build(a) => a.execute(program, globals, args),
        ComposeCommand::Pull(a) => a.execute(false, program, globals, args),
        ComposeCommand::Push(a) => a.execute(true, program, globals, args),
        ComposeCommand::Images(a) => a.execute(program, globals, args),
        ComposeCommand::Ls(a) => a.execute(program, globals),
        ComposeCommand::Port(a) => a.execute(program, globals, args),
        ComposeCommand::Top(a) => a.execute(program, globals, args),
        ComposeCommand::Config(config) => args
            .project(config.no_consistency)
            .and_then(|project| super::out(config.render(&project)).map(|()| 0)),
        ComposeCommand::Up(up) => up.execute(program, globals, args),
        ComposeCommand::Down(down) => down.execute(program, globals, args),
        ComposeCommand::Ps(ps) => ps.execute(program, globals, args),
        ComposeCommand::Logs(logs) => logs.execute(program, globals, args),
        ComposeCommand::Start(a) => a.execute(act::Simple::Start, program, globals, args),
        ComposeCommand::Pause(a) => a.execute(act::Simple::Pause, program, globals, args),
        ComposeCommand::Unpause(a) => a.execute(act::Simple::Unpause, program, globals, args),
        ComposeCommand::Stop(a) => a.execute(false, program, globals, args),
        ComposeCommand::Restart(a) => a.execute(true, program, globals, args),
        ComposeCommand::Kill(a) => a.execute(program, globals, args),
        ComposeCommand::Rm(a) => a.execute(program, globals, args),
    };
    match status {
        Ok(status) => exit_code(status),
        Err(error) => {
            print_error(program, &error);
            exit_code(1)
        }
    }
}

impl ComposeArgs {
    /// The project the files describe.
    fn project(&self, skip_consistency_check: bool) -> Result<Project> {
        Ok(self.load(skip_consistency_check)??)
    }

    /// The loader's own error, for the callers that tell one apart.
    fn load(
        &self,
        skip_consistency_check: bool,
    ) -> Result<std::result::Result<Project, ComposeError>> {
        let options = load_options(self, skip_consistency_check).map_err(|e| {
            crate::error::Error::invalid(
                format!("cannot read the working directory: {e}"),
                "run from a directory that exists",
            )
        })?;
        Ok(load(&options))
    }

    /// The project's containers of `services` (all when empty), dependencies first: found
    /// by their labels, so that the file may even be gone.
    fn containers(
        &self,
        program: &str,
        globals: &Globals,
        services: &[String],
    ) -> Result<Vec<crate::compose::engine::ContainerInfo>> {
        let (name, project) = self.project_or_name()?;
        let target = crate::compose::act::Target {
            name: &name,
            project: project.as_ref(),
            services,
        };
        with_engine(program, globals, |engine| target.containers(engine))
    }

    /// The project's name when no file is needed (`down -p NAME`, `ps -p NAME`): `-p`, else
    /// the loaded project's.
    fn project_or_name(&self) -> Result<(String, Option<Project>)> {
        match (self.load(false)?, &self.project_name) {
            (Ok(project), _) => Ok((project.name.clone(), Some(project))),
            (Err(ComposeError::NoComposeFile { .. }), Some(name)) => Ok((name.clone(), None)),
            (Err(error), _) => Err(error.into()),
        }
    }
}

/// Prints an event of `up` or `down` as Docker Compose's plain progress does, on stderr.
fn print_event(event: ComposeEvent) {
    eprintln!(" {event}");
}

/// Runs `work` with an engine on the store of `--root`.
fn with_engine<T>(
    program: &str,
    globals: &Globals,
    work: impl FnOnce(&Local) -> Result<T>,
) -> Result<T> {
    let cx = Context::open(program, globals)?;
    let pulls = ch04_images::cli::progress::Display::new();
    let explain = globals.explain;
    let build_events = |event| ch05_dockerfile::cli::build::print_event(event, explain, &pulls);
    let pull_events = |event| pulls.show(event);
    let storage = globals
        .storage
        .options()
        .map_err(ch04_images::Error::from)?;
    let engine = Local {
        images: &cx.store,
        storage,
        monitor: super::monitor_command(&cx)?,
        insecure_registries: globals.insecure_registries.clone(),
        narrator: &cx.narrator,
        build_events: &build_events,
        pull_events: &pull_events,
    };
    work(&engine)
}

fn load_options(args: &ComposeArgs, skip_consistency_check: bool) -> std::io::Result<LoadOptions> {
    Ok(LoadOptions {
        files: args.files.clone(),
        project_name: args.project_name.clone(),
        project_directory: args.project_directory.clone(),
        env_files: args.env_files.clone(),
        profiles: args.profiles.clone(),
        working_dir: std::env::current_dir()?,
        environment: std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect::<BTreeMap<_, _>>(),
        skip_consistency_check,
    })
}

impl ConfigArgs {
    fn render(&self, project: &Project) -> String {
        let lines = |names: Vec<String>| names.iter().map(|n| format!("{n}\n")).collect();
        if self.services {
            return lines(project.dependency_order());
        }
        if self.volumes {
            return lines(project.volumes.keys().cloned().collect());
        }
        if self.profiles {
            return lines(project.profiles());
        }
        match self.format {
            Format::Json => {
                let mut text = serde_json::to_string_pretty(project).expect("a tree serializes");
                text.push('\n');
                text
            }
            Format::Yaml => serde_saphyr::to_string(project).expect("a tree serializes"),
        }
    }
}
