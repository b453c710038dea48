//! `compose build|pull|push [SERVICE...]`: the library's [`crate::compose::images`].

use ch04_images::cli::Globals;
use clap::Args;

use super::{ComposeArgs, print_event, with_engine};
use crate::compose::images::{self, BuildOptions};
use crate::error::Result;

/// `build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Do not use cache when building the image
    #[arg(long)]
    no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pull: bool,
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// `pull` and `push`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

impl BuildArgs {
    /// Builds the services' images.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let project = args.project(false)?;
        let options = BuildOptions {
            services: self.services.clone(),
            no_cache: self.no_cache,
            pull: self.pull,
        };
        with_engine(program, globals, |engine| {
            images::build(engine, &project, &options, &print_event)
        })?;
        Ok(0)
    }
}

impl TransferArgs {
    /// `pull`, or `push` when `push`.
    pub fn execute(
        &self,
        push: bool,
        program: &str,
        globals: &Globals,
        args: &ComposeArgs,
    ) -> Result<i32> {
        let project = args.project(false)?;
        with_engine(program, globals, |engine| {
            if push {
                images::push(engine, &project, &self.services, &print_event)
            } else {
                images::pull(engine, &project, &self.services, &print_event)
            }
        })?;
        Ok(0)
    }
}
