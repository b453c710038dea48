//! `compose exec [-d] [-T] [-e K=V] [-w DIR] [-u USER] [--privileged] [--index N] SERVICE
//! CMD...` and `compose run [--rm] [-d] [--name N] [-e K=V] [--entrypoint E] [-u USER]
//! [-w DIR] [--service-ports] [--no-deps] [--build] SERVICE [CMD...]`: a command in a
//! service's container, or in a new one-off container of it.

use std::io::IsTerminal;
use std::process::ExitCode;

use ch04_images::cli::{Context, Globals};
use clap::Args;
use dockyard_support::cli::{exit_code, print_error};

use super::{ComposeArgs, print_event, with_engine};
use crate::cli::exec::ExecArgs;
use crate::compose::engine::Engine;
use crate::compose::run::{RunOptions, create};
use crate::compose::up::number_of;
use crate::container::Paths;
use crate::error::{Error, Result};

/// `exec`'s options, as Docker Compose's.
#[derive(Debug, Args)]
pub struct ComposeExecArgs {
    /// Detached mode: run the command in the background
    #[arg(short, long)]
    detach: bool,
    /// Disable pseudo-TTY allocation (by default one is allocated when stdin is a terminal)
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Path to workdir directory for this command
    #[arg(short, long, value_name = "DIR")]
    workdir: Option<std::path::PathBuf>,
    /// Run the command as this user
    #[arg(short, long)]
    user: Option<String>,
    /// Give extended privileges to the process
    #[arg(long)]
    privileged: bool,
    /// Index of the container if the service has several replicas
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// The service
    service: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<String>,
}

impl ComposeExecArgs {
    /// Runs the command in the service's container; ends with its status.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> ExitCode {
        let container = match self.container(program, globals, args) {
            Ok(container) => container,
            Err(error) => {
                print_error(program, &error);
                return exit_code(1);
            }
        };
        let exec = ExecArgs {
            detach: self.detach,
            interactive: !self.detach,
            tty: !self.no_tty && !self.detach && std::io::stdin().is_terminal(),
            env: self.env.clone(),
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            privileged: self.privileged,
            container,
            command: self.command.clone(),
        };
        exec.execute(program, globals)
    }

    /// The running container number `--index` of the service.
    fn container(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<String> {
        let containers = args.containers(program, globals, std::slice::from_ref(&self.service))?;
        containers
            .into_iter()
            .find(|c| number_of(c) == self.index && c.state.running())
            .map(|c| c.name)
            .ok_or_else(|| {
                Error::invalid(
                    format!("service \"{}\" is not running", self.service),
                    format!("start it with `compose up -d {}`", self.service),
                )
            })
    }
}

/// `run`'s options, as Docker Compose's.
#[derive(Debug, Args)]
pub struct ComposeRunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long, value_name = "DIR")]
    workdir: Option<String>,
    /// Run command with the service's ports enabled and mapped to the host
    #[arg(long)]
    service_ports: bool,
    /// Don't start linked services
    #[arg(long)]
    no_deps: bool,
    /// Build image before starting container
    #[arg(long)]
    build: bool,
    /// Disable pseudo-TTY allocation, even for a service with `tty: true`
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// The service
    service: String,
    /// The command instead of the service's, and its arguments
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<String>,
}

impl ComposeRunArgs {
    /// Creates the one-off container, starts it, and (unless `-d`) shows its output and
    /// ends with its status, removing it after with `--rm`.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let project = args.project(false)?;
        let options = RunOptions {
            service: self.service.clone(),
            command: self.command.clone(),
            entrypoint: self.entrypoint.as_ref().map(|e| {
                if e.is_empty() {
                    Vec::new()
                } else {
                    vec![e.clone()]
                }
            }),
            env: self
                .env
                .iter()
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (pair.clone(), std::env::var(pair).unwrap_or_default()),
                })
                .collect(),
            name: self.name.clone(),
            user: self.user.clone(),
            workdir: self.workdir.clone(),
            service_ports: self.service_ports,
            no_deps: self.no_deps,
            build: self.build,
            no_tty: self.no_tty,
        };
        let since = i64::try_from(dockyard_support::clock::now_ns()).ok();
        let one_off = with_engine(program, globals, |engine| {
            let one_off = create(engine, &project, &options, &print_event)?;
            engine.start(&one_off.id)?;
            Ok(one_off)
        })?;
        if self.detach {
            println!("{}", one_off.name);
            return Ok(0);
        }
        let cx = Context::open(program, globals)?;
        let paths = Paths::new(cx.store.containers(), &one_off.id);
        crate::cli::logs::follow_output(&paths, since)?;
        let status = crate::lifecycle::wait::wait(cx.store.containers(), &one_off.id)?;
        if self.rm {
            crate::lifecycle::remove::remove(cx.store.containers(), &one_off.id, true, true)?;
        }
        Ok(status)
    }
}
