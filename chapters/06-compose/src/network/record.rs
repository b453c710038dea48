//! A network as the store keeps it: `<root>/networks/<id>.json`, one file per network holding
//! its settings and its endpoints (the containers attached now, with their addresses). The
//! file is the address manager's ledger: an address is taken exactly when an endpoint in it
//! holds it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::ports::PortBinding;

/// The name of the network containers join when `--network` is not given.
pub const DEFAULT_NETWORK: &str = "bridge";

/// A bridge network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// 64 hex digits.
    pub id: String,
    /// Its name, unique in the store.
    pub name: String,
    /// When it was made, in nanoseconds since the epoch.
    pub created_ns: u64,
    /// Its addresses, e.g. `172.18.0.0/16`.
    pub subnet: Ipv4Net,
    /// The bridge's own address in the subnet: the containers' default route.
    pub gateway: Ipv4Addr,
    /// The Linux bridge: `dy-` and the id's first 12 hex digits.
    pub bridge: String,
    /// `--internal`: no way out, no published ports.
    pub internal: bool,
    /// `--label K=V`.
    pub labels: BTreeMap<String, String>,
    /// The containers attached now, by id.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Being removed: no container may join it (its bridge and rules go outside the store's
    /// lock, see [`super::store::Networks::remove`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removing: bool,
}

/// One container's attachment to a network, held while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The container's name, without docker's leading `/`: other members find it by it.
    pub name: String,
    /// `--network-alias` names, found like the name.
    pub aliases: Vec<String>,
    /// Its address on the network.
    pub ip: Ipv4Addr,
    /// Its interface's hardware address, derived from `ip` as docker's (`02:42:` and the
    /// address's four bytes), so that it never repeats on the network.
    pub mac: String,
    /// The host's end of its veth pair, on the bridge.
    pub host_veth: String,
    /// Its published ports, with the host ports the kernel chose for `-p CONTAINERPORT`.
    pub ports: Vec<PortBinding>,
    /// The process that holds the endpoint (the container's monitor): when it is gone, so is
    /// the endpoint.
    pub holder: Holder,
}

/// A process, named for good: its pid and when it started (a pid alone may be reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its pid.
    pub pid: u32,
    /// When it started, in clock ticks since boot.
    pub started: u64,
}

impl Holder {
    /// This process.
    pub fn this_process() -> Holder {
        let pid = std::process::id();
        Holder {
            pid,
            started: dockyard_support::process::started_at(pid).unwrap_or(0),
        }
    }

    /// Whether the process still runs.
    pub fn alive(&self) -> bool {
        dockyard_support::process::started_at(self.pid) == Some(self.started)
    }
}

impl Network {
    /// The default network is docker's "default bridge": no names (only user-defined networks
    /// have the embedded DNS server), every container on it unless told otherwise.
    pub fn is_default(&self) -> bool {
        self.name == DEFAULT_NETWORK
    }

    /// The id's short form, as `network ls` shows it.
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// The addresses of members called `name` (a container name or an alias), for DNS.
    pub fn lookup(&self, name: &str) -> Vec<Ipv4Addr> {
        let name = name.trim_end_matches('.');
        self.endpoints
            .iter()
            .filter(|(id, endpoint)| {
                endpoint.name.eq_ignore_ascii_case(name)
                    || endpoint
                        .aliases
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(name))
                    || (name.len() >= 12 && id.starts_with(&name.to_ascii_lowercase()))
            })
            .map(|(_, endpoint)| endpoint.ip)
            .collect()
    }

    /// The name of the member at `ip`, for reverse lookups.
    pub fn name_of(&self, ip: Ipv4Addr) -> Option<&str> {
        self.endpoints
            .values()
            .find(|endpoint| endpoint.ip == ip)
            .map(|endpoint| endpoint.name.as_str())
    }
}

/// The hardware address docker gives an address: `02:42:` (locally administered) and the
/// address's bytes.
pub fn mac_for(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}
