//! `inspect IMAGE...`: images' details as a JSON array, with docker's field names.

use clap::Args;

use super::{Context, out};
use crate::error::Result;

/// `inspect`'s arguments.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image names or ids
    #[arg(required = true)]
    images: Vec<String>,
}

impl InspectArgs {
    /// Prints the documents, pretty, as docker does.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let documents = self
            .images
            .iter()
            .map(|image| crate::inspect::inspect(&cx.store, image))
            .collect::<Result<Vec<_>>>()?;
        let text = serde_json::to_string_pretty(&documents).expect("JSON values serialize");
        out(format!("{text}\n"))?;
        Ok(0)
    }
}
