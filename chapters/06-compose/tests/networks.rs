//! Networks for real: bridges, veth pairs, addresses, and what is left once containers and
//! networks are gone (nothing). Traffic goes only between containers these tests make, on
//! bridges these tests make.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{Bench, PATIENCE};
use dockyard_tests::{require_root, wait_until};

/// `network inspect NAME` as JSON.
fn inspect(bench: &Bench, name: &str) -> serde_json::Value {
    let text = bench.ok(&["network", "inspect", name]);
    let mut all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("inspect JSON");
    all.remove(0)
}

/// The addresses of a network's members, by container name.
fn members(bench: &Bench, name: &str) -> Vec<(String, String)> {
    let document = inspect(bench, name);
    let mut found: Vec<(String, String)> = document["Containers"]
        .as_object()
        .expect("Containers")
        .values()
        .map(|member| {
            (
                member["Name"].as_str().expect("Name").to_owned(),
                member["IPv4Address"]
                    .as_str()
                    .expect("IPv4Address")
                    .to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// Whether the host has an interface `name`.
fn interface_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// `run --rm ARGS…`: exit status and stdout.
fn run(bench: &Bench, args: &[&str]) -> (Option<i32>, String, String) {
    let output = bench
        .tool()
        .args(["run", "--rm"])
        .args(args)
        .output()
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn containers_on_a_network_get_addresses_and_talk() {
    require_root!();
    let bench = Bench::new();
    let id = bench.ok(&["network", "create", "backend"]);
    let network = inspect(&bench, "backend");
    assert_eq!(network["Id"].as_str(), Some(id.trim()));
    let bridge = network["Options"]["com.docker.network.bridge.name"]
        .as_str()
        .expect("bridge")
        .to_owned();
    assert!(interface_exists(&bridge), "the bridge {bridge} exists");

    bench.detach(&[
        "--name",
        "server",
        "--hostname",
        "srv",
        "--network",
        "backend",
        "busybox",
        "/probe",
        "serve",
        "5000",
    ]);
    let address = members(&bench, "backend")[0].1.clone();
    let ip = address.split('/').next().expect("an address");
    // By name, through the embedded DNS server: the probe, then busybox's nc; and from the
    // host, on the bridge.
    let hello = |network: &str, command: &[&str]| {
        let mut args = vec!["--network", network, "busybox"];
        args.extend(command);
        let (code, out, err) = run(&bench, &args);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "hello from srv\n"),
            "{args:?}: {err}"
        );
    };
    hello("backend", &["/probe", "connect", "server", "5000", "10"]);
    hello("backend", &["sh", "-c", "nc server 5000 </dev/null"]);
    hello("host", &["/probe", "connect", ip, "5000", "10"]);

    bench.ok(&["rm", "-f", "server"]);
    assert!(
        members(&bench, "backend").is_empty(),
        "the address is free again"
    );
    bench.ok(&["network", "rm", "backend"]);
    assert!(!interface_exists(&bridge), "the bridge {bridge} is gone");
}

#[test]
fn fifty_containers_get_fifty_addresses_and_give_them_back() {
    require_root!();
    let bench = Bench::new();
    bench.ok(&["network", "create", "crowd"]);
    let ids: Vec<String> = (0..50)
        .map(|n| {
            bench.detach(&[
                "--name",
                &format!("member{n}"),
                "--network",
                "crowd",
                "busybox",
                "/probe",
                "sleep",
                "600",
            ])
        })
        .collect();
    let all = members(&bench, "crowd");
    assert_eq!(all.len(), 50);
    let distinct: BTreeSet<&String> = all.iter().map(|(_, ip)| ip).collect();
    assert_eq!(distinct.len(), 50, "{all:?}");

    let network = inspect(&bench, "crowd");
    let veths: Vec<String> = std::fs::read_dir("/sys/class/net")
        .expect("interfaces")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            let master = Path::new("/sys/class/net").join(name).join("master");
            std::fs::read_link(master).is_ok_and(|bridge| {
                bridge.file_name().and_then(|b| b.to_str())
                    == network["Options"]["com.docker.network.bridge.name"].as_str()
            })
        })
        .collect();
    assert_eq!(veths.len(), 50, "one veth per container on the bridge");

    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.iter().map(String::as_str));
    bench.ok(&rm);
    assert!(members(&bench, "crowd").is_empty());
    // The kernel deletes each pair with its namespace, in the background, soon after.
    assert!(
        wait_until(PATIENCE, || veths
            .iter()
            .all(|veth| !interface_exists(veth))),
        "every veth went with its container's namespace"
    );
}

#[test]
fn the_default_network_is_made_once_and_shared() {
    require_root!();
    let bench = Bench::new();
    bench.detach(&["--name", "first", "busybox", "/probe", "sleep", "600"]);
    bench.detach(&["--name", "second", "busybox", "/probe", "sleep", "600"]);
    let all = members(&bench, "bridge");
    assert_eq!(
        all.iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_ne!(all[0].1, all[1].1);
    let listed = bench.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(listed.lines().filter(|l| *l == "bridge").count(), 1);
}

#[test]
fn none_has_only_loopback_and_host_has_the_hosts_interfaces() {
    require_root!();
    let bench = Bench::new();
    let (_, none, _) = run(
        &bench,
        &[
            "--network",
            "none",
            "busybox",
            "/probe",
            "report",
            "interfaces",
        ],
    );
    assert_eq!(none, "interfaces: lo(up)\n");
    let (_, bridged, _) = run(&bench, &["busybox", "/probe", "report", "interfaces"]);
    assert_eq!(bridged, "interfaces: eth0(up) lo(up)\n");
    let (_, host, _) = run(
        &bench,
        &[
            "--network",
            "host",
            "busybox",
            "/probe",
            "report",
            "interfaces",
        ],
    );
    assert!(host.contains("lo(up)"), "{host}");
    assert!(
        host.split_whitespace().count() > 2,
        "the host's interfaces: {host}"
    );
}

#[test]
fn bad_input_gives_one_clear_error_and_leaves_nothing() {
    require_root!();
    let bench = Bench::new();
    // Docker's statuses: 125 for what the engine refuses to start or cannot read, 1 for a
    // conflict with what exists or a missing network outside `run`.
    let fails = |args: &[&str], status: i32, expected: &str| {
        let output = bench.tool().args(args).output().expect("run");
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(status), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    };
    fails(
        &["network", "create", "--subnet", "10.0.0/8", "bad"],
        125,
        "invalid CIDR address: 10.0.0/8",
    );
    // The loopback range is a route of every host.
    fails(
        &["network", "create", "--subnet", "127.99.0.0/16", "bad"],
        1,
        "Pool overlaps with other one on this address space",
    );
    bench.ok(&["network", "create", "taken"]);
    let subnet = inspect(&bench, "taken")["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .expect("subnet")
        .to_owned();
    fails(
        &["network", "create", "--subnet", &subnet, "bad"],
        1,
        "Pool overlaps",
    );
    fails(&["network", "create", "taken"], 1, "already exists");
    fails(
        &["run", "--network", "nosuch", "busybox", "true"],
        125,
        "network nosuch not found",
    );
    fails(
        &["run", "--ip", "10.1.2.3", "busybox", "true"],
        125,
        "user specified IP address is supported on user defined networks only",
    );
    fails(&["network", "rm", "nosuch"], 1, "network nosuch not found");
    let listed = bench.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(listed, "taken\n", "nothing half-made");
    assert!(bench.containers().is_empty(), "no container was made");
}

#[test]
fn a_network_in_use_is_kept_and_a_killed_monitor_gives_its_address_back() {
    require_root!();
    let bench = Bench::new();
    bench.ok(&["network", "create", "busy"]);
    let id = bench.detach(&["--network", "busy", "busybox", "/probe", "sleep", "600"]);
    let output = bench
        .tool()
        .args(["network", "rm", "busy"])
        .output()
        .expect("rm");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("has active endpoints"), "{err}");

    let network = inspect(&bench, "busy");
    let member = &network["Containers"][&id];
    assert!(member.is_object(), "{network}");
    let state = bench.state(&id);
    let monitor = state["monitor_pid"].as_u64().expect("a monitor");
    let pid = state["pid"].as_u64().expect("a pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the monitor");
    assert!(
        wait_until(PATIENCE, || !common::alive(pid)),
        "the container dies with its monitor"
    );
    // Its address is free at once for the next container, before anyone runs rm.
    assert!(members(&bench, "busy").is_empty());
    bench.ok(&["rm", "-f", &id]);
    bench.ok(&["network", "rm", "busy"]);
    assert!(wait_until(Duration::from_secs(5), || bench
        .networks()
        .is_empty()));
}

/// The host port `port CONTAINER PRIVATE` names.
fn host_port(bench: &Bench, container: &str, private: &str) -> u16 {
    let line = bench.ok(&["port", container, private]);
    line.trim()
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("a host port in {line:?}"))
}

/// The first line a TCP server at `address` sends, retried until `PATIENCE`.
fn greeting(address: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut line = String::new();
    let reached = wait_until(PATIENCE, || {
        let Ok(stream) = std::net::TcpStream::connect(address) else {
            return false;
        };
        line.clear();
        BufReader::new(stream).read_line(&mut line).is_ok() && !line.is_empty()
    });
    assert!(reached, "{address} answers");
    line
}

/// The entries of a network's published-ports map (`nft list map`).
fn published_rules(bench: &Bench, network: &str) -> String {
    let id = inspect(bench, network)["Id"]
        .as_str()
        .expect("Id")
        .to_owned();
    let output = std::process::Command::new("nft")
        .args([
            "list",
            "map",
            "ip",
            &format!("dockyard_{}", &id[..12]),
            "ports",
        ])
        .output()
        .expect("nft");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .filter(|line| line.contains(':') && !line.contains("type"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_published_port_is_reachable_and_a_busy_one_is_refused() {
    require_root!();
    let bench = Bench::new();
    bench.detach(&[
        "--name",
        "web",
        "--hostname",
        "web",
        "-p",
        "5000",
        "busybox",
        "/probe",
        "serve",
        "5000",
    ]);
    let port = host_port(&bench, "web", "5000/tcp");
    assert_eq!(greeting(&format!("127.0.0.1:{port}")), "hello from web\n");
    let gateway = inspect(&bench, "bridge")["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .expect("gateway")
        .to_owned();
    assert_eq!(greeting(&format!("{gateway}:{port}")), "hello from web\n");
    let ps = bench.ok(&["ps", "--format", "{{.Ports}}"]);
    assert_eq!(ps, format!("0.0.0.0:{port}->5000/tcp\n"));

    // A port something else holds: one clear error, and nothing of the network made.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let busy = holder.local_addr().expect("address").port().to_string();
    let output = bench
        .tool()
        .args(["run", "-d", "--name", "late", "-p", &format!("{busy}:5000")])
        .args(["busybox", "/probe", "serve", "5000"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(125), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "Bind for 0.0.0.0:{busy} failed: port is already allocated"
        )),
        "{err}"
    );
    let members = members(&bench, "bridge");
    assert_eq!(members.len(), 1, "only web holds an address: {members:?}");
    let rules = published_rules(&bench, "bridge");
    assert!(
        !rules.contains(&busy),
        "no rule for the refused port: {rules}"
    );
    assert_eq!(rules.matches(':').count(), 1, "web's rule alone: {rules}");

    bench.ok(&["rm", "-f", "web", "late"]);
    assert_eq!(
        published_rules(&bench, "bridge"),
        "",
        "the rules went with web"
    );
}

#[test]
fn publish_all_publishes_the_exposed_ports() {
    require_root!();
    let bench = Bench::new();
    bench.build(
        "service",
        "FROM busybox\nEXPOSE 5000\nCMD [\"/probe\", \"serve\", \"5000\"]\n",
    );
    bench.detach(&["--name", "svc", "--hostname", "svc", "-P", "service"]);
    let port = host_port(&bench, "svc", "5000");
    assert_eq!(greeting(&format!("127.0.0.1:{port}")), "hello from svc\n");
    let listed = bench.ok(&["port", "svc"]);
    assert_eq!(listed, format!("5000/tcp -> 0.0.0.0:{port}\n"));
}

#[test]
fn user_defined_networks_are_isolated_from_each_other() {
    require_root!();
    let bench = Bench::new();
    bench.ok(&["network", "create", "left"]);
    bench.ok(&["network", "create", "right"]);
    bench.detach(&[
        "--name",
        "server",
        "--hostname",
        "srv",
        "--network",
        "left",
        "busybox",
        "/probe",
        "serve",
        "5000",
    ]);
    let ip = members(&bench, "left")[0]
        .1
        .split('/')
        .next()
        .expect("ip")
        .to_owned();
    let (code, out, _) = run(
        &bench,
        &[
            "--network",
            "left",
            "busybox",
            "/probe",
            "connect",
            &ip,
            "5000",
            "10",
        ],
    );
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "hello from srv\n"),
        "same network"
    );
    let (code, out, _) = run(
        &bench,
        &[
            "--network",
            "right",
            "busybox",
            "/probe",
            "connect",
            &ip,
            "5000",
            "2",
        ],
    );
    assert_eq!(code, Some(1), "another network cannot reach it: {out}");
    assert!(out.starts_with(&format!("connect {ip}:5000: ")), "{out}");
}

/// "The outside world" for one test: a network namespace of its own, joined to the host by a
/// veth pair (`198.18.77.1` on the host's side, `198.18.77.2` inside, a benchmarking range no
/// real network uses), with the probe serving TCP on port 7000 inside. Containers reach it
/// only through the host, so only through the engine's NAT. Removed on drop.
struct Outside {
    namespace: String,
    host_end: String,
    server: std::process::Child,
}

impl Outside {
    const ADDRESS: &'static str = "198.18.77.2";

    fn new() -> Outside {
        let tag = std::process::id() % 100_000;
        let namespace = format!("dy-outside-{tag}");
        let host_end = format!("dyo{tag}");
        let ip = |args: &[&str]| {
            let status = std::process::Command::new("ip")
                .args(args)
                .status()
                .expect("ip");
            assert!(status.success(), "ip {args:?}");
        };
        ip(&["netns", "add", &namespace]);
        let mut outside = Outside {
            namespace: namespace.clone(),
            host_end: host_end.clone(),
            server: std::process::Command::new("true").spawn().expect("true"),
        };
        ip(&[
            "link", "add", &host_end, "type", "veth", "peer", "name", "eth0", "netns", &namespace,
        ]);
        ip(&["addr", "add", "198.18.77.1/30", "dev", &host_end]);
        ip(&["link", "set", &host_end, "up"]);
        ip(&[
            "-n",
            &namespace,
            "addr",
            "add",
            "198.18.77.2/30",
            "dev",
            "eth0",
        ]);
        ip(&["-n", &namespace, "link", "set", "eth0", "up"]);
        ip(&["-n", &namespace, "link", "set", "lo", "up"]);
        outside.server = std::process::Command::new("ip")
            .args(["netns", "exec", &namespace])
            .arg(dockyard_tests::probe())
            .args(["serve", "7000"])
            .spawn()
            .expect("the outside server");
        outside
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.host_end])
            .status();
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.namespace])
            .status();
    }
}

#[test]
fn containers_reach_the_outside_through_nat_but_not_from_an_internal_network() {
    require_root!();
    let bench = Bench::new();
    let outside = Outside::new();
    // The outside has no route back to the containers' subnet: only the engine's masquerade,
    // which makes the host the sender, lets the answer come back.
    let (code, out, err) = run(
        &bench,
        &[
            "busybox",
            "/probe",
            "connect",
            Outside::ADDRESS,
            "7000",
            "10",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("hello from "), "{out}");

    bench.ok(&["network", "create", "--internal", "sealed"]);
    let (code, out, _) = run(
        &bench,
        &[
            "--network",
            "sealed",
            "busybox",
            "/probe",
            "connect",
            Outside::ADDRESS,
            "7000",
            "1",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        out,
        format!("connect {}:7000: ENETUNREACH\n", Outside::ADDRESS)
    );
    drop(outside);
}

#[test]
fn names_are_found_on_user_defined_networks_only_including_later_ones() {
    require_root!();
    let bench = Bench::new();
    bench.ok(&["network", "create", "names"]);
    bench.detach(&[
        "--name",
        "early",
        "--network",
        "names",
        "busybox",
        "/probe",
        "sleep",
        "600",
    ]);
    bench.detach(&[
        "--name",
        "late",
        "--network",
        "names",
        "--network-alias",
        "cache",
        "busybox",
        "/probe",
        "sleep",
        "600",
    ]);
    let late_ip = members(&bench, "names")
        .into_iter()
        .find(|(name, _)| name == "late")
        .map(|(_, ip)| ip.split('/').next().expect("ip").to_owned())
        .expect("late's address");
    // The earlier container's DNS server finds the later one, by name and by alias.
    for name in ["late", "cache", "late.names"] {
        let out = bench.ok(&["exec", "early", "/probe", "resolve", name]);
        assert_eq!(out, format!("{name}: {late_ip}\n"));
    }
    let out = bench.ok(&["exec", "early", "cat", "/etc/resolv.conf"]);
    assert!(out.starts_with("nameserver 127.0.0.11\n"), "{out}");

    // On the default network, as with docker, containers have no names for each other.
    bench.detach(&["--name", "plain", "busybox", "/probe", "sleep", "600"]);
    let (code, out, _) = run(&bench, &["busybox", "/probe", "resolve", "plain"]);
    assert_eq!((code, out.as_str()), (Some(1), "plain: not found\n"));
    let hosts = bench.ok(&["exec", "plain", "cat", "/etc/hosts"]);
    let own = members(&bench, "bridge")[0]
        .1
        .split('/')
        .next()
        .expect("ip")
        .to_owned();
    let hostname = bench.ok(&["exec", "plain", "hostname"]);
    assert!(
        hosts.ends_with(&format!("{own}\t{hostname}")),
        "its own address and hostname: {hosts}"
    );
}

#[test]
fn connect_plugs_a_running_container_into_another_network_and_disconnect_unplugs_it() {
    require_root!();
    let bench = Bench::new();
    bench.ok(&["network", "create", "front"]);
    bench.ok(&["network", "create", "back"]);
    bench.detach(&[
        "--name",
        "app",
        "--network",
        "front",
        "busybox",
        "/probe",
        "sleep",
        "600",
    ]);
    bench.detach(&[
        "--name",
        "store",
        "--hostname",
        "store",
        "--network",
        "back",
        "busybox",
        "/probe",
        "serve",
        "5432",
    ]);
    let reach = || bench.ok(&["exec", "app", "/probe", "connect", "store", "5432", "5"]);
    let interfaces = || bench.ok(&["exec", "app", "/probe", "report", "interfaces"]);
    let output = bench
        .tool()
        .args(["exec", "app", "/probe", "connect", "store", "5432", "1"])
        .output()
        .expect("exec");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "store: not found\n"
    );

    bench.ok(&[
        "network",
        "connect",
        "--alias",
        "application",
        "back",
        "app",
    ]);
    assert_eq!(interfaces(), "interfaces: eth0(up) eth1(up) lo(up)\n");
    assert_eq!(reach(), "hello from store\n");
    let out = bench.ok(&["exec", "store", "/probe", "resolve", "application"]);
    assert!(out.starts_with("application: "), "{out}");

    // Kept for the next start, plugged in again by the new monitor.
    bench.ok(&["restart", "-t", "0", "app"]);
    assert_eq!(interfaces(), "interfaces: eth0(up) eth1(up) lo(up)\n");
    assert_eq!(reach(), "hello from store\n");

    bench.ok(&["network", "disconnect", "back", "app"]);
    assert_eq!(interfaces(), "interfaces: eth0(up) lo(up)\n");
    let names: Vec<String> = members(&bench, "back")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["store"]);
    let output = bench
        .tool()
        .args(["network", "disconnect", "back", "app"])
        .output()
        .expect("disconnect");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not connected to network back"),
        "{output:?}"
    );
}
