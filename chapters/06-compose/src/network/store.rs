//! The networks of a `--root`, and the address manager.
//!
//! ```text
//! <root>/networks/
//!   networks.lock        flock: every change to a network file is made holding it
//!   <id>.json            a network: its settings and its endpoints (record.rs)
//! /run/dockyard/networks.lock
//!                        flock, host-wide: choosing a subnet and making its bridge, so two
//!                        engines (two --roots) never pick the same free subnet at once
//! ```
//!
//! **The ledger is the file.** An address is in use exactly when an endpoint of the network's
//! file holds it; allocating is "read the file, pick an address no endpoint holds, write the
//! file back" under the lock, and the file is replaced whole (written aside, then renamed), so
//! a crash leaves the old ledger or the new one, never half of one.
//!
//! **An endpoint names who holds it**: the process that attached it (the container's
//! monitor), by pid and start time. When that process is gone, however it ended (SIGKILL,
//! a reboot), the endpoint is stale and its address is free: every allocation first drops
//! stale endpoints ([`Networks::reconcile`]), so a dead monitor never keeps an address.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ch01_namespaces::{ContainerId, Narrator};
use dockyard_support::FromIo;
use dockyard_support::clock::now_ns;
use ipnet::Ipv4Net;
use nix::fcntl::{Flock, FlockArg};

use super::netlink::Netlink;
use super::record::{DEFAULT_NETWORK, Endpoint, Holder, Network};
use super::{Error, Result, firewall};

/// Where the host-wide lock lives (the engine's run directory, as dockerd's `/run/docker`).
const HOST_LOCK: &str = "/run/dockyard/networks.lock";

/// `network create`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// `--subnet`; chosen from the free private ranges when absent.
    pub subnet: Option<Ipv4Net>,
    /// `--gateway`; the subnet's first address when absent.
    pub gateway: Option<Ipv4Addr>,
    /// `--internal`.
    pub internal: bool,
    /// `--label K=V`.
    pub labels: BTreeMap<String, String>,
}

/// What a container asks of a network when it joins it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinRequest {
    /// The container's name (without docker's leading `/`).
    pub name: String,
    /// `--network-alias`.
    pub aliases: Vec<String>,
    /// `--ip`: a fixed address, else the lowest free one.
    pub ip: Option<Ipv4Addr>,
    /// The process that holds the endpoint: this one when `None` (a monitor joining for its
    /// container); `network connect` names the container's monitor.
    pub holder: Option<Holder>,
}

/// The networks of one store.
#[derive(Debug, Clone)]
pub struct Networks {
    dir: PathBuf,
}

impl Networks {
    /// The networks beside the containers of `store`.
    pub fn open(store: &ch03_union_fs::Store) -> Result<Networks> {
        let dir = store.root().join("networks");
        fs::create_dir_all(&dir).map_err(Error::io("create the networks directory", &dir))?;
        Ok(Networks { dir })
    }

    /// Every network, by name.
    pub fn list(&self) -> Result<Vec<Network>> {
        let mut networks = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(Error::io("list", &self.dir))? {
            let path = entry.map_err(Error::io("list", &self.dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                match read(&path) {
                    Ok(network) => networks.push(network),
                    // Removed meanwhile.
                    Err(Error::Io(io)) if io.source.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
        }
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(networks)
    }

    /// The network named `reference`: its name, its id, or a unique prefix of its id.
    pub fn find(&self, reference: &str) -> Result<Network> {
        let networks = self.list()?;
        if let Some(found) = networks
            .iter()
            .find(|n| n.name == reference || n.id == reference)
        {
            return Ok(found.clone());
        }
        let mut by_prefix = networks
            .into_iter()
            .filter(|n| !reference.is_empty() && n.id.starts_with(reference));
        match (by_prefix.next(), by_prefix.next()) {
            (Some(found), None) => Ok(found),
            (Some(_), Some(_)) => Err(Error::invalid(
                format!("network {reference} is ambiguous"),
                "give more of its id, or its name",
            )),
            _ => Err(Error::NotFound(reference.to_owned())),
        }
    }

    // ANCHOR: create
    /// `network create NAME`: the record, then its bridge and rules.
    pub fn create(&self, name: &str, options: &CreateOptions, n: &Narrator) -> Result<Network> {
        check_name(name)?;
        let _store = self.lock()?;
        if self.list()?.iter().any(|network| network.name == name) {
            return Err(Error::Exists(name.to_owned()));
        }
        let _host = host_lock()?;
        let mut netlink = Netlink::open()?;
        let subnet = match options.subnet {
            Some(subnet) => {
                self.check_free(subnet, &mut netlink)?;
                subnet
            }
            None => self.choose_subnet(&mut netlink)?,
        };
        let gateway = gateway_of(subnet, options.gateway)?;
        let id = ContainerId::random()?.as_str().to_owned();
        let network = Network {
            bridge: format!("dy-{}", &id[..12]),
            id,
            name: name.to_owned(),
            created_ns: now_ns(),
            subnet,
            gateway,
            internal: options.internal,
            labels: options.labels.clone(),
            endpoints: BTreeMap::new(),
            removing: false,
        };
        self.save(&network)?;
        if let Err(error) = make_bridge(&network, &mut netlink, n) {
            let _undo = remove_bridge(&network, &mut netlink, n);
            let _undo = fs::remove_file(self.path_of(&network.id));
            return Err(error);
        }
        Ok(network)
    }
    // ANCHOR_END: create

    /// The default network, made the first time it is needed (docker's `bridge`).
    pub fn default_network(&self, n: &Narrator) -> Result<Network> {
        match self.find(DEFAULT_NETWORK) {
            Err(Error::NotFound(_)) => {}
            found => return found,
        }
        match self.create(DEFAULT_NETWORK, &CreateOptions::default(), n) {
            // Another command made it meanwhile.
            Err(Error::Exists(_)) => self.find(DEFAULT_NETWORK),
            made => made,
        }
    }

    /// `network rm`: refused while a running container is attached; removes the bridge, the
    /// rules and the file.
    pub fn remove(&self, reference: &str, n: &Narrator) -> Result<Network> {
        let store = self.lock()?;
        let mut network = self.find(reference)?;
        if self.reconcile(&mut network)? {
            self.save(&network)?;
        }
        if !network.endpoints.is_empty() {
            return Err(Error::InUse {
                name: network.name.clone(),
                id: network.id.clone(),
                containers: {
                    let mut names: Vec<String> =
                        network.endpoints.values().map(|e| e.name.clone()).collect();
                    names.sort();
                    names
                },
            });
        }
        // The bridge and the rules go outside the lock: the kernel takes tens of
        // milliseconds to delete a bridge, and `down` removes a project's networks together.
        // Marked first, so that no container joins meanwhile; a removal cut short leaves the
        // mark, and the next `network rm` finishes it.
        network.removing = true;
        self.save(&network)?;
        drop(store);
        let mut netlink = Netlink::open()?;
        remove_bridge(&network, &mut netlink, n)?;
        let _store = self.lock()?;
        let path = self.path_of(&network.id);
        fs::remove_file(&path).map_err(Error::io("remove", &path))?;
        Ok(network)
    }

    /// `network prune`: removes every network but the default one that no running container
    /// uses; returns their names.
    pub fn prune(&self, n: &Narrator) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for network in self.list()? {
            if network.is_default() {
                continue;
            }
            match self.remove(&network.id, n) {
                Ok(network) => removed.push(network.name),
                Err(Error::InUse { .. } | Error::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(removed)
    }

    // ANCHOR: join
    /// Takes an address on `network` for a container, held by this process: the lowest free
    /// one, or `request.ip`. The bridge is made again if it is missing (after a reboot).
    pub fn join(
        &self,
        network: &str,
        container: &str,
        request: &JoinRequest,
        n: &Narrator,
    ) -> Result<(Network, Endpoint)> {
        let _store = self.lock()?;
        let mut network = self.find(network)?;
        if network.removing {
            return Err(Error::NotFound(network.name));
        }
        self.reconcile(&mut network)?;
        let holder = request.holder.unwrap_or_else(Holder::this_process);
        // Its holder's earlier endpoint: the container's earlier run (restarted by the same
        // monitor), whose namespace, and so whose veth, is gone.
        if let Some(earlier) = network.endpoints.get(container)
            && earlier.holder == holder
        {
            let earlier = network.endpoints.remove(container).expect("just found");
            if !earlier.ports.is_empty() {
                firewall::unpublish(&network, earlier.ip, &earlier.ports, n)?;
            }
        }
        if network.endpoints.contains_key(container) {
            return Err(Error::conflict(
                format!(
                    "container {} is already attached to network {}",
                    &container[..12.min(container.len())],
                    network.name
                ),
                "stop it first",
            ));
        }
        let ip = allocate(&network, request.ip)?;
        let endpoint = Endpoint {
            name: request.name.clone(),
            aliases: request.aliases.clone(),
            ip,
            mac: super::record::mac_for(ip),
            host_veth: host_veth_name(container, &network.id),
            ports: Vec::new(),
            holder,
        };
        n.say(
            ch01_namespaces::Actor::Engine,
            format!(
                "address manager: {ip} on {} for {}",
                network.name, request.name
            ),
        );
        network
            .endpoints
            .insert(container.to_owned(), endpoint.clone());
        self.save(&network)?;
        let mut netlink = Netlink::open()?;
        if netlink.index_of(&network.bridge)?.is_none() {
            let _host = host_lock()?;
            make_bridge(&network, &mut netlink, n)?;
        }
        Ok((network, endpoint))
    }
    // ANCHOR_END: join

    /// Records what an endpoint became once plugged in (its published ports).
    pub fn update(&self, network: &str, container: &str, endpoint: &Endpoint) -> Result<()> {
        let _store = self.lock()?;
        let mut network = self.find(network)?;
        if let Some(held) = network.endpoints.get_mut(container) {
            *held = endpoint.clone();
            self.save(&network)?;
        }
        Ok(())
    }

    /// Gives back a container's address on `network`; `None` if it held none.
    pub fn leave(&self, network: &str, container: &str) -> Result<Option<Endpoint>> {
        let _store = self.lock()?;
        let mut network = match self.find(network) {
            Ok(network) => network,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        let left = network.endpoints.remove(container);
        if left.is_some() {
            self.save(&network)?;
        }
        Ok(left)
    }

    // ANCHOR: release
    /// Drops a container's endpoints held by this process or by none alive, on every network:
    /// called when its monitor's run ends (what `network connect` plugged in is held by the
    /// monitor too) and when it is removed (what a monitor killed before its teardown could
    /// not give back). An endpoint held by another live process is left to it.
    pub fn release(&self, container: &str, n: &Narrator) -> Result<()> {
        let _store = self.lock()?;
        let me = Holder::this_process();
        for mut network in self.list()? {
            let Some(endpoint) = network.endpoints.get(container) else {
                continue;
            };
            if endpoint.holder.alive() && endpoint.holder != me {
                continue;
            }
            let endpoint = network.endpoints.remove(container).expect("just found");
            if !endpoint.ports.is_empty() {
                firewall::unpublish(&network, endpoint.ip, &endpoint.ports, n)?;
            }
            Netlink::open()?.delete_link(&endpoint.host_veth, n)?;
            self.save(&network)?;
        }
        Ok(())
    }
    // ANCHOR_END: release

    /// The endpoints `container` holds on every network (for `inspect`, `ps` and `port`).
    pub fn endpoints_of(&self, container: &str) -> Result<Vec<(Network, Endpoint)>> {
        Ok(self
            .list()?
            .into_iter()
            .filter_map(|network| {
                let endpoint = network.endpoints.get(container)?.clone();
                Some((network, endpoint))
            })
            .collect())
    }

    // ANCHOR: reconcile
    /// Drops the endpoints whose holder is gone (a monitor killed, the machine restarted),
    /// with their published ports' rules; `true` if any was dropped. The caller holds the
    /// lock and saves.
    pub fn reconcile(&self, network: &mut Network) -> Result<bool> {
        let stale: Vec<String> = network
            .endpoints
            .iter()
            .filter(|(_, endpoint)| !endpoint.holder.alive())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &stale {
            if let Some(endpoint) = network.endpoints.remove(id)
                && !endpoint.ports.is_empty()
            {
                firewall::unpublish(network, endpoint.ip, &endpoint.ports, &Narrator::silent())?;
            }
        }
        Ok(!stale.is_empty())
    }
    // ANCHOR_END: reconcile

    /// Takes this store's lock, held until the guard is dropped.
    fn lock(&self) -> Result<Flock<File>> {
        let path = self.dir.join("networks.lock");
        exclusive(&path)
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes a network's file whole: aside, then renamed over the old one.
    fn save(&self, network: &Network) -> Result<()> {
        let path = self.path_of(&network.id);
        let aside = self
            .dir
            .join(format!(".{}.json.{}", network.id, std::process::id()));
        let text = serde_json::to_vec_pretty(network).map_err(|e| Error::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        fs::write(&aside, text).map_err(Error::io("write", &aside))?;
        fs::rename(&aside, &path).map_err(Error::io("rename into place", &path))
    }

    /// A free subnet: the first of docker's default pools (172.17–31.0.0/16, then
    /// 192.168.0–240.0/20) that overlaps neither a route of this host nor a network of
    /// this store.
    fn choose_subnet(&self, netlink: &mut Netlink) -> Result<Ipv4Net> {
        let taken = self.taken(netlink)?;
        candidates()
            .find(|candidate| !taken.iter().any(|(net, _)| overlaps(net, candidate)))
            .ok_or_else(|| {
                Error::conflict(
                    "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
                    "remove unused networks with `network prune`, or give one with --subnet",
                )
            })
    }

    /// Fails with docker's message if `subnet` overlaps a route or a network.
    fn check_free(&self, subnet: Ipv4Net, netlink: &mut Netlink) -> Result<()> {
        match self
            .taken(netlink)?
            .into_iter()
            .find(|(net, _)| overlaps(net, &subnet))
        {
            Some((net, owner)) => Err(Error::conflict(
                "Pool overlaps with other one on this address space",
                format!("{subnet} overlaps {net} ({owner}); choose another --subnet"),
            )),
            None => Ok(()),
        }
    }

    /// What subnets are in use, and by what.
    fn taken(&self, netlink: &mut Netlink) -> Result<Vec<(Ipv4Net, String)>> {
        let mut taken: Vec<(Ipv4Net, String)> = netlink
            .routed_networks()?
            .into_iter()
            .map(|net| (net, "a route of this host".to_owned()))
            .collect();
        taken.extend(
            self.list()?
                .into_iter()
                .map(|network| (network.subnet, format!("network {}", network.name))),
        );
        Ok(taken)
    }
}

/// Makes a network's bridge, gives it the gateway address, and installs its rules.
fn make_bridge(network: &Network, netlink: &mut Netlink, n: &Narrator) -> Result<()> {
    netlink.create_bridge(&network.bridge, n)?;
    let address = Ipv4Net::new(network.gateway, network.subnet.prefix_len())
        .expect("the prefix comes from a valid subnet");
    netlink.add_address(&network.bridge, address, n)?;
    firewall::install(network, n)
}

/// Removes a network's rules and bridge; what is already gone is fine.
fn remove_bridge(network: &Network, netlink: &mut Netlink, n: &Narrator) -> Result<()> {
    firewall::remove(network, n)?;
    netlink.delete_link(&network.bridge, n)?;
    Ok(())
}

/// The lowest free address of `network`, or `wanted` if it is free and in the subnet.
fn allocate(network: &Network, wanted: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
    let used = |ip: Ipv4Addr| {
        ip == network.gateway || network.endpoints.values().any(|endpoint| endpoint.ip == ip)
    };
    if let Some(ip) = wanted {
        if network.is_default() {
            return Err(Error::invalid(
                "user specified IP address is supported on user defined networks only",
                "create a network with `network create` and run with --network NAME --ip ADDRESS",
            ));
        }
        if !network.subnet.contains(&ip)
            || ip == network.subnet.network()
            || ip == network.subnet.broadcast()
        {
            return Err(Error::invalid(
                format!(
                    "no available IPv4 addresses on this network's address pools: {} ({ip} is not in {})",
                    network.name, network.subnet
                ),
                format!("choose an address in {}", network.subnet),
            ));
        }
        if used(ip) {
            return Err(Error::conflict(
                "Address already in use",
                format!(
                    "{ip} is taken on network {}; choose another --ip",
                    network.name
                ),
            ));
        }
        return Ok(ip);
    }
    network.subnet.hosts().find(|ip| !used(*ip)).ok_or_else(|| {
        Error::conflict(
            format!(
                "no available IPv4 addresses on this network's address pools: {} ({})",
                network.name, network.subnet
            ),
            "remove containers from it, or use a network with a larger --subnet",
        )
    })
}

/// The gateway: `wanted`, which must be in the subnet, or its first address.
fn gateway_of(subnet: Ipv4Net, wanted: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
    match wanted {
        Some(gateway) if subnet.contains(&gateway) => Ok(gateway),
        Some(gateway) => Err(Error::invalid(
            format!("no matching subnet for gateway {gateway}"),
            format!("give a --gateway inside {subnet}"),
        )),
        None => subnet.hosts().next().ok_or_else(|| {
            Error::invalid(
                format!("subnet {subnet} is too small for a network"),
                "give a subnet of at least 4 addresses (a /30 or larger)",
            )
        }),
    }
}

/// Docker's default address pools, in order.
fn candidates() -> impl Iterator<Item = Ipv4Net> {
    let sixteens = (17..=31).map(|b| Ipv4Net::new(Ipv4Addr::new(172, b, 0, 0), 16));
    let twenties = (0..16).map(|c| Ipv4Net::new(Ipv4Addr::new(192, 168, c * 16, 0), 20));
    sixteens
        .chain(twenties)
        .map(|net| net.expect("valid prefix"))
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A network name as docker accepts them: a letter or digit, then letters, digits, `_.-`.
fn check_name(name: &str) -> Result<()> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("invalid network name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
            "choose a name of letters, digits, '_', '.' and '-'",
        ))
    }
}

/// The host end of a container's veth on a network: `veth` and 7 hex digits of the two ids
/// (the kernel allows 15 characters), the same at every start so a leftover is recognized.
fn host_veth_name(container: &str, network: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in container.bytes().chain(network.bytes()) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("veth{:07x}", hash & 0x0fff_ffff)
}

fn read(path: &Path) -> Result<Network> {
    let text = fs::read(path).map_err(Error::io("read", path))?;
    serde_json::from_slice(&text).map_err(|e| Error::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn host_lock() -> Result<Flock<File>> {
    let path = Path::new(HOST_LOCK);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    }
    exclusive(path)
}

fn exclusive(path: &Path) -> Result<Flock<File>> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(Error::io("open", path))?;
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| Error::io("lock", path)(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(subnet: &str) -> Network {
        Network {
            id: "0".repeat(64),
            name: "net".into(),
            created_ns: 0,
            subnet: subnet.parse().unwrap(),
            gateway: subnet.parse::<Ipv4Net>().unwrap().hosts().next().unwrap(),
            bridge: "dy-000000000000".into(),
            internal: false,
            labels: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            removing: false,
        }
    }

    fn endpoint(ip: Ipv4Addr) -> Endpoint {
        Endpoint {
            name: "c".into(),
            aliases: vec![],
            ip,
            mac: super::super::record::mac_for(ip),
            host_veth: "veth0".into(),
            ports: vec![],
            holder: Holder::this_process(),
        }
    }

    #[test]
    fn addresses_are_the_lowest_free_ones_after_the_gateway() {
        let mut net = network("10.9.0.0/29");
        assert_eq!(allocate(&net, None).unwrap(), Ipv4Addr::new(10, 9, 0, 2));
        for last in 2..=6 {
            net.endpoints
                .insert(format!("c{last}"), endpoint(Ipv4Addr::new(10, 9, 0, last)));
        }
        let full = allocate(&net, None).unwrap_err().to_string();
        assert!(full.contains("no available IPv4 addresses"), "{full}");
        net.endpoints.remove("c4");
        assert_eq!(allocate(&net, None).unwrap(), Ipv4Addr::new(10, 9, 0, 4));
    }

    #[test]
    fn a_fixed_address_must_be_free_and_inside() {
        let mut net = network("10.9.0.0/24");
        net.endpoints
            .insert("a".into(), endpoint(Ipv4Addr::new(10, 9, 0, 7)));
        let ip = |s: &str| Some(s.parse().unwrap());
        assert_eq!(
            allocate(&net, ip("10.9.0.9")).unwrap().to_string(),
            "10.9.0.9"
        );
        assert!(
            allocate(&net, ip("10.9.0.7"))
                .unwrap_err()
                .to_string()
                .contains("in use")
        );
        assert!(allocate(&net, ip("10.9.0.1")).is_err(), "the gateway");
        assert!(allocate(&net, ip("10.9.1.1")).is_err(), "outside");
        net.name = DEFAULT_NETWORK.into();
        assert!(
            allocate(&net, ip("10.9.0.9")).is_err(),
            "not on the default network"
        );
    }

    #[test]
    fn the_pools_are_dockers() {
        let all: Vec<String> = candidates().map(|n| n.to_string()).collect();
        assert_eq!(all[0], "172.17.0.0/16");
        assert_eq!(all[14], "172.31.0.0/16");
        assert_eq!(all[15], "192.168.0.0/20");
        assert_eq!(all.last().unwrap(), "192.168.240.0/20");
        assert!(overlaps(
            &"10.0.0.0/8".parse().unwrap(),
            &"10.1.0.0/16".parse().unwrap()
        ));
        assert!(!overlaps(
            &"10.0.0.0/16".parse().unwrap(),
            &"10.1.0.0/16".parse().unwrap()
        ));
    }

    #[test]
    fn names_and_gateways_are_checked() {
        assert!(check_name("my-net_1.x").is_ok());
        assert!(check_name("-x").is_err());
        assert!(check_name("a b").is_err());
        let subnet: Ipv4Net = "10.1.0.0/16".parse().unwrap();
        assert_eq!(gateway_of(subnet, None).unwrap().to_string(), "10.1.0.1");
        assert!(gateway_of(subnet, Some("10.2.0.1".parse().unwrap())).is_err());
        assert_eq!(host_veth_name("a", "b").len(), 11);
        assert_ne!(host_veth_name("a", "b"), host_veth_name("a", "c"));
    }
}
