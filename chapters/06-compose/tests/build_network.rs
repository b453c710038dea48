//! `build`'s `RUN` containers on the default bridge, as docker's builder runs them: each gets
//! an `eth0` on the bridge's subnet for the length of its command, and nothing of it is left
//! afterwards; `--network host` (and `RUN --network=host`) still see the host's network.

mod common;

use std::fs;
use std::net::Ipv4Addr;

use common::{Bench, PATIENCE};
use dockyard_tests::{require_root, wait_until};
use ipnet::Ipv4Net;

/// Builds `dockerfile` as `tag` with the extra `flags`, asserting success.
fn build(bench: &Bench, tag: &str, dockerfile: &str, flags: &[&str]) {
    let context = bench.dir.path().join(format!("context-{tag}"));
    fs::create_dir_all(&context).expect("create a build context");
    fs::write(context.join("Dockerfile"), dockerfile).expect("write the Dockerfile");
    let mut args = vec!["build", "-t", tag];
    args.extend_from_slice(flags);
    args.push(context.to_str().expect("a UTF-8 path"));
    bench.ok(&args);
}

/// A file of the image `tag`, read by a container on no network (so that only the build's
/// `RUN`s ever joined the bridge).
fn file_of(bench: &Bench, tag: &str, path: &str) -> String {
    bench.ok(&["run", "--rm", "--network", "none", tag, "cat", path])
}

/// The store's network files, as JSON.
fn network_files(bench: &Bench) -> Vec<serde_json::Value> {
    let Ok(entries) = fs::read_dir(bench.root().join("networks")) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| serde_json::from_slice(&fs::read(&path).expect("read")).expect("JSON"))
        .collect()
}

/// This process's network namespace, as `readlink /proc/self/ns/net` prints it.
fn host_namespace() -> String {
    let link = fs::read_link("/proc/self/ns/net").expect("read this process's namespace");
    format!("{}\n", link.display())
}

/// Removes the test's default network (its bridge is a host interface) however the test ends.
struct RemoveBridge<'a>(&'a Bench);

impl Drop for RemoveBridge<'_> {
    fn drop(&mut self) {
        let _ = self.0.tool().args(["network", "rm", "bridge"]).output();
    }
}

#[test]
fn run_steps_join_the_default_bridge_and_leave_nothing_behind() {
    require_root!();
    let bench = Bench::new();
    let _bridge = RemoveBridge(&bench);
    // No flag, docker's `default`, and the bridge by name: the same network.
    for (tag, flags) in [
        ("plain", &[][..]),
        ("default", &["--network", "default"][..]),
        ("bridge", &["--network", "bridge"][..]),
    ] {
        let dockerfile = format!(
            "FROM busybox\n\
             RUN echo {tag} && ip -4 -o addr show eth0 > /addr && ip route > /route \
             && cat /sys/class/net/eth0/iflink > /iflink && readlink /proc/self/ns/net > /ns\n"
        );
        build(&bench, tag, &dockerfile, flags);

        let networks = network_files(&bench);
        assert_eq!(networks.len(), 1, "one network, the default: {networks:?}");
        let network = &networks[0];
        assert_eq!(network["name"], "bridge");
        let subnet: Ipv4Net = network["subnet"]
            .as_str()
            .expect("subnet")
            .parse()
            .expect("a subnet");
        let gateway: Ipv4Addr = network["gateway"]
            .as_str()
            .expect("gateway")
            .parse()
            .expect("an address");

        // The RUN had eth0, with an address of the bridge's subnet, and a way out through it.
        let addr = file_of(&bench, tag, "/addr");
        let inet = addr
            .split_whitespace()
            .skip_while(|word| *word != "inet")
            .nth(1)
            .unwrap_or_else(|| panic!("{tag}: no address on eth0: {addr:?}"));
        let address: Ipv4Net = inet.parse().expect("an address with its prefix");
        assert!(
            subnet.contains(&address.addr()),
            "{tag}: {address} is not in {subnet}"
        );
        assert_eq!(address.prefix_len(), subnet.prefix_len(), "{tag}: {addr}");
        assert_ne!(
            address.addr(),
            gateway,
            "{tag}: the RUN took the gateway's address"
        );
        let route = file_of(&bench, tag, "/route");
        assert!(
            route.contains(&format!("default via {gateway} dev eth0")),
            "{tag}: {route}"
        );
        assert_ne!(
            file_of(&bench, tag, "/ns"),
            host_namespace(),
            "{tag}: on the host's network"
        );

        // Nothing left: no endpoint in the ledger, no port on the bridge, and the host's end
        // of the RUN's veth pair gone with it.
        assert_eq!(
            network["endpoints"],
            serde_json::json!({}),
            "{tag}: {network}"
        );
        // The kernel deletes the pair with the RUN's namespace, in the background, soon after.
        let bridge = network["bridge"].as_str().expect("a bridge");
        let ports = || -> Vec<_> {
            fs::read_dir(format!("/sys/class/net/{bridge}/brif"))
                .expect("the bridge exists")
                .collect()
        };
        assert!(
            wait_until(PATIENCE, || ports().is_empty()),
            "{tag}: ports left on {bridge}: {:?}",
            ports()
        );
        let host_end = file_of(&bench, tag, "/iflink").trim().to_owned();
        let left = || -> Vec<String> {
            fs::read_dir("/sys/class/net")
                .expect("the host's interfaces")
                .map(|entry| entry.expect("an interface").path())
                .filter(|path| {
                    fs::read_to_string(path.join("ifindex"))
                        .is_ok_and(|index| index.trim() == host_end)
                })
                .map(|path| path.display().to_string())
                .collect()
        };
        assert!(
            wait_until(PATIENCE, || left().is_empty()),
            "{tag}: the RUN's host veth is still there: {:?}",
            left()
        );
    }
    // No container of the builder left either.
    assert!(bench.containers().is_empty(), "{:?}", bench.containers());
}

#[test]
fn host_network_stays_the_hosts_and_makes_no_bridge() {
    require_root!();
    let bench = Bench::new();
    let _bridge = RemoveBridge(&bench);
    let ns = "readlink /proc/self/ns/net > /ns";
    build(
        &bench,
        "flag",
        &format!("FROM busybox\nRUN {ns}\n"),
        &["--network", "host"],
    );
    build(
        &bench,
        "instruction",
        &format!("FROM busybox\nRUN --network=host {ns}\n"),
        &[],
    );
    for tag in ["flag", "instruction"] {
        assert_eq!(file_of(&bench, tag, "/ns"), host_namespace(), "{tag}");
    }
    // Neither made the default network: a RUN on the host's needs none.
    assert_eq!(network_files(&bench), Vec::<serde_json::Value>::new());
}
