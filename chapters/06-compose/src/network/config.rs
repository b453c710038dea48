//! A container's network settings, as `run` and `create` give them and every start reads them
//! back (part of `hostconfig.json`).

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::ports::PortBinding;
use super::record::DEFAULT_NETWORK;
use super::{Error, Result};

/// `--network`: which network namespace the container gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "Mode", content = "Name")]
pub enum NetworkMode {
    /// Its own namespace, plugged into a bridge network (`bridge`, the default, or a name).
    Bridge(String),
    /// Its own namespace with `lo` alone (`none`).
    None,
    /// The host's namespace (`host`).
    Host,
}

impl Default for NetworkMode {
    fn default() -> Self {
        NetworkMode::Bridge(DEFAULT_NETWORK.to_owned())
    }
}

impl NetworkMode {
    /// Reads `--network`'s value.
    pub fn parse(value: &str) -> Result<NetworkMode> {
        Ok(match value {
            "" | "default" => NetworkMode::default(),
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            other if other.starts_with("container:") => {
                return Err(Error::invalid(
                    format!("network mode {other:?} is not supported"),
                    "use none, host, bridge or a network's name",
                ));
            }
            name => NetworkMode::Bridge(name.to_owned()),
        })
    }

    /// As `inspect` shows it (`HostConfig.NetworkMode`).
    pub fn name(&self) -> &str {
        match self {
            NetworkMode::Bridge(name) => name,
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
        }
    }

    /// The network the container joins, if it joins one.
    pub fn network(&self) -> Option<&str> {
        match self {
            NetworkMode::Bridge(name) => Some(name),
            _ => None,
        }
    }
}

/// Everything about a container's network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// `--network`.
    pub mode: NetworkMode,
    /// `--network-alias`: other names it is found by on its (user-defined) network.
    pub aliases: Vec<String>,
    /// `--ip`: a fixed address on its network.
    pub ip: Option<Ipv4Addr>,
    /// `-p`: ports published on the host (host port 0: the kernel chooses at each start).
    pub ports: Vec<PortBinding>,
    /// `-P`: publish every port the image exposes, on ports the kernel chooses.
    pub publish_all: bool,
    /// `--dns`: name servers instead of the host's.
    pub dns: Vec<IpAddr>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--dns-option`.
    pub dns_options: Vec<String>,
    /// `--add-host NAME:IP`, as given.
    pub extra_hosts: Vec<String>,
    /// Networks joined besides `mode`'s, with `network connect`, in order.
    #[serde(default)]
    pub connected: Vec<Connection>,
}

/// A network a container joins besides its first (`network connect`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The network's name.
    pub network: String,
    /// `--alias`.
    pub aliases: Vec<String>,
    /// `--ip`.
    pub ip: Option<Ipv4Addr>,
}

impl NetworkConfig {
    /// Checks what can be checked before the container exists: options that make no sense
    /// together, as docker refuses them.
    pub fn check(&self) -> Result<()> {
        let bridged = self.mode.network().is_some();
        // Docker ignores -p on `host` (with a warning) and refuses nothing; on `none`, a
        // namespace with `lo` alone, a published port could reach nothing, so say so.
        if self.mode == NetworkMode::None && (!self.ports.is_empty() || self.publish_all) {
            return Err(Error::invalid(
                "conflicting options: port publishing and the container type network mode",
                "--network none has no interface to publish on; drop -p/-P",
            ));
        }
        if !bridged && (self.ip.is_some() || !self.aliases.is_empty()) {
            return Err(Error::invalid(
                "conflicting options: --ip and --network-alias need a bridge network",
                "give --network NAME of a network made with `network create`",
            ));
        }
        if self.mode == NetworkMode::default() && self.ip.is_some() {
            return Err(Error::invalid(
                "user specified IP address is supported on user defined networks only",
                "create a network with `network create` and run with --network NAME --ip ADDRESS",
            ));
        }
        if self.mode == NetworkMode::default() && !self.aliases.is_empty() {
            return Err(Error::invalid(
                "network-scoped alias is supported only for containers in user defined networks",
                "create a network with `network create` and run with --network NAME",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_read_as_docker_names_them() {
        assert_eq!(
            NetworkMode::parse("bridge").unwrap(),
            NetworkMode::default()
        );
        assert_eq!(NetworkMode::parse("none").unwrap(), NetworkMode::None);
        assert_eq!(NetworkMode::parse("host").unwrap(), NetworkMode::Host);
        assert_eq!(
            NetworkMode::parse("backend").unwrap(),
            NetworkMode::Bridge("backend".into())
        );
        assert!(NetworkMode::parse("container:abc").is_err());
        let json = serde_json::to_string(&NetworkMode::parse("backend").unwrap()).unwrap();
        assert_eq!(json, r#"{"Mode":"bridge","Name":"backend"}"#);
    }

    #[test]
    fn aliases_need_a_user_defined_network() {
        let config = NetworkConfig {
            aliases: vec!["db".into()],
            ..NetworkConfig::default()
        };
        assert!(
            config
                .check()
                .unwrap_err()
                .to_string()
                .contains("user defined")
        );
        let config = NetworkConfig {
            mode: NetworkMode::Bridge("backend".into()),
            ..config
        };
        config.check().unwrap();
    }
}
