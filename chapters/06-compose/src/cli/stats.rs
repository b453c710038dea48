//! `stats [-a] [--no-stream] [--no-trunc] [--format T] [CONTAINER...]`: what containers
//! use, in docker's table, refreshed every second until interrupted (or once, with
//! `--no-stream`). CPU use is a rate: each figure compares two samples a second apart.

use std::time::Duration;

use ch02_cgroups::Usage;
use ch04_images::cli::{Context, out};
use clap::Args;
use dockyard_support::format::{Columns, DOCKER_MIN_WIDTH, bytes_size, fill_template, human_size};

use crate::error::{Error, Result};
use crate::show::stats::{Figures, Machine, figures, sample};
use crate::show::{ContainerView, Selection, find, select};

/// `stats`'s options, as docker's.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Show one table and exit, instead of refreshing it every second
    #[arg(long)]
    pub no_stream: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output with a Go-template-like string ({{.Container}} {{.ID}} {{.Name}}
    /// {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}} {{.PIDs}}), "table
    /// TEMPLATE" or "table"
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Container names or ids (default: every running container)
    pub containers: Vec<String>,
}

/// The time between two samples, as docker's collector takes them.
const INTERVAL: Duration = Duration::from_secs(1);

/// Clears the terminal and homes the cursor before each table, as docker does.
const CLEAR_SCREEN: &str = "\x1b[2J\x1b[H";

/// docker's default table.
const TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// The placeholders a template may use, with their headers.
const FIELDS: [(&str, &str); 9] = [
    (".Container", "CONTAINER"),
    (".ID", "CONTAINER ID"),
    (".Name", "NAME"),
    (".CPUPerc", "CPU %"),
    (".MemUsage", "MEM USAGE / LIMIT"),
    (".MemPerc", "MEM %"),
    (".NetIO", "NET I/O"),
    (".BlockIO", "BLOCK I/O"),
    (".PIDs", "PIDS"),
];

/// Every shown container at one instant, and the machine.
struct Samples {
    containers: Vec<(String, ContainerView, Option<Usage>)>,
    machine: Machine,
}

/// One row: the container as the command line named it, and its figures (`None`: it runs
/// but its counters could not be read).
struct Row<'a> {
    named: &'a str,
    view: &'a ContainerView,
    figures: Option<Figures>,
}

impl StatsArgs {
    /// Prints the table once, or every second until interrupted.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let template = match self.format.as_deref() {
            None | Some("table") => TABLE,
            Some(template) => template,
        };
        let mut before = self.sample(cx)?;
        loop {
            std::thread::sleep(INTERVAL);
            let after = self.sample(cx)?;
            let table = self.render(template, &before, &after)?;
            if self.no_stream {
                out(table)?;
                return Ok(0);
            }
            out(format!("{CLEAR_SCREEN}{table}"))?;
            before = after;
        }
    }

    /// The containers named (or every running one, every one with `-a`), sampled.
    fn sample(&self, cx: &Context) -> Result<Samples> {
        let store = cx.store.containers();
        let views: Vec<(String, ContainerView)> = if self.containers.is_empty() {
            let selection = Selection {
                all: self.all,
                ..Selection::default()
            };
            select(&cx.store, &selection)?
                .into_iter()
                .map(|view| (view.record.short_id().to_string(), view))
                .collect()
        } else {
            self.containers
                .iter()
                .map(|name| Ok((name.clone(), find(store, name)?)))
                .collect::<Result<_>>()?
        };
        let machine = Machine::sample()?;
        let containers = views
            .into_iter()
            .map(|(named, view)| {
                let usage = sample(&view)?;
                Ok((named, view, usage))
            })
            .collect::<Result<_>>()?;
        Ok(Samples {
            containers,
            machine,
        })
    }

    /// The table of what each container used between the samples.
    fn render(&self, template: &str, before: &Samples, after: &Samples) -> Result<String> {
        let rows: Vec<Row> = after
            .containers
            .iter()
            .map(|(named, view, usage)| {
                let earlier = before
                    .containers
                    .iter()
                    .find(|(_, v, _)| v.id() == view.id())
                    .and_then(|(_, _, usage)| usage.as_ref());
                let figures = match (view.is_running(), usage) {
                    // docker shows zeros for a container that does not run.
                    (false, _) => Some(Figures {
                        cpu_percent: Some(0.0),
                        block_io: Some((0, 0)),
                        pids: Some(0),
                        ..Figures::default()
                    }),
                    (true, None) => None,
                    (true, Some(now)) => {
                        let then = (earlier.unwrap_or(now), &before.machine);
                        let mut figures = figures(then, (now, &after.machine));
                        figures.network_io = crate::show::stats::network_io(view);
                        Some(figures)
                    }
                };
                Row {
                    named,
                    view,
                    figures,
                }
            })
            .collect();
        let supported: Vec<&str> = FIELDS.iter().map(|(field, _)| *field).collect();
        let columns = Columns {
            header: &|placeholder| {
                FIELDS
                    .iter()
                    .find(|(field, _)| *field == placeholder)
                    .map(|(_, header)| header.to_string())
            },
            value: &|row: &Row, placeholder| self.value(row, placeholder),
            supported: &supported,
            min_width: DOCKER_MIN_WIDTH,
        };
        fill_template(template, &rows, &columns).map_err(|message| Error::Invalid {
            message,
            hint: None,
        })
    }

    /// A row's value for a placeholder, as docker's stats formatter gives it: `--` for what
    /// could not be read.
    fn value(&self, row: &Row, placeholder: &str) -> Option<String> {
        let unknown = || "--".to_string();
        let pair = |(a, b): (u64, u64)| format!("{} / {}", human_size(a), human_size(b));
        let figures = row.figures.as_ref();
        Some(match placeholder {
            ".Container" => row.named.to_string(),
            ".ID" if self.no_trunc => row.view.id().to_string(),
            ".ID" => row.view.record.short_id().to_string(),
            ".Name" if row.view.name().is_empty() => unknown(),
            ".Name" => row.view.name().to_string(),
            ".CPUPerc" => figures
                .and_then(|f| f.cpu_percent)
                .map_or_else(unknown, |cpu| format!("{cpu:.2}%")),
            ".MemUsage" => figures.map_or_else(
                || "-- / --".to_string(),
                |f| format!("{} / {}", bytes_size(f.memory), bytes_size(f.memory_limit)),
            ),
            ".MemPerc" => figures.map_or_else(unknown, |f| format!("{:.2}%", f.memory_percent)),
            ".NetIO" => figures.map_or_else(unknown, |f| pair(f.network_io)),
            ".BlockIO" => figures.and_then(|f| f.block_io).map_or_else(unknown, pair),
            ".PIDs" => figures
                .and_then(|f| f.pids)
                .map_or_else(unknown, |n| n.to_string()),
            _ => return None,
        })
    }
}
