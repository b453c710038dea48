//! `compose start|stop|restart|kill|pause|unpause|rm [SERVICE...]`: the library's
//! [`crate::compose::act`] on the project's containers.

use std::io::{BufRead, Write};

use ch04_images::cli::Globals;
use clap::Args;

use super::{ComposeArgs, print_event, with_engine};
use crate::compose::act::{self, Target};
use crate::error::Result;

/// `start`, `pause`, `unpause`: services only.
#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// `stop` and `restart`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds each container has to stop
    #[arg(short = 't', long = "timeout", value_name = "SECONDS")]
    timeout: Option<i64>,
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// `kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short, long, default_value = "SIGKILL")]
    signal: String,
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// `rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short, long)]
    force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short, long)]
    stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short, long)]
    volumes: bool,
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// Which of the commands sharing [`ServicesArgs`].
#[derive(Debug, Clone, Copy)]
pub enum Simple {
    /// `start`.
    Start,
    /// `pause`.
    Pause,
    /// `unpause`.
    Unpause,
}

/// Runs `work` on the project's target.
fn on_target(
    program: &str,
    globals: &Globals,
    args: &ComposeArgs,
    services: &[String],
    work: impl FnOnce(&dyn crate::compose::engine::Engine, Target) -> Result<()>,
) -> Result<i32> {
    let (name, project) = args.project_or_name()?;
    let target = Target {
        name: &name,
        project: project.as_ref(),
        services,
    };
    with_engine(program, globals, |engine| work(engine, target))?;
    Ok(0)
}

impl ServicesArgs {
    /// `start`, `pause` or `unpause`.
    pub fn execute(
        &self,
        which: Simple,
        program: &str,
        globals: &Globals,
        args: &ComposeArgs,
    ) -> Result<i32> {
        on_target(
            program,
            globals,
            args,
            &self.services,
            |engine, target| match which {
                Simple::Start => act::start(engine, target, &print_event),
                Simple::Pause => act::pause(engine, target, true, &print_event),
                Simple::Unpause => act::pause(engine, target, false, &print_event),
            },
        )
    }
}

impl StopArgs {
    /// `stop`, or `restart` when `restart`.
    pub fn execute(
        &self,
        restart: bool,
        program: &str,
        globals: &Globals,
        args: &ComposeArgs,
    ) -> Result<i32> {
        on_target(program, globals, args, &self.services, |engine, target| {
            if restart {
                act::restart(engine, target, self.timeout, &print_event)
            } else {
                act::stop(engine, target, self.timeout, &print_event)
            }
        })
    }
}

impl KillArgs {
    /// `kill`.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        on_target(program, globals, args, &self.services, |engine, target| {
            act::kill(engine, target, &self.signal, &print_event)
        })
    }
}

impl RmArgs {
    /// `rm`: asks first (on a terminal) unless `-f`, as Compose.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        on_target(program, globals, args, &self.services, |engine, target| {
            let containers = act::removable(engine, target, self.stop)?;
            if containers.is_empty() {
                eprintln!("No stopped containers");
                return Ok(());
            }
            if !self.force && !confirm(&containers) {
                return Ok(());
            }
            act::remove(engine, target, containers, self.volumes, &print_event)
        })
    }
}

/// Compose's question before `rm` without `-f`, answered on stdin (`yes | compose rm` works);
/// no answer, or another, is no.
fn confirm(containers: &[crate::compose::engine::ContainerInfo]) -> bool {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    eprint!(
        "Going to remove {}\n? Are you sure? [y/N] ",
        names.join(", ")
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}
