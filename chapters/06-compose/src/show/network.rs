//! A container's network as `ps`, `port` and `inspect` show it: what its endpoints hold
//! while it runs (its addresses, its published ports with the host ports the kernel chose).

use std::collections::BTreeMap;

use serde::Serialize;

use super::view::ContainerView;
use crate::network::ports::{self, PortBinding};

/// Every port the container publishes now, on every network.
pub fn published(view: &ContainerView) -> Vec<PortBinding> {
    view.endpoints
        .iter()
        .flat_map(|(_, endpoint)| endpoint.ports.iter().copied())
        .collect()
}

/// `ps`'s PORTS column: the published ports and the exposed ones, while it runs.
pub fn ports_column(view: &ContainerView) -> String {
    if view.endpoints.is_empty() {
        return String::new();
    }
    ports::format_ps(&published(view), &ports::exposed_ports(&view.config))
}

/// `ps`'s NETWORKS column: the networks it joins (its `--network`).
pub fn networks_column(view: &ContainerView) -> String {
    view.host.network.mode.name().to_owned()
}

/// docker's `NetworkSettings`, the parts that have a meaning here.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// Published ports: `"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]`, exposed ones
    /// with `null`.
    pub ports: BTreeMap<String, Option<Vec<HostBinding>>>,
    /// On the default network: its gateway, else `""` (as docker).
    pub gateway: String,
    /// On the default network: its address, else `""`.
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// On the default network: its prefix length, else 0.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    /// On the default network: its interface's hardware address, else `""`.
    pub mac_address: String,
    /// One entry per network it is attached to, by network name.
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// One published port of `NetworkSettings.Ports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostBinding {
    /// `0.0.0.0` for every address.
    pub host_ip: String,
    /// The host port, as a string (docker's type).
    pub host_port: String,
}

/// One network of `NetworkSettings.Networks` (all empty for a container that does not run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    /// `--network-alias` names; `null` when none.
    pub aliases: Option<Vec<String>>,
    /// The network's id.
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    /// The network's gateway.
    pub gateway: String,
    /// Its address.
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    /// The prefix length.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    /// Its interface's hardware address.
    pub mac_address: String,
}

impl NetworkSettings {
    /// The settings of `view`: empty but for its network's name when it is not running.
    pub fn of(view: &ContainerView) -> NetworkSettings {
        let mut ports: BTreeMap<String, Option<Vec<HostBinding>>> = BTreeMap::new();
        if !view.endpoints.is_empty() {
            for (port, protocol) in ports::exposed_ports(&view.config) {
                ports.insert(format!("{port}/{protocol}"), None);
            }
            for binding in published(view) {
                let key = format!("{}/{}", binding.container_port, binding.protocol);
                ports
                    .entry(key)
                    .or_default()
                    .get_or_insert_with(Vec::new)
                    .push(HostBinding {
                        host_ip: binding.host_address().to_string(),
                        host_port: binding.host_port.to_string(),
                    });
            }
        }
        let mut networks: BTreeMap<String, EndpointSettings> = view
            .endpoints
            .iter()
            .map(|(network, endpoint)| {
                let settings = EndpointSettings {
                    aliases: (!endpoint.aliases.is_empty()).then(|| endpoint.aliases.clone()),
                    network_id: network.id.clone(),
                    gateway: network.gateway.to_string(),
                    ip_address: endpoint.ip.to_string(),
                    ip_prefix_len: network.subnet.prefix_len(),
                    mac_address: endpoint.mac.clone(),
                };
                (network.name.clone(), settings)
            })
            .collect();
        if let Some(name) = view.host.network.mode.network() {
            // A stopped container still names its network, with nothing held on it.
            networks.entry(name.to_owned()).or_default();
        }
        let default = view
            .endpoints
            .iter()
            .find(|(network, _)| network.is_default());
        NetworkSettings {
            ports,
            gateway: default
                .map(|(n, _)| n.gateway.to_string())
                .unwrap_or_default(),
            ip_address: default.map(|(_, e)| e.ip.to_string()).unwrap_or_default(),
            ip_prefix_len: default.map(|(n, _)| n.subnet.prefix_len()).unwrap_or(0),
            mac_address: default.map(|(_, e)| e.mac.clone()).unwrap_or_default(),
            networks,
        }
    }
}
