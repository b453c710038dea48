//! The three files that tell a container who it is and how to find others: `/etc/hostname`,
//! `/etc/hosts` and `/etc/resolv.conf`.
//!
//! An image has its own copies of these files, but they cannot be right for every container
//! made from it: the container's name, its address and the host's name servers are only known
//! when it starts. So docker writes the three files for each container, in a directory of its
//! own, and bind-mounts them over the image's. The functions here only compute the files'
//! contents, in docker 20.10's layout (libnetwork's `etchosts` and `resolvconf` packages), so
//! that a program that parses them sees what it would see under docker; writing and mounting
//! them is the container's setup.
//!
//! Name servers depend on the network:
//!
//! - On a user-defined network, the container asks the embedded DNS server at `127.0.0.11`
//!   ([`super::dns`]), which knows the other members by name and forwards every other question
//!   to the *upstream* servers: the host's (or `--dns` ones), asked from the host's network
//!   namespace, so that even a host resolver on `127.0.0.53` works.
//! - On the default bridge, containers have no names for each other: the file is the host's,
//!   less the name servers on the host's loopback, which mean nothing inside the container's
//!   own network namespace.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{Error, Result};

/// Where the embedded DNS server listens in every container on a user-defined network.
pub const EMBEDDED_DNS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// What docker falls back to when the host leaves a container no name server it can reach
/// (Google's public resolvers, libnetwork's `resolvconf` defaults).
const FALLBACK_DNS: [Ipv4Addr; 2] = [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)];

/// The DNS port (RFC 1035, 4.2).
const DNS_PORT: u16 = 53;

/// The word `--add-host` takes for "the host's address as the containers see it".
pub const HOST_GATEWAY: &str = "host-gateway";

/// The lines every container's `/etc/hosts` starts with, as docker writes them.
const DEFAULT_HOSTS: [(&str, &str); 6] = [
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
];

/// `/etc/hostname`: the container's host name and a newline.
pub fn hostname(name: &str) -> String {
    format!("{name}\n")
}

/// One `--add-host NAME:IP`: a line of `/etc/hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraHost {
    /// The name (or names, separated by spaces, as `/etc/hosts` allows).
    pub name: String,
    /// Its address, IPv4 or IPv6.
    pub ip: IpAddr,
}

// ANCHOR: parse_add_host
/// Reads `--add-host NAME:IP` as docker 20.10 does: split at the *first* colon, so that an
/// IPv6 address keeps its own (`--add-host v6:2001:db8::1`); `host-gateway` as the address
/// stands for `host_gateway`, the host's address on the default bridge. (`NAME=IP` arrived in
/// docker 25; 20.10 refuses it as a bad format.)
pub fn parse_add_host(value: &str, host_gateway: Option<Ipv4Addr>) -> Result<ExtraHost> {
    let refused = |reason: String| {
        Error::invalid(
            format!("invalid argument {value:?} for \"--add-host\" flag: {reason}"),
            "give it as NAME:IP, e.g. --add-host db:10.0.0.5 or --add-host host:host-gateway",
        )
    };
    let Some((name, ip)) = value.split_once(':').filter(|(name, _)| !name.is_empty()) else {
        return Err(refused(format!("bad format for add-host: {value:?}")));
    };
    let ip = if ip == HOST_GATEWAY {
        let gateway = host_gateway.ok_or_else(|| {
            Error::invalid(
                "unable to derive the IP value for host-gateway",
                "the default bridge has no gateway address yet: give the address itself",
            )
        })?;
        IpAddr::V4(gateway)
    } else {
        ip.trim()
            .parse()
            .map_err(|_| refused(format!("invalid IP address in add-host: {ip:?}")))?
    };
    Ok(ExtraHost {
        name: name.to_owned(),
        ip,
    })
}
// ANCHOR_END: parse_add_host

// ANCHOR: hosts
/// `/etc/hosts` as docker writes it: localhost and the IPv6 names, then the `--add-host`
/// entries in their order, then one line for each of the container's own addresses naming it.
/// A host name with a dot (`web.example.com`) is written with its first label too, as docker
/// does, so that both resolve.
pub fn hosts(hostname: &str, own: &[Ipv4Addr], extra: &[ExtraHost]) -> String {
    let mut text = String::new();
    let mut line = |ip: &dyn std::fmt::Display, names: &str| {
        text.push_str(&format!("{ip}\t{names}\n"));
    };
    for (ip, names) in DEFAULT_HOSTS {
        line(&ip, names);
    }
    for host in extra {
        line(&host.ip, &host.name);
    }
    let names = match hostname.split_once('.') {
        Some((short, _)) => format!("{hostname} {short}"),
        None => hostname.to_owned(),
    };
    for ip in own {
        line(ip, &names);
    }
    text
}
// ANCHOR_END: hosts

/// Who answers a container's DNS questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// The embedded server at `127.0.0.11` (containers on user-defined networks).
    Embedded,
    /// The host's name servers, asked directly (containers on the default bridge).
    Host,
}

/// A container's `/etc/resolv.conf`, and where its embedded DNS server sends what it does not
/// know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// The file's contents.
    pub text: String,
    /// The servers the embedded DNS server forwards to, in order (empty for
    /// [`Resolver::Host`], which has no embedded server).
    pub upstream: Vec<SocketAddr>,
}

// ANCHOR: resolv_conf
/// A container's `/etc/resolv.conf` from the host's (`host`, the text of its file) and the
/// `--dns`, `--dns-search` and `--dns-option` values, by docker 20.10's rules:
///
/// - [`Resolver::Host`] with none of the three: the host's file as it is, less its name
///   servers on loopback (`127.0.0.0/8`, `::1`) and over IPv6 (the container has no IPv6
///   route); if no name server is left, Google's `8.8.8.8` and `8.8.4.4`.
/// - [`Resolver::Host`] with any of them: a new file, each of the three replaced by the
///   option where given, else taken from the host's file *unfiltered* (docker's behaviour:
///   `--dns-search` alone keeps a host's `127.0.0.53`).
/// - [`Resolver::Embedded`]: `nameserver 127.0.0.11` (then any IPv6 servers, which the
///   embedded server does not forward to), the search domains and options as above, and
///   `ndots:0` unless the options set `ndots` (so that `web` is asked as `web.` first, and
///   found by the embedded server rather than tried with every search domain). Upstream: the
///   `--dns` servers, else the host's IPv4 servers, loopback ones included (they are asked
///   from the host's namespace), else Google's.
///
/// Fails, as docker does, on an `ndots` option without a number.
pub fn resolv_conf(
    host: &str,
    mode: Resolver,
    dns: &[IpAddr],
    search: &[String],
    options: &[String],
) -> Result<ResolvConf> {
    let given = !dns.is_empty() || !search.is_empty() || !options.is_empty();
    let nameservers = if dns.is_empty() {
        nameservers(host)
    } else {
        dns.to_vec()
    };
    let search = if search.is_empty() {
        last_list(host, "search")
    } else {
        search.to_vec()
    };
    let mut options = if options.is_empty() {
        last_list(host, "options")
    } else {
        options.to_vec()
    };
    match mode {
        Resolver::Host if !given => Ok(ResolvConf {
            text: without_local_servers(host),
            upstream: Vec::new(),
        }),
        Resolver::Host => Ok(ResolvConf {
            text: build(&nameservers, &search, &options),
            upstream: Vec::new(),
        }),
        Resolver::Embedded => {
            if !sets_ndots(&options)? {
                options.push("ndots:0".to_owned());
            }
            let mut listed = vec![IpAddr::V4(EMBEDDED_DNS)];
            listed.extend(
                nameservers
                    .iter()
                    .filter(|ip| ip.is_ipv6() && !ip.is_loopback()),
            );
            let mut upstream: Vec<SocketAddr> = nameservers
                .iter()
                .filter(|ip| ip.is_ipv4())
                .map(|&ip| SocketAddr::new(ip, DNS_PORT))
                .collect();
            if upstream.is_empty() {
                upstream = FALLBACK_DNS
                    .iter()
                    .map(|&ip| SocketAddr::new(ip.into(), DNS_PORT))
                    .collect();
            }
            Ok(ResolvConf {
                text: build(&listed, &search, &options),
                upstream,
            })
        }
    }
}
// ANCHOR_END: resolv_conf

/// A resolv.conf written from its parts, in docker's order: search, name servers, options.
/// A search list of just `.` means "no search domains" (`--dns-search .`).
fn build(nameservers: &[IpAddr], search: &[String], options: &[String]) -> String {
    let mut text = String::new();
    let search = search.join(" ");
    if !search.is_empty() && search.trim() != "." {
        text.push_str(&format!("search {search}\n"));
    }
    for ip in nameservers {
        text.push_str(&format!("nameserver {ip}\n"));
    }
    let options = options.join(" ");
    if !options.trim().is_empty() {
        text.push_str(&format!("options {options}\n"));
    }
    text
}

/// The host's file less the name servers a container cannot reach, each with the blank lines
/// after it (as docker's pattern takes them); Google's servers if none is left.
fn without_local_servers(host: &str) -> String {
    let mut text = String::new();
    let mut dropping = false;
    for line in host.split_inclusive('\n') {
        if dropping && line.trim().is_empty() {
            continue;
        }
        dropping = nameserver_of(line).is_some_and(|ip| ip.is_loopback() || ip.is_ipv6());
        if !dropping {
            text.push_str(line);
        }
    }
    if nameservers(&text).is_empty() {
        text.push('\n');
        for ip in FALLBACK_DNS {
            text.push_str(&format!("nameserver {ip}\n"));
        }
    }
    text
}

/// The address of a `nameserver` line (an IPv6 zone such as `%eth0` dropped).
fn nameserver_of(line: &str) -> Option<IpAddr> {
    let mut words = without_comment(line).split_whitespace();
    if words.next() != Some("nameserver") {
        return None;
    }
    let address = words.next()?;
    address.split('%').next()?.parse().ok()
}

/// Every name server of a resolv.conf, in order.
fn nameservers(text: &str) -> Vec<IpAddr> {
    text.lines().filter_map(nameserver_of).collect()
}

/// The words of the last `search` or `options` line (the resolver honours the last one).
fn last_list(text: &str, keyword: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let mut words = without_comment(line).split_whitespace();
            (words.next() == Some(keyword)).then(|| words.map(str::to_owned).collect())
        })
        .next_back()
        .unwrap_or_default()
}

fn without_comment(line: &str) -> &str {
    line.split('#').next().unwrap_or_default()
}

/// Whether the options set `ndots` themselves; an `ndots` without a number is refused.
fn sets_ndots(options: &[String]) -> Result<bool> {
    // Docker looks at the first option that mentions ndots.
    let Some(option) = options.iter().find(|o| o.contains("ndots")) else {
        return Ok(false);
    };
    let invalid =
        |message: String| Error::invalid(message, "give it as ndots:N, e.g. --dns-option ndots:2");
    let Some((_, number)) = option.split_once(':').filter(|(_, n)| !n.contains(':')) else {
        return Err(invalid(format!("invalid ndots option {option}")));
    };
    match number.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(true),
        Ok(n) => Err(invalid(format!("invalid number for ndots option: {n}"))),
        Err(_) => Err(invalid(format!(
            "invalid number for ndots option: {number}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEMD_RESOLVED: &str = "\
# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
nameserver 127.0.0.53
options edns0 trust-ad
search corp.example
";

    const PLAIN: &str = "\
domain corp.example
search corp.example lab.example
nameserver 10.0.0.2
nameserver ::1
nameserver 2001:db8::53
nameserver 10.0.0.3
options timeout:2
";

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn hosts_lists_localhost_then_added_hosts_then_the_container_itself() {
        let extra = [
            parse_add_host("db:10.0.0.5", None).expect("db"),
            parse_add_host("v6:2001:db8::1", None).expect("v6"),
            parse_add_host(
                "host.docker.internal:host-gateway",
                Some([172, 17, 0, 1].into()),
            )
            .expect("gateway"),
        ];
        insta::assert_snapshot!(hosts("0123456789ab", &[[172, 18, 0, 2].into()], &extra), @r"
        127.0.0.1	localhost
        ::1	localhost ip6-localhost ip6-loopback
        fe00::0	ip6-localnet
        ff00::0	ip6-mcastprefix
        ff02::1	ip6-allnodes
        ff02::2	ip6-allrouters
        10.0.0.5	db
        2001:db8::1	v6
        172.17.0.1	host.docker.internal
        172.18.0.2	0123456789ab
        ");
    }

    #[test]
    fn a_dotted_hostname_is_listed_with_its_first_label() {
        let text = hosts("web.example.com", &[[172, 18, 0, 3].into()], &[]);
        assert!(
            text.ends_with("\n172.18.0.3\tweb.example.com web\n"),
            "{text}"
        );
        assert_eq!(hostname("web"), "web\n");
    }

    #[test]
    fn add_host_refusals_are_dockers() {
        let message = |value: &str| parse_add_host(value, None).expect_err(value).to_string();
        insta::assert_snapshot!(
            ["nohost", ":1.2.3.4", "db:1.2.3", "db=10.0.0.5", "db:", "v6:::::1", "gw:host-gateway"]
                .map(message)
                .join("\n"),
            @r#"
        invalid argument "nohost" for "--add-host" flag: bad format for add-host: "nohost"
        invalid argument ":1.2.3.4" for "--add-host" flag: bad format for add-host: ":1.2.3.4"
        invalid argument "db:1.2.3" for "--add-host" flag: invalid IP address in add-host: "1.2.3"
        invalid argument "db=10.0.0.5" for "--add-host" flag: bad format for add-host: "db=10.0.0.5"
        invalid argument "db:" for "--add-host" flag: invalid IP address in add-host: ""
        invalid argument "v6:::::1" for "--add-host" flag: invalid IP address in add-host: "::::1"
        unable to derive the IP value for host-gateway
        "#
        );
    }

    #[test]
    fn the_default_bridge_gets_the_hosts_file_less_its_unreachable_servers() {
        let conf = resolv_conf(PLAIN, Resolver::Host, &[], &[], &[]).expect("conf");
        assert!(conf.upstream.is_empty());
        insta::assert_snapshot!(conf.text, @r"
        domain corp.example
        search corp.example lab.example
        nameserver 10.0.0.2
        nameserver 10.0.0.3
        options timeout:2
        ");
    }

    #[test]
    fn a_host_with_only_a_local_resolver_leaves_the_default_bridge_googles() {
        let conf = resolv_conf(SYSTEMD_RESOLVED, Resolver::Host, &[], &[], &[]).expect("conf");
        insta::assert_snapshot!(conf.text, @r"
        # This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
        options edns0 trust-ad
        search corp.example

        nameserver 8.8.8.8
        nameserver 8.8.4.4
        ");
    }

    #[test]
    fn dns_options_replace_the_hosts_on_the_default_bridge() {
        let search = ["svc.example".to_owned()];
        let conf = resolv_conf(SYSTEMD_RESOLVED, Resolver::Host, &[], &search, &[]).expect("conf");
        // Docker keeps the host's name servers unfiltered when only the search list is given.
        insta::assert_snapshot!(conf.text, @r"
        search svc.example
        nameserver 127.0.0.53
        options edns0 trust-ad
        ");
        let dns = [ip("192.0.2.53")];
        let options = ["ndots:3".to_owned()];
        let dot = [".".to_owned()];
        let conf = resolv_conf(PLAIN, Resolver::Host, &dns, &dot, &options).expect("conf");
        insta::assert_snapshot!(conf.text, @r"
        nameserver 192.0.2.53
        options ndots:3
        ");
    }

    #[test]
    fn user_defined_networks_ask_the_embedded_server_which_forwards_to_the_hosts() {
        let conf = resolv_conf(PLAIN, Resolver::Embedded, &[], &[], &[]).expect("conf");
        insta::assert_snapshot!(conf.text, @r"
        search corp.example lab.example
        nameserver 127.0.0.11
        nameserver 2001:db8::53
        options timeout:2 ndots:0
        ");
        let upstream: Vec<String> = conf.upstream.iter().map(|a| a.to_string()).collect();
        assert_eq!(upstream, ["10.0.0.2:53", "10.0.0.3:53"]);
        // A host resolver on loopback is forwarded to from the host's namespace.
        let conf = resolv_conf(SYSTEMD_RESOLVED, Resolver::Embedded, &[], &[], &[]).expect("conf");
        insta::assert_snapshot!(conf.text, @r"
        search corp.example
        nameserver 127.0.0.11
        options edns0 trust-ad ndots:0
        ");
        assert_eq!(conf.upstream, [SocketAddr::from(([127, 0, 0, 53], 53))]);
    }

    #[test]
    fn embedded_resolution_takes_the_dns_options_and_keeps_a_given_ndots() {
        let dns = [ip("192.0.2.53"), ip("2001:db8::53")];
        let options = ["ndots:2".to_owned(), "rotate".to_owned()];
        let conf = resolv_conf(PLAIN, Resolver::Embedded, &dns, &[], &options).expect("conf");
        insta::assert_snapshot!(conf.text, @r"
        search corp.example lab.example
        nameserver 127.0.0.11
        nameserver 2001:db8::53
        options ndots:2 rotate
        ");
        assert_eq!(conf.upstream, [SocketAddr::from(([192, 0, 2, 53], 53))]);
        let none = resolv_conf("", Resolver::Embedded, &[], &[], &[]).expect("conf");
        assert_eq!(none.text, "nameserver 127.0.0.11\noptions ndots:0\n");
        assert_eq!(none.upstream.len(), 2, "Google's, as docker's fallback");
        let bad = ["ndots:x".to_owned()];
        let error = resolv_conf("", Resolver::Embedded, &[], &[], &bad).expect_err("ndots:x");
        assert_eq!(error.to_string(), "invalid number for ndots option: x");
    }
}
