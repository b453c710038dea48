//! Plugging a container into its network: chapter 01's setup step, run by the container's
//! monitor between `clone` and the child's release, exactly where the design puts it.
//!
//! ```text
//! setup(child)                                           teardown (reverse)
//!  1. address manager: an address on the network          4. unpublish the ports
//!  2. host: one RTM_NEWLINK makes the veth pair, plugs     3. delete the host's veth end
//!     one end into the bridge and puts the other in the       (its peer goes with it)
//!     child's namespace as eth0                           2. give the address back
//!  3. child's namespace (a socket made there): eth0's
//!     address, eth0 up, default route via the gateway
//!  4. published ports: reserved on the host, DNAT rules
//! ```
//!
//! The child is still blocked when this runs, so its command never sees a half-made network.
//! Setup undoes its own work when it fails part way (chapter 01 tears down only the steps
//! whose setup succeeded); teardown runs however the container ended.

use ch01_namespaces::{Actor, Narrator, Step, StepError};
use ipnet::Ipv4Net;
use nix::unistd::Pid;

use super::netlink::{Netlink, VethPair, parse_mac};
use super::ports::{self, PortBinding, Reserved};
use super::record::{Endpoint, Network};
use super::store::{JoinRequest, Networks};
use super::{Result, firewall, netns};

/// What a container asks for: one network, its name there, its published ports.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The network's name or id.
    pub network: String,
    /// The container's id.
    pub container: String,
    /// Its name, aliases and fixed address.
    pub request: JoinRequest,
    /// Ports to publish (host port 0: one the kernel chooses).
    pub ports: Vec<PortBinding>,
}

/// Chapter 01's step that plugs a container into its network.
#[derive(Debug)]
pub struct NetworkStep {
    networks: Networks,
    attachment: Attachment,
    joined: Option<(Network, Endpoint)>,
    reserved: Option<Reserved>,
}

impl NetworkStep {
    /// A step for one container's attachment.
    pub fn new(networks: Networks, attachment: Attachment) -> NetworkStep {
        NetworkStep {
            networks,
            attachment,
            joined: None,
            reserved: None,
        }
    }

    /// The network and the endpoint, once setup made them.
    pub fn joined(&self) -> Option<&(Network, Endpoint)> {
        self.joined.as_ref()
    }

    // ANCHOR: plug
    fn plug(&mut self, child: Pid, n: &Narrator) -> Result<()> {
        let a = &self.attachment;
        let (network, mut endpoint) =
            self.networks
                .join(&a.network, &a.container, &a.request, n)?;
        self.joined = Some((network.clone(), endpoint.clone()));

        let mut host = Netlink::open()?;
        // A leftover of this container's earlier run (its monitor killed before teardown,
        // the namespace somehow kept) would make the name taken.
        host.delete_link(&endpoint.host_veth, &Narrator::silent())?;
        host.create_veth(
            &VethPair {
                host: &endpoint.host_veth,
                bridge: &network.bridge,
                peer: "eth0",
                peer_mac: parse_mac(&endpoint.mac).expect("the address manager's own format"),
                peer_pid: child.as_raw() as u32,
            },
            n,
        )?;

        let address = Ipv4Net::new(endpoint.ip, network.subnet.prefix_len())
            .expect("the prefix comes from a valid subnet");
        let gateway = (!network.internal).then_some(network.gateway);
        netns::within(child, || {
            let mut inside = Netlink::open()?;
            inside.add_address("eth0", address, n)?;
            inside.set_up("eth0", n)?;
            // An internal network has no way out, so no default route: a connection to the
            // outside fails at once ("network unreachable") instead of waiting.
            if let Some(gateway) = gateway {
                inside.add_default_route(gateway, n)?;
            }
            Ok(())
        })?;

        if !a.ports.is_empty() {
            if network.internal {
                return Err(super::Error::invalid(
                    format!(
                        "network {} is internal: ports cannot be published",
                        network.name
                    ),
                    "use a network made without --internal, or drop -p/-P",
                ));
            }
            let reserved = ports::reserve(&a.ports)?;
            endpoint.ports = reserved.bindings().to_vec();
            self.reserved = Some(reserved);
            if firewall::publish(&network, endpoint.ip, &endpoint.ports, n).is_err() {
                // The network's table is gone (someone ran `nft flush ruleset`): make it
                // again, once, rather than check it at every start.
                firewall::install(&network, n)?;
                firewall::publish(&network, endpoint.ip, &endpoint.ports, n)?;
            }
            self.joined = Some((network.clone(), endpoint.clone()));
            self.networks.update(&network.id, &a.container, &endpoint)?;
        }
        Ok(())
    }
    // ANCHOR_END: plug

    fn unplug(&mut self, n: &Narrator) -> Result<()> {
        let Some((network, endpoint)) = self.joined.take() else {
            return Ok(());
        };
        let mut first_error = None;
        if !endpoint.ports.is_empty()
            && let Err(error) = firewall::unpublish(&network, endpoint.ip, &endpoint.ports, n)
        {
            first_error.get_or_insert(error);
        }
        self.reserved = None;
        match Netlink::open().and_then(|mut host| host.delete_link(&endpoint.host_veth, n)) {
            Ok(true) => {}
            // The usual case: the namespace ended with the container's last process, which
            // destroyed eth0, and a veth pair never outlives either of its ends.
            Ok(false) => n.say(
                Actor::Engine,
                format!("{} went with the container's namespace", endpoint.host_veth),
            ),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
        match self.networks.leave(&network.id, &self.attachment.container) {
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

    fn teardown(&mut self, n: &Narrator) -> std::result::Result<(), StepError> {
        self.unplug(n).map_err(|e| crate::Error::from(e).into())
    }
}
