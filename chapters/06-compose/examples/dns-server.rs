//! The embedded DNS server alone, on loopback, serving fixed names: for
//! `scripts/bench-dns.sh`, or to try with `dig @127.0.0.1 -p PORT web`.
//!
//! ```text
//! cargo run -p ch06-compose --example dns-server -- 5353 web=172.18.0.2 db=172.18.0.3
//! ```
//!
//! It prints `listening on 127.0.0.1:PORT` once it serves, and stops when its standard input
//! closes. Names it does not know get SERVFAIL: it has no upstream servers.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::sync::Arc;

use ch06_compose::network::dns::{FixedNames, Server, Sockets};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(port) = args.next().and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: dns-server PORT [NAME=IPV4]...");
        return ExitCode::from(2);
    };
    let mut names = FixedNames::new();
    for pair in args {
        let Some((name, ip)) = pair.split_once('=') else {
            eprintln!("dns-server: {pair:?} is not NAME=IPV4");
            return ExitCode::from(2);
        };
        let Ok(ip) = ip.parse::<Ipv4Addr>() else {
            eprintln!("dns-server: {ip:?} is not an IPv4 address");
            return ExitCode::from(2);
        };
        names = names.with(name, ip);
    }
    let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let started = Sockets::bind(address)
        .and_then(|sockets| Server::start(sockets, Arc::new(names), Vec::new()));
    let server = match started {
        Ok(server) => server,
        Err(e) => {
            eprintln!("dns-server: {e}");
            return ExitCode::from(1);
        }
    };
    println!("listening on {address}");
    // Until standard input closes.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    match server.stop() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dns-server: {e}");
            ExitCode::from(1)
        }
    }
}
