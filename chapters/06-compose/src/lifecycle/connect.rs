//! `network connect` and `network disconnect`: a container joins or leaves a network besides
//! its first. The change is saved in its `hostconfig.json` (every start joins the networks
//! listed there); a running container is plugged in or out at once, its monitor holding the
//! new endpoint as it holds the others.

use std::net::Ipv4Addr;

use ch01_namespaces::Narrator;
use ch03_union_fs::Store;
use dockyard_support::process::started_at;
use nix::unistd::Pid;

use super::Live;
use crate::container::{HostConfig, read_json, write_json};
use crate::error::{Error, Result};
use crate::network::attach::{Attachment, Veth, plug_running, unplug_one};
use crate::network::config::{Connection, NetworkMode};
use crate::network::record::Holder;
use crate::network::store::{JoinRequest, Networks};

/// `network connect`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// `--alias`.
    pub aliases: Vec<String>,
    /// `--ip`.
    pub ip: Option<Ipv4Addr>,
}

/// Connects the container `reference` to the network `network`.
pub fn connect(
    store: &Store,
    network: &str,
    reference: &str,
    options: &ConnectOptions,
    n: &Narrator,
) -> Result<()> {
    let live = Live::find(store, reference)?;
    let networks = Networks::open(store)?;
    let network = networks.find(network)?;
    let mut host: HostConfig = read_json(&live.paths.host_config())?;
    if host.network.mode == NetworkMode::Host || host.network.mode == NetworkMode::None {
        return Err(Error::invalid(
            format!(
                "container sharing network namespace with another container or host cannot be connected to any other network (its network is {})",
                host.network.mode.name()
            ),
            "create the container on a bridge network to connect it to others",
        ));
    }
    let attached = host.network.mode.network() == Some(network.name.as_str())
        || host
            .network
            .connected
            .iter()
            .any(|c| c.network == network.name);
    if attached {
        return Err(Error::conflict(
            format!(
                "endpoint with name {} already exists in network {}",
                live.display_name(),
                network.name
            ),
            "it is connected already",
        ));
    }
    if let (Some(pid), Some(monitor)) = (live.pid(), live.monitor()) {
        let attachment = Attachment {
            network: network.id.clone(),
            request: JoinRequest {
                name: live.display_name().to_owned(),
                aliases: options.aliases.clone(),
                ip: options.ip,
                holder: Some(Holder {
                    pid: monitor,
                    started: started_at(monitor).unwrap_or(0),
                }),
            },
            ports: Vec::new(),
        };
        plug_running(
            &networks,
            &live.record.id,
            &attachment,
            Pid::from_raw(pid as i32),
            n,
        )?;
    }
    host.network.connected.push(Connection {
        network: network.name.clone(),
        aliases: options.aliases.clone(),
        ip: options.ip,
    });
    write_json(&live.paths.host_config(), &host)
}

/// Disconnects the container `reference` from the network `network` (one it was connected
/// to with `connect`).
pub fn disconnect(store: &Store, network: &str, reference: &str, n: &Narrator) -> Result<()> {
    let live = Live::find(store, reference)?;
    let networks = Networks::open(store)?;
    let network = networks.find(network)?;
    let mut host: HostConfig = read_json(&live.paths.host_config())?;
    let Some(position) = host
        .network
        .connected
        .iter()
        .position(|c| c.network == network.name)
    else {
        if host.network.mode.network() == Some(network.name.as_str()) {
            return Err(Error::invalid(
                format!(
                    "container {} joined network {} with --network: it is disconnected from it only by removing it",
                    live.display_name(),
                    network.name
                ),
                "disconnect networks added with `network connect`",
            ));
        }
        return Err(Error::invalid(
            format!(
                "container {} is not connected to network {}",
                live.record.id, network.name
            ),
            "see its networks with `inspect -f '{{json .NetworkSettings.Networks}}'`",
        ));
    };
    if let Some(endpoint) = network.endpoints.get(&live.record.id)
        && endpoint.holder.alive()
    {
        unplug_one(
            &networks,
            &live.record.id,
            &network,
            endpoint,
            Veth::Delete,
            n,
        )?;
    }
    host.network.connected.remove(position);
    write_json(&live.paths.host_config(), &host)
}
