//! `commit CONTAINER [NAME[:TAG]]`: a container's changes as a new image; with `-o FILE`,
//! chapter 03's layer archive alone.

use std::path::PathBuf;

use clap::Args;

use super::{Context, out};
use crate::create;
use crate::error::Result;

/// `commit`'s options.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Container name or id
    container: String,
    /// The new image's name, NAME[:TAG]
    #[arg(conflicts_with = "output")]
    reference: Option<String>,
    /// Write just the layer, as an OCI layer archive, to this file ("-" for stdout)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl CommitArgs {
    /// Commits, printing the new image's id (or writing the layer archive).
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        if let Some(output) = &self.output {
            let containers = cx.store.containers();
            return Ok(ch03_union_fs::cli::commit::execute_layer(
                containers,
                &self.container,
                output,
            )?);
        }
        let name = self.reference.as_deref().map(str::parse).transpose()?;
        let id = create::commit(&cx.store, &self.container, name.as_ref(), &cx.narrator)?;
        out(format!("{id}\n"))?;
        Ok(0)
    }
}
