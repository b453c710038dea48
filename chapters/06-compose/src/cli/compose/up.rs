//! `compose up [-d] [--build] [--no-deps] [--force-recreate] [--remove-orphans] [--wait]
//! [-t N] [SERVICE...]`: the project brought up, then (without `-d`) its containers' output
//! until they stop or Ctrl-C stops them.

use ch04_images::cli::Globals;
use clap::Args;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use ch04_images::cli::Context;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use super::logs::{View, show};
use super::{ComposeArgs, print_event, with_engine};
use crate::compose::Project;
use crate::compose::act::{self, Target};
use crate::compose::engine::ContainerInfo;
use crate::compose::up::{UpOptions, up};
use crate::error::{Error, Result};
use crate::log::ReadOptions;

/// `up`'s options, as Docker Compose's.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short, long)]
    detach: bool,
    /// Build images before starting containers
    #[arg(long)]
    build: bool,
    /// Don't start linked services
    #[arg(long)]
    no_deps: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long)]
    force_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    remove_orphans: bool,
    /// Wait for services to be running|healthy. Implies detached mode
    #[arg(long)]
    wait: bool,
    /// Seconds a replaced container has to stop
    #[arg(short = 't', long = "timeout", value_name = "SECONDS")]
    timeout: Option<i64>,
    /// The services to bring up (default: all), with what they depend on
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

impl UpArgs {
    /// Brings the project up.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let since = dockyard_support::clock::now_ns();
        let project = args.project(false)?;
        let options = UpOptions {
            services: self.services.clone(),
            no_deps: self.no_deps,
            force_recreate: self.force_recreate,
            build: self.build,
            remove_orphans: self.remove_orphans,
            wait: self.wait,
            timeout: self.timeout,
        };
        let foreground = !self.detach && !self.wait;
        if foreground {
            // Before the first container starts, so that Ctrl-C during `up` stops it too.
            catch_interrupt()?;
        }
        let containers = with_engine(program, globals, |engine| {
            up(engine, &project, &options, &print_event)?;
            let target = Target {
                name: &project.name,
                project: Some(&project),
                services: &self.services,
            };
            target.containers(engine)
        })?;
        if !foreground {
            return Ok(0);
        }
        self.attach(program, globals, &project, containers, since)
    }

    /// The foreground: every container's output from its start, until they all stopped or
    /// Ctrl-C, which stops them as `stop` does (a second Ctrl-C ends this command at once).
    fn attach(
        &self,
        program: &str,
        globals: &Globals,
        project: &Project,
        containers: Vec<ContainerInfo>,
        since_ns: u64,
    ) -> Result<i32> {
        let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
        println!("Attaching to {}", names.join(", "));
        let cx = Context::open(program, globals)?;
        let view = View {
            follow: true,
            read: ReadOptions {
                tail: None,
                since_ns: i64::try_from(since_ns).ok(),
                until_ns: None,
            },
            timestamps: false,
            prefix: true,
            color: std::io::stdout().is_terminal(),
        };
        show(&cx, &containers, &view, &INTERRUPTED)?;
        if INTERRUPTED.load(Ordering::Relaxed) {
            eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
            let target = Target {
                name: &project.name,
                project: Some(project),
                services: &self.services,
            };
            with_engine(program, globals, |engine| {
                act::stop(engine, target, self.timeout, &print_event)
            })?;
            return Ok(130);
        }
        Ok(0)
    }
}

/// Set by the first Ctrl-C of `up` in the foreground.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Makes the first SIGINT set [`INTERRUPTED`]; the handler resets itself, so a second one
/// ends the command as SIGINT does.
fn catch_interrupt() -> Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESETHAND | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe { sigaction(Signal::SIGINT, &action) }
        .map_err(|e| Error::invalid(format!("cannot catch Ctrl-C: {e}"), "run `compose up -d`"))?;
    Ok(())
}
