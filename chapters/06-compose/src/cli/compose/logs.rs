//! `compose logs [-f] [--tail N] [-t] [--no-color] [SERVICE...]`: every container's log,
//! each line after its container's name (`web-1  | …`), as Compose shows them; and the same
//! view for `up` in the foreground.
//!
//! Without `-f` the logs are merged by time, so the output reads as the application ran.
//! With `-f`, a thread follows each container and sends its lines here as they come, until
//! every container has stopped or `stop` (Ctrl-C, for `up`) says so.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use ch04_images::cli::{Context, Globals};
use clap::Args;

use super::ComposeArgs;
use crate::cli::logs::{has_stopped, tail_count};
use crate::compose::engine::ContainerInfo;
use crate::compose::labels;
use crate::container::Paths;
use crate::error::Result;
use crate::log::encode::format_time_fixed;
use crate::log::{Entry, Follower, LogReader, ReadOptions};

/// `logs`' options, as Docker Compose's.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long, value_name = "N", default_value = "all")]
    tail: String,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Produce monochrome output
    #[arg(long)]
    no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    no_log_prefix: bool,
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// How the lines look and which are read.
#[derive(Debug, Clone)]
pub struct View {
    /// Keep reading until the containers stop.
    pub follow: bool,
    /// Which entries.
    pub read: ReadOptions,
    /// A time before each line.
    pub timestamps: bool,
    /// The `name  | ` prefix.
    pub prefix: bool,
    /// Colored prefixes.
    pub color: bool,
}

impl LogsArgs {
    /// Prints the project's containers' logs.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let containers = args.containers(program, globals, &self.services)?;
        let cx = Context::open(program, globals)?;
        let view = View {
            follow: self.follow,
            read: ReadOptions {
                tail: tail_count(&self.tail),
                since_ns: None,
                until_ns: None,
            },
            timestamps: self.timestamps,
            prefix: !self.no_log_prefix,
            color: !self.no_color && std::io::stdout().is_terminal(),
        };
        show(&cx, &containers, &view, &AtomicBool::new(false))?;
        Ok(0)
    }
}

/// Compose's prefix colors, in its order.
const COLORS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// A container's prefix, padded to the longest name: Compose names a container by its
/// service and number (`web-1`) unless `container_name` fixed another name.
fn prefixes(containers: &[ContainerInfo], view: &View) -> Vec<String> {
    let names: Vec<String> = containers
        .iter()
        .map(|c| {
            let project = c.label(labels::PROJECT);
            c.name
                .strip_prefix(&format!("{project}-"))
                .unwrap_or(&c.name)
                .to_owned()
        })
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if !view.prefix {
                String::new()
            } else if view.color {
                let color = COLORS[i % COLORS.len()];
                format!("\x1b[{color}m{name:width$}  |\x1b[0m ")
            } else {
                format!("{name:width$}  | ")
            }
        })
        .collect()
}

/// Prints the logs of `containers` as `view` says, until they are read (or, following,
/// until the containers stopped or `stop` is set).
pub fn show(
    cx: &Context,
    containers: &[ContainerInfo],
    view: &View,
    stop: &AtomicBool,
) -> Result<()> {
    let prefixes = prefixes(containers, view);
    let paths: Vec<Paths> = containers
        .iter()
        .map(|c| Paths::new(cx.store.containers(), &c.id))
        .collect();
    let mut out = std::io::stdout().lock();
    let timestamps = view.timestamps;
    let line = |out: &mut dyn Write, prefix: &str, entry: &Entry| -> std::io::Result<()> {
        out.write_all(prefix.as_bytes())?;
        if timestamps {
            write!(out, "{} ", format_time_fixed(entry.time_ns))?;
        }
        out.write_all(entry.log.as_bytes())?;
        if !entry.log.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        Ok(())
    };
    if !view.follow {
        let mut all: Vec<(u64, usize, Entry)> = Vec::new();
        for (i, paths) in paths.iter().enumerate() {
            let mut reader = LogReader::open(&paths.log(), &view.read)?;
            while let Some(batch) = reader.next_batch()? {
                all.extend(batch.into_iter().map(|e| (e.time_ns, i, e)));
            }
        }
        // Stable: one container's lines of the same nanosecond keep their order.
        all.sort_by_key(|(time, _, _)| *time);
        for (_, i, entry) in &all {
            if line(&mut out, &prefixes[*i], entry).is_err() {
                return Ok(());
            }
        }
        return Ok(());
    }
    let (sender, receiver) = mpsc::channel::<(usize, Vec<Entry>)>();
    std::thread::scope(|scope| -> Result<()> {
        for (i, paths) in paths.iter().enumerate() {
            let sender = sender.clone();
            let read = view.read;
            scope.spawn(move || -> Result<()> {
                let reader = LogReader::open(&paths.log(), &read)?;
                let stopped = || has_stopped(paths) || stop.load(Ordering::Relaxed);
                let mut follower = Follower::new(reader, stopped);
                while let Some(batch) = follower.next_batch()? {
                    if sender.send((i, batch)).is_err() {
                        break;
                    }
                }
                Ok(())
            });
        }
        drop(sender);
        for (i, batch) in receiver {
            for entry in &batch {
                if line(&mut out, &prefixes[i], entry).is_err() {
                    // The reader of our output has gone: stop following.
                    stop.store(true, Ordering::Relaxed);
                }
            }
            let _ = out.flush();
        }
        Ok(())
    })
}
