//! `load -i FILE`: images from a `docker save` archive or an OCI image layout.

use std::path::PathBuf;

use clap::Args;
use dockyard_support::events::Discard;

use super::{Context, out};
use crate::error::Result;
use crate::load::load;

/// `load`'s options.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The archive or layout to read
    #[arg(short, long, value_name = "FILE")]
    input: PathBuf,
}

impl LoadArgs {
    /// Loads, printing `Loaded image: NAME` for each name, or `Loaded image ID: ID` for an
    /// image without one, as docker does.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        for loaded in load(&cx.store, &self.input, &cx.narrator, &Discard)? {
            if loaded.tags.is_empty() {
                out(format!("Loaded image ID: {}\n", loaded.id))?;
            }
            for tag in &loaded.tags {
                out(format!("Loaded image: {}\n", tag.familiar()))?;
            }
        }
        Ok(0)
    }
}
