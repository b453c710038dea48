//! `ch01-namespaces run` on the real kernel: what the container sees, how it ends, and that it
//! leaves nothing behind. Each test has its own rootfs in its own temporary directory.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use dockyard_tests::pty::PtySession;
use dockyard_tests::{
    TestDir, assert_nothing_left, busybox_rootfs, processes_rooted_in, require_root, wait_until,
    with_redactions,
};

const BIN: &str = env!("CARGO_BIN_EXE_ch01-namespaces");
const PATIENCE: Duration = Duration::from_secs(10);

/// `ch01-namespaces [--explain] run --rootfs <the test's rootfs> ARGS...`
fn run(dir: &TestDir, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("ch01-namespaces");
    cmd.arg("run").arg("--rootfs").arg(dir.rootfs()).args(args);
    cmd.timeout(PATIENCE);
    cmd
}

fn stdout_of(dir: &TestDir, args: &[&str]) -> String {
    let out = run(dir, args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap()
}

#[test]
fn hostname_is_the_containers_own() {
    require_root!();
    let dir = busybox_rootfs();
    let before = host_hostname();
    let out = stdout_of(&dir, &["--hostname", "box", "--", "/bin/hostname"]);
    assert_eq!(out, "box\n");
    assert_eq!(host_hostname(), before, "the host's hostname changed");
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn default_hostname_is_the_short_id() {
    require_root!();
    let dir = busybox_rootfs();
    let out = stdout_of(&dir, &["/bin/hostname"]);
    assert!(
        out.trim().len() == 12 && out.trim().chars().all(|c| c.is_ascii_hexdigit()),
        "expected a 12-digit hex id, got {out:?}"
    );
}

#[test]
fn the_command_is_pid_1() {
    require_root!();
    let dir = busybox_rootfs();
    assert_eq!(stdout_of(&dir, &["--", "/bin/sh", "-c", "echo $$"]), "1\n");
    // /proc lists the container's processes only: the probe itself, as PID 1.
    assert_eq!(
        stdout_of(&dir, &["--", "/probe", "report", "processes"]),
        "processes: 1\n"
    );
    let out = stdout_of(&dir, &["--init", "--", "/probe", "report", "processes"]);
    assert_eq!(out, "processes: 1 2\n", "init is 1, the probe 2");
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn probe_report_shows_an_isolated_world() {
    require_root!();
    let dir = busybox_rootfs();
    let out = stdout_of(&dir, &["--hostname", "box", "--", "/probe"]);
    // Inside a new cgroup namespace every hierarchy's path is the root, whatever the host has.
    let (report, cgroup) = out.split_once("cgroup:\n").unwrap();
    let (cgroup, rest) = cgroup.split_once("mounts:\n").unwrap();
    assert!(
        cgroup.lines().all(|l| l.ends_with(":/")),
        "cgroup paths are not all /: {cgroup}"
    );
    let out = format!("{report}mounts:\n{rest}");
    let mut settings = insta::Settings::clone_current();
    // The root mount's type is that of the filesystem holding the test's temporary directory.
    settings.add_filter(r"(?m)^  / \S+ ", "  / [FSTYPE] ");
    settings.bind(|| with_redactions(dir.path(), || insta::assert_snapshot!("probe_report", out)));
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn exit_status_is_the_commands() {
    require_root!();
    let dir = busybox_rootfs();
    run(&dir, &["--", "/bin/sh", "-c", "exit 7"])
        .assert()
        .code(7);
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn missing_command_exits_127_with_one_line() {
    require_root!();
    let dir = busybox_rootfs();
    let out = run(&dir, &["--", "/no/such"]).assert().code(127);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    insta::assert_snapshot!("missing_command", stderr);
    run(&dir, &["--", "nosuchcommand"]).assert().code(127);
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn non_executable_command_exits_126() {
    require_root!();
    let dir = busybox_rootfs();
    std::fs::write(dir.rootfs().join("notes.txt"), "not a program\n").unwrap();
    let out = run(&dir, &["--", "/notes.txt"]).assert().code(126);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    insta::assert_snapshot!("not_executable", stderr);
    run(&dir, &["--", "/bin"]).assert().code(126);
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn env_workdir_and_user_are_applied() {
    require_root!();
    let dir = busybox_rootfs();
    let out = stdout_of(
        &dir,
        &[
            "--hostname",
            "box",
            "-e",
            "GREETING=hello",
            "-w",
            "/work",
            "-u",
            "65534:65534",
            "--",
            "/probe",
            "report",
            "ids",
            "cwd",
            "env",
        ],
    );
    insta::assert_snapshot!("env_workdir_user", out);
    assert!(
        dir.rootfs().join("work").is_dir(),
        "-w creates a missing directory"
    );
}

#[test]
fn user_without_group_takes_the_primary_group_from_passwd() {
    require_root!();
    let dir = busybox_rootfs();
    let out = stdout_of(&dir, &["-u", "65534", "--", "/bin/id"]);
    assert_eq!(
        out,
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
    );
}

#[test]
fn supplementary_groups_come_from_the_containers_group_file() {
    require_root!();
    let dir = busybox_rootfs();
    std::fs::write(
        dir.rootfs().join("etc/group"),
        "root:x:0:\ntty:x:5:nobody\nnogroup:x:65534:\nstaff:x:50:root,nobody\n",
    )
    .unwrap();
    // The kernel keeps the list sorted.
    let out = stdout_of(&dir, &["-u", "65534", "--", "/probe", "report", "ids"]);
    assert!(out.contains("groups: 5 50 65534\n"), "{out}");
    let out = stdout_of(&dir, &["--", "/probe", "report", "ids"]);
    assert!(out.contains("groups: 0 50\n"), "{out}");
}

#[test]
fn init_lets_pid_2_be_killed_by_its_own_signal() {
    require_root!();
    let dir = busybox_rootfs();
    run(&dir, &["--init", "--", "/bin/sh", "-c", "kill -9 $$"])
        .assert()
        .code(137);
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn without_init_pid_1_is_shielded_from_its_own_signals() {
    require_root!();
    let dir = busybox_rootfs();
    let out = stdout_of(
        &dir,
        &["--", "/bin/sh", "-c", "kill -9 $$; echo still here"],
    );
    assert_eq!(out, "still here\n");
}

#[test]
fn init_reaps_orphans_and_a_plain_pid_1_does_not() {
    require_root!();
    let dir = busybox_rootfs();
    assert_eq!(
        stdout_of(&dir, &["--init", "--", "/probe", "orphan"]),
        "orphan: reaped\n"
    );
    assert_eq!(
        stdout_of(&dir, &["--", "/probe", "orphan"]),
        "orphan: zombie\n"
    );
    assert_nothing_left(&dir.rootfs());
}

/// Starts the engine in the background and waits until the container's command runs.
fn start_sleeper(dir: &TestDir, init: bool) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.arg("run").arg("--rootfs").arg(dir.rootfs());
    if init {
        cmd.arg("--init");
    }
    let child = cmd
        .args(["--", "/bin/sleep", "60"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the engine");
    let rootfs = dir.rootfs().canonicalize().unwrap();
    let running = wait_until(PATIENCE, || {
        processes_rooted_in(&rootfs).iter().any(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
        })
    });
    assert!(running, "the container's sleep never started");
    child
}

fn wait_with_timeout(child: &mut Child) -> std::process::ExitStatus {
    let mut status = None;
    let done = wait_until(PATIENCE, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !done {
        let _killed = child.kill();
        panic!("the engine did not exit");
    }
    status.unwrap()
}

#[test]
fn sigterm_to_the_engine_reaches_the_command_through_init() {
    require_root!();
    let dir = busybox_rootfs();
    let mut engine = start_sleeper(&dir, true);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(engine.id() as i32, libc::SIGTERM) };
    assert_eq!(wait_with_timeout(&mut engine).code(), Some(143));
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn signals_sent_to_the_engine_reach_pid_1() {
    require_root!();
    let dir = busybox_rootfs();
    let rootfs = dir.rootfs().canonicalize().unwrap();
    for (name, number) in [
        ("INT", libc::SIGINT),
        ("HUP", libc::SIGHUP),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("WINCH", libc::SIGWINCH),
    ] {
        // As PID 1, the shell receives exactly the signals it installed a handler for.
        let script = format!("trap 'echo got {name}; exit 0' {name}; while :; do sleep 0.05; done");
        let mut engine = Command::new(BIN)
            .arg("run")
            .arg("--rootfs")
            .arg(&rootfs)
            .args(["--", "/bin/sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the engine");
        let looping = wait_until(PATIENCE, || {
            processes_rooted_in(&rootfs).iter().any(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
            })
        });
        assert!(looping, "the container's loop never started");
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(engine.id() as i32, number) };
        assert_eq!(wait_with_timeout(&mut engine).code(), Some(0), "SIG{name}");
        let mut out = String::new();
        std::io::Read::read_to_string(engine.stdout.as_mut().unwrap(), &mut out).unwrap();
        assert_eq!(out, format!("got {name}\n"));
    }
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn a_killed_engine_takes_its_container_with_it() {
    require_root!();
    let dir = busybox_rootfs();
    let mut engine = start_sleeper(&dir, false);
    engine.kill().unwrap(); // SIGKILL: the engine gets no chance to clean up
    wait_with_timeout(&mut engine);
    let rootfs = dir.rootfs().canonicalize().unwrap();
    assert!(
        wait_until(PATIENCE, || processes_rooted_in(&rootfs).is_empty()),
        "the container outlived its engine"
    );
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn interactive_terminal_is_a_usable_shell() {
    require_root!();
    let dir = busybox_rootfs();
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .arg("--rootfs")
        .arg(dir.rootfs())
        .args(["-it", "--", "/bin/sh"]);
    let mut shell = PtySession::spawn(cmd).expect("start the engine on a terminal");
    shell.send("tty; echo \"size $(stty size)\"\n");
    let at = shell.expect("/dev/pts/0", 0, PATIENCE);
    let at = shell.expect("size 24 80", at, PATIENCE);
    // Ctrl-C must interrupt the foreground job, not the engine or the shell.
    shell.send("sleep 30\n");
    std::thread::sleep(Duration::from_millis(300));
    shell.send("\x03");
    shell.send("echo \"alive after $?\"\n");
    shell.expect("alive after 130", at, PATIENCE);
    shell.send("exit 3\n");
    assert_eq!(shell.wait(PATIENCE).code(), Some(3));
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn explain_narrates_every_step() {
    require_root!();
    let dir = busybox_rootfs();
    let out = cargo_bin_cmd!("ch01-namespaces")
        .current_dir(dir.path())
        .args([
            "--explain",
            "run",
            "--rootfs",
            "rootfs",
            "--hostname",
            "box",
            "--",
            "/bin/true",
        ])
        .timeout(PATIENCE)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    with_redactions(dir.path(), || insta::assert_snapshot!("explain", stderr));
}

#[test]
fn missing_rootfs_is_an_engine_error() {
    require_root!();
    let dir = busybox_rootfs();
    let out = cargo_bin_cmd!("ch01-namespaces")
        .current_dir(dir.path())
        .args(["run", "--rootfs", "nope", "--", "/bin/true"])
        .assert()
        .code(125);
    insta::assert_snapshot!(
        "missing_rootfs",
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    let out = cargo_bin_cmd!("ch01-namespaces")
        .current_dir(dir.path())
        .args(["run", "--rootfs", "rootfs/etc/passwd", "--", "/bin/true"])
        .assert()
        .code(125);
    insta::assert_snapshot!(
        "rootfs_not_a_directory",
        String::from_utf8_lossy(&out.get_output().stderr)
    );
}

#[test]
fn usage_errors_exit_125() {
    let out = cargo_bin_cmd!("ch01-namespaces")
        .args(["run", "--rootfs", "/", "--bogus", "/bin/true"])
        .assert()
        .code(125);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--bogus"));
}

#[test]
fn not_root_says_so() {
    require_root!(); // to become someone else we must start as root
    let out = Command::new(BIN)
        .args(["run", "--rootfs", "/", "--", "/bin/true"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    insta::assert_snapshot!("not_root", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn relative_and_absolute_rootfs_paths_both_work() {
    require_root!();
    let dir = busybox_rootfs();
    let abs = dir.rootfs();
    let out = Command::new(BIN)
        .current_dir(Path::new("/"))
        .arg("run")
        .arg("--rootfs")
        .arg(&abs)
        .args(["--", "/bin/echo", "ok"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    assert_nothing_left(&abs);
}
