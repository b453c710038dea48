//! Plugging a container into its networks: chapter 01's setup step, run by the container's
//! monitor between `clone` and the child's release, exactly where the design puts it.
//!
//! ```text
//! setup(child), for each network (eth0, eth1…)         teardown (reverse)
//!  1. address manager: an address on the network          stop the DNS server
//!  2. host: one RTM_NEWLINK makes the veth pair, plugs     unpublish the ports
//!     one end into the bridge and puts the other in the    the veth pair is left to go
//!     child's namespace as ethN                              with the namespace
//!  3. child's namespace (a socket made there): ethN's      give the address back
//!     address, ethN up, default route via the gateway
//!     (the first network's only)
//!  4. published ports: reserved on the host, DNAT rules
//! then
//!  5. /etc/hosts and /etc/resolv.conf written, with the addresses
//!  6. on a user-defined network, the DNS socket bound at 127.0.0.11:53 in the child's
//!     namespace; its server starts once the command runs (`started`)
//! ```
//!
//! The child is still blocked when this runs, so its command never sees a half-made network.
//! Setup undoes its own work when it fails part way (chapter 01 tears down only the steps
//! whose setup succeeded); teardown runs however the container ended.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use ch01_namespaces::{Actor, Narrator, Step, StepError};
use dockyard_support::FromIo;
use ipnet::Ipv4Net;
use nix::unistd::Pid;

use super::dns::{self, Names, Server, Sockets};
use super::files::{self, Resolver};
use super::netlink::{Netlink, VethPair, parse_mac};
use super::ports::{self, PortBinding, Reserved};
use super::record::{Endpoint, Network};
use super::store::{JoinRequest, Networks};
use super::{Error, Result, firewall, netns};

/// One network a container joins.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The network's name or id.
    pub network: String,
    /// The container's name, aliases and fixed address there.
    pub request: JoinRequest,
    /// Ports to publish through it (host port 0: one the kernel chooses).
    pub ports: Vec<PortBinding>,
}

/// The container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`: written in its
/// directory, bind-mounted over the image's (see [`EtcFiles::mounts`]).
#[derive(Debug, Clone)]
pub struct EtcFiles {
    /// The container's directory.
    pub dir: PathBuf,
    /// Its hostname.
    pub hostname: String,
    /// `--add-host`, as given.
    pub extra_hosts: Vec<String>,
    /// `--dns`.
    pub dns: Vec<IpAddr>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--dns-option`.
    pub dns_options: Vec<String>,
}

/// Chapter 01's step that plugs a container into its networks.
#[derive(Debug)]
pub struct NetworkStep {
    networks: Networks,
    container: String,
    attachments: Vec<Attachment>,
    files: Option<EtcFiles>,
    joined: Vec<(Network, Endpoint)>,
    reserved: Vec<Reserved>,
    dns: Dns,
}

/// The embedded DNS server's life: a socket bound at setup, served once the command runs.
#[derive(Debug, Default)]
enum Dns {
    #[default]
    None,
    Bound(Sockets, Vec<std::net::SocketAddr>),
    Serving(Server),
}

impl NetworkStep {
    /// A step joining `attachments` in order (the first gives the default route), writing
    /// `files` once the addresses are known (and then serving names on a user-defined
    /// network).
    pub fn new(
        networks: Networks,
        container: &str,
        attachments: Vec<Attachment>,
        files: Option<EtcFiles>,
    ) -> NetworkStep {
        NetworkStep {
            networks,
            container: container.to_owned(),
            attachments,
            files,
            joined: Vec::new(),
            reserved: Vec::new(),
            dns: Dns::None,
        }
    }

    /// The networks and endpoints setup made.
    pub fn joined(&self) -> &[(Network, Endpoint)] {
        &self.joined
    }

    fn plug(&mut self, child: Pid, n: &Narrator) -> Result<()> {
        for (index, attachment) in self.attachments.clone().iter().enumerate() {
            let interface = format!("eth{index}");
            let joined = plug_one(
                &self.networks,
                &self.container,
                attachment,
                &interface,
                index == 0,
                child,
                n,
            )?;
            self.joined.push(joined.0);
            self.reserved.extend(joined.1);
        }
        let Some(files) = &self.files else {
            return Ok(());
        };
        let addresses: Vec<Ipv4Addr> = self.joined.iter().map(|(_, e)| e.ip).collect();
        let embedded = self.joined.iter().any(|(network, _)| !network.is_default());
        let resolver = if embedded {
            Resolver::Embedded
        } else {
            Resolver::Host
        };
        let gateway = self.joined.first().map(|(network, _)| network.gateway);
        let upstream = files.write(&addresses, resolver, gateway, n)?;
        if embedded {
            n.say(
                Actor::Engine,
                "bind 127.0.0.11:53 (udp, tcp) in the container's namespace: its DNS server",
            );
            self.dns = Dns::Bound(dns::bind_in(child)?, upstream);
        }
        Ok(())
    }

    fn unplug(&mut self, n: &Narrator) -> Result<()> {
        let mut first_error = None;
        if let Dns::Serving(server) = std::mem::take(&mut self.dns)
            && let Err(error) = server.stop()
        {
            first_error.get_or_insert(error);
        }
        self.reserved.clear();
        while let Some((network, endpoint)) = self.joined.pop() {
            if let Err(error) = unplug_one(
                &self.networks,
                &self.container,
                &network,
                &endpoint,
                Veth::WithNamespace,
                n,
            ) {
                first_error.get_or_insert(error);
            }
        }
        // And what `network connect` plugged in while it ran, held by this monitor too.
        if let Err(error) = self.networks.release(&self.container, n) {
            first_error.get_or_insert(error);
        }
        first_error.map_or(Ok(()), Err)
    }
}

// ANCHOR: plug
/// Joins one network as `interface`: an address, the veth pair, the address and routes
/// inside, the published ports. Undoes its own work if a later part fails.
fn plug_one(
    networks: &Networks,
    container: &str,
    attachment: &Attachment,
    interface: &str,
    default_route: bool,
    child: Pid,
    n: &Narrator,
) -> Result<((Network, Endpoint), Option<Reserved>)> {
    let (network, mut endpoint) =
        networks.join(&attachment.network, container, &attachment.request, n)?;
    let plugged = (|| -> Result<Option<Reserved>> {
        let mut host = Netlink::open()?;
        // A leftover of this container's earlier run (its namespace somehow kept) would
        // make the name taken.
        host.delete_link(&endpoint.host_veth, &Narrator::silent())?;
        host.create_veth(
            &VethPair {
                host: &endpoint.host_veth,
                bridge: &network.bridge,
                peer: interface,
                peer_mac: parse_mac(&endpoint.mac).expect("the address manager's own format"),
                peer_pid: child.as_raw() as u32,
            },
            n,
        )?;
        let address = Ipv4Net::new(endpoint.ip, network.subnet.prefix_len())
            .expect("the prefix comes from a valid subnet");
        // An internal network has no way out, so no default route: a connection to the
        // outside fails at once ("network unreachable") instead of waiting.
        let gateway = (default_route && !network.internal).then_some(network.gateway);
        netns::within(child, || {
            let mut inside = Netlink::open()?;
            inside.add_address(interface, address, n)?;
            inside.set_up(interface, n)?;
            if let Some(gateway) = gateway {
                inside.add_default_route(gateway, n)?;
            }
            Ok(())
        })?;
        if attachment.ports.is_empty() {
            return Ok(None);
        }
        if network.internal {
            return Err(Error::invalid(
                format!(
                    "network {} is internal: ports cannot be published",
                    network.name
                ),
                "use a network made without --internal, or drop -p/-P",
            ));
        }
        let reserved = ports::reserve(&attachment.ports)?;
        endpoint.ports = reserved.bindings().to_vec();
        if firewall::publish(&network, endpoint.ip, &endpoint.ports, n).is_err() {
            // The network's table is gone (someone ran `nft flush ruleset`): make it again,
            // once, rather than check it at every start.
            firewall::install(&network, n)?;
            firewall::publish(&network, endpoint.ip, &endpoint.ports, n)?;
        }
        networks.update(&network.id, container, &endpoint)?;
        Ok(Some(reserved))
    })();
    match plugged {
        Ok(reserved) => Ok(((network, endpoint), reserved)),
        Err(error) => {
            let _undo = unplug_one(
                networks,
                container,
                &network,
                &endpoint,
                Veth::Delete,
                &Narrator::silent(),
            );
            Err(error)
        }
    }
}
// ANCHOR_END: plug

// ANCHOR: connect
/// `network connect` of a running container: joins `attachment`'s network now, as the next
/// free `ethN` of the container's namespace (no default route: the first network keeps it).
/// The endpoint is held by the container's monitor (`attachment.request.holder`), so it goes
/// when the monitor does.
pub fn plug_running(
    networks: &Networks,
    container: &str,
    attachment: &Attachment,
    pid: Pid,
    n: &Narrator,
) -> Result<(Network, Endpoint)> {
    let taken = netns::within(pid, || Netlink::open()?.link_names())?;
    let interface = (0..)
        .map(|index| format!("eth{index}"))
        .find(|name| !taken.contains(name))
        .expect("some ethN is free");
    let (joined, _) = plug_one(networks, container, attachment, &interface, false, pid, n)?;
    Ok(joined)
}
// ANCHOR_END: connect

/// What becomes of the host's end of a veth pair when a container leaves a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Veth {
    /// Deleted now: the container still runs (`network disconnect`, a failed setup).
    Delete,
    /// Left to the kernel: the container ended, and its network namespace takes the pair
    /// with it once the kernel frees it. Deleting it ourselves would wait for that very
    /// clean-up (15–37 ms of a blocked `RTM_DELLINK`, measured), which is most of what a
    /// network would add to `run --rm`.
    WithNamespace,
}

/// Leaves one network: its ports' rules, the host's veth end, the address. `network
/// disconnect` of a running container calls it for what [`plug_running`] (or its start) made.
pub fn unplug_one(
    networks: &Networks,
    container: &str,
    network: &Network,
    endpoint: &Endpoint,
    veth: Veth,
    n: &Narrator,
) -> Result<()> {
    let mut first_error = None;
    if !endpoint.ports.is_empty()
        && let Err(error) = firewall::unpublish(network, endpoint.ip, &endpoint.ports, n)
    {
        first_error.get_or_insert(error);
    }
    if veth == Veth::WithNamespace {
        n.say(
            Actor::Engine,
            format!(
                "{} goes with the container's namespace (a veth pair never outlives either end)",
                endpoint.host_veth
            ),
        );
    } else if let Err(error) =
        Netlink::open().and_then(|mut host| host.delete_link(&endpoint.host_veth, n))
    {
        first_error.get_or_insert(error);
    }
    match networks.leave(&network.id, container) {
        Ok(_) => n.say(
            Actor::Engine,
            format!(
                "address manager: {} on {} is free",
                endpoint.ip, network.name
            ),
        ),
        Err(error) => {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

impl EtcFiles {
    /// The three files' paths in the container's directory, and where they are mounted.
    pub fn mounts(&self) -> Vec<ch01_namespaces::Mount> {
        ["hosts", "hostname", "resolv.conf"]
            .into_iter()
            .map(|name| {
                ch01_namespaces::Mount::bind(self.dir.join(name), format!("/etc/{name}"), false)
            })
            .collect()
    }

    // ANCHOR: files
    /// Writes the three files for a container with `addresses`, answered by `resolver`;
    /// returns the servers its embedded DNS server forwards to.
    pub fn write(
        &self,
        addresses: &[Ipv4Addr],
        resolver: Resolver,
        gateway: Option<Ipv4Addr>,
        n: &Narrator,
    ) -> Result<Vec<std::net::SocketAddr>> {
        let extra = self
            .extra_hosts
            .iter()
            .map(|value| files::parse_add_host(value, gateway))
            .collect::<Result<Vec<_>>>()?;
        let resolv = files::resolv_conf(
            &host_resolv_conf(),
            resolver,
            &self.dns,
            &self.dns_search,
            &self.dns_options,
        )?;
        self.put("hosts", &files::hosts(&self.hostname, addresses, &extra), n)?;
        self.put("hostname", &files::hostname(&self.hostname), n)?;
        self.put("resolv.conf", &resolv.text, n)?;
        Ok(resolv.upstream)
    }
    // ANCHOR_END: files

    /// The files of a container on the host's network: the host's own hosts and resolver
    /// files, with `--add-host` lines added.
    pub fn write_for_host(&self, n: &Narrator) -> Result<()> {
        let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        for value in &self.extra_hosts {
            let extra = files::parse_add_host(value, None)?;
            hosts.push_str(&format!("{}\t{}\n", extra.ip, extra.name));
        }
        self.put("hosts", &hosts, n)?;
        self.put("hostname", &files::hostname(&self.hostname), n)?;
        self.put("resolv.conf", &host_resolv_conf(), n)
    }

    /// Writes one of the files.
    fn put(&self, name: &str, text: &str, n: &Narrator) -> Result<()> {
        let path = self.dir.join(name);
        n.say(Actor::Engine, format!("write {}", path.display()));
        std::fs::write(&path, text).map_err(Error::io("write", &path))
    }
}

/// The host's resolver file. With systemd-resolved, `/etc/resolv.conf` names only its stub
/// at 127.0.0.53, which a container cannot reach: docker reads the real servers from the
/// file resolved keeps for that purpose, and so does this.
fn host_resolv_conf() -> String {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let stub_only = text
        .lines()
        .filter(|line| line.trim_start().starts_with("nameserver"))
        .all(|line| line.contains("127.0.0.53"));
    if stub_only && let Ok(real) = std::fs::read_to_string("/run/systemd/resolve/resolv.conf") {
        return real;
    }
    text
}

/// The names a container's DNS server answers for: the members of its networks, read from
/// the store at each question, so that a container started later is found too, and a network
/// connected later (`network connect`) answers as well.
#[derive(Debug)]
struct LiveNames {
    networks: Networks,
    container: String,
    /// The networks it joined at start, asked first, in order.
    ids: Vec<String>,
}

impl LiveNames {
    fn current(&self) -> Vec<Network> {
        let mut attached: Vec<Network> = self
            .networks
            .endpoints_of(&self.container)
            .unwrap_or_default()
            .into_iter()
            .map(|(mut network, _)| {
                // A member whose monitor died is no longer there.
                network.endpoints.retain(|_, e| e.holder.alive());
                network
            })
            .collect();
        attached.sort_by_key(|network| {
            self.ids
                .iter()
                .position(|id| *id == network.id)
                .unwrap_or(usize::MAX)
        });
        attached
    }
}

impl Names for LiveNames {
    fn lookup(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        self.current().lookup(name)
    }

    fn reverse(&self, ip: Ipv4Addr) -> Option<String> {
        self.current().reverse(ip)
    }
}

impl Step for NetworkStep {
    fn name(&self) -> &str {
        "network"
    }

    fn setup(&mut self, child: Pid, n: &Narrator) -> std::result::Result<(), StepError> {
        if let Err(error) = self.plug(child, n) {
            let _undo = self.unplug(&Narrator::silent());
            return Err(crate::Error::from(error).into());
        }
        Ok(())
    }

    // ANCHOR: started
    fn started(&mut self, _child: Pid, n: &Narrator) {
        if let Dns::Bound(sockets, upstream) = std::mem::take(&mut self.dns) {
            let names = LiveNames {
                networks: self.networks.clone(),
                container: self.container.clone(),
                ids: self
                    .joined
                    .iter()
                    .map(|(network, _)| network.id.clone())
                    .collect(),
            };
            n.say(Actor::Engine, "DNS server: serving 127.0.0.11:53");
            // The container runs without names if the thread cannot start: not worth
            // stopping it for.
            match Server::start(sockets, Arc::new(names), upstream) {
                Ok(server) => self.dns = Dns::Serving(server),
                Err(error) => n.say(Actor::Engine, format!("DNS server not started: {error}")),
            }
        }
    }
    // ANCHOR_END: started

    fn teardown(&mut self, n: &Narrator) -> std::result::Result<(), StepError> {
        self.unplug(n).map_err(|e| crate::Error::from(e).into())
    }
}
