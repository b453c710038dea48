//! `compose up [-d] [--build] [--no-deps] [--force-recreate] [--remove-orphans] [--wait]
//! [-t N] [SERVICE...]`.

use ch04_images::cli::Globals;
use clap::Args;

use super::{ComposeArgs, print_event, with_engine};
use crate::compose::up::{UpOptions, up};
use crate::error::{Error, Result};

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
        if !self.detach && !self.wait {
            // The foreground mode (every service's logs until Ctrl-C) comes with `logs -f`.
            return Err(Error::invalid(
                "up in the foreground is not supported yet",
                "run `compose up -d`, then `compose ps` and `logs`",
            ));
        }
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
        with_engine(program, globals, |engine| {
            up(engine, &project, &options, &print_event)
        })?;
        Ok(0)
    }
}
