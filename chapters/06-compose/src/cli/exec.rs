//! `exec [-d] [-i] [-t] [-e K=V]... [-w DIR] [-u USER] [--privileged] CONTAINER CMD...`: run a
//! command in a running container.

use std::path::PathBuf;
use std::process::ExitCode;

use ch01_namespaces::resolve_env;
use ch04_images::cli::{Context, Globals};
use clap::Args;
use dockyard_support::EngineError;
use dockyard_support::cli::{Invocation, exit_code, print_error, status_of};
use dockyard_support::error::exit_code::{CANNOT_EXECUTE, REFUSED};

use crate::error::Error;
use crate::exec::{ExecOptions, exec, exec_detached};

/// `exec`'s arguments.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Start the command and return at once, its output discarded
    #[arg(short = 'd', long)]
    pub(crate) detach: bool,

    /// Keep stdin open (without it the command reads /dev/null)
    #[arg(short = 'i', long)]
    pub(crate) interactive: bool,

    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    pub(crate) tty: bool,

    /// Set an environment variable (KEY alone copies it from this command's environment)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub(crate) env: Vec<String>,

    /// Working directory inside the container (default: the container's)
    #[arg(short = 'w', long, value_name = "DIR")]
    pub(crate) workdir: Option<PathBuf>,

    /// Run as this user: name, UID, name:group or UID:GID (default: the container's)
    #[arg(short = 'u', long, value_name = "USER")]
    pub(crate) user: Option<String>,

    /// Give the command every capability
    #[arg(long)]
    pub(crate) privileged: bool,

    /// The container: name, id or id prefix
    pub(crate) container: String,

    /// The command to run and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub(crate) command: Vec<String>,
}

impl ExecArgs {
    /// Runs the command; ends with its status, or as `docker exec` does when it cannot.
    pub fn execute(&self, program: &str, globals: &Globals) -> ExitCode {
        match self.run(program, globals) {
            Ok(status) => exit_code(status),
            Err(error) => {
                print_error(program, &error);
                exit_code(self.status_of(&error))
            }
        }
    }

    fn run(&self, program: &str, globals: &Globals) -> Result<i32, Error> {
        let cx = Context::open(program, globals)?;
        let options = ExecOptions {
            command: self.command.clone(),
            env: resolve_env(&self.env),
            user: self.user.clone(),
            workdir: self.workdir.clone(),
            tty: self.tty,
            interactive: self.interactive,
            privileged: self.privileged,
        };
        let store = cx.store.containers();
        if self.detach {
            exec_detached(store, &self.container, &options, &cx.narrator)?;
            return Ok(0);
        }
        Ok(exec(store, &self.container, &options, &cx.narrator)?.code())
    }

    // ANCHOR: exec_status
    /// docker's statuses for `exec`: a container that is not there or not running is the
    /// daemon's refusal (1); a process that could not start inside the container, whatever
    /// the reason (no such command, not executable, no such working directory), is 126, or 1
    /// with `-d`, whose start the daemon reports as an error (measured with docker 20.10); the
    /// engine's own failures are 125.
    fn status_of(&self, error: &Error) -> i32 {
        let in_container = match error {
            Error::Process(process) => {
                process.start_failure().is_some()
                    || matches!(process, ch01_namespaces::Error::InContainer { .. })
            }
            _ => false,
        };
        match (in_container, self.detach) {
            (true, false) => CANNOT_EXECUTE,
            (true, true) => REFUSED,
            (false, _) => status_of(error, Invocation::Other),
        }
    }
    // ANCHOR_END: exec_status
}
