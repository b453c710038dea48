//! The probe's network modes: a tiny TCP service, a client, and a resolver of its own.
//!
//! The probe is linked statically, and a static C library cannot load the name-service
//! modules `getaddrinfo` needs, so names are resolved here: `/etc/hosts` first, then one `A`
//! question to the first `nameserver` of `/etc/resolv.conf`, as a stub resolver does.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// `probe serve PORT`.
pub fn serve(port: &str) -> ExitCode {
    let listener = match TcpListener::bind(("0.0.0.0", port.parse().unwrap_or(0))) {
        Ok(listener) => listener,
        Err(error) => {
            println!("bind 0.0.0.0:{port}: {}", super::io_verdict(&error));
            return ExitCode::FAILURE;
        }
    };
    let hostname = super::read("/proc/sys/kernel/hostname");
    for mut stream in listener.incoming().flatten() {
        let _ = writeln!(stream, "hello from {}", hostname.trim());
    }
    ExitCode::SUCCESS
}

/// `probe connect HOST PORT SECS`.
pub fn connect(host: &str, port: &str, secs: f64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let port: u16 = port.parse().unwrap_or(0);
    loop {
        let attempt = match lookup(host).first() {
            Some(ip) => {
                let address = SocketAddr::from((*ip, port));
                match TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
                    Ok(stream) => {
                        let mut line = String::new();
                        let _ = BufReader::new(stream).read_line(&mut line);
                        print!("{line}");
                        return ExitCode::SUCCESS;
                    }
                    Err(error) => format!("connect {address}: {}", super::io_verdict(&error)),
                }
            }
            None => format!("{host}: not found"),
        };
        if Instant::now() >= deadline {
            println!("{attempt}");
            return ExitCode::FAILURE;
        }
        sleep(Duration::from_millis(50));
    }
}

/// `probe resolve NAME`.
pub fn resolve(name: &str) -> ExitCode {
    let found = lookup(name);
    if found.is_empty() {
        println!("{name}: not found");
        return ExitCode::FAILURE;
    }
    let found: Vec<String> = found.iter().map(Ipv4Addr::to_string).collect();
    println!("{name}: {}", found.join(" "));
    ExitCode::SUCCESS
}

/// The IPv4 addresses of `name`: a literal, `/etc/hosts`, then DNS.
fn lookup(name: &str) -> Vec<Ipv4Addr> {
    if let Ok(ip) = name.parse() {
        return vec![ip];
    }
    let hosts = super::read("/etc/hosts");
    let from_hosts: Vec<Ipv4Addr> = hosts
        .lines()
        .filter_map(|line| {
            let mut words = line.split('#').next()?.split_whitespace();
            let ip: Ipv4Addr = words.next()?.parse().ok()?;
            words.any(|w| w.eq_ignore_ascii_case(name)).then_some(ip)
        })
        .collect();
    if !from_hosts.is_empty() {
        return from_hosts;
    }
    let resolv = super::read("/etc/resolv.conf");
    let server = resolv.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == "nameserver").then(|| words.next()?.parse::<Ipv4Addr>().ok())?
    });
    server.map(|server| ask(server, name)).unwrap_or_default()
}

/// One `A` question over UDP, the answer's addresses (none on any failure).
fn ask(server: Ipv4Addr, name: &str) -> Vec<Ipv4Addr> {
    let Ok(socket) = UdpSocket::bind("0.0.0.0:0") else {
        return Vec::new();
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
    // Header: id 0x7072, recursion desired, one question.
    let mut query = vec![0x70, 0x72, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    if socket.send_to(&query, (server, 53)).is_err() {
        return Vec::new();
    }
    let mut answer = [0u8; 1500];
    let Ok(length) = socket.recv(&mut answer) else {
        return Vec::new();
    };
    parse_a_records(&answer[..length], query.len())
}

/// The `A` records of an answer whose question section ends at `offset`.
fn parse_a_records(message: &[u8], mut offset: usize) -> Vec<Ipv4Addr> {
    if message.len() < 12 || message[0..2] != [0x70, 0x72] {
        return Vec::new();
    }
    let answers = u16::from_be_bytes([message[6], message[7]]);
    let mut found = Vec::new();
    for _ in 0..answers {
        // The owner name: a pointer (two bytes) or labels ending in zero.
        while offset < message.len() {
            let byte = message[offset];
            if byte & 0xc0 == 0xc0 {
                offset += 2;
                break;
            }
            offset += 1 + byte as usize;
            if byte == 0 {
                break;
            }
        }
        let Some(fixed) = message.get(offset..offset + 10) else {
            break;
        };
        let kind = u16::from_be_bytes([fixed[0], fixed[1]]);
        let length = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
        offset += 10;
        if let (1, 4, Some(data)) = (kind, length, message.get(offset..offset + 4)) {
            found.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        offset += length;
    }
    found
}
