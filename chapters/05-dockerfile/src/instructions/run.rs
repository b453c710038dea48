//! `RUN [--mount=…] [--network=…] [--security=…] [--device=…] command`.
//!
//! The command is in shell or exec form ([`CommandLine`]), and may be a heredoc: `RUN
//! <<EOF` followed by a script, which the builder runs as a file. The flags change what the
//! command runs with:
//!
//! - `--mount` (repeatable) adds a mount for the command's duration ([`Mount`]);
//! - `--network=default|none|host` chooses its network;
//! - `--security=sandbox|insecure` runs it with the usual confinement or without;
//! - `--device=name[,required]` gives it a CDI device.
//!
//! Network and security are checked here; a mount written out is parsed here, one written
//! with variables after the builder expands them (see [`Word`]).

use super::flags::{FlagKind, read_flags};
use super::mount::{Mount, go_bool};
use super::{CommandLine, InstructionError, Parsed, Word, csv, suggest};
use crate::parser::{Heredoc, Node};

/// `RUN`: a command run in a container over the stage so far; its changes are a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command, shell or exec form.
    pub command: CommandLine,
    /// The heredocs the line opened (a script, or files the command reads), as written.
    pub heredocs: Vec<Heredoc>,
    /// The `--mount`s, in order.
    pub mounts: Vec<Word<Mount>>,
    /// `--network`.
    pub network: Network,
    /// `--security`.
    pub security: Security,
    /// The `--device`s.
    pub devices: Vec<Device>,
    /// The flags given, by name, in the order first given.
    pub flags_used: Vec<String>,
}

/// The network a `RUN` has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// The build's (the default).
    #[default]
    Default,
    /// None: a loopback interface only.
    None,
    /// The host's.
    Host,
}

/// Whether a `RUN` is confined as a container is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// Confined (the default).
    #[default]
    Sandbox,
    /// Every capability, no seccomp or AppArmor: needs the builder's permission.
    Insecure,
}

/// A CDI device a `RUN` is given: `--device=vendor.com/gpu=all,required`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The device's fully qualified name.
    pub name: String,
    /// Whether the build fails when the device is not there.
    pub required: bool,
}

/// The flags `RUN` declares.
const FLAGS: &[(&str, FlagKind)] = &[
    ("device", FlagKind::Strings),
    ("mount", FlagKind::Strings),
    ("network", FlagKind::String),
    ("security", FlagKind::String),
];

/// Parses a `RUN` node.
pub fn parse(node: &Node) -> Parsed<Run> {
    let flags = read_flags(&node.flags, FLAGS)?;
    let command = CommandLine::of(node);
    let devices = flags
        .strings("device")
        .iter()
        .map(|spec| device(spec))
        .collect::<Parsed<_>>()?;
    let mounts = flags
        .strings("mount")
        .iter()
        .map(|spec| mount(spec))
        .collect::<Parsed<_>>()?;
    Ok(Run {
        command,
        heredocs: node.heredocs.clone(),
        mounts,
        network: network(flags.string("network").unwrap_or("default"))?,
        security: security(flags.string("security").unwrap_or("sandbox"))?,
        devices,
        flags_used: flags.names(),
    })
}

/// A mount written out is parsed now; one with variables gets BuildKit's early checks.
fn mount(spec: &str) -> Parsed<Word<Mount>> {
    let word = Word::new(spec, |spec| {
        Mount::parse(spec, &mut |value| Ok(value.to_owned()))
    })?;
    if let Word::Expandable(spec) = &word {
        Mount::check_unexpanded(spec)?;
    }
    Ok(word)
}

fn network(value: &str) -> Parsed<Network> {
    match value {
        "default" => Ok(Network::Default),
        "none" => Ok(Network::None),
        "host" => Ok(Network::Host),
        _ => Err(InstructionError::new(format!(
            "invalid network mode {}",
            crate::parser::go_quote(value)
        ))
        .with_hint("--network is default, none or host")),
    }
}

fn security(value: &str) -> Parsed<Security> {
    match value {
        "sandbox" => Ok(Security::Sandbox),
        "insecure" => Ok(Security::Insecure),
        _ => Err(InstructionError::new(format!(
            "security {} is not valid",
            crate::parser::go_quote(value)
        ))
        .with_hint("--security is sandbox or insecure")),
    }
}

/// `--device=name[,required[=bool]]`, also `name=…`.
fn device(spec: &str) -> Parsed<Device> {
    let fields = csv::fields(spec)
        .map_err(|error| InstructionError::new(format!("failed to parse csv devices: {error}")))?;
    let mut device = Device {
        name: String::new(),
        required: false,
    };
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (key.to_ascii_lowercase(), Some(value)),
            None => (field.to_ascii_lowercase(), None),
        };
        match (key.as_str(), value) {
            ("required", None) => device.required = true,
            ("name", Some(value)) if device.name.is_empty() => device.name = value.to_owned(),
            ("name", Some(_)) => {
                let message = format!("device name already set to {}", device.name);
                return Err(InstructionError::new(message));
            }
            ("required", Some(value)) => {
                device.required = go_bool(value).ok_or_else(|| {
                    InstructionError::new(format!("invalid value for required: {value}"))
                })?;
            }
            // The first other field is the name.
            _ if device.name.is_empty() => device.name = field.clone(),
            (_, None) => {
                let message = format!("invalid field '{field}' must be a key=value pair");
                return Err(InstructionError::new(message));
            }
            (key, Some(_)) => {
                let mut message = format!("unexpected key '{key}' in '{field}'");
                if let Some(close) = suggest::closest(key, &["name", "required"], true) {
                    message.push_str(&format!(" (did you mean {close}?)"));
                }
                return Err(InstructionError::new(message));
            }
        }
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices() {
        let gpu = device("vendor.com/gpu=all,required").expect("valid");
        assert_eq!(
            (gpu.name.as_str(), gpu.required),
            ("vendor.com/gpu=all", true)
        );
        let named = device("name=a,required=false").expect("valid");
        assert_eq!((named.name.as_str(), named.required), ("a", false));
        assert_eq!(
            device("a,b").expect_err("two names").message,
            "invalid field 'b' must be a key=value pair"
        );
    }

    #[test]
    fn networks_and_security() {
        assert_eq!(network("none"), Ok(Network::None));
        assert_eq!(
            network("bridge").expect_err("unknown").message,
            "invalid network mode \"bridge\""
        );
        assert_eq!(
            security("privileged").expect_err("unknown").message,
            "security \"privileged\" is not valid"
        );
    }
}
