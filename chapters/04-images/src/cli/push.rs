//! `push NAME[:TAG]`: an image of the store into a registry, with docker's lines.

use clap::Args;

use super::{Context, out};
use crate::error::Result;
use crate::reference::Reference;
use crate::registry::push::{DEFAULT_CHUNK, PushEvent, PushOptions, push};

/// `push`'s options.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Upload blobs larger than this many bytes in chunks of that size
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CHUNK)]
    chunk_size: u64,
    /// The image: NAME[:TAG], named after the registry (e.g. localhost:5000/app:v1)
    reference: String,
}

impl PushArgs {
    /// Pushes, printing a line per layer and the manifest's digest.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let reference: Reference = self.reference.parse()?;
        let options = PushOptions {
            insecure: cx.globals.insecure_registries.clone(),
            chunk: self.chunk_size,
        };
        let show = |event| {
            // A line that cannot be printed does not fail the push.
            let _unprinted = out(match event {
                PushEvent::Started { repository } => {
                    format!("The push refers to repository [{repository}]\n")
                }
                PushEvent::Layer { short_id, outcome } => format!("{short_id}: {outcome}\n"),
            });
        };
        let pushed = push(&cx.store, &reference, &options, &cx.narrator, &show)?;
        out(format!(
            "{}: digest: {} size: {}\n",
            pushed.tag, pushed.digest, pushed.size
        ))?;
        Ok(0)
    }
}
