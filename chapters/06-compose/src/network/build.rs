//! `build`'s `RUN` containers on the default bridge, as docker's builder runs them.
//!
//! Chapter 05 knows no networks: it asks, through its [`NetworkPlug`], for a chapter 01 step
//! per `RUN` container, and runs it between `clone` and the container's release. Here that
//! step is [`NetworkStep`], the one `run` plugs a container in with: an address on `bridge`,
//! a veth pair, `eth0` in the container, all undone when the `RUN` ended. The container's
//! name on the network is its short id (the `Running in 4f2a9c1d7e3b` of the build's output),
//! and it publishes no ports. The default network is made the first time a `RUN` needs it,
//! so a build whose steps all come from the cache makes none.
//!
//! A `RUN` container keeps the image's own `/etc/resolv.conf` and `/etc/hosts` (chapter 05's
//! plug gives a step, not mounts): it reaches addresses through the bridge's NAT, but names
//! only if the image resolves them itself. Docker's builder mounts the host's resolver file;
//! that is left for the plug to grow.

use ch01_namespaces::{ContainerId, Narrator, Step, StepError};
use ch05_dockerfile::build::NetworkPlug;
use nix::unistd::Pid;

use super::DEFAULT_NETWORK;
use super::attach::{Attachment, NetworkStep};
use super::store::{JoinRequest, Networks};

/// The default bridge, for a build's `RUN` containers.
#[derive(Debug)]
pub struct BuildBridge {
    networks: Networks,
}

impl BuildBridge {
    /// `RUN` containers on the default network of `networks`.
    pub fn new(networks: Networks) -> BuildBridge {
        BuildBridge { networks }
    }
}

impl NetworkPlug for BuildBridge {
    fn name(&self) -> &str {
        DEFAULT_NETWORK
    }

    fn step(&self, container: &ContainerId) -> Box<dyn Step> {
        let attachment = Attachment {
            network: DEFAULT_NETWORK.to_owned(),
            request: JoinRequest {
                name: container.short().to_owned(),
                ..JoinRequest::default()
            },
            ports: Vec::new(),
        };
        Box::new(RunOnBridge {
            networks: self.networks.clone(),
            // No /etc files: chapter 05 mounts none into a RUN container (see the note in
            // the module's documentation).
            plug: NetworkStep::new(
                self.networks.clone(),
                container.as_str(),
                vec![attachment],
                None,
            ),
        })
    }
}

/// The default network, made if it is missing, then the container plugged into it.
#[derive(Debug)]
struct RunOnBridge {
    networks: Networks,
    plug: NetworkStep,
}

impl Step for RunOnBridge {
    fn name(&self) -> &str {
        self.plug.name()
    }

    fn setup(&mut self, child: Pid, n: &Narrator) -> Result<(), StepError> {
        self.networks
            .default_network(n)
            .map_err(crate::Error::from)?;
        self.plug.setup(child, n)
    }

    fn teardown(&mut self, n: &Narrator) -> Result<(), StepError> {
        self.plug.teardown(n)
    }
}
