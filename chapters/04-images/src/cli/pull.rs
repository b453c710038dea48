//! `pull [--platform OS/ARCH] NAME[:TAG|@DIGEST]`: an image from a registry, with docker's
//! progress lines.

use clap::Args;

use super::progress::Display;
use super::{Context, out};
use crate::error::Result;
use crate::platform::Wanted;
use crate::reference::Reference;
use crate::registry::pull::{PullOptions, pull};

/// `pull`'s options.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The platform to choose from a multi-platform image: os/arch[/variant]
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<String>,
    /// The image: NAME[:TAG] or NAME@DIGEST
    reference: String,
}

impl PullArgs {
    /// Pulls, showing each layer's progress, then docker's two closing lines.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let reference: Reference = self.reference.parse()?;
        let options = PullOptions {
            platform: match &self.platform {
                Some(text) => text.parse()?,
                None => Wanted::host(),
            },
            insecure: cx.globals.insecure_registries.clone(),
        };
        let display = Display::new();
        let pulled = pull(&cx.store, &reference, &options, &cx.narrator, &|event| {
            display.show(event)
        })?;
        let status = if pulled.up_to_date {
            "Image is up to date for"
        } else {
            "Downloaded newer image for"
        };
        out(format!(
            "Digest: {}\nStatus: {status} {}\n",
            pulled.digest,
            reference.familiar()
        ))?;
        Ok(0)
    }
}
