//! `rmi [-f] IMAGE...`: removes names, and images left without one.

use clap::Args;
use dockyard_support::cli::print_error;

use super::{Context, out};
use crate::error::Result;
use crate::remove::remove_image;

/// `rmi`'s options.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Remove even if containers use the image
    #[arg(short, long)]
    force: bool,
    /// Image names or ids
    #[arg(required = true)]
    images: Vec<String>,
}

impl RmiArgs {
    /// Removes each image, printing docker's `Untagged:` and `Deleted:` lines; like docker, a
    /// failure is reported and the others are still removed, and the status (1) says so.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let mut failed = false;
        for reference in &self.images {
            match remove_image(&cx.store, reference, self.force) {
                Ok(removed) => {
                    for step in removed {
                        out(format!("{step}\n"))?;
                    }
                }
                Err(error) => {
                    print_error(cx.program, &error);
                    failed = true;
                }
            }
        }
        Ok(i32::from(failed))
    }
}
