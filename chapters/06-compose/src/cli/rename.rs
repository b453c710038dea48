//! `rename CONTAINER NEW_NAME`: another name for a container.

use ch04_images::cli::Context;
use clap::Args;

use crate::error::Result;

/// `rename`'s arguments, as docker's.
#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The container's name or id
    pub container: String,
    /// Its new name
    pub new_name: String,
}

impl RenameArgs {
    /// Renames the container; prints nothing, as docker.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        crate::rename::rename(cx.store.containers(), &self.container, &self.new_name)?;
        Ok(0)
    }
}
