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
"#;

/// Counts the container groups left behind; last, after the book's commands too.
const LEFTOVERS: &str = r#"echo "== leftovers: $(ls -d /sys/fs/cgroup/dockyard/*/ 2>/dev/null | wc -l)"
"#;

/// The book's page whose cgroup v2 transcript this test checks: the book test runs the page's
/// `console` blocks on this (v1) machine; the block after [`MARKER`] is for v2, and runs here.
const PAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../book/src/ch02-cgroups.md"
);
const MARKER: &str = "<!-- cgroup v2: checked by chapters/02-cgroups/tests/v2_vm.rs -->";

/// The commands of the block after the marker (without `sudo `) and what each prints.
fn book_transcript() -> Vec<(String, String)> {
    let page = std::fs::read_to_string(PAGE).expect("read the chapter 02 page");
    let (_, after) = page
        .split_once(MARKER)
        .expect("the page marks its v2 transcript");
    let block = after
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("a text block follows the marker");
    let mut steps: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        match line.strip_prefix("$ ") {
            Some(command) => {
                let command = command.strip_prefix("sudo ").unwrap_or(command);
                steps.push((command.to_string(), String::new()));
            }
            None => {
                let (_, output) = steps.last_mut().expect("a command before its output");
                output.push_str(line);
                output.push('\n');
            }
        }
    }
    steps
}

/// Ids and the pids the engine narrates differ on every run.
fn normalize(text: &str) -> String {
    let rules = [
        (r"\b[0-9a-f]{64}\b", "<id>"),
        (r"= pid \d+", "= pid <n>"),
        (
            r#""\d+" > (\S+)/cgroup\.procs"#,
            r#""<n>" > $1/cgroup.procs"#,
        ),
    ];
    let mut text = text.to_string();
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

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
    let book = book_transcript();
    let mut script = SCRIPT.to_string();
    for (i, (command, _)) in book.iter().enumerate() {
        script.push_str(&format!(
            "book{i}() {{\n{command}\n}}\nrun book{i} book{i}\n"
        ));
    }
    script.push_str(LEFTOVERS);
    let output = vm::run_script(
        &files,
        &[(dir.rootfs(), "/work/rootfs".into())],
        &script,
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
    for (i, (command, expected)) in book.iter().enumerate() {
        let (printed, _) = case(&output, &format!("book{i}"));
        assert_eq!(
            normalize(&printed),
            normalize(expected),
            "the book's cgroup v2 transcript drifted: `{command}` printed:\n{printed}"
        );
    }
    assert!(output.contains("== leftovers: 0\n"), "{output}");
}
