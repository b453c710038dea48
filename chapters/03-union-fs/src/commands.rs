//! The commands that look after containers' writable layers: `ps`, `diff`, `commit -o` and
//! `rm`, as docker names them. They live in the library so later chapters' CLIs carry them
//! over as they are.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use ch01_namespaces::cli::report;
use clap::Args;

use crate::archive;
use crate::error::{Error, Result};
use crate::format::{ellipsis, human_duration, human_size, table};
use crate::lifecycle;
use crate::store::{Record, State, Store, now};

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

/// Lists containers, newest first, in docker's table.
pub fn ps(store: &Store, args: &PsArgs, origin: Origin) -> Result<i32> {
    let now = now();
    let ago = |then: u64| human_duration(now.saturating_sub(then));
    let mut rows = Vec::new();
    let mut out = std::io::stdout().lock();
    for record in store.list()?.iter().rev() {
        let state = lifecycle::effective_state(record);
        let running = matches!(state, State::Running { .. });
        if !args.all && !running {
            continue;
        }
        if args.quiet {
            writeln!(out, "{}", record.short_id()).map_err(Error::io("write", "stdout"))?;
            continue;
        }
        let status = match state {
            State::Created => "Created".to_string(),
            State::Running { started, .. } => format!("Up {}", ago(started)),
            State::Exited { code, finished } => format!("Exited ({code}) {} ago", ago(finished)),
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
        if args.size {
            row.push(size_column(store, record));
        }
        rows.push(row);
    }
    if !args.quiet {
        let mut header = vec!["CONTAINER ID"];
        if origin == Origin::Image {
            header.push("IMAGE");
        }
        header.extend(["COMMAND", "CREATED", "STATUS"]);
        if origin == Origin::Layers {
            header.push("LAYERS");
        }
        header.push("NAMES");
        if args.size {
            header.push("SIZE");
        }
        write!(out, "{}", table(&header, &rows)).map_err(Error::io("write", "stdout"))?;
    }
    Ok(0)
}

/// docker's SIZE column: the writable layer, and with the layers below it.
fn size_column(store: &Store, record: &Record) -> String {
    let writable = lifecycle::disk_usage(&lifecycle::changes_source(store, record));
    let layers: u64 = record.layers.iter().map(|l| lifecycle::disk_usage(l)).sum();
    format!(
        "{} (virtual {})",
        human_size(writable),
        human_size(writable + layers)
    )
}

/// Prints what a container changed, a line each: `A /path`, `C /path`, `D /path`.
pub fn diff(store: &Store, container: &str) -> Result<i32> {
    let record = store.find(container)?;
    let mut out = std::io::stdout().lock();
    for change in lifecycle::changes(store, &record)? {
        writeln!(out, "{change}").map_err(Error::io("write", "stdout"))?;
    }
    Ok(0)
}

// ANCHOR: commit
/// Writes a container's changes as an OCI layer archive to `output` (`-` for stdout).
pub fn commit_layer(store: &Store, container: &str, output: &Path) -> Result<archive::Written> {
    let record = store.find(container)?;
    let changes = lifecycle::changes(store, &record)?;
    let source = lifecycle::changes_source(store, &record);
    if output.as_os_str() == "-" {
        return archive::write_layer(&changes, &source, std::io::stdout().lock());
    }
    // Written beside the destination and renamed: a failed commit leaves no partial archive.
    let partial = output.with_extension("partial");
    let written = File::create(&partial)
        .map_err(Error::io("create", &partial))
        .and_then(|file| archive::write_layer(&changes, &source, BufWriter::new(file)));
    match written {
        Ok(written) => {
            std::fs::rename(&partial, output).map_err(Error::io("create", output))?;
            Ok(written)
        }
        Err(error) => {
            let _best_effort = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}
// ANCHOR_END: commit

/// Removes containers that are not running, naming each one removed; like docker, a failure
/// is reported and the others are still removed, and the status says something failed.
pub fn rm(program: &str, store: &Store, containers: &[String]) -> Result<i32> {
    let mut failed = false;
    for reference in containers {
        match store
            .find(reference)
            .and_then(|r| lifecycle::remove(store, &r))
        {
            Ok(()) => println!("{reference}"),
            Err(error) => {
                report(program, &error);
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}
