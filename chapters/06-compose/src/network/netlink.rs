//! The kernel's routing messages (rtnetlink, `man 7 rtnetlink`): how `ip link`, `ip addr`
//! and `ip route` talk to the kernel, and how the engine makes bridges and veth pairs.
//!
//! Every request is one message on a `NETLINK_ROUTE` socket, answered by an acknowledgement
//! (or an error number, as a system call would give). A request is plain data: a header
//! saying what (`RTM_NEWLINK`, `RTM_NEWADDR`, `RTM_NEWROUTE`…), and attributes saying with
//! what (a name, a kind, a peer, an address). The socket talks to the network namespace it
//! was made in ([`super::netns`] makes one in a container's).
//!
//! The messages are encoded by `netlink-packet-route` and sent over `netlink-sys`'s socket,
//! both from the rust-netlink project that also maintains the `rtnetlink` crate. `rtnetlink`
//! itself is an async (tokio) client: a container's monitor is a small single-threaded
//! process, and a handful of requests, each answered in microseconds, need no runtime. So this
//! module is the dozen lines of request-and-acknowledge that `rtnetlink` would wrap.

use std::net::Ipv4Addr;

use ch01_namespaces::{Actor, Narrator};
use ipnet::Ipv4Net;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::{Error, Result};

/// A `NETLINK_ROUTE` socket in the network namespace it was opened in.
#[derive(Debug)]
pub struct Netlink {
    socket: Socket,
    sequence: u32,
}

/// A new veth pair: one end stays here (on a bridge), the other is made directly in another
/// process's network namespace under the name the container sees.
#[derive(Debug, Clone)]
pub struct VethPair<'a> {
    /// The end that stays in this namespace, e.g. `veth1a2b3c4`.
    pub host: &'a str,
    /// The bridge the host end is plugged into.
    pub bridge: &'a str,
    /// The other end's name, e.g. `eth0`.
    pub peer: &'a str,
    /// The other end's hardware address.
    pub peer_mac: [u8; 6],
    /// A process in the namespace the other end is made in.
    pub peer_pid: u32,
}

impl Netlink {
    /// Opens a socket in this thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(Error::netlink("open a socket"))?;
        socket
            .bind_auto()
            .map_err(Error::netlink("bind the socket"))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(Error::netlink("connect to the kernel"))?;
        Ok(Netlink {
            socket,
            sequence: 0,
        })
    }

    // ANCHOR: bridge
    /// `ip link add NAME type bridge` and `ip link set NAME up`.
    pub fn create_bridge(&mut self, name: &str, n: &Narrator) -> Result<()> {
        let mut link = LinkMessage::default();
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        link.attributes = vec![
            LinkAttribute::IfName(name.to_owned()),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
        ];
        n.say(
            Actor::Engine,
            format!("netlink RTM_NEWLINK {name} kind bridge, up"),
        );
        self.ask(
            RouteNetlinkMessage::NewLink(link),
            NLM_F_CREATE | NLM_F_EXCL,
            format!("create bridge {name}"),
        )
    }
    // ANCHOR_END: bridge

    // ANCHOR: veth
    /// `ip link add HOST master BRIDGE up type veth peer name PEER address MAC netns PID`:
    /// one message makes both ends, plugs one into the bridge and puts the other in the
    /// container's namespace, already named as the container sees it.
    pub fn create_veth(&mut self, pair: &VethPair, n: &Narrator) -> Result<()> {
        let bridge = self.require(pair.bridge)?;
        let mut peer = LinkMessage::default();
        peer.attributes = vec![
            LinkAttribute::IfName(pair.peer.to_owned()),
            LinkAttribute::Address(pair.peer_mac.to_vec()),
            LinkAttribute::NetNsPid(pair.peer_pid),
        ];
        let mut link = LinkMessage::default();
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        link.attributes = vec![
            LinkAttribute::IfName(pair.host.to_owned()),
            LinkAttribute::Controller(bridge),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
            ]),
        ];
        n.say(
            Actor::Engine,
            format!(
                "netlink RTM_NEWLINK {} kind veth, master {}, up; peer {} address {} netns of pid {}",
                pair.host,
                pair.bridge,
                pair.peer,
                format_mac(&pair.peer_mac),
                pair.peer_pid
            ),
        );
        self.ask(
            RouteNetlinkMessage::NewLink(link),
            NLM_F_CREATE | NLM_F_EXCL,
            format!("create veth pair {} and {}", pair.host, pair.peer),
        )
    }
    // ANCHOR_END: veth

    // ANCHOR: address
    /// `ip addr add ADDRESS/PREFIX dev NAME`.
    pub fn add_address(&mut self, name: &str, address: Ipv4Net, n: &Narrator) -> Result<()> {
        let index = self.require(name)?;
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = address.prefix_len();
        message.header.index = index;
        let ip = address.addr().into();
        message.attributes = vec![
            AddressAttribute::Local(ip),
            AddressAttribute::Address(ip),
            AddressAttribute::Broadcast(address.broadcast()),
        ];
        n.say(
            Actor::Engine,
            format!("netlink RTM_NEWADDR {address} dev {name}"),
        );
        self.ask(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_EXCL,
            format!("add address {address}"),
        )
    }

    /// `ip link set NAME up`.
    pub fn set_up(&mut self, name: &str, n: &Narrator) -> Result<()> {
        let index = self.require(name)?;
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        n.say(Actor::Engine, format!("netlink RTM_NEWLINK {name} up"));
        self.ask(
            RouteNetlinkMessage::SetLink(link),
            0,
            format!("bring {name} up"),
        )
    }

    /// `ip route add default via GATEWAY`.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr, n: &Narrator) -> Result<()> {
        let mut route = RouteMessage::default();
        route.header.address_family = AddressFamily::Inet;
        route.header.table = RouteHeader::RT_TABLE_MAIN;
        route.header.protocol = RouteProtocol::Boot;
        route.header.scope = RouteScope::Universe;
        route.header.kind = RouteType::Unicast;
        route.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(gateway))];
        n.say(
            Actor::Engine,
            format!("netlink RTM_NEWROUTE default via {gateway}"),
        );
        self.ask(
            RouteNetlinkMessage::NewRoute(route),
            NLM_F_CREATE | NLM_F_EXCL,
            format!("add the default route via {gateway}"),
        )
    }
    // ANCHOR_END: address

    /// `ip link del NAME`; `false` if there was none (a veth whose peer's namespace ended is
    /// gone with it: deleting either end of a pair deletes both).
    pub fn delete_link(&mut self, name: &str, n: &Narrator) -> Result<bool> {
        let Some(index) = self.index_of(name)? else {
            return Ok(false);
        };
        let mut link = LinkMessage::default();
        link.header.index = index;
        n.say(Actor::Engine, format!("netlink RTM_DELLINK {name}"));
        match self.ask(
            RouteNetlinkMessage::DelLink(link),
            0,
            format!("delete {name}"),
        ) {
            Ok(()) => Ok(true),
            Err(Error::Netlink { source, .. }) if source.raw_os_error() == Some(libc::ENODEV) => {
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    /// The index of the interface `name`, if there is one (`ip link show NAME`).
    pub fn index_of(&mut self, name: &str) -> Result<Option<u32>> {
        let mut link = LinkMessage::default();
        link.attributes = vec![LinkAttribute::IfName(name.to_owned())];
        match self.dump(
            RouteNetlinkMessage::GetLink(link),
            0,
            format!("look up {name}"),
        ) {
            Ok(answers) => Ok(answers.into_iter().find_map(|answer| match answer {
                RouteNetlinkMessage::NewLink(link) => Some(link.header.index),
                _ => None,
            })),
            Err(Error::Netlink { source, .. }) if source.raw_os_error() == Some(libc::ENODEV) => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// The index of the interface `name`, which must exist.
    fn require(&mut self, name: &str) -> Result<u32> {
        self.index_of(name)?
            .ok_or_else(|| Error::netlink(format!("find {name}"))(not_found()))
    }

    /// The names of every interface here (`ip link`).
    pub fn link_names(&mut self) -> Result<Vec<String>> {
        let answers = self.dump(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
            "list interfaces".into(),
        )?;
        Ok(answers
            .into_iter()
            .filter_map(|answer| match answer {
                RouteNetlinkMessage::NewLink(link) => {
                    link.attributes.into_iter().find_map(|a| match a {
                        LinkAttribute::IfName(name) => Some(name),
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// The IPv4 networks this host routes to (`ip route`, every table): a new network's
    /// subnet must overlap none of them.
    pub fn routed_networks(&mut self) -> Result<Vec<Ipv4Net>> {
        let mut route = RouteMessage::default();
        route.header.address_family = AddressFamily::Inet;
        let answers = self.dump(
            RouteNetlinkMessage::GetRoute(route),
            NLM_F_DUMP,
            "list routes".into(),
        )?;
        Ok(answers
            .into_iter()
            .filter_map(|answer| match answer {
                RouteNetlinkMessage::NewRoute(route) => {
                    let prefix = route.header.destination_prefix_length;
                    // The default route overlaps everything and is no one's subnet.
                    if prefix == 0 {
                        return None;
                    }
                    route.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Destination(RouteAddress::Inet(ip)) => {
                            Ipv4Net::new(*ip, prefix).ok().map(|net| net.trunc())
                        }
                        _ => None,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// Sends a request and waits for its acknowledgement.
    fn ask(&mut self, message: RouteNetlinkMessage, flags: u16, what: String) -> Result<()> {
        self.exchange(message, flags | NLM_F_ACK, what).map(drop)
    }

    /// Sends a request and gathers its answers (several for a dump).
    fn dump(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        what: String,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.exchange(message, flags, what)
    }

    fn exchange(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        what: String,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut buffer = vec![0; packet.buffer_len()];
        packet.serialize(&mut buffer);
        self.socket
            .send(&buffer, 0)
            .map_err(Error::netlink(what.clone()))?;

        let mut answers = Vec::new();
        loop {
            let (data, _) = self
                .socket
                .recv_from_full()
                .map_err(Error::netlink(what.clone()))?;
            let mut offset = 0;
            while offset < data.len() {
                let answer = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[offset..])
                    .map_err(|e| {
                        Error::netlink(what.clone())(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            e.to_string(),
                        ))
                    })?;
                let length = answer.header.length as usize;
                if length == 0 {
                    break;
                }
                offset += length;
                if answer.header.sequence_number != self.sequence {
                    continue;
                }
                let multipart = answer.header.flags & netlink_packet_core::NLM_F_MULTIPART != 0;
                match answer.payload {
                    NetlinkPayload::Error(error) => {
                        return match error.code {
                            None => Ok(answers),
                            Some(code) => Err(Error::netlink(what)(
                                std::io::Error::from_raw_os_error(-code.get()),
                            )),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(answers),
                    NetlinkPayload::InnerMessage(inner) => {
                        answers.push(inner);
                        // A single answer to a plain (not dump) get ends the exchange.
                        if !multipart && flags & NLM_F_ACK == 0 {
                            return Ok(answers);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    bytes.try_into().ok()
}

fn not_found() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::ENODEV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_round_trip() {
        let mac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];
        assert_eq!(format_mac(&mac), "02:42:ac:11:00:02");
        assert_eq!(parse_mac("02:42:ac:11:00:02"), Some(mac));
        assert_eq!(parse_mac("02:42"), None);
    }

    #[test]
    fn the_loopback_interface_is_found_and_routes_are_listed() {
        let mut netlink = Netlink::open().expect("netlink");
        assert_eq!(netlink.index_of("lo").expect("lo"), Some(1));
        assert_eq!(netlink.index_of("no-such-if0").expect("lookup"), None);
        assert!(
            netlink
                .link_names()
                .expect("links")
                .contains(&"lo".to_owned())
        );
        netlink.routed_networks().expect("routes");
    }
}
