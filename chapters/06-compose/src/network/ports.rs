//! Published ports: `-p [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, `-p CONTAINERPORT`, `-P`.
//!
//! A container's ports live in its own network namespace, on an address only the host can
//! reach. Publishing one makes a port of the *host* lead to it. Two things do that here:
//!
//! 1. [`reserve`] binds a socket on the host port, and keeps it for as long as the container
//!    runs. It never listens and never sees a packet; it is there so that no other program (or
//!    container) can bind the port meanwhile, and so that the kernel chooses a free port for
//!    `-p 80` (host port 0) exactly as it would for any program. A port somebody holds already
//!    fails here, with docker's message, before anything else is set up.
//! 2. The firewall ([`super::firewall`]) rewrites the destination of packets for that host
//!    port to the container's address and port (NAT), in the kernel, before any socket sees them.
//!
//! The rest of this module reads the flags ([`parse`], [`exposed`]) and shows the result as
//! docker's `ps` and `port` do ([`format_ps`], [`format_port_lines`]).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};

use ch04_images::oci::ContainerConfig;
use dockyard_support::FromIo;
use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn};
use serde::{Deserialize, Serialize};

use super::{Error, Result};

/// A transport protocol a port is published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// `/tcp`, the default.
    Tcp,
    /// `/udp`.
    Udp,
}

impl Protocol {
    /// Its name in flags, in `ps` and in nftables: `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    /// Reads the part after `/` in a port spec, as docker does (case-insensitive).
    fn parse(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Err(Error::invalid(
                "SCTP ports cannot be published here: only tcp and udp are supported",
                "publish the port as tcp or udp",
            )),
            _ => Err(Error::invalid(
                format!("invalid proto: {text}"),
                "a port's protocol is tcp (the default) or udp, as in `-p 53:53/udp`",
            )),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

impl PortBinding {
    /// The host address as docker shows it: `0.0.0.0` for every address.
    pub fn host_address(&self) -> Ipv4Addr {
        self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
}

const PORT_FORMS: &str = "publish a port as CONTAINERPORT, HOSTPORT:CONTAINERPORT or IP:HOSTPORT:CONTAINERPORT, \
     with /tcp or /udp after it (ranges as 8080-8081:80-81)";

/// Reads one `-p` value into the bindings it stands for (one per port of a range).
///
/// ```
/// use ch06_compose::network::ports::{parse, PortBinding, Protocol};
/// let bindings = parse("127.0.0.1:8080:80").unwrap();
/// assert_eq!(bindings, [PortBinding {
///     container_port: 80,
///     protocol: Protocol::Tcp,
///     host_ip: Some("127.0.0.1".parse().unwrap()),
///     host_port: 8080,
/// }]);
/// ```
pub fn parse(spec: &str) -> Result<Vec<PortBinding>> {
    // The container port is after the last `:`, the host port before it, and everything before
    // that is the address (which may itself hold `:`, as an IPv6 address does).
    let mut parts = spec.rsplitn(3, ':');
    let container = parts.next().unwrap_or_default();
    let host = parts.next().unwrap_or_default();
    let ip = parts.next().unwrap_or_default();
    let host_ip = parse_host_ip(ip)?;
    let (container, protocol) = match container.split_once('/') {
        Some((port, proto)) if !proto.is_empty() => (port, Protocol::parse(proto)?),
        Some((port, _)) => (port, Protocol::Tcp),
        None => (container, Protocol::Tcp),
    };
    if container.is_empty() {
        return Err(Error::invalid(
            format!("no port specified: {spec}<empty>"),
            PORT_FORMS,
        ));
    }
    let container_ports = parse_range(container)
        .filter(|(first, _)| *first > 0)
        .ok_or_else(|| Error::invalid(format!("invalid containerPort: {container}"), PORT_FORMS))?;
    let host_ports = if host.is_empty() {
        None
    } else {
        Some(
            parse_range(host)
                .ok_or_else(|| Error::invalid(format!("invalid hostPort: {host}"), PORT_FORMS))?,
        )
    };
    let count = container_ports.1 - container_ports.0;
    match host_ports {
        Some(hosts) if hosts.1 - hosts.0 != count => {
            if count > 0 {
                return Err(Error::invalid(
                    format!(
                        "invalid ranges specified for container and host Ports: {container} and {host}"
                    ),
                    "a range of host ports needs a range of container ports of the same length",
                ));
            }
            // Docker would pick a free port in the host range; a binding here holds one port.
            return Err(Error::invalid(
                format!(
                    "a range of host ports for one container port is not supported here: {host}"
                ),
                "give one host port (or none, to let the kernel choose)",
            ));
        }
        _ => {}
    }
    Ok((0..=count)
        .map(|offset| PortBinding {
            container_port: container_ports.0 + offset,
            protocol,
            host_ip,
            host_port: host_ports.map_or(0, |(first, _)| first + offset),
        })
        .collect())
}

/// The address part of a spec: empty or `0.0.0.0` is every address.
fn parse_host_ip(ip: &str) -> Result<Option<Ipv4Addr>> {
    if ip.is_empty() {
        return Ok(None);
    }
    let bare = ip
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(ip);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(address)) if address.is_unspecified() => Ok(None),
        Ok(IpAddr::V4(address)) => Ok(Some(address)),
        Ok(IpAddr::V6(_)) => Err(Error::invalid(
            format!("cannot publish on the IPv6 address {bare}: only IPv4 is supported here"),
            "publish on an IPv4 address, such as 127.0.0.1, or on every address (no IP)",
        )),
        Err(_) => Err(Error::invalid(
            format!("invalid IP address: {ip}"),
            PORT_FORMS,
        )),
    }
}

/// `80` or `80-81`, first ≤ last.
fn parse_range(text: &str) -> Option<(u16, u16)> {
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let (first, last) = (first.parse::<u16>().ok()?, last.parse::<u16>().ok()?);
    (first <= last).then_some((first, last))
}

/// The ports an image declares with `EXPOSE`, as `-P` publishes them: each on every host
/// address, on a port the kernel chooses.
pub fn exposed(config: &ContainerConfig) -> Vec<PortBinding> {
    exposed_ports(config)
        .into_iter()
        .map(|(container_port, protocol)| PortBinding {
            container_port,
            protocol,
            host_ip: None,
            host_port: 0,
        })
        .collect()
}

/// The ports an image declares: its config keeps them as the keys of `ExposedPorts`
/// (`"80/tcp": {}`). Keys this engine cannot publish (`/sctp`) are left out.
pub fn exposed_ports(config: &ContainerConfig) -> Vec<(u16, Protocol)> {
    let mut ports: Vec<(u16, Protocol)> = config
        .exposed_ports
        .keys()
        .filter_map(|key| {
            let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
            let protocol = Protocol::parse(proto).ok()?;
            let (first, last) = parse_range(port)?;
            Some((first..=last).map(move |port| (port, protocol)))
        })
        .flatten()
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

// ANCHOR: reserve
/// Host ports held for a running container: one bound socket per binding.
///
/// Dropping it closes the sockets and frees the ports. It is `Send`, so the container's
/// monitor can keep it on whichever thread waits for the container.
#[derive(Debug, Default)]
pub struct Reserved {
    /// Kept open only for what they hold; nothing reads them.
    sockets: Vec<OwnedFd>,
    /// The bindings as requested, with the host ports the kernel chose filled in.
    bindings: Vec<PortBinding>,
}

impl Reserved {
    /// The bindings, with real host ports.
    pub fn bindings(&self) -> &[PortBinding] {
        &self.bindings
    }
}

/// Binds a socket for each requested binding, so that the host ports stay the container's
/// while it runs. A port that is taken fails with docker's message, and then nothing stays
/// bound (the sockets made so far close as the partial [`Reserved`] is dropped).
pub fn reserve(requested: &[PortBinding]) -> Result<Reserved> {
    let mut reserved = Reserved::default();
    for binding in requested {
        let (socket, host_port) = hold(binding)?;
        reserved.sockets.push(socket);
        reserved.bindings.push(PortBinding {
            host_port,
            ..*binding
        });
    }
    Ok(reserved)
}

/// One socket bound to the binding's host address and port: TCP without `listen(2)` (the
/// port is taken, no connection is ever accepted) and without `SO_REUSEADDR` (which would let
/// another socket bind it too); UDP simply bound. Returns the port it holds.
fn hold(binding: &PortBinding) -> Result<(OwnedFd, u16)> {
    let kind = match binding.protocol {
        Protocol::Tcp => SockType::Stream,
        Protocol::Udp => SockType::Datagram,
    };
    let socket = nix::sys::socket::socket(AddressFamily::Inet, kind, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| Error::io_op(format!("create a {} socket", binding.protocol))(e.into()))?;
    let address = SocketAddrV4::new(binding.host_address(), binding.host_port);
    nix::sys::socket::bind(socket.as_raw_fd(), &SockaddrIn::from(address))
        .map_err(|errno| bind_error(binding, errno))?;
    let bound: SockaddrIn = nix::sys::socket::getsockname(socket.as_raw_fd()).map_err(|e| {
        Error::io_op(format!("read the address of the socket on {address}"))(e.into())
    })?;
    Ok((socket, bound.port()))
}
// ANCHOR_END: reserve

/// Docker's words for a port that cannot be had.
fn bind_error(binding: &PortBinding, errno: Errno) -> Error {
    let address = SocketAddrV4::new(binding.host_address(), binding.host_port);
    match errno {
        Errno::EADDRINUSE => {
            let ss = match binding.protocol {
                Protocol::Tcp => "-ltnp",
                Protocol::Udp => "-lunp",
            };
            Error::conflict(
                format!("Bind for {address} failed: port is already allocated"),
                format!(
                    "another program or container holds it; see which with `ss {ss} 'sport = :{}'`, \
                     or publish another host port",
                    binding.host_port
                ),
            )
        }
        Errno::EADDRNOTAVAIL => Error::invalid(
            format!(
                "cannot publish on {address}: {} is not an address of this host",
                binding.host_address()
            ),
            "publish on an address the host has (see `ip -4 addr`), or on every address",
        ),
        other => Error::io_op(format!("bind {}/{}", address, binding.protocol))(other.into()),
    }
}

/// Docker's `ps` PORTS column: `0.0.0.0:8080->80/tcp, 443/tcp`.
///
/// `exposed` are the ports the container declares (its image's `EXPOSE`); those not published
/// show alone. Docker's rules, kept exactly: entries sorted by container port, host address,
/// host port, protocol; published on the *same* port number on both sides, or not published,
/// consecutive ports of one address and protocol collapse into a range (`0.0.0.0:80-81->80-81/tcp`,
/// `8000-8001/tcp`), listed first in the order each group began; bindings to a different host
/// port are listed after them, one each (`0.0.0.0:8080->80/tcp, 0.0.0.0:8081->81/tcp`).
pub fn format_ps(bindings: &[PortBinding], exposed: &[(u16, Protocol)]) -> String {
    /// One row of docker's port list: `ip` is empty for a port that is only exposed.
    struct Row {
        private: u16,
        ip: String,
        public: u16,
        protocol: Protocol,
    }
    let mut rows: Vec<Row> = bindings
        .iter()
        .map(|b| Row {
            private: b.container_port,
            ip: b.host_address().to_string(),
            public: b.host_port,
            protocol: b.protocol,
        })
        .collect();
    rows.extend(
        exposed
            .iter()
            .filter(|(port, protocol)| {
                !bindings
                    .iter()
                    .any(|b| b.container_port == *port && b.protocol == *protocol)
            })
            .map(|&(private, protocol)| Row {
                private,
                ip: String::new(),
                public: 0,
                protocol,
            }),
    );
    rows.sort_by(|a, b| {
        (a.private, &a.ip, a.public, a.protocol).cmp(&(b.private, &b.ip, b.public, b.protocol))
    });
    rows.dedup_by(|a, b| {
        (a.private, &a.ip, a.public, a.protocol) == (b.private, &b.ip, b.public, b.protocol)
    });

    // A group is keyed by address and protocol; `order` remembers when each key first appeared.
    let mut groups: HashMap<(String, Protocol), (u16, u16)> = HashMap::new();
    let mut order: Vec<(String, Protocol)> = Vec::new();
    let mut result: Vec<String> = Vec::new();
    let mut mappings: Vec<String> = Vec::new();
    for row in rows {
        if !row.ip.is_empty() && row.public != row.private {
            mappings.push(format!(
                "{}:{}->{}/{}",
                row.ip, row.public, row.private, row.protocol
            ));
            continue;
        }
        let key = (row.ip, row.protocol);
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (row.private, row.private));
                order.push(key);
            }
            Some(group) if row.private == group.1.wrapping_add(1) => group.1 = row.private,
            Some(group) => {
                result.push(format_group(&key, *group));
                *group = (row.private, row.private);
            }
        }
    }
    for key in &order {
        result.push(format_group(key, groups[key]));
    }
    result.extend(mappings);
    result.join(", ")
}

/// `80-81/tcp`, or `0.0.0.0:80-81->80-81/tcp` for a group published on its own numbers.
fn format_group((ip, protocol): &(String, Protocol), (first, last): (u16, u16)) -> String {
    let ports = if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    };
    if ip.is_empty() {
        format!("{ports}/{protocol}")
    } else {
        format!("{ip}:{ports}->{ports}/{protocol}")
    }
}

/// What `port CONTAINER [PORT[/PROTO]]` prints, one line each, in docker's (natural) order:
/// `80/tcp -> 0.0.0.0:8080` for every binding, or, given a port, `0.0.0.0:8080` for each of its
/// bindings. `container` is the name the user gave, for the error when the port is not
/// published.
pub fn format_port_lines(
    bindings: &[PortBinding],
    filter: Option<&str>,
    container: &str,
) -> Result<Vec<String>> {
    let mut lines: Vec<String> = match filter {
        None => bindings
            .iter()
            .map(|b| {
                format!(
                    "{}/{} -> {}:{}",
                    b.container_port,
                    b.protocol,
                    b.host_address(),
                    b.host_port
                )
            })
            .collect(),
        Some(wanted) => {
            let (port, proto) = wanted.split_once('/').unwrap_or((wanted, ""));
            let port: u16 = port.parse().map_err(|_| {
                Error::invalid(
                    format!("invalid port ({port})"),
                    "give a container port, such as 80 or 53/udp",
                )
            })?;
            let protocol = if proto.is_empty() {
                Protocol::Tcp
            } else {
                Protocol::parse(proto)?
            };
            let lines: Vec<String> = bindings
                .iter()
                .filter(|b| b.container_port == port && b.protocol == protocol)
                .map(|b| format!("{}:{}", b.host_address(), b.host_port))
                .collect();
            if lines.is_empty() {
                return Err(Error::invalid(
                    format!("no public port '{wanted}' published for {container}"),
                    format!("see the ports it publishes with `port {container}`"),
                ));
            }
            lines
        }
    };
    lines.sort_by(|a, b| natural_order(a, b));
    Ok(lines)
}

/// Text order in which runs of digits compare as numbers (`9/tcp` before `10/tcp`), the order
/// docker's `port` prints in.
fn natural_order(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (digits_a, rest_a) = split_digits(a);
                let (digits_b, rest_b) = split_digits(b);
                let (value_a, value_b) =
                    (trim_leading_zeros(digits_a), trim_leading_zeros(digits_b));
                let order = value_a
                    .len()
                    .cmp(&value_b.len())
                    .then_with(|| value_a.cmp(value_b))
                    .then_with(|| digits_a.len().cmp(&digits_b.len()));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (rest_a, rest_b);
            }
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => (a, b) = (&a[1..], &b[1..]),
        }
    }
}

fn split_digits(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

fn trim_leading_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

/// A TCP binding, for tests: `tcp(80, Some("127.0.0.1"), 8080)`.
#[cfg(test)]
pub(crate) fn tcp(container_port: u16, host_ip: Option<&str>, host_port: u16) -> PortBinding {
    PortBinding {
        container_port,
        protocol: Protocol::Tcp,
        host_ip: host_ip.map(|ip| ip.parse().expect("address")),
        host_port,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream, UdpSocket};

    use dockyard_support::EngineError;

    use super::*;

    fn udp(container_port: u16, host_ip: Option<&str>, host_port: u16) -> PortBinding {
        PortBinding {
            protocol: Protocol::Udp,
            ..tcp(container_port, host_ip, host_port)
        }
    }

    #[test]
    fn parses_docker_run_p_forms() {
        let cases: &[(&str, Vec<PortBinding>)] = &[
            ("80", vec![tcp(80, None, 0)]),
            ("80/udp", vec![udp(80, None, 0)]),
            ("80/UDP", vec![udp(80, None, 0)]),
            ("80/", vec![tcp(80, None, 0)]),
            ("8080:80", vec![tcp(80, None, 8080)]),
            ("127.0.0.1:8080:80", vec![tcp(80, Some("127.0.0.1"), 8080)]),
            ("127.0.0.1::80", vec![tcp(80, Some("127.0.0.1"), 0)]),
            ("0.0.0.0:8080:80/tcp", vec![tcp(80, None, 8080)]),
            (":8080:80", vec![tcp(80, None, 8080)]),
            ("0:80", vec![tcp(80, None, 0)]),
            (
                "8080-8081:80-81",
                vec![tcp(80, None, 8080), tcp(81, None, 8081)],
            ),
            ("80-81", vec![tcp(80, None, 0), tcp(81, None, 0)]),
            (
                "10.0.0.1:5353-5354:53-54/udp",
                vec![
                    udp(53, Some("10.0.0.1"), 5353),
                    udp(54, Some("10.0.0.1"), 5354),
                ],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(&parse(spec).expect(spec), expected, "{spec}");
        }
    }

    #[test]
    fn refuses_what_docker_refuses_in_its_words() {
        let cases = [
            ("x", "invalid containerPort: x"),
            ("8080:x", "invalid containerPort: x"),
            ("0", "invalid containerPort: 0"),
            ("70000", "invalid containerPort: 70000"),
            ("81-80", "invalid containerPort: 81-80"),
            ("x:80", "invalid hostPort: x"),
            ("80/sctpx", "invalid proto: sctpx"),
            (
                "8080-8081:80-82",
                "invalid ranges specified for container and host Ports: 80-82 and 8080-8081",
            ),
            ("8080:", "no port specified: 8080:<empty>"),
            ("1.2.3:8080:80", "invalid IP address: 1.2.3"),
        ];
        for (spec, message) in cases {
            let error = parse(spec).expect_err(spec);
            assert_eq!(error.to_string(), message, "{spec}");
            assert_eq!(error.kind(), dockyard_support::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn refuses_what_this_engine_cannot_do_clearly() {
        for (spec, words) in [
            ("[::1]:8080:80", "only IPv4 is supported here"),
            ("::1:8080:80", "only IPv4 is supported here"),
            ("80/sctp", "only tcp and udp are supported"),
            ("8080-8090:80", "range of host ports for one container port"),
        ] {
            let error = parse(spec).expect_err(spec);
            assert!(error.to_string().contains(words), "{spec}: {error}");
            assert!(error.hint().is_some(), "{spec}");
        }
    }

    #[test]
    fn exposed_ports_are_published_on_ports_the_kernel_chooses() {
        let config: ContainerConfig = serde_json::from_str(
            r#"{"ExposedPorts": {"80/tcp": {}, "53/udp": {}, "443": {}, "9/sctp": {}}}"#,
        )
        .expect("config");
        assert_eq!(
            exposed(&config),
            [udp(53, None, 0), tcp(80, None, 0), tcp(443, None, 0)]
        );
        assert!(exposed(&ContainerConfig::default()).is_empty());
    }

    #[test]
    fn ps_shows_ports_as_docker_does() {
        /// Published, exposed, and the column.
        type Case<'a> = (&'a [PortBinding], &'a [(u16, Protocol)], &'a str);
        let cases: &[Case] = &[
            (&[], &[], ""),
            (
                &[tcp(80, None, 8080), udp(53, None, 5353)],
                &[],
                "0.0.0.0:5353->53/udp, 0.0.0.0:8080->80/tcp",
            ),
            (
                &[tcp(80, None, 8080)],
                &[(80, Protocol::Tcp), (443, Protocol::Tcp)],
                "443/tcp, 0.0.0.0:8080->80/tcp",
            ),
            // Ranges collapse only where host and container ports are the same numbers.
            (
                &[tcp(80, None, 80), tcp(81, None, 81)],
                &[],
                "0.0.0.0:80-81->80-81/tcp",
            ),
            (
                &[tcp(80, None, 8080), tcp(81, None, 8081)],
                &[],
                "0.0.0.0:8080->80/tcp, 0.0.0.0:8081->81/tcp",
            ),
            (
                &[],
                &[
                    (8000, Protocol::Tcp),
                    (8001, Protocol::Tcp),
                    (8003, Protocol::Tcp),
                ],
                "8000-8001/tcp, 8003/tcp",
            ),
            (
                &[],
                &[
                    (53, Protocol::Udp),
                    (53, Protocol::Tcp),
                    (54, Protocol::Tcp),
                ],
                "53-54/tcp, 53/udp",
            ),
            (
                &[tcp(80, Some("127.0.0.1"), 80), tcp(80, None, 80)],
                &[],
                "0.0.0.0:80->80/tcp, 127.0.0.1:80->80/tcp",
            ),
            (
                &[
                    tcp(80, None, 32768),
                    tcp(22, None, 2222),
                    tcp(443, None, 443),
                ],
                &[(3000, Protocol::Tcp)],
                "0.0.0.0:443->443/tcp, 3000/tcp, 0.0.0.0:2222->22/tcp, 0.0.0.0:32768->80/tcp",
            ),
        ];
        for (bindings, exposed, expected) in cases {
            assert_eq!(
                format_ps(bindings, exposed),
                *expected,
                "{bindings:?} {exposed:?}"
            );
        }
    }

    #[test]
    fn port_lists_bindings_as_docker_does() {
        let bindings = [
            tcp(80, None, 8080),
            udp(53, None, 5353),
            tcp(9, Some("127.0.0.1"), 9999),
            tcp(10, None, 10000),
            tcp(80, Some("127.0.0.1"), 8081),
        ];
        let cases: &[(Option<&str>, &[&str])] = &[
            (
                None,
                &[
                    "9/tcp -> 127.0.0.1:9999",
                    "10/tcp -> 0.0.0.0:10000",
                    "53/udp -> 0.0.0.0:5353",
                    "80/tcp -> 0.0.0.0:8080",
                    "80/tcp -> 127.0.0.1:8081",
                ],
            ),
            (Some("80/tcp"), &["0.0.0.0:8080", "127.0.0.1:8081"]),
            (Some("80"), &["0.0.0.0:8080", "127.0.0.1:8081"]),
            (Some("53/udp"), &["0.0.0.0:5353"]),
        ];
        for (filter, expected) in cases {
            let lines = format_port_lines(&bindings, *filter, "web").expect("lines");
            assert_eq!(lines, *expected, "{filter:?}");
        }
        for (filter, message) in [
            ("53", "no public port '53' published for web"),
            ("81/tcp", "no public port '81/tcp' published for web"),
            ("x", "invalid port (x)"),
        ] {
            let error = format_port_lines(&bindings, Some(filter), "web").expect_err(filter);
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn natural_order_compares_numbers_as_numbers() {
        let mut lines = vec!["10/tcp", "9/tcp", "100/udp", "010/tcp", "a", ""];
        lines.sort_by(|a, b| natural_order(a, b));
        assert_eq!(lines, ["", "9/tcp", "10/tcp", "010/tcp", "100/udp", "a"]);
    }

    fn assert_send<T: Send>() {}

    #[test]
    fn reserving_fills_in_the_ports_the_kernel_chose_and_holds_them() {
        assert_send::<Reserved>();
        let reserved = reserve(&[tcp(80, Some("127.0.0.1"), 0), udp(53, Some("127.0.0.1"), 0)])
            .expect("reserve");
        let [tcp_held, udp_held] = reserved.bindings() else {
            panic!("two bindings: {:?}", reserved.bindings());
        };
        assert!(tcp_held.host_port > 0 && udp_held.host_port > 0);
        assert_eq!(tcp_held.container_port, 80);
        for socket in &reserved.sockets {
            let flags = nix::fcntl::fcntl(socket, nix::fcntl::FcntlArg::F_GETFD).expect("flags");
            assert_ne!(flags & libc::FD_CLOEXEC, 0, "close-on-exec");
        }
        // Held: not even a program asking for SO_REUSEADDR (as std's listener does) gets it.
        assert!(TcpListener::bind(("127.0.0.1", tcp_held.host_port)).is_err());
        assert!(UdpSocket::bind(("127.0.0.1", udp_held.host_port)).is_err());
        // And never listening: a connection is refused, not queued.
        assert!(TcpStream::connect(("127.0.0.1", tcp_held.host_port)).is_err());
        let port = tcp_held.host_port;
        drop(reserved);
        TcpListener::bind(("127.0.0.1", port)).expect("free again once released");
    }

    #[test]
    fn a_port_taken_fails_with_dockers_message() {
        let on_loopback = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = on_loopback.local_addr().expect("address").port();
        for binding in [tcp(80, Some("127.0.0.1"), port), tcp(80, None, port)] {
            let error = reserve(&[binding]).expect_err("taken");
            let address = binding.host_address();
            assert_eq!(
                error.to_string(),
                format!("Bind for {address}:{port} failed: port is already allocated")
            );
            assert_eq!(error.kind(), dockyard_support::ErrorKind::Conflict);
            let hint = error.hint().expect("hint");
            assert!(
                hint.contains(&format!("ss -ltnp 'sport = :{port}'")),
                "{hint}"
            );
        }

        let everywhere = TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = everywhere.local_addr().expect("address").port();
        let error = reserve(&[tcp(80, Some("127.0.0.1"), port)]).expect_err("taken");
        assert_eq!(
            error.to_string(),
            format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
        );

        let udp_taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = udp_taken.local_addr().expect("address").port();
        let error = reserve(&[udp(53, Some("127.0.0.1"), port)]).expect_err("taken");
        assert!(error.hint().expect("hint").contains("ss -lunp"));
    }

    #[test]
    fn nothing_stays_bound_after_a_failure() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let taken_port = taken.local_addr().expect("address").port();
        let first = reserve(&[tcp(80, Some("127.0.0.1"), 0)]).expect("reserve");
        let free_port = first.bindings()[0].host_port;
        drop(first);

        let error = reserve(&[
            tcp(80, Some("127.0.0.1"), free_port),
            tcp(81, Some("127.0.0.1"), taken_port),
        ])
        .expect_err("the second is taken");
        assert!(error.to_string().contains(&taken_port.to_string()));
        let again = reserve(&[tcp(80, Some("127.0.0.1"), free_port)]).expect("released");
        assert_eq!(again.bindings()[0].host_port, free_port);
    }

    #[test]
    fn the_same_port_twice_in_one_request_conflicts() {
        // Port 0 twice is two different ports; a fixed port twice is a conflict.
        let chosen = reserve(&[tcp(80, Some("127.0.0.1"), 0), tcp(81, None, 0)]).expect("two");
        let port = chosen.bindings()[0].host_port;
        assert_ne!(port, chosen.bindings()[1].host_port);
        drop(chosen);
        let error = reserve(&[tcp(80, None, port), tcp(81, None, port)]).expect_err("twice");
        assert!(error.to_string().contains("port is already allocated"));
    }

    #[test]
    fn an_address_the_host_lacks_is_refused() {
        // 198.51.100.0/24 is TEST-NET-2 (RFC 5737), documentation only.
        let error = reserve(&[tcp(80, Some("198.51.100.1"), 8080)]).expect_err("not ours");
        assert!(
            error.to_string().contains("not an address of this host"),
            "{error}"
        );
    }
}
