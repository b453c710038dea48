//! Chapter 02 on cgroup v2, for real: this machine runs its controllers under v1, so these cases
//! run inside a QEMU VM booting a Debian kernel with cgroup2 mounted at /sys/fs/cgroup (see
//! `dockyard_tests::vm`). One boot runs every case; each prints its output and status.

use std::path::PathBuf;
use std::time::Duration;

use dockyard_tests::vm::{self, GuestFile};
use dockyard_tests::{busybox_rootfs, require_root};

const BOOT_AND_RUN: Duration = Duration::from_secs(240);

const SCRIPT: &str = r#"
run() { name=$1; shift; echo "== $name"; "$@"; echo "== $name status $?"; }
cat /sys/fs/cgroup/cgroup.controllers
run weight ch02-cgroups --explain run --rootfs rootfs --cpu-shares 512 -- /bin/true
run oom ch02-cgroups run --rootfs rootfs --memory 32m -- /probe hog 100
run pids ch02-cgroups run --rootfs rootfs --pids-limit 10 -- /probe forkbomb
run cpus ch02-cgroups run --rootfs rootfs --cpus 0.5 --stats -- /probe spin 2
run cgroupns ch02-cgroups run --rootfs rootfs --memory 64m -- /probe report cgroup
run missing ch02-cgroups run --rootfs rootfs -- /no/such
run killed ch02-cgroups run --rootfs rootfs --init -- /bin/sh -c 'kill -9 $$'
run freeze freeze /bin/sleep 30
echo "== leftovers: $(ls -d /sys/fs/cgroup/dockyard/*/ 2>/dev/null | wc -l)"
"#;

/// The lines printed between `== NAME` and `== NAME status N`, and N.
fn case(output: &str, name: &str) -> (String, i32) {
    let start = format!("== {name}\n");
    let end = format!("== {name} status ");
    let (_, rest) = output
        .split_once(&start)
        .unwrap_or_else(|| panic!("no case {name}:\n{output}"));
    let (body, status) = rest.split_once(&end).unwrap();
    let status = status.lines().next().unwrap().trim().parse().unwrap();
    (body.to_string(), status)
}

#[test]
fn limits_work_on_cgroup_v2() {
    require_root!();
    if !vm::available_or_skip("limits_work_on_cgroup_v2") {
        return;
    }
    let dir = busybox_rootfs();
    // `cargo test` builds the examples next to the test binaries' directory.
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples");
    let files = [
        GuestFile {
            source: PathBuf::from(env!("CARGO_BIN_EXE_ch02-cgroups")),
            target: "/bin/ch02-cgroups".into(),
        },
        GuestFile {
            source: examples.join("freeze"),
            target: "/bin/freeze".into(),
        },
    ];
    let output = vm::run_script(
        &files,
        &[(dir.rootfs(), "/work/rootfs".into())],
        SCRIPT,
        BOOT_AND_RUN,
    );

    assert!(
        output.starts_with("cpuset cpu io memory hugetlb pids"),
        "{output}"
    );
    let (oom, status) = case(&output, "oom");
    assert_eq!(
        (oom.as_str(), status),
        (
            "ch02-cgroups: container killed: out of memory (limit 32 MiB)\n",
            137
        )
    );
    let (pids, status) = case(&output, "pids");
    assert_eq!(status, 0, "{pids}");
    assert_eq!(
        pids,
        "forkbomb: 9 children, then: Resource temporarily unavailable (os error 11)\n"
    );
    let (cpus, status) = case(&output, "cpus");
    assert_eq!(status, 0, "{cpus}");
    let periods: u64 = cpus
        .lines()
        .find_map(|l| l.strip_prefix("throttled:"))
        .and_then(|t| t.split_whitespace().nth(2))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no throttled line: {cpus}"));
    assert!(periods >= 5, "{cpus}");
    let (cgroupns, _) = case(&output, "cgroupns");
    assert_eq!(cgroupns, "cgroup:\n  0::/\n");
    let (weight, status) = case(&output, "weight");
    assert_eq!(status, 0, "{weight}");
    assert!(
        weight.contains("+memory +pids +cpu +cpuset"),
        "controllers enabled: {weight}"
    );
    assert!(
        weight.contains(r#"write "20" > /sys/fs/cgroup/dockyard/"#),
        "512 shares → weight 20: {weight}"
    );
    let (_, status) = case(&output, "missing");
    assert_eq!(status, 127);
    let (_, status) = case(&output, "killed");
    assert_eq!(status, 137);
    let (freeze, status) = case(&output, "freeze");
    assert_eq!(status, 0, "{freeze}");
    let shown: Vec<&str> = freeze.lines().filter(|l| !l.starts_with('[')).collect();
    assert_eq!(
        shown,
        [
            "version: V2",
            "pids: 1",
            "frozen",
            "thawed",
            "killed: signal: 9 (SIGKILL)",
            "removed"
        ]
    );
    assert!(output.contains("== leftovers: 0\n"), "{output}");
}
