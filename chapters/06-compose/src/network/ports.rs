//! Published ports: `-p [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, `-p CONTAINERPORT`, `-P`.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// A transport protocol a port is published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// `/tcp`, the default.
    Tcp,
    /// `/udp`.
    Udp,
}

/// One published port: a host address and port forwarded to a container port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortBinding {
    /// The port inside the container.
    pub container_port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// The host address it is published on; `None` is every address (`0.0.0.0`).
    pub host_ip: Option<Ipv4Addr>,
    /// The host port; 0 in a request means "one the kernel chooses".
    pub host_port: u16,
}

// TEMPORARY (local only, replaced by the net-fw branch).
/// Ports held.
#[derive(Debug)]
pub struct Reserved(Vec<PortBinding>);
impl Reserved {
    /// The bindings.
    pub fn bindings(&self) -> &[PortBinding] {
        &self.0
    }
}
/// Parse.
pub fn parse(_: &str) -> super::Result<Vec<PortBinding>> {
    Ok(Vec::new())
}
/// Exposed.
pub fn exposed(_: &ch04_images::oci::ContainerConfig) -> Vec<PortBinding> {
    Vec::new()
}
/// Reserve.
pub fn reserve(b: &[PortBinding]) -> super::Result<Reserved> {
    Ok(Reserved(b.to_vec()))
}
