//! Networks as docker shows them: `network inspect`'s JSON document and `network ls`'s rows.

use std::collections::BTreeMap;

use dockyard_support::clock::format_rfc3339_nano;
use serde::Serialize;

use super::record::Network;

/// `network inspect`'s document, field for field as docker's Engine API names them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    /// The name.
    pub name: String,
    /// The id.
    pub id: String,
    /// When it was made (RFC 3339 with nanoseconds).
    pub created: String,
    /// Always `local`.
    pub scope: &'static str,
    /// Always `bridge`.
    pub driver: &'static str,
    /// Always false (IPv4 only).
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    /// The address manager's settings.
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    /// `--internal`.
    pub internal: bool,
    /// The containers attached now, by id.
    pub containers: BTreeMap<String, Member>,
    /// Driver options: the bridge's name.
    pub options: BTreeMap<String, String>,
    /// `--label`.
    pub labels: BTreeMap<String, String>,
}

/// `IPAM`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    /// Always `default`.
    pub driver: &'static str,
    /// The subnet and gateway.
    pub config: Vec<IpamConfig>,
}

/// One subnet of `IPAM.Config`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    /// `172.18.0.0/16`.
    pub subnet: String,
    /// `172.18.0.1`.
    pub gateway: String,
}

/// One container of `Containers`.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Its name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Its interface's hardware address.
    #[serde(rename = "MacAddress")]
    pub mac_address: String,
    /// `172.18.0.2/16`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    /// Always empty.
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

impl Document {
    /// The document of `network`.
    pub fn of(network: &Network) -> Document {
        let prefix = network.subnet.prefix_len();
        Document {
            name: network.name.clone(),
            id: network.id.clone(),
            created: format_rfc3339_nano(network.created_ns),
            scope: "local",
            driver: "bridge",
            enable_ipv6: false,
            ipam: Ipam {
                driver: "default",
                config: vec![IpamConfig {
                    subnet: network.subnet.to_string(),
                    gateway: network.gateway.to_string(),
                }],
            },
            internal: network.internal,
            containers: network
                .endpoints
                .iter()
                .map(|(id, endpoint)| {
                    let member = Member {
                        name: endpoint.name.clone(),
                        mac_address: endpoint.mac.clone(),
                        ipv4_address: format!("{}/{prefix}", endpoint.ip),
                        ipv6_address: String::new(),
                    };
                    (id.clone(), member)
                })
                .collect(),
            options: BTreeMap::from([(
                "com.docker.network.bridge.name".to_owned(),
                network.bridge.clone(),
            )]),
            labels: network.labels.clone(),
        }
    }
}

/// `network ls`'s row: id, name, driver, scope.
pub fn ls_row(network: &Network) -> Vec<String> {
    vec![
        network.short_id().to_owned(),
        network.name.clone(),
        "bridge".to_owned(),
        "local".to_owned(),
    ]
}
