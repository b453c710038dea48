//! `ch02-cgroups run` on the real kernel (this machine: cgroup v1 controllers). Every test uses
//! its own `--cgroup-parent`, so tests run in parallel and each checks that *its* parent is
//! empty afterwards: no cgroup left behind on any path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch02_cgroups::{CGROUP_ROOT, Cgroup, Features, Limits, Version, detect};
use dockyard_tests::{TestDir, busybox_rootfs, require_root};

const PATIENCE: Duration = Duration::from_secs(20);

/// A cgroup parent of the test's own, removed (with any leftovers reported) at the end.
struct Parent {
    name: String,
}

impl Parent {
    fn new(test: &str) -> Self {
        Parent {
            name: format!("dockyard-test-{test}-{}", std::process::id()),
        }
    }

    /// The parent's directory in each hierarchy the containers use.
    fn dirs(&self) -> Vec<PathBuf> {
        let root = Path::new(CGROUP_ROOT);
        match detect(root).expect("a cgroup filesystem") {
            Version::V2 => vec![root.join(&self.name)],
            Version::V1 => ["memory", "pids", "cpu", "cpuacct", "cpuset", "freezer"]
                .iter()
                .map(|c| root.join(c).join(&self.name))
                .collect(),
        }
    }

    /// Child groups still present under the parent.
    fn leftovers(&self) -> Vec<PathBuf> {
        self.dirs()
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(|entries| entries.filter_map(Result::ok))
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect()
    }

    fn assert_empty(&self) {
        let left = self.leftovers();
        assert!(left.is_empty(), "cgroups left behind: {left:#?}");
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        for dir in self.dirs() {
            // The parent itself stays after a run (as Docker's does); the test removes it.
            match std::fs::remove_dir(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    eprintln!(
                        "could not remove the test's cgroup parent {}: {e}",
                        dir.display()
                    );
                }
                _ => {}
            }
        }
    }
}

fn run(dir: &TestDir, parent: &Parent, args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("ch02-cgroups")
        .arg("run")
        .arg("--rootfs")
        .arg(dir.rootfs())
        .args(["--cgroup-parent", &parent.name])
        .args(args)
        .timeout(PATIENCE)
        .assert()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_memory_hog_is_killed_by_the_oom_killer() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("oom"));
    let out = run(
        &dir,
        &parent,
        &["--memory", "32m", "--", "/probe", "hog", "100"],
    )
    .code(137);
    assert_eq!(
        text(&out.get_output().stderr),
        "ch02-cgroups: container killed: out of memory (limit 32 MiB)\n"
    );
    parent.assert_empty();
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit_and_pid_1_survives() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("pids"));
    let out = run(
        &dir,
        &parent,
        &["--pids-limit", "10", "--", "/probe", "forkbomb"],
    )
    .success();
    assert_eq!(
        text(&out.get_output().stdout),
        "forkbomb: 9 children, then: Resource temporarily unavailable (os error 11)\n"
    );
    parent.assert_empty();
}

/// The value of a `--stats` line, e.g. `throttled:    1.00s in 20 periods` → that text.
fn stat_line<'a>(stats: &'a str, key: &str) -> &'a str {
    stats
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {stats}"))
        .trim()
}

fn seconds(field: &str) -> f64 {
    field.trim_end_matches('s').parse().unwrap()
}

#[test]
fn half_a_cpu_is_throttled_by_the_scheduler() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("cpus"));
    let out = run(
        &dir,
        &parent,
        &["--cpus", "0.5", "--stats", "--", "/probe", "spin", "2"],
    )
    .success();
    let stats = text(&out.get_output().stderr);
    // From the cgroup's own counters, not the wall clock: throttled in many periods, and
    // about one CPU-second used in two seconds of spinning (two would mean no limit).
    let throttled = stat_line(&stats, "throttled:");
    let periods: u64 = throttled
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(periods >= 5, "too few throttled periods: {stats}");
    let cpu = stat_line(&stats, "cpu time:");
    let words: Vec<&str> = cpu.split_whitespace().collect();
    let used = seconds(words[0]) + seconds(words[2]);
    assert!(
        (0.5..1.6).contains(&used),
        "cpu time {used}s for --cpus 0.5 over 2s: {stats}"
    );
    parent.assert_empty();
}

#[test]
fn cpuset_swap_and_shares_are_applied() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("cpuset"));
    let out = run(
        &dir,
        &parent,
        &[
            "--cpuset-cpus",
            "0",
            "--",
            "/bin/grep",
            "Cpus_allowed_list",
            "/proc/self/status",
        ],
    );
    assert_eq!(
        text(&out.success().get_output().stdout),
        "Cpus_allowed_list:\t0\n"
    );
    let swap = [
        "--memory",
        "32m",
        "--memory-swap",
        "64m",
        "--cpu-shares",
        "512",
        "--explain",
    ];
    let mut args = swap.to_vec();
    args.extend(["--", "/probe", "hog", "8"]);
    let out = run(&dir, &parent, &args).success();
    let narration = text(&out.get_output().stderr);
    assert!(
        narration.contains(r#"write "67108864" > "#)
            && narration.contains("memory.memsw.limit_in_bytes"),
        "{narration}"
    );
    assert!(
        narration.contains(r#"write "512" > "#) && narration.contains("cpu.shares"),
        "{narration}"
    );
    assert_eq!(text(&out.get_output().stdout), "hog: touched 8 MiB\n");
    parent.assert_empty();
}

#[test]
fn inside_the_cgroup_namespace_its_own_cgroup_is_the_root() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("cgns"));
    let out = run(
        &dir,
        &parent,
        &["--memory", "64m", "--", "/probe", "report", "cgroup"],
    )
    .success();
    let report = text(&out.get_output().stdout);
    assert!(report.starts_with("cgroup:\n"), "{report}");
    assert!(
        report.lines().skip(1).all(|l| l.ends_with(":/")),
        "{report}"
    );
    parent.assert_empty();
}

#[test]
fn no_cgroup_is_left_after_exit_failure_or_kill() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("cleanup"));
    run(&dir, &parent, &["--", "/bin/true"]).success();
    parent.assert_empty();
    run(&dir, &parent, &["--", "/no/such"]).code(127);
    parent.assert_empty();
    run(
        &dir,
        &parent,
        &["--init", "--", "/bin/sh", "-c", "kill -9 $$"],
    )
    .code(137);
    parent.assert_empty();
    run(
        &dir,
        &parent,
        &["--memory", "16m", "--", "/bin/sh", "-c", "/probe hog 64"],
    )
    .code(137);
    parent.assert_empty();
    let setup_fails = ["--cpuset-cpus", "63", "--", "/bin/true"];
    let out = run(&dir, &parent, &setup_fails).code(125);
    assert!(
        text(&out.get_output().stderr).contains("cpuset.cpus"),
        "{}",
        text(&out.get_output().stderr)
    );
    parent.assert_empty();
}

#[test]
fn a_missing_controller_is_named_with_its_hint_during_run() {
    require_root!();
    let dir = busybox_rootfs();
    // In a mount namespace of its own, the command sees a cgroup root that has the pids
    // hierarchy's file and nothing else: a v1 machine where the memory controller (which every
    // run joins, for its OOM counter) was never mounted. The host's cgroups are untouched, and
    // the tmpfs goes with the namespace.
    let bin = env!("CARGO_BIN_EXE_ch02-cgroups");
    let script = format!(
        "mount -t tmpfs fake-cgroups {CGROUP_ROOT} && mkdir {CGROUP_ROOT}/pids && \
         touch {CGROUP_ROOT}/pids/cgroup.procs && exec {bin} run --rootfs {} -- /bin/true",
        dir.rootfs().display()
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("run unshare");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // Chapter 02's hint crosses chapter 01's run: the step's error keeps its type.
    let expected = regex::Regex::new(
        r#"^ch02-cgroups: cgroup: cgroup v1 controller "memory" is not available \(hint: mount it: mkdir -p /sys/fs/cgroup/memory && mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory\)\n$"#,
    )
    .unwrap();
    assert!(expected.is_match(&stderr), "{stderr}");
}

#[test]
fn bad_limits_are_refused_before_anything_is_created() {
    require_root!();
    let (dir, parent) = (busybox_rootfs(), Parent::new("invalid"));
    for (args, message) in [
        (&["--memory", "1k"][..], "below the minimum of 6 MiB"),
        (&["--memory-swap", "1g"][..], "--memory-swap needs --memory"),
        (
            &["--memory", "64m", "--memory-swap", "32m"][..],
            "smaller than --memory",
        ),
        (&["--memory", "12q"][..], "invalid size \"12q\""),
        (&["--cpus", "999"][..], "out of range"),
        (&["--cpuset-cpus", "3-1"][..], "invalid CPU list"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--", "/bin/true"]);
        let out = run(&dir, &parent, &all).code(125);
        let stderr = text(&out.get_output().stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    }
    assert!(
        parent.dirs().iter().all(|d| !d.exists()),
        "a refused run created cgroups"
    );
}

#[test]
fn freeze_thaw_list_and_kill_through_the_library() {
    require_root!();
    let parent = Parent::new("freeze");
    let n = ch01_namespaces::Narrator::silent();
    let cgroup = Cgroup::create(
        Path::new(CGROUP_ROOT),
        &parent.name,
        "box",
        &Limits::default(),
        Features {
            freezer: true,
            ..Features::default()
        },
        &n,
    )
    .unwrap();
    let mut sleeper = std::process::Command::new(dockyard_tests::probe())
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let pid = sleeper.id() as i32;
    cgroup.attach(pid, &n).unwrap();
    assert_eq!(cgroup.pids().unwrap(), [pid]);
    cgroup.freeze(&n).unwrap();
    cgroup.thaw(&n).unwrap();
    cgroup.kill_all().unwrap();
    let status = sleeper.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    cgroup.remove(&n).unwrap();
    parent.assert_empty();
}
