//! `tag SOURCE TARGET`: another name for an image.

use clap::Args;

use super::Context;
use crate::error::Result;

/// `tag`'s arguments.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image: name or id
    source: String,
    /// The new name, NAME[:TAG]
    target: String,
}

impl TagArgs {
    /// Names the image.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        crate::tag::tag(&cx.store, &self.source, &self.target)?;
        Ok(0)
    }
}
