//! `import FILE [NAME[:TAG]]`: a root filesystem archive as a one-layer image.

use std::path::PathBuf;

use clap::Args;

use super::{Context, out};
use crate::create;
use crate::error::Result;

/// `import`'s options.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The archive
    file: PathBuf,
    /// The new image's name, NAME[:TAG]
    reference: Option<String>,
}

impl ImportArgs {
    /// Imports, printing the new image's id.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let name = self.reference.as_deref().map(str::parse).transpose()?;
        let id = create::import(&cx.store, &self.file, name.as_ref(), &cx.narrator)?;
        out(format!("{id}\n"))?;
        Ok(0)
    }
}
