//! `network create|ls|inspect|rm|prune`: docker's network commands, printing what the
//! library's [`Networks`] returns as docker prints it.

use std::io::Write;
use std::process::ExitCode;

use ch01_namespaces::Narrator;
use ch04_images::cli::Globals;
use clap::{Args, Subcommand};
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, exit_code, print_error, report};
use dockyard_support::format::{tabwriter, template};

use super::prune::confirmed;
use crate::lifecycle::connect::{ConnectOptions, connect, disconnect};
use crate::network::store::{CreateOptions, Networks};
use crate::network::view::{Document, ls_row};
use crate::network::{Error, Result};

/// `network`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a bridge network; prints its id
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show networks' details as JSON
    Inspect(InspectArgs),
    /// Remove networks no running container uses
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove every network no running container uses (but the default one)
    Prune(PruneArgs),
    /// Connect a container to a network (at once if it runs, and at every start)
    Connect(ConnectArgs),
    /// Disconnect a container from a network it was connected to
    Disconnect(DisconnectArgs),
}

/// Runs a `network` subcommand and ends as docker does.
pub fn execute(program: &str, globals: &Globals, command: &NetworkCommand) -> ExitCode {
    let narrator = match ch01_namespaces::cli::narrator(globals.explain) {
        Ok(narrator) => narrator,
        Err(error) => return report(program, &error, Invocation::Other),
    };
    let run = || -> crate::Result<i32> {
        let containers = ch03_union_fs::Store::open(&globals.storage.root)?;
        let networks = Networks::open(&containers)?;
        Ok(match command {
            NetworkCommand::Create(args) => args.execute(&networks, &narrator)?,
            NetworkCommand::Ls(args) => args.execute(&networks)?,
            NetworkCommand::Inspect(args) => args.execute(program, &networks)?,
            NetworkCommand::Rm(args) => args.execute(program, &networks, &narrator)?,
            NetworkCommand::Prune(args) => args.execute(&networks, &narrator)?,
            NetworkCommand::Connect(args) => args.execute(&containers, &narrator)?,
            NetworkCommand::Disconnect(args) => args.execute(&containers, &narrator)?,
        })
    };
    match run() {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, Invocation::Other),
    }
}

/// `network create`'s options.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The network's name
    name: String,
    /// Network driver (only bridge)
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR form, e.g. 172.30.0.0/16 (default: a free one of docker's pools)
    #[arg(long, value_name = "CIDR")]
    subnet: Option<String>,
    /// The bridge's address in the subnet (default: its first address)
    #[arg(long, value_name = "IP")]
    gateway: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    /// Set metadata on the network (KEY=VALUE)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
}

impl CreateArgs {
    fn execute(&self, networks: &Networks, n: &Narrator) -> Result<i32> {
        if self.driver != "bridge" {
            return Err(Error::invalid(
                format!("plugin \"{}\" not found", self.driver),
                "only the bridge driver exists here",
            ));
        }
        let subnet = match &self.subnet {
            Some(text) => Some(text.parse().map_err(|_| {
                Error::invalid(
                    format!("invalid argument {text:?} for \"--subnet\" flag: invalid CIDR address: {text}"),
                    "write an IPv4 network such as 172.30.0.0/16",
                )
            })?),
            None => None,
        };
        let subnet: Option<ipnet::Ipv4Net> = subnet;
        if let Some(subnet) = subnet
            && subnet.trunc() != subnet
        {
            return Err(Error::invalid(
                format!("invalid subnet {subnet}: it has host bits set"),
                format!("write the network's first address: {}", subnet.trunc()),
            ));
        }
        let gateway = match &self.gateway {
            Some(text) => Some(text.parse().map_err(|_| {
                Error::invalid(
                    format!("invalid argument {text:?} for \"--gateway\" flag: invalid string being converted to IP address: {text}"),
                    "write an IPv4 address such as 172.30.0.1",
                )
            })?),
            None => None,
        };
        if gateway.is_some() && subnet.is_none() {
            return Err(Error::invalid(
                "every ip-range or gateway must have a corresponding subnet",
                "give --subnet with --gateway",
            ));
        }
        let options = CreateOptions {
            subnet,
            gateway,
            internal: self.internal,
            labels: self
                .labels
                .iter()
                .map(|word| match word.split_once('=') {
                    Some((key, value)) => (key.to_owned(), value.to_owned()),
                    None => (word.clone(), String::new()),
                })
                .collect(),
        };
        let network = networks.create(&self.name, &options, n)?;
        out(format!("{}\n", network.id))?;
        Ok(0)
    }
}

/// `network ls`'s options.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display network ids
    #[arg(short, long)]
    quiet: bool,
    /// Do not truncate the ids
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Format output with a template: {{.ID}} {{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Labels}}
    #[arg(long)]
    format: Option<String>,
}

/// The `--format` fields of `network ls`, with their headers.
const LS_FIELDS: [(&str, &str); 6] = [
    ("{{.ID}}", "NETWORK ID"),
    ("{{.Name}}", "NAME"),
    ("{{.Driver}}", "DRIVER"),
    ("{{.Scope}}", "SCOPE"),
    ("{{.Internal}}", "INTERNAL"),
    ("{{.Labels}}", "LABELS"),
];

impl LsArgs {
    fn execute(&self, networks: &Networks) -> Result<i32> {
        let all = networks.list()?;
        let id = |network: &crate::network::Network| {
            if self.no_trunc {
                network.id.clone()
            } else {
                network.short_id().to_owned()
            }
        };
        if self.quiet {
            out(all
                .iter()
                .map(|n| format!("{}\n", id(n)))
                .collect::<String>())?;
            return Ok(0);
        }
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|network| {
                let mut row = ls_row(network);
                row[0] = id(network);
                row
            })
            .collect();
        if let Some(format) = &self.format {
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .zip(&all)
                .map(|(mut row, network)| {
                    let labels: Vec<String> = network
                        .labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    row.push(network.internal.to_string());
                    row.push(labels.join(","));
                    row
                })
                .collect();
            let text = template(format, &LS_FIELDS, &rows)
                .map_err(|message| Error::invalid(message, "use the fields listed in --help"))?;
            out(text)?;
            return Ok(0);
        }
        out(tabwriter(
            &["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
            &rows,
            10,
        ))?;
        Ok(0)
    }
}

/// `network inspect`'s options.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Network names or ids
    #[arg(required = true)]
    names: Vec<String>,
}

impl InspectArgs {
    /// Prints the networks found; like docker, a missing one is reported after, status 1.
    fn execute(&self, program: &str, networks: &Networks) -> Result<i32> {
        let mut documents = Vec::new();
        let mut missing = Vec::new();
        for name in &self.names {
            match networks.find(name) {
                Ok(mut network) => {
                    // Show only the containers still there.
                    networks.reconcile(&mut network)?;
                    documents.push(Document::of(&network));
                }
                Err(error @ Error::NotFound(_)) => missing.push(error),
                Err(error) => return Err(error),
            }
        }
        out(format!("{}\n", super::docker_json(&documents)))?;
        for error in &missing {
            print_error(program, error);
        }
        Ok(i32::from(!missing.is_empty()))
    }
}

/// `network rm`'s options.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Network names or ids
    #[arg(required = true)]
    names: Vec<String>,
}

impl RmArgs {
    /// Removes each network, printing its name as given; a failure is reported and the
    /// others are still removed, and the status (1) says so.
    fn execute(&self, program: &str, networks: &Networks, n: &Narrator) -> Result<i32> {
        super::remove_each(program, &self.names, |name| {
            networks.remove(name, n).map(drop)
        })
        .map_err(Error::io_op("write to stdout"))
    }
}

/// `network prune`'s options.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

impl PruneArgs {
    fn execute(&self, networks: &Networks, n: &Narrator) -> Result<i32> {
        if !self.force
            && !confirmed("all custom networks not used by at least one container")
                .map_err(Error::io_op("read the answer"))?
        {
            return Ok(0);
        }
        let removed = networks.prune(n)?;
        if !removed.is_empty() {
            out(format!("Deleted Networks:\n{}\n", removed.join("\n")))?;
        }
        Ok(0)
    }
}

/// `network connect`'s options.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Another name the container is found by on this network
    #[arg(long = "alias", value_name = "NAME")]
    aliases: Vec<String>,
    /// A fixed IPv4 address on the network
    #[arg(long, value_name = "IP")]
    ip: Option<std::net::Ipv4Addr>,
    /// The network's name or id
    network: String,
    /// The container's name or id
    container: String,
}

impl ConnectArgs {
    fn execute(&self, store: &ch03_union_fs::Store, n: &Narrator) -> crate::Result<i32> {
        let options = ConnectOptions {
            aliases: self.aliases.clone(),
            ip: self.ip,
        };
        connect(store, &self.network, &self.container, &options, n)?;
        Ok(0)
    }
}

/// `network disconnect`'s options.
#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Accepted for docker's sake (a running container is disconnected anyway)
    #[arg(short, long)]
    force: bool,
    /// The network's name or id
    network: String,
    /// The container's name or id
    container: String,
}

impl DisconnectArgs {
    fn execute(&self, store: &ch03_union_fs::Store, n: &Narrator) -> crate::Result<i32> {
        disconnect(store, &self.network, &self.container, n)?;
        Ok(0)
    }
}

/// Writes to stdout, as every command's output goes.
fn out(text: impl std::fmt::Display) -> Result<()> {
    write!(std::io::stdout().lock(), "{text}").map_err(Error::io_op("write to stdout"))
}
