//! `ps [-a] [-q] [-s]`: the containers, in docker's table.

use std::io::Write;

use clap::Args;
use dockyard_support::FromIo;
use dockyard_support::clock::now;
use dockyard_support::format::{ellipsis, human_duration, human_size, table};

use crate::error::{Error, Result};
use crate::lifecycle::{self, Listed};
use crate::store::{State, Store};

/// `ps`'s options, as docker's.
#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Display the size of each writable layer
    #[arg(short, long)]
    pub size: bool,
}

/// What `ps` shows about where a container's files come from: its layers (chapter 03), or
/// the image it was made from (chapter 04 on, as docker's IMAGE column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A LAYERS column: how many, and the driver stacking them.
    Layers,
    /// An IMAGE column, second as in docker's table.
    Image,
}

/// Prints the containers, newest first.
pub fn execute(store: &Store, args: &PsArgs, origin: Origin) -> Result<i32> {
    let listed: Vec<Listed> = lifecycle::list(store)?
        .into_iter()
        .filter(|c| args.all || matches!(c.state, State::Running { .. }))
        .collect();
    let text = if args.quiet {
        listed
            .iter()
            .map(|c| format!("{}\n", c.record.short_id()))
            .collect()
    } else {
        render(store, &listed, args.size, origin)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .map_err(Error::io_op("write to stdout"))?;
    Ok(0)
}

/// docker's table: `CONTAINER ID   [IMAGE]   COMMAND   CREATED   STATUS   [LAYERS]   NAMES`.
fn render(store: &Store, listed: &[Listed], size: bool, origin: Origin) -> String {
    let now = now();
    let ago = |then: u64| human_duration(now.saturating_sub(then));
    let mut header = vec!["CONTAINER ID"];
    if origin == Origin::Image {
        header.push("IMAGE");
    }
    header.extend(["COMMAND", "CREATED", "STATUS"]);
    if origin == Origin::Layers {
        header.push("LAYERS");
    }
    header.push("NAMES");
    if size {
        header.push("SIZE");
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|Listed { record, state }| {
            let status = match *state {
                State::Created => "Created".to_string(),
                State::Running { started, .. } => format!("Up {}", ago(started)),
                State::Exited { code, finished } => {
                    format!("Exited ({code}) {} ago", ago(finished))
                }
            };
            let mut row = vec![record.short_id().to_string()];
            if origin == Origin::Image {
                row.push(record.image.clone().unwrap_or_default());
            }
            row.extend([
                format!("\"{}\"", ellipsis(&record.command.join(" "), 20)),
                format!("{} ago", ago(record.created_ns / 1_000_000_000)),
                status,
            ]);
            if origin == Origin::Layers {
                row.push(format!("{} ({})", record.layers.len(), record.driver));
            }
            row.push(record.name.clone().unwrap_or_default());
            if size {
                let (writable, all) = lifecycle::sizes(store, record);
                row.push(format!(
                    "{} (virtual {})",
                    human_size(writable),
                    human_size(all)
                ));
            }
            row
        })
        .collect();
    table(&header, &rows)
}
