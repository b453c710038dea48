//! `compose down [-v] [--rmi local|all] [--remove-orphans] [-t N]`.

use ch04_images::cli::Globals;
use clap::{Args, ValueEnum};

use super::{ComposeArgs, print_event, with_engine};
use crate::compose::down::{DownOptions, RemoveImages, down};
use crate::error::Result;

/// `down`'s options, as Docker Compose's.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and
    /// anonymous volumes attached to containers
    #[arg(short, long)]
    volumes: bool,
    /// Remove images used by services: "local" removes only images that don't have a custom
    /// tag ("local"|"all")
    #[arg(long, value_enum, value_name = "TYPE")]
    rmi: Option<Rmi>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    remove_orphans: bool,
    /// Seconds each container has to stop
    #[arg(short = 't', long = "timeout", value_name = "SECONDS")]
    timeout: Option<i64>,
}

/// `--rmi`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Rmi {
    Local,
    All,
}

impl DownArgs {
    /// Takes the project down (found by its labels: `-p NAME` needs no file).
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let (name, project) = args.project_or_name()?;
        let options = DownOptions {
            volumes: self.volumes,
            remove_orphans: self.remove_orphans,
            images: match self.rmi {
                None => RemoveImages::None,
                Some(Rmi::Local) => RemoveImages::Local,
                Some(Rmi::All) => RemoveImages::All,
            },
            timeout: self.timeout,
        };
        with_engine(program, globals, |engine| {
            down(engine, &name, project.as_ref(), &options, &print_event)
        })?;
        Ok(0)
    }
}
