//! `ch01-namespaces exec`: a new process in a container that already runs. Each test starts its
//! own long-running container (the probe, sleeping) with `ch01-namespaces run` in the
//! background, and joins it with the (hidden) `exec --pid PID` command, a fresh single-threaded
//! process as the library requires.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use common::{BIN, PATIENCE, stderr, stdout};
use dockyard_tests::pty::PtySession;
use dockyard_tests::{TestDir, assert_nothing_left, busybox_rootfs, require_root, wait_until};

/// A container running `/probe sleep`, killed when dropped.
struct Running {
    engine: Child,
    /// The container's first process, as the host sees it.
    pid: u32,
    rootfs: PathBuf,
}

impl Running {
    /// `ch01-namespaces run --rootfs <rootfs> --hostname box -- /probe sleep 120`.
    fn start(dir: &TestDir) -> Running {
        let mut engine = Command::new(BIN);
        engine.arg("run").arg("--rootfs").arg(dir.rootfs()).args([
            "--hostname",
            "box",
            "--",
            "/probe",
            "sleep",
            "120",
        ]);
        Running::wait_for(dir, engine)
    }

    /// Starts the container from inside these cgroups: its engine joins them before it runs,
    /// so the container's process is created in them.
    fn start_in_cgroups(dir: &TestDir, groups: &[PathBuf]) -> Running {
        let joins: String = groups
            .iter()
            .map(|g| format!("echo $$ > {}/cgroup.procs && ", g.display()))
            .collect();
        let script = format!("{joins}exec \"$0\" \"$@\"");
        let mut engine = Command::new("/bin/sh");
        engine
            .args(["-c", &script, BIN, "run", "--rootfs"])
            .arg(dir.rootfs())
            .args(["--", "/probe", "sleep", "120"]);
        Running::wait_for(dir, engine)
    }

    fn wait_for(dir: &TestDir, mut engine: Command) -> Running {
        let mut engine = engine
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the engine");
        let mut pid = None;
        let started = wait_until(PATIENCE, || {
            pid = children_of(engine.id()).into_iter().find(|child| {
                fs::read_to_string(format!("/proc/{child}/comm")).is_ok_and(|c| c == "probe\n")
            });
            pid.is_some()
        });
        if !started {
            let _killed = engine.kill();
            panic!("the container's probe never started");
        }
        Running {
            engine,
            pid: pid.unwrap(),
            rootfs: dir.rootfs(),
        }
    }

    /// `ch01-namespaces exec --pid <the container's> ARGS...`
    fn exec(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = cargo_bin_cmd!("ch01-namespaces");
        cmd.args(["exec", "--pid", &self.pid.to_string()])
            .args(args)
            .timeout(PATIENCE);
        cmd
    }

    fn stdout_of(&self, args: &[&str]) -> String {
        stdout(&self.exec(args).assert().success())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SIGKILL is the one signal a PID 1 without handlers cannot ignore.
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.pid as i32, libc::SIGKILL) };
        let ended = wait_until(PATIENCE, || self.engine.try_wait().unwrap().is_some());
        if !ended {
            let _killed = self.engine.kill();
        }
        if !std::thread::panicking() {
            assert!(ended, "the engine did not end with its container");
            assert_nothing_left(&self.rootfs);
        }
    }
}

/// The pids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| dockyard_support::process::parent_of(*pid) == Some(parent))
        .collect()
}

const NAMESPACES: [&str; 6] = ["mnt", "uts", "ipc", "net", "pid", "cgroup"];

#[test]
fn exec_joins_every_namespace_of_the_container() {
    require_root!();
    let dir = busybox_rootfs();
    let container = Running::start(&dir);
    let script = "for ns in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$ns; done";
    let inside = container.stdout_of(&["--", "/bin/sh", "-c", script]);
    let expected: String = NAMESPACES
        .iter()
        .map(|ns| {
            let link = fs::read_link(format!("/proc/{}/ns/{ns}", container.pid)).unwrap();
            let own = fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
            assert_ne!(link, own, "the container shares the host's {ns} namespace");
            format!("{}\n", link.display())
        })
        .collect();
    assert_eq!(inside, expected);
    assert_eq!(
        container.stdout_of(&["--", "/probe", "report", "hostname"]),
        "hostname: box\n"
    );
}

#[test]
fn exec_gets_dockers_confinement_and_the_requested_user_env_and_workdir() {
    require_root!();
    let dir = busybox_rootfs();
    let container = Running::start(&dir);
    let root = container.stdout_of(&["--", "/probe", "report", "ids", "caps"]);
    let nobody = container.stdout_of(&[
        "-u",
        "65534",
        "-e",
        "GREETING=hello",
        "-w",
        "/tmp",
        "--security-opt",
        "no-new-privileges",
        "--",
        "/probe",
        "report",
        "ids",
        "cwd",
        "env",
        "caps",
    ]);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"(?m)^pid: \d+$", "pid: [PID]");
    settings.bind(|| {
        insta::assert_snapshot!("exec_as_root", root);
        insta::assert_snapshot!("exec_as_nobody", nobody);
    });
}

#[test]
fn exit_statuses_are_dockers() {
    require_root!();
    let dir = busybox_rootfs();
    fs::write(dir.rootfs().join("notes.txt"), "not a program\n").unwrap();
    let container = Running::start(&dir);
    container
        .exec(&["--", "/bin/sh", "-c", "exit 7"])
        .assert()
        .code(7);
    container
        .exec(&["--", "/bin/sh", "-c", "kill -TERM $$"])
        .assert()
        .code(143);
    let missing = container.exec(&["--", "/no/such"]).assert().code(127);
    assert_eq!(
        stderr(&missing),
        "ch01-namespaces: exec \"/no/such\": no such file or directory (hint: check that the path exists inside the rootfs, not on the host)\n"
    );
    container.exec(&["--", "nosuchcommand"]).assert().code(127);
    container.exec(&["--", "/notes.txt"]).assert().code(126);
    container.exec(&["--", "/bin"]).assert().code(126);
}

#[test]
fn the_engines_binary_is_never_the_command() {
    require_root!();
    let dir = busybox_rootfs();
    let rootfs = dir.rootfs();
    symlink("/proc/self/exe", rootfs.join("engine")).unwrap();
    fs::write(rootfs.join("script"), "#!/proc/self/exe\n").unwrap();
    fs::set_permissions(
        rootfs.join("script"),
        std::os::unix::fs::PermissionsExt::from_mode(0o711),
    )
    .unwrap();
    let container = Running::start(&dir);
    for command in ["/proc/self/exe", "/engine", "/script"] {
        let out = container
            .exec(&["-u", "65534", "--", command, "--help"])
            .assert()
            .code(126);
        let said = stderr(&out);
        assert!(!stdout(&out).contains("Usage"), "the engine ran: {said}");
        assert!(
            said.contains("refusing to run the engine's own binary"),
            "{command}: {said}"
        );
    }
}

/// Opens the FIFO `path` for writing as soon as a reader has it open, within the patience.
fn open_fifo_for_writing(path: &Path) -> fs::File {
    let mut file = None;
    let opened = wait_until(PATIENCE, || {
        // O_NONBLOCK: without a reader the open fails with ENXIO instead of waiting forever.
        file = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .ok();
        file.is_some()
    });
    assert!(opened, "no one opened {} for reading", path.display());
    file.unwrap()
}

/// The pid a host process has in the innermost PID namespace it is in (`NSpid:` of its status).
fn inner_pid(host_pid: u32) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{host_pid}/status")).ok()?;
    let nspid = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    nspid.split_whitespace().last().map(str::to_owned)
}

#[test]
fn until_its_execve_the_engines_copy_in_the_container_is_out_of_reach() {
    require_root!();
    let dir = busybox_rootfs();
    // The command is a FIFO: before its execve the child reads its first bytes (to refuse a
    // `#!` line naming the engine), and blocks there, inside the container, until the test
    // writes. Then the kernel refuses to execute a FIFO: 126.
    let fifo = dir.rootfs().join("pause");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o755)).unwrap();
    let container = Running::start(&dir);
    let mut paused = Command::new(BIN)
        .args(["exec", "--pid", &container.pid.to_string(), "--", "/pause"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let container_mnt = fs::read_link(format!("/proc/{}/ns/mnt", container.pid)).unwrap();
    let mut copy = None;
    let inside = wait_until(PATIENCE, || {
        copy = children_of(paused.id()).into_iter().find(|child| {
            fs::read_link(format!("/proc/{child}/ns/mnt")).is_ok_and(|mnt| mnt == container_mnt)
        });
        copy.is_some()
    });
    assert!(inside, "the exec's child never entered the container");
    let inner = inner_pid(copy.unwrap()).expect("the child's pid in the container");

    // The container's root (without CAP_SYS_PTRACE) cannot reach the engine's binary through it.
    let out = container.stdout_of(&["--", "/probe", "exe", &inner]);
    assert_eq!(
        out,
        format!("readlink /proc/{inner}/exe: EACCES\nopen /proc/{inner}/exe: EACCES\n")
    );

    let mut writer = open_fifo_for_writing(&fifo);
    writer.write_all(b"not a program\n").unwrap();
    drop(writer);
    let ended = wait_until(PATIENCE, || paused.try_wait().unwrap().is_some());
    assert!(ended, "the paused exec did not end");
    assert_eq!(paused.wait().unwrap().code(), Some(126));
}

#[test]
fn a_working_directory_cannot_lead_out_of_the_container() {
    require_root!();
    let dir = busybox_rootfs();
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    symlink("../../../../../../..", dir.rootfs().join("escape")).unwrap();
    symlink(&outside, dir.rootfs().join("hostdir")).unwrap();
    let container = Running::start(&dir);

    // `..` stops at the container's root; a host path means nothing inside.
    let cwd = container.stdout_of(&["-w", "/escape", "--", "/probe", "report", "cwd"]);
    assert_eq!(cwd, "cwd: /\n");
    let refused = container
        .exec(&["-w", "/hostdir", "--", "/probe", "report", "cwd"])
        .assert()
        .code(125);
    assert_eq!(
        stderr(&refused),
        "ch01-namespaces: enter the working directory /hostdir inside the container: ENOENT: No such file or directory\n"
    );
    // /proc's magic links lead anywhere; they are refused, even toward the container itself.
    let magic = container
        .exec(&["-w", "/proc/1/cwd", "--", "/probe", "report", "cwd"])
        .assert()
        .code(125);
    assert!(stderr(&magic).contains("ELOOP"), "{}", stderr(&magic));
}

/// `ch01-namespaces exec` started by a shell that leaves a descriptor of the host directory
/// `dir` open as fd 7 (as runc leaked one, in CVE-2024-21626).
fn exec_with_leaked_fd(container: &Running, dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!("exec 7< {} && exec \"$0\" \"$@\"", dir.display()))
        .args([BIN, "exec", "--pid", &container.pid.to_string()])
        .args(args)
        .timeout(PATIENCE);
    cmd
}

#[test]
fn no_descriptor_of_the_host_reaches_the_command() {
    require_root!();
    let dir = busybox_rootfs();
    let container = Running::start(&dir);
    let host = dir.path();
    let out = exec_with_leaked_fd(&container, host, &["--", "/probe", "report", "fds"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "fds: 0 1 2\n");
    let refused = exec_with_leaked_fd(
        &container,
        host,
        &["-w", "/proc/self/fd/7", "--", "/bin/pwd"],
    )
    .assert()
    .code(125);
    assert!(
        stderr(&refused).contains("enter the working directory /proc/self/fd/7"),
        "{}",
        stderr(&refused)
    );
}

/// The cgroup directories for a container of this test: one in each of the `pids` and `memory`
/// hierarchies (cgroup v1), or one group (v2), each below this process's own group.
fn fresh_cgroups(name: &str) -> Vec<PathBuf> {
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let v2 = nix::sys::statfs::statfs("/sys/fs/cgroup")
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    let groups: Vec<PathBuf> = own
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            let mount = match controllers {
                "" if v2 => PathBuf::from("/sys/fs/cgroup"),
                "pids" | "memory" if !v2 => Path::new("/sys/fs/cgroup").join(controllers),
                _ => return None,
            };
            Some(mount.join(path.trim_start_matches('/')).join(name))
        })
        .collect();
    for group in &groups {
        fs::create_dir(group).unwrap();
    }
    groups
}

#[test]
fn exec_joins_the_containers_cgroups() {
    require_root!();
    let dir = busybox_rootfs();
    let groups = fresh_cgroups(&format!("dockyard-exec-test-{}", std::process::id()));
    assert!(!groups.is_empty(), "no cgroup hierarchy to test with");
    {
        let container = Running::start_in_cgroups(&dir, &groups);
        // The container's cgroup namespace has its groups as root: a process in them sees `/`
        // in every hierarchy; one left in the engine's groups would see a path up and out.
        let inside = container.stdout_of(&["--", "/probe", "report", "cgroup"]);
        let lines: Vec<&str> = inside.lines().skip(1).collect();
        assert!(!lines.is_empty());
        assert!(lines.iter().all(|l| l.ends_with(":/")), "{inside}");
    }
    for group in &groups {
        let removed = wait_until(PATIENCE, || fs::remove_dir(group).is_ok());
        assert!(removed, "{} could not be removed", group.display());
    }
}

#[test]
fn a_detached_exec_returns_at_once_and_keeps_running() {
    require_root!();
    let dir = busybox_rootfs();
    let container = Running::start(&dir);
    let out = container
        .exec(&["-d", "--", "/probe", "sleep", "60"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "");
    let processes = container.stdout_of(&["--", "/probe", "report", "processes"]);
    assert_eq!(
        processes.split_whitespace().count(),
        4,
        "PID 1, the detached sleep, this probe: {processes}"
    );
    container.exec(&["-d", "--", "/no/such"]).assert().code(127);
}

#[test]
fn an_interactive_terminal_comes_from_the_containers_devpts() {
    require_root!();
    let dir = busybox_rootfs();
    let container = Running::start(&dir);
    let mut cmd = Command::new(BIN);
    cmd.args(["exec", "--pid", &container.pid.to_string()])
        .args(["-it", "--", "/bin/sh"]);
    let mut shell = PtySession::spawn(cmd).expect("start the exec on a terminal");
    shell.send("tty; echo \"size $(stty size)\"\n");
    let at = shell.expect("/dev/pts/0", 0, PATIENCE);
    shell.expect("size 24 80", at, PATIENCE);
    shell.send("exit 3\n");
    assert_eq!(shell.wait(PATIENCE).code(), Some(3));
}

#[test]
fn a_container_that_is_gone_cannot_be_joined() {
    require_root!();
    let out = cargo_bin_cmd!("ch01-namespaces")
        .args(["exec", "--pid", "2147483647", "--", "/bin/true"])
        .timeout(PATIENCE)
        .assert()
        .code(125);
    assert_eq!(
        stderr(&out),
        "ch01-namespaces: no process 2147483647 to join: the container is not running\n"
    );
}
