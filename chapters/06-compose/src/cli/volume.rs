//! `volume create|ls|inspect|rm|prune`: docker's volume commands, printing what the library's
//! [`Volumes`] returns as docker prints it.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use ch04_images::cli::Globals;
use clap::{Args, Subcommand};
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, exit_code, print_error, report};
use dockyard_support::format::template;

use super::docker_json;
use super::prune::{confirmed, report as pruned};
use crate::volume::{CreateOptions, Document, Error, Filters, Result, Volumes, usage};

/// `volume`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume (a random name if none is given); prints its name
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show volumes' details as JSON
    Inspect(InspectArgs),
    /// Remove volumes no container uses
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove the anonymous volumes no container uses (all unused volumes with --all)
    Prune(PruneArgs),
}

/// Runs a `volume` subcommand and ends as docker does.
pub fn execute(program: &str, globals: &Globals, command: &VolumeCommand) -> ExitCode {
    let run = || -> Result<i32> {
        let containers = ch03_union_fs::Store::open(&globals.storage.root)?;
        let volumes = Volumes::open(&containers)?;
        match command {
            VolumeCommand::Create(args) => args.execute(&volumes),
            VolumeCommand::Ls(args) => args.execute(&volumes),
            VolumeCommand::Inspect(args) => args.execute(program, &volumes),
            VolumeCommand::Rm(args) => args.execute(program, &volumes),
            VolumeCommand::Prune(args) => args.execute(&volumes),
        }
    };
    match run() {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, Invocation::Other),
    }
}

/// `volume create`'s options.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The volume's name
    name: Option<String>,
    /// Volume driver (only local)
    #[arg(short, long, default_value = "local")]
    driver: String,
    /// Set metadata on the volume (KEY=VALUE, or KEY for an empty value)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Driver options: type=, device=, o= (as mount -t TYPE -o O DEVICE)
    #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE")]
    options: Vec<String>,
}

impl CreateArgs {
    fn execute(&self, volumes: &Volumes) -> Result<i32> {
        let options = CreateOptions {
            driver: Some(self.driver.clone()),
            labels: pairs(&self.labels),
            options: pairs(&self.options),
            anonymous: false,
        };
        let (volume, _) = volumes.create(self.name.as_deref(), &options)?;
        out(format!("{}\n", volume.name))?;
        Ok(0)
    }
}

/// `KEY=VALUE` words as a map; a lone `KEY` has an empty value.
fn pairs(words: &[String]) -> BTreeMap<String, String> {
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) => (key.to_owned(), value.to_owned()),
            None => (word.clone(), String::new()),
        })
        .collect()
}

/// `volume ls`'s options.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    quiet: bool,
    /// Filter output: dangling=true|false, name=…, driver=…, label=KEY[=VALUE]
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    filters: Vec<String>,
    /// Format output with a template: {{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}} {{.Labels}}
    #[arg(long)]
    format: Option<String>,
}

/// The `--format` fields of `volume ls`, with their headers.
const LS_FIELDS: [(&str, &str); 5] = [
    ("{{.Driver}}", "DRIVER"),
    ("{{.Name}}", "VOLUME NAME"),
    ("{{.Scope}}", "SCOPE"),
    ("{{.Mountpoint}}", "MOUNTPOINT"),
    ("{{.Labels}}", "LABELS"),
];

impl LsArgs {
    fn execute(&self, volumes: &Volumes) -> Result<i32> {
        let filters = Filters::parse(&self.filters)?;
        let users = usage::users(volumes.containers())?;
        let shown: Vec<Document> = volumes
            .list()?
            .iter()
            .filter(|v| filters.matches(v, users.contains_key(&v.name)))
            .map(Document::of)
            .collect();
        if self.quiet {
            out(shown
                .iter()
                .map(|d| format!("{}\n", d.name))
                .collect::<String>())?;
            return Ok(0);
        }
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|d| {
                let labels = d.labels.clone().unwrap_or_default();
                let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                vec![
                    d.driver.clone(),
                    d.name.clone(),
                    d.scope.clone(),
                    d.mountpoint.clone(),
                    labels.join(","),
                ]
            })
            .collect();
        let text = match &self.format {
            Some(format) => template(format, &LS_FIELDS, &rows).map_err(unsupported_format)?,
            None => driver_table(&rows),
        };
        out(text)?;
        Ok(0)
    }
}

/// The default `volume ls` table. docker's tabwriter pads each column to its widest cell
/// plus three spaces, but to ten characters at least: `DRIVER    VOLUME NAME`.
fn driver_table(rows: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 10;
    let header = ["DRIVER".to_owned(), "VOLUME NAME".to_owned()];
    let widest = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let width = (widest.max(header[0].len()) + 3).max(MIN_WIDTH);
    std::iter::once(&header[..])
        .chain(rows.iter().map(|r| &r[..2]))
        .map(|r| format!("{:<width$}{}\n", r[0], r[1]))
        .collect()
}

fn unsupported_format(message: String) -> Error {
    Error::invalid(message, "use the fields listed in --help")
}

/// `volume inspect`'s options.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format each volume with a template: {{.Name}} {{.Driver}} {{.Mountpoint}} {{.CreatedAt}} {{.Scope}}
    #[arg(short, long)]
    format: Option<String>,
    /// Volume names
    #[arg(required = true)]
    names: Vec<String>,
}

/// The `--format` fields of `volume inspect`.
const INSPECT_FIELDS: [(&str, &str); 5] = [
    ("{{.Name}}", "NAME"),
    ("{{.Driver}}", "DRIVER"),
    ("{{.Mountpoint}}", "MOUNTPOINT"),
    ("{{.CreatedAt}}", "CREATED AT"),
    ("{{.Scope}}", "SCOPE"),
];

impl InspectArgs {
    /// Prints the volumes found; like docker, a missing one is reported after, with status 1.
    fn execute(&self, program: &str, volumes: &Volumes) -> Result<i32> {
        let mut documents = Vec::new();
        let mut missing = Vec::new();
        for name in &self.names {
            match volumes.get(name) {
                Ok(volume) => documents.push(Document::of(&volume)),
                Err(error @ Error::NoSuchVolume(_)) => missing.push(error),
                Err(error) => return Err(error),
            }
        }
        match &self.format {
            Some(format) => {
                let rows: Vec<Vec<String>> = documents
                    .iter()
                    .map(|d| {
                        vec![
                            d.name.clone(),
                            d.driver.clone(),
                            d.mountpoint.clone(),
                            d.created_at.clone(),
                            d.scope.clone(),
                        ]
                    })
                    .collect();
                out(template(format, &INSPECT_FIELDS, &rows).map_err(unsupported_format)?)?;
            }
            None => out(format!("{}\n", docker_json(&documents)))?,
        }
        for error in &missing {
            print_error(program, error);
        }
        Ok(i32::from(!missing.is_empty()))
    }
}

/// `volume rm`'s options.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Do not fail on a volume that does not exist (one in use is still refused)
    #[arg(short, long)]
    force: bool,
    /// Volume names
    #[arg(required = true)]
    names: Vec<String>,
}

impl RmArgs {
    /// Removes each volume, printing its name; like docker, a failure is reported and the
    /// others are still removed, and the status (1) says so.
    fn execute(&self, program: &str, volumes: &Volumes) -> Result<i32> {
        super::remove_each(program, &self.names, |name| match volumes.remove(name) {
            Err(Error::NoSuchVolume(_)) if self.force => Ok(()),
            done => done,
        })
        .map_err(Error::io_op("write to stdout"))
    }
}

/// `volume prune`'s options.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

impl PruneArgs {
    fn execute(&self, volumes: &Volumes) -> Result<i32> {
        if !self.force && !self.confirmed()? {
            return Ok(0);
        }
        let done = volumes.prune(self.all)?;
        out(pruned("Volumes", &done.volumes, done.reclaimed))?;
        Ok(0)
    }

    /// Asks as docker asks; only `y` goes on.
    fn confirmed(&self) -> Result<bool> {
        let which = if self.all {
            "all local volumes"
        } else {
            "anonymous local volumes"
        };
        confirmed(&format!("{which} not used by at least one container"))
            .map_err(Error::io_op("read the answer"))
    }
}

/// Writes to stdout, as every command's output goes.
fn out(text: impl std::fmt::Display) -> Result<()> {
    write!(std::io::stdout().lock(), "{text}").map_err(Error::io_op("write to stdout"))
}
