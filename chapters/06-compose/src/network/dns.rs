//! The embedded DNS server: how `ping web` finds the container called `web`.
//!
//! On a user-defined network, docker gives every container a name server of its own at
//! `127.0.0.11`, inside the container's network namespace (its `/etc/resolv.conf` says so, see
//! [`super::files`]). It answers for the network's members, by container name or
//! `--network-alias`, and passes every other question on to the host's name servers. Because
//! the server runs *outside* the container (here, in its monitor, a thread beside its log pump)
//! while its sockets were made *inside* it ([`bind_in`], through [`super::netns::within`]), the
//! container sees a local name server it cannot kill or reconfigure, and the forwarded questions
//! leave from the host's namespace, where even a host resolver on `127.0.0.53` is reachable.
//!
//! ```text
//!  container netns                      monitor (host netns)
//!  ┌──────────────────────┐  question   ┌───────────────────────────┐  not ours  ┌──────────┐
//!  │ getaddrinfo("web") ──┼────────────▶│ 127.0.0.11:53 socket      │───────────▶│ upstream │
//!  │        ◀─────────────┼─────────────│ Names: web → 172.18.0.3   │◀───────────│ servers  │
//!  └──────────────────────┘   answer    └───────────────────────────┘            └──────────┘
//! ```
//!
//! What it answers, as docker's does: `A` for a member's name (every member's address when
//! several share an alias, TTL 600), an empty `AAAA` answer for a member (the networks are IPv4
//! only; an empty answer says "this name exists, without IPv6", so the resolver does not go
//! asking elsewhere), and `PTR` for a member's address (`container.network`). Everything else is
//! forwarded over UDP to the upstream servers in turn, each given [`FORWARD_TIMEOUT`]; if none
//! answers, `SERVFAIL`. Over UDP an answer larger than the client can take (512 bytes, or its
//! EDNS size) is cut to its question with the TC flag, telling the client to ask again over TCP,
//! which the server also speaks (each message behind a two-byte length, RFC 1035 4.2.2).
//!
//! DNS messages are encoded and decoded with `hickory-proto`: a well-kept, complete codec of
//! the wire format (names with compression, EDNS, every record type), of which this server needs
//! only the messages, not hickory's asynchronous client or server.
//!
//! One thread serves everything, in a `poll(2)` loop over the UDP socket, the TCP listener,
//! the open TCP connections and a wake-up socket that [`Server::stop`] closes, so that stopping
//! takes no timeout to notice. The price of one thread: while a question is being forwarded,
//! the others wait (at most [`FORWARD_TIMEOUT`] per upstream server). The forward's own wait
//! polls the wake-up socket too, so even then `stop` returns at once: the monitor must be back
//! to a single thread before it clones a container again (chapter 01's rule).

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dockyard_support::FromIo;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, sockopt};
use nix::unistd::Pid;

use super::files::EMBEDDED_DNS;
use super::{Error, Network, Result, netns};

/// The DNS port (RFC 1035, 4.2).
pub const PORT: u16 = 53;

/// How long the answers for members may be cached: docker's embedded server says 600 seconds.
pub const TTL: u32 = 600;

/// How long an upstream server has to answer a forwarded question before the next one is asked.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);

/// The largest UDP answer a client without EDNS accepts (RFC 1035, 4.2.1).
const UDP_LIMIT: usize = 512;

/// The largest DNS message (its length is a 16-bit number over TCP, and a UDP datagram's limit).
const MAX_MESSAGE: usize = 65535;

/// A DNS header's length, and the bit of its third byte that marks a response.
const HEADER_LEN: usize = 12;
const RESPONSE_BIT: u8 = 0x80;

/// How long a TCP client may stay silent before its connection is closed (RFC 7766, 6.2.3
/// suggests seconds), and how many may be open at once (the oldest goes first).
const TCP_IDLE: Duration = Duration::from_secs(10);
const MAX_TCP_CONNECTIONS: usize = 16;

/// How long writing an answer to a TCP client may take.
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The server's two sockets, made where the container's resolver will find them.
#[derive(Debug)]
pub struct Sockets {
    /// For questions over UDP, the usual way.
    pub udp: UdpSocket,
    /// For questions over TCP, when an answer was too large for UDP.
    pub tcp: TcpListener,
}

// ANCHOR: bind_in
/// Makes the server's sockets on `127.0.0.11:53` inside the network namespace of process
/// `pid` (the container's first process).
pub fn bind_in(pid: Pid) -> Result<Sockets> {
    netns::within(pid, || Sockets::bind(SocketAddrV4::new(EMBEDDED_DNS, PORT)))
}
// ANCHOR_END: bind_in

impl Sockets {
    /// A UDP socket and a TCP listener on `address`, in the calling thread's network namespace.
    ///
    /// Both are made with `IP_FREEBIND` (ip(7)): the address need not be local yet. The
    /// monitor binds before the container's setup brings its `lo` up, and whether an address of
    /// `127.0.0.0/8` counts as local on a namespace whose `lo` is down is the kernel's call (6.18
    /// says yes; without a local routing table yet, that is not a given), so the bind does not
    /// depend on it: once `lo` is up, the sockets receive. Both are close-on-exec, so that no
    /// command the monitor runs inherits them.
    pub fn bind(address: SocketAddrV4) -> Result<Sockets> {
        let udp = bound(SockType::Datagram, address)?;
        let tcp = bound(SockType::Stream, address)?;
        socket::listen(&tcp, Backlog::new(128).expect("a valid backlog"))
            .map_err(|e| Error::io_op(format!("listen on {address}/tcp"))(e.into()))?;
        Ok(Sockets {
            udp: UdpSocket::from(udp),
            tcp: TcpListener::from(tcp),
        })
    }
}

/// A socket of `kind` bound to `address`, which need not be configured yet.
fn bound(kind: SockType, address: SocketAddrV4) -> Result<OwnedFd> {
    let protocol = if kind == SockType::Stream {
        "tcp"
    } else {
        "udp"
    };
    let failed = |action: &str| Error::io_op(format!("{action} {address}/{protocol}"));
    let fd = socket::socket(AddressFamily::Inet, kind, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| failed("make a socket for")(e.into()))?;
    socket::setsockopt(&fd, sockopt::IpFreebind, &true)
        .map_err(|e| failed("set IP_FREEBIND on")(e.into()))?;
    if kind == SockType::Stream {
        socket::setsockopt(&fd, sockopt::ReuseAddr, &true)
            .map_err(|e| failed("set SO_REUSEADDR on")(e.into()))?;
    }
    socket::bind(fd.as_raw_fd(), &SockaddrIn::from(address))
        .map_err(|e| failed("bind")(e.into()))?;
    Ok(fd)
}

// ANCHOR: names
/// The names the server answers for. `None` means "not ours": the question is forwarded.
pub trait Names: Send + Sync {
    /// The addresses of the members called `name` (no trailing dot, any case).
    fn lookup(&self, name: &str) -> Option<Vec<Ipv4Addr>>;

    /// The name of the member at `ip`, for reverse lookups.
    fn reverse(&self, ip: Ipv4Addr) -> Option<String>;
}
// ANCHOR_END: names

/// The networks a container is attached to, in order of preference, as docker's sandbox asks
/// them: the first network with a member of that name answers. A name may also carry its
/// network's name (`web.backend`). The default bridge has no names.
impl Names for Vec<Network> {
    fn lookup(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.iter().filter(|n| !n.is_default()).find_map(|network| {
            let mut found = network.lookup(&name);
            if found.is_empty() {
                let suffix = format!(".{}", network.name.to_ascii_lowercase());
                if let Some(member) = name.strip_suffix(&suffix) {
                    found = network.lookup(member);
                }
            }
            (!found.is_empty()).then_some(found)
        })
    }

    fn reverse(&self, ip: Ipv4Addr) -> Option<String> {
        self.iter()
            .filter(|n| !n.is_default())
            .find_map(|n| n.name_of(ip).map(|name| format!("{name}.{}", n.name)))
    }
}

/// A fixed list of names, for tests and examples.
#[derive(Debug, Clone, Default)]
pub struct FixedNames {
    entries: Vec<(String, Ipv4Addr)>,
}

impl FixedNames {
    /// No names at all: every question is forwarded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name` at `ip` (a name given twice has both addresses).
    pub fn with(mut self, name: &str, ip: Ipv4Addr) -> Self {
        self.entries.push((name.to_owned(), ip));
        self
    }
}

impl Names for FixedNames {
    fn lookup(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        let name = name.trim_end_matches('.');
        let found: Vec<Ipv4Addr> = self
            .entries
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, ip)| ip)
            .collect();
        (!found.is_empty()).then_some(found)
    }

    fn reverse(&self, ip: Ipv4Addr) -> Option<String> {
        self.entries
            .iter()
            .find(|&&(_, at)| at == ip)
            .map(|(name, _)| name.clone())
    }
}

/// A running server: one thread, until [`Server::stop`] (or drop).
#[derive(Debug)]
pub struct Server {
    /// Closing it wakes the thread's `poll` with a hang-up: the signal to end.
    wake: Option<UnixStream>,
    thread: Option<JoinHandle<Result<()>>>,
}

// ANCHOR: server_start
impl Server {
    /// Serves `names` on `sockets`, forwarding the rest to `upstream`, on a new thread.
    pub fn start(
        sockets: Sockets,
        names: Arc<dyn Names>,
        upstream: Vec<SocketAddr>,
    ) -> Result<Server> {
        Self::start_with(sockets, names, upstream, FORWARD_TIMEOUT)
    }

    /// [`Server::start`], with each upstream server given `forward_timeout` to answer.
    pub fn start_with(
        sockets: Sockets,
        names: Arc<dyn Names>,
        upstream: Vec<SocketAddr>,
        forward_timeout: Duration,
    ) -> Result<Server> {
        let (wake, woken) = UnixStream::pair().map_err(Error::io_op("make a wake-up socket"))?;
        sockets
            .udp
            .set_nonblocking(true)
            .map_err(Error::io_op("make the DNS socket non-blocking"))?;
        sockets
            .tcp
            .set_nonblocking(true)
            .map_err(Error::io_op("make the DNS listener non-blocking"))?;
        let serving = Serving {
            sockets,
            woken,
            names,
            upstream,
            forward_timeout,
            connections: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("dns".into())
            .spawn(move || serving.run())
            .map_err(Error::io_op("start the DNS server's thread"))?;
        Ok(Server {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Stops serving and waits for the thread to end (at once: nothing it waits for outlasts
    /// the wake-up). Fails with what made the server end by itself earlier, if something did.
    pub fn stop(mut self) -> Result<()> {
        self.end()
    }

    fn end(&mut self) -> Result<()> {
        drop(self.wake.take());
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }
}
// ANCHOR_END: server_start

/// A server dropped without [`Server::stop`] stops all the same: no thread outlives it.
impl Drop for Server {
    fn drop(&mut self) {
        // The error, if any, had nobody to go to.
        let _ = self.end();
    }
}

/// Told to stop while waiting.
struct Stopped;

/// The serving thread's state.
struct Serving {
    sockets: Sockets,
    woken: UnixStream,
    names: Arc<dyn Names>,
    upstream: Vec<SocketAddr>,
    forward_timeout: Duration,
    connections: Vec<Connection>,
}

/// An open TCP connection and the bytes received on it that do not make a message yet.
struct Connection {
    stream: TcpStream,
    received: Vec<u8>,
    idle_until: Instant,
}

/// Whether `poll` reported `fd` ready (readable, closed or failed: each needs a look).
fn ready(fd: &PollFd<'_>) -> bool {
    fd.revents().is_some_and(|r| !r.is_empty())
}

fn readable(fd: BorrowedFd<'_>) -> PollFd<'_> {
    PollFd::new(fd, PollFlags::POLLIN)
}

/// Waits until one of `fds` is ready or `timeout` passes; an interrupted wait counts as a
/// timeout (the caller looks again).
fn wait(fds: &mut [PollFd<'_>], timeout: Option<Duration>) -> Result<()> {
    let timeout = match timeout {
        Some(left) => PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
        None => PollTimeout::NONE,
    };
    match nix::poll::poll(fds, timeout) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(Error::io_op("wait for DNS questions")(e.into())),
    }
}

impl Serving {
    // ANCHOR: run
    fn run(mut self) -> Result<()> {
        loop {
            let now = Instant::now();
            let next_idle = self.connections.iter().map(|c| c.idle_until).min();
            let (woken, udp, tcp, connections) = {
                let mut fds = vec![
                    readable(self.woken.as_fd()),
                    readable(self.sockets.udp.as_fd()),
                    readable(self.sockets.tcp.as_fd()),
                ];
                fds.extend(self.connections.iter().map(|c| readable(c.stream.as_fd())));
                wait(
                    &mut fds,
                    next_idle.map(|t| t.saturating_duration_since(now)),
                )?;
                let connections: Vec<bool> = fds[3..].iter().map(ready).collect();
                (ready(&fds[0]), ready(&fds[1]), ready(&fds[2]), connections)
            };
            if woken {
                return Ok(());
            }
            let step = (|| {
                if udp {
                    self.on_udp()?;
                }
                // From the last, so that removing one leaves the indexes before it valid.
                for (index, _) in connections.iter().enumerate().rev().filter(|(_, r)| **r) {
                    self.on_tcp(index)?;
                }
                if tcp {
                    self.accept();
                }
                Ok::<_, Stopped>(())
            })();
            if step.is_err() {
                return Ok(());
            }
            let now = Instant::now();
            self.connections.retain(|c| c.idle_until > now);
        }
    }
    // ANCHOR_END: run

    /// Answers one UDP question, if one is there.
    fn on_udp(&mut self) -> Result<(), Stopped> {
        let mut buffer = vec![0; MAX_MESSAGE];
        // A failed receive (nothing there after all, a signal) is tried again at the next poll.
        let Ok((length, client)) = self.sockets.udp.recv_from(&mut buffer) else {
            return Ok(());
        };
        if let Some(answer) = self.respond(&buffer[..length], Transport::Udp)? {
            // A client that cannot be sent to has gone away; there is no one to tell.
            let _ = self.sockets.udp.send_to(&answer, client);
        }
        Ok(())
    }

    /// Takes a new TCP connection, closing the oldest if there are too many.
    fn accept(&mut self) {
        let Ok((stream, _)) = self.sockets.tcp.accept() else {
            return;
        };
        // Blocking: a read happens only after `poll` said there is something to read, and a
        // write is bounded by its timeout.
        if stream.set_nonblocking(false).is_err()
            || stream.set_write_timeout(Some(TCP_WRITE_TIMEOUT)).is_err()
        {
            return;
        }
        if self.connections.len() == MAX_TCP_CONNECTIONS {
            self.connections.remove(0);
        }
        self.connections.push(Connection {
            stream,
            received: Vec::new(),
            idle_until: Instant::now() + TCP_IDLE,
        });
    }

    /// Reads from TCP connection `index` and answers every whole message received; closes it
    /// when the client did.
    fn on_tcp(&mut self, index: usize) -> Result<(), Stopped> {
        let mut chunk = vec![0; MAX_MESSAGE + 2];
        let connection = &mut self.connections[index];
        let read = match connection.stream.read(&mut chunk) {
            Ok(0) | Err(_) => {
                self.connections.remove(index);
                return Ok(());
            }
            Ok(read) => read,
        };
        connection.received.extend_from_slice(&chunk[..read]);
        connection.idle_until = Instant::now() + TCP_IDLE;
        while let Some(message) = take_frame(&mut self.connections[index].received) {
            let Some(answer) = self.respond(&message, Transport::Tcp)? else {
                continue;
            };
            let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&answer);
            if self.connections[index].stream.write_all(&framed).is_err() {
                self.connections.remove(index);
                return Ok(());
            }
        }
        Ok(())
    }

    // ANCHOR: respond
    /// The answer to the message `query`, if it deserves one.
    fn respond(&self, query: &[u8], transport: Transport) -> Result<Option<Vec<u8>>, Stopped> {
        let Ok(message) = Message::from_vec(query) else {
            return Ok(format_error(query));
        };
        if message.metadata.message_type != MessageType::Query {
            return Ok(None);
        }
        let limit = match transport {
            Transport::Udp => message.edns.as_ref().map_or(UDP_LIMIT, |edns| {
                usize::from(edns.max_payload()).max(UDP_LIMIT)
            }),
            Transport::Tcp => MAX_MESSAGE,
        };
        let reply = if message.metadata.op_code != OpCode::Query {
            reply_to(&message, ResponseCode::NotImp)
        } else if message.queries.len() != 1 {
            reply_to(&message, ResponseCode::FormErr)
        } else if let Some(reply) = self.answer(&message) {
            reply
        } else {
            match self.forward(query)? {
                Some(reply) if reply.len() <= limit => return Ok(Some(reply)),
                Some(reply) => match Message::from_vec(&reply) {
                    Ok(reply) => reply,
                    Err(_) => reply_to(&message, ResponseCode::ServFail),
                },
                None => reply_to(&message, ResponseCode::ServFail),
            }
        };
        Ok(encode(&reply, limit))
    }
    // ANCHOR_END: respond

    /// The answer for a member, or `None` to forward the question.
    fn answer(&self, query: &Message) -> Option<Message> {
        let question = &query.queries[0];
        if question.query_class() != DNSClass::IN {
            return None;
        }
        let name = question.name();
        let text = name.to_ascii();
        let mut reply = reply_to(query, ResponseCode::NoError);
        match question.query_type() {
            RecordType::A => {
                for ip in self.names.lookup(text.trim_end_matches('.'))? {
                    reply.add_answer(Record::from_rdata(name.clone(), TTL, RData::A(A(ip))));
                }
            }
            // A member has no IPv6 address: "no such record", not "no such name".
            RecordType::AAAA => {
                self.names.lookup(text.trim_end_matches('.'))?;
            }
            RecordType::PTR => {
                let network = name.parse_arpa_name().ok()?;
                let std::net::IpAddr::V4(ip) = network.addr() else {
                    return None;
                };
                if network.prefix_len() != 32 {
                    return None;
                }
                let member = self.names.reverse(ip)?;
                let member = Name::from_ascii(format!("{member}.")).ok()?;
                reply.add_answer(Record::from_rdata(
                    name.clone(),
                    TTL,
                    RData::PTR(PTR(member)),
                ));
            }
            _ => return None,
        }
        Some(reply)
    }

    // ANCHOR: forward
    /// The first upstream server's reply to `query`, sent as the client sent it (so the reply
    /// carries the client's id), or `None` if none replied in time.
    fn forward(&self, query: &[u8]) -> Result<Option<Vec<u8>>, Stopped> {
        for &server in &self.upstream {
            if let Some(reply) = self.ask(server, query)? {
                return Ok(Some(reply));
            }
        }
        Ok(None)
    }

    /// `server`'s reply to `query`, from a socket of the host's namespace (the thread's own):
    /// a new one each time, connected to `server`, so that only its replies come back and the
    /// reply's port is unpredictable to anyone else.
    fn ask(&self, server: SocketAddr, query: &[u8]) -> Result<Option<Vec<u8>>, Stopped> {
        let any: SocketAddr = match server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let Ok(socket) = UdpSocket::bind(any) else {
            return Ok(None);
        };
        if socket.connect(server).is_err()
            || socket.set_nonblocking(true).is_err()
            || socket.send(query).is_err()
        {
            return Ok(None);
        }
        let deadline = Instant::now() + self.forward_timeout;
        let mut buffer = vec![0; MAX_MESSAGE];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let (woken, replied) = {
                let mut fds = [readable(self.woken.as_fd()), readable(socket.as_fd())];
                if wait(&mut fds, Some(left)).is_err() {
                    return Ok(None);
                }
                (ready(&fds[0]), ready(&fds[1]))
            };
            if woken {
                return Err(Stopped);
            }
            if !replied {
                continue;
            }
            match socket.recv(&mut buffer) {
                Ok(length) if is_reply_to(query, &buffer[..length]) => {
                    return Ok(Some(buffer[..length].to_vec()));
                }
                // Another message, or nothing after all: keep waiting.
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                    continue;
                }
                // Refused (ICMP port unreachable), or worse: on to the next server.
                Err(_) => return Ok(None),
            }
        }
    }
    // ANCHOR_END: forward
}

/// How a question came.
#[derive(Clone, Copy)]
enum Transport {
    Udp,
    Tcp,
}

/// The first whole message of a TCP stream's bytes (after its two-byte length), taken out.
fn take_frame(received: &mut Vec<u8>) -> Option<Vec<u8>> {
    let length = usize::from(u16::from_be_bytes([*received.first()?, *received.get(1)?]));
    if received.len() < 2 + length {
        return None;
    }
    let message = received[2..2 + length].to_vec();
    received.drain(..2 + length);
    Some(message)
}

/// Whether `reply` answers `query`: a response with the same id.
fn is_reply_to(query: &[u8], reply: &[u8]) -> bool {
    reply.len() >= HEADER_LEN && reply[..2] == query[..2] && reply[2] & RESPONSE_BIT != 0
}

/// The FORMERR reply to a message that cannot be decoded, when its header at least is there
/// and says "question"; nothing otherwise (an answer to garbage would feed loops).
fn format_error(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < HEADER_LEN || query[2] & RESPONSE_BIT != 0 {
        return None;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
        .to_vec()
        .ok()
}

/// A reply to `query` with its question and `code`, nothing answered yet.
fn reply_to(query: &Message, code: ResponseCode) -> Message {
    let mut reply = Message::error_msg(query.metadata.id, query.metadata.op_code, code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_queries(query.queries.iter().cloned());
    if query.edns.is_some() {
        // RFC 6891, 6.1.1: a question with an OPT record gets one back.
        let mut edns = Edns::new();
        edns.set_max_payload(MAX_MESSAGE as u16);
        reply.set_edns(edns);
    }
    reply
}

/// `reply` on the wire, cut to its question with the TC flag if longer than `limit`.
fn encode(reply: &Message, limit: usize) -> Option<Vec<u8>> {
    let bytes = reply.to_vec().ok()?;
    if bytes.len() <= limit {
        return Some(bytes);
    }
    reply.truncate().to_vec().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use hickory_proto::op::Query;
    use hickory_proto::rr::rdata::AAAA;

    use super::*;
    use crate::network::Endpoint;

    const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
    const WAIT: Duration = Duration::from_secs(5);

    fn names() -> Arc<dyn Names> {
        Arc::new(
            FixedNames::new()
                .with("web", [172, 18, 0, 2].into())
                .with("db", [172, 18, 0, 3].into())
                .with("cache", [172, 18, 0, 4].into())
                .with("cache", [172, 18, 0, 5].into()),
        )
    }

    fn loopback_sockets() -> Sockets {
        Sockets {
            udp: UdpSocket::bind((LOCALHOST, 0)).expect("udp"),
            tcp: TcpListener::bind((LOCALHOST, 0)).expect("tcp"),
        }
    }

    /// A server on loopback, and its UDP and TCP addresses.
    fn serve(upstream: Vec<SocketAddr>, timeout: Duration) -> (Server, SocketAddr, SocketAddr) {
        serve_names(names(), upstream, timeout)
    }

    fn serve_names(
        names: Arc<dyn Names>,
        upstream: Vec<SocketAddr>,
        timeout: Duration,
    ) -> (Server, SocketAddr, SocketAddr) {
        let sockets = loopback_sockets();
        let udp = sockets.udp.local_addr().expect("udp address");
        let tcp = sockets.tcp.local_addr().expect("tcp address");
        let server = Server::start_with(sockets, names, upstream, timeout).expect("start");
        (server, udp, tcp)
    }

    fn question(id: u16, name: &str, kind: RecordType) -> Message {
        let mut query = Message::new(id, MessageType::Query, OpCode::Query);
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(Name::from_ascii(name).expect("name"), kind));
        query
    }

    fn client() -> UdpSocket {
        let socket = UdpSocket::bind((LOCALHOST, 0)).expect("client");
        socket.set_read_timeout(Some(WAIT)).expect("timeout");
        socket
    }

    fn ask_udp(server: SocketAddr, query: &Message) -> Message {
        let socket = client();
        socket
            .send_to(&query.to_vec().expect("encode"), server)
            .expect("send");
        let mut buffer = [0; MAX_MESSAGE];
        let length = socket.recv(&mut buffer).expect("an answer");
        Message::from_vec(&buffer[..length]).expect("decode")
    }

    fn addresses(reply: &Message) -> Vec<String> {
        reply
            .answers
            .iter()
            .map(|record| match &record.data {
                RData::A(A(ip)) => ip.to_string(),
                RData::AAAA(AAAA(ip)) => ip.to_string(),
                RData::PTR(PTR(name)) => name.to_ascii(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn members_are_answered_with_their_addresses() {
        let (server, udp, _) = serve(Vec::new(), FORWARD_TIMEOUT);
        let reply = ask_udp(udp, &question(7, "web.", RecordType::A));
        assert_eq!(reply.metadata.id, 7);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.recursion_available && reply.metadata.recursion_desired);
        assert_eq!(addresses(&reply), ["172.18.0.2"]);
        assert_eq!(reply.answers[0].ttl, TTL);
        assert_eq!(reply.answers[0].name.to_ascii(), "web.");
        let shared = ask_udp(udp, &question(8, "CACHE.", RecordType::A));
        assert_eq!(addresses(&shared), ["172.18.0.4", "172.18.0.5"]);
        let v6 = ask_udp(udp, &question(9, "db.", RecordType::AAAA));
        assert_eq!(v6.metadata.response_code, ResponseCode::NoError);
        assert!(v6.answers.is_empty());
        let reverse = ask_udp(
            udp,
            &question(10, "3.0.18.172.in-addr.arpa.", RecordType::PTR),
        );
        assert_eq!(addresses(&reverse), ["db."]);
        server.stop().expect("stop");
    }

    #[test]
    fn names_of_networks_answer_with_or_without_the_network_name() {
        let endpoint = |name: &str, alias: &str, ip: [u8; 4]| Endpoint {
            name: name.to_owned(),
            aliases: vec![alias.to_owned()],
            ip: ip.into(),
            mac: String::new(),
            host_veth: String::new(),
            ports: Vec::new(),
            holder: crate::network::record::Holder::this_process(),
        };
        let network = |name: &str, endpoints: BTreeMap<String, Endpoint>| Network {
            id: "0".repeat(64),
            name: name.to_owned(),
            created_ns: 0,
            subnet: "172.18.0.0/16".parse().expect("subnet"),
            gateway: [172, 18, 0, 1].into(),
            bridge: "dy-000000000000".to_owned(),
            internal: false,
            labels: BTreeMap::new(),
            endpoints,
            removing: false,
        };
        let networks = vec![
            network(
                "bridge",
                BTreeMap::from([("a".repeat(64), endpoint("old", "x", [172, 17, 0, 2]))]),
            ),
            network(
                "backend",
                BTreeMap::from([
                    ("b".repeat(64), endpoint("web", "www", [172, 18, 0, 2])),
                    ("c".repeat(64), endpoint("api", "www", [172, 18, 0, 3])),
                ]),
            ),
        ];
        assert_eq!(
            networks.lookup("old"),
            None,
            "the default bridge has no names"
        );
        assert_eq!(networks.lookup("web."), Some(vec![[172, 18, 0, 2].into()]));
        assert_eq!(
            networks.lookup("WEB.backend"),
            Some(vec![[172, 18, 0, 2].into()])
        );
        assert_eq!(networks.lookup("www").map(|ips| ips.len()), Some(2));
        assert_eq!(networks.lookup("nobody"), None);
        assert_eq!(
            networks.reverse([172, 18, 0, 3].into()).as_deref(),
            Some("api.backend")
        );
        assert_eq!(networks.reverse([172, 17, 0, 2].into()), None);
    }

    /// A fake upstream server on loopback that answers every question with `203.0.113.7`, or
    /// never answers; it ends when the test's server has asked `questions` times.
    fn upstream(answers: bool, questions: usize) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let socket = UdpSocket::bind((LOCALHOST, 0)).expect("upstream");
        socket.set_read_timeout(Some(WAIT)).expect("timeout");
        let address = socket.local_addr().expect("address");
        let thread = std::thread::spawn(move || {
            let mut buffer = [0; MAX_MESSAGE];
            for _ in 0..questions {
                let Ok((length, from)) = socket.recv_from(&mut buffer) else {
                    return;
                };
                if !answers {
                    continue;
                }
                let query = Message::from_vec(&buffer[..length]).expect("a forwarded question");
                let mut reply = reply_to(&query, ResponseCode::NoError);
                let name = query.queries[0].name().clone();
                let ip = Ipv4Addr::new(203, 0, 113, 7);
                reply.add_answer(Record::from_rdata(name, 30, RData::A(A(ip))));
                socket
                    .send_to(&reply.to_vec().expect("encode"), from)
                    .expect("reply");
            }
        });
        (address, thread)
    }

    #[test]
    fn other_names_are_forwarded_and_relayed_with_the_clients_id() {
        let (fake, fake_thread) = upstream(true, 2);
        let (server, udp, _) = serve(vec![fake], FORWARD_TIMEOUT);
        let reply = ask_udp(udp, &question(4242, "example.org.", RecordType::A));
        assert_eq!(reply.metadata.id, 4242);
        assert_eq!(addresses(&reply), ["203.0.113.7"]);
        // So is a question about a member that is not A, AAAA or PTR.
        let mx = ask_udp(udp, &question(4243, "web.", RecordType::MX));
        assert_eq!(mx.metadata.id, 4243);
        assert_eq!(addresses(&mx), ["203.0.113.7"]);
        server.stop().expect("stop");
        fake_thread.join().expect("upstream");
    }

    #[test]
    fn a_silent_upstream_is_skipped_and_none_answering_gives_servfail() {
        let timeout = Duration::from_millis(200);
        let (silent, silent_thread) = upstream(false, 2);
        let (fake, fake_thread) = upstream(true, 1);
        let (server, udp, _) = serve(vec![silent, fake], timeout);
        let reply = ask_udp(udp, &question(1, "example.org.", RecordType::A));
        assert_eq!(addresses(&reply), ["203.0.113.7"]);
        server.stop().expect("stop");
        let (server, udp, _) = serve(vec![silent], timeout);
        let reply = ask_udp(udp, &question(2, "example.org.", RecordType::A));
        assert_eq!(reply.metadata.id, 2);
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
        server.stop().expect("stop");
        silent_thread.join().expect("silent upstream");
        fake_thread.join().expect("upstream");
    }

    #[test]
    fn tcp_questions_are_framed_by_their_length() {
        let (server, _, tcp) = serve(Vec::new(), FORWARD_TIMEOUT);
        let mut stream = TcpStream::connect(tcp).expect("connect");
        stream.set_read_timeout(Some(WAIT)).expect("timeout");
        // Two questions in one write, the second split from its length by a pause.
        let frame = |query: Message| {
            let bytes = query.to_vec().expect("encode");
            let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
            framed.extend(bytes);
            framed
        };
        let first = frame(question(1, "web.", RecordType::A));
        let second = frame(question(2, "db.", RecordType::A));
        stream.write_all(&first).expect("write");
        stream.write_all(&second[..1]).expect("write");
        stream.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(20));
        stream.write_all(&second[1..]).expect("write");
        for (id, ip) in [(1, "172.18.0.2"), (2, "172.18.0.3")] {
            let mut length = [0; 2];
            stream.read_exact(&mut length).expect("length");
            let mut message = vec![0; usize::from(u16::from_be_bytes(length))];
            stream.read_exact(&mut message).expect("message");
            let reply = Message::from_vec(&message).expect("decode");
            assert_eq!(
                (reply.metadata.id, addresses(&reply)),
                (id, vec![ip.to_owned()])
            );
        }
        server.stop().expect("stop");
    }

    #[test]
    fn large_udp_answers_are_truncated_unless_the_client_takes_more() {
        let many = (0..60).fold(FixedNames::new(), |names, i| {
            names.with("many", Ipv4Addr::new(172, 18, 1, i))
        });
        let (server, udp, _) = serve_names(Arc::new(many), Vec::new(), FORWARD_TIMEOUT);
        let reply = ask_udp(udp, &question(5, "many.", RecordType::A));
        assert!(reply.metadata.truncation, "60 addresses exceed 512 bytes");
        assert!(reply.answers.is_empty());
        assert_eq!(reply.queries.len(), 1);
        let mut query = question(6, "many.", RecordType::A);
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        query.set_edns(edns);
        let reply = ask_udp(udp, &query);
        assert!(!reply.metadata.truncation);
        assert_eq!(reply.answers.len(), 60);
        assert!(reply.edns.is_some());
        server.stop().expect("stop");
    }

    #[test]
    fn garbage_gets_formerr_or_nothing_and_never_stops_the_server() {
        let (server, udp, tcp) = serve(Vec::new(), FORWARD_TIMEOUT);
        let socket = client();
        // A question header announcing a question that is not there.
        let header = [0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        socket.send_to(&header, udp).expect("send");
        let mut buffer = [0; MAX_MESSAGE];
        let length = socket.recv(&mut buffer).expect("FORMERR");
        let reply = Message::from_vec(&buffer[..length]).expect("decode");
        assert_eq!(reply.metadata.id, 0xabcd);
        assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
        // Random bytes, from a small xorshift generator (no dependency for a test).
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // In rounds of 50 (500 at once could overflow the socket's receive buffer, and lose
        // the real question after them), each closed by a real question: whatever comes back
        // before its answer must be DNS messages.
        socket.set_read_timeout(Some(WAIT)).expect("timeout");
        for round in 100..110 {
            for _ in 0..50 {
                let length = (random() % 80) as usize;
                let bytes: Vec<u8> = (0..length).map(|_| random() as u8).collect();
                socket.send_to(&bytes, udp).expect("send");
            }
            let query = question(round, "web.", RecordType::A).to_vec().expect("q");
            socket.send_to(&query, udp).expect("send");
            loop {
                let length = socket.recv(&mut buffer).expect("the answer at last");
                let reply = Message::from_vec(&buffer[..length]).expect("a message");
                if reply.metadata.id == round && !reply.answers.is_empty() {
                    break;
                }
            }
        }
        let mut stream = TcpStream::connect(tcp).expect("connect");
        let bytes: Vec<u8> = (0..300).map(|_| random() as u8).collect();
        stream.write_all(&bytes).expect("write garbage");
        drop(stream);
        let reply = ask_udp(udp, &question(3, "web.", RecordType::A));
        assert_eq!(addresses(&reply), ["172.18.0.2"], "still serving");
        server.stop().expect("stop");
    }

    #[test]
    fn stop_returns_at_once_even_while_forwarding() {
        let (silent, silent_thread) = upstream(false, 1);
        let (server, udp, _) = serve(vec![silent], Duration::from_secs(30));
        let socket = client();
        socket
            .send_to(
                &question(1, "example.org.", RecordType::A)
                    .to_vec()
                    .expect("q"),
                udp,
            )
            .expect("send");
        silent_thread
            .join()
            .expect("the question reached the upstream server");
        let started = Instant::now();
        server.stop().expect("stop");
        let took = started.elapsed();
        assert!(took < Duration::from_millis(100), "stop took {took:?}");
        // An idle server stops at once too, and dropping one stops it.
        let (server, _, _) = serve(Vec::new(), FORWARD_TIMEOUT);
        let started = Instant::now();
        drop(server);
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn binds_in_a_new_network_namespace_before_and_after_lo_is_up() {
        dockyard_tests::require_root!();
        let mut sleeper = std::process::Command::new("unshare")
            .args(["--net", "sleep", "30"])
            .spawn()
            .expect("unshare");
        let pid = Pid::from_raw(sleeper.id() as i32);
        // `unshare` execs `sleep` once the namespace is made: wait for that.
        let own = std::fs::read_link("/proc/self/ns/net").expect("own namespace");
        let deadline = Instant::now() + WAIT;
        while std::fs::read_link(format!("/proc/{pid}/ns/net")).ok() == Some(own.clone()) {
            assert!(
                Instant::now() < deadline,
                "unshare did not make a namespace"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let result = std::panic::catch_unwind(|| {
            let sockets = bind_in(pid).expect("bind with lo down");
            let up = std::process::Command::new("nsenter")
                .args([
                    "-t",
                    &pid.to_string(),
                    "-n",
                    "ip",
                    "link",
                    "set",
                    "lo",
                    "up",
                ])
                .status()
                .expect("nsenter");
            assert!(up.success());
            let server = Server::start(sockets, names(), Vec::new()).expect("start");
            let reply = netns::within(pid, || {
                let socket = client();
                let query = question(11, "web.", RecordType::A).to_vec().expect("q");
                socket
                    .send_to(&query, (EMBEDDED_DNS, PORT))
                    .map_err(Error::io_op("send"))?;
                let mut buffer = [0; MAX_MESSAGE];
                let length = socket.recv(&mut buffer).map_err(Error::io_op("recv"))?;
                Ok(Message::from_vec(&buffer[..length]).expect("decode"))
            })
            .expect("ask inside the namespace");
            assert_eq!(addresses(&reply), ["172.18.0.2"]);
            server.stop().expect("stop");
        });
        sleeper.kill().expect("kill");
        sleeper.wait().expect("reap");
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}
