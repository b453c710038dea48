//! `history [--no-trunc] IMAGE`: the steps an image was made in, newest first.

use clap::Args;
use dockyard_support::format::{ellipsis, human_size, table};

use super::images::{created_since, short_or_full};
use super::{Context, out};
use crate::error::Result;

/// `history`'s options.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Image name or id
    image: String,
}

impl HistoryArgs {
    /// Prints docker's table; only the newest step shows the image's id.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let (id, steps) = crate::inspect::history(&cx.store, &self.image)?;
        let rows: Vec<Vec<String>> = steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                let shown_id = if i == 0 {
                    short_or_full(&id, self.no_trunc)
                } else {
                    "<missing>".into()
                };
                let created_by = if self.no_trunc {
                    step.created_by
                } else {
                    ellipsis(&step.created_by, 45)
                };
                vec![
                    shown_id,
                    created_since(step.created),
                    created_by,
                    human_size(step.size),
                    step.comment,
                ]
            })
            .collect();
        let header = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"];
        out(table(&header, &rows))?;
        Ok(0)
    }
}
