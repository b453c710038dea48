//! `exec` into a running container of this chapter: one made from the busybox image, its root
//! an overlay mounted inside its own mount namespace (chapter 03), its state recorded as a
//! monitor records it.
//!
//! Until `run -d` exists, this test plays the monitor itself: it creates the container with
//! the libraries, forks, and the child starts it with a step whose `started` hook writes
//! `state.json`, as the monitor's will. Forking needs a single-threaded process, and so does
//! `exec_capture`, which this test calls directly: hence a test without libtest's harness
//! (which runs tests on threads), checks run one after the other in `main`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use ch01_namespaces::{Narrator, ProcessOptions, Step, StepError};
use ch03_union_fs::{Record, StorageOptions, Store};
use ch04_images::ImageStore;
use ch04_images::run::{ImageRun, Overrides};
use ch06_compose::container::{HostConfig, Paths, RunState, Status, read_json, write_json};
use ch06_compose::exec::{CAPTURED_OUTPUT_LIMIT, exec_capture};
use dockyard_support::events::Discard;
use dockyard_tests::{TestDir, assert_no_mounts_under, busybox_rootfs, root_or_skip, wait_until};
use nix::unistd::{ForkResult, Pid, fork};

const BIN: &str = env!("CARGO_BIN_EXE_ch06-compose");
const PATIENCE: Duration = Duration::from_secs(20);

fn main() {
    if !root_or_skip("exec") {
        return;
    }
    let bench = Bench::new();
    let container = bench.start("web");
    let checks: &[(&str, Check)] = &[
        (
            "runs_with_the_containers_config",
            runs_with_the_containers_config,
        ),
        (
            "joins_the_containers_namespaces",
            joins_the_containers_namespaces,
        ),
        (
            "users_by_name_come_from_the_image",
            users_by_name_come_from_the_image,
        ),
        (
            "exit_statuses_are_docker_execs",
            exit_statuses_are_docker_execs,
        ),
        ("detached_returns_at_once", detached_returns_at_once),
        (
            "capture_keeps_4_kib_and_times_out",
            capture_keeps_4_kib_and_times_out,
        ),
        ("a_reused_pid_is_refused", a_reused_pid_is_refused),
    ];
    let outcome = std::panic::catch_unwind(|| {
        for (name, check) in checks {
            check(&bench, &container);
            println!("test {name} ... ok");
        }
    });
    let stopped = std::panic::catch_unwind(|| {
        container.stop();
        not_running_is_refused(&bench);
        println!("test not_running_is_refused ... ok");
    });
    assert_no_mounts_under(bench.dir.path());
    if let Err(panic) = outcome.and(stopped) {
        std::panic::resume_unwind(panic);
    }
    println!("\ntest result: ok. {} passed", checks.len() + 1);
}

/// One check of this test, on the running container.
type Check = fn(&Bench, &Running);

/// A test's store holding the busybox image (and the probe at `/probe`).
struct Bench {
    dir: TestDir,
}

/// A running container: its record and the pid of its first process.
struct Running {
    record: Record,
    pid: u32,
    monitor: Pid,
}

impl Bench {
    fn new() -> Bench {
        let dir = busybox_rootfs();
        let tar = dir.path().join("busybox.tar");
        let tarred = Command::new("tar")
            .arg("-C")
            .arg(dir.rootfs())
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(tarred.success());
        let bench = Bench { dir };
        let imported = bench.tool(&["import", tar.to_str().unwrap(), "busybox"]);
        assert!(imported.status.success(), "{imported:?}");
        bench
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn store(&self) -> Store {
        Store::open(self.root()).unwrap()
    }

    /// `ch06-compose --root ROOT ARGS...`, run to its end (the process's stdin is /dev/null).
    fn tool(&self, args: &[&str]) -> std::process::Output {
        let mut child = Command::new(BIN)
            .arg("--root")
            .arg(self.root())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let ended = wait_until(PATIENCE, || child.try_wait().unwrap().is_some());
        if !ended {
            let _killed = child.kill();
            panic!("ch06-compose {args:?} did not end");
        }
        child.wait_with_output().unwrap()
    }

    /// `exec ARGS...` with its status, stdout and stderr.
    fn exec(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = self.tool(&[&["exec"], args].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `exec ARGS...`, which must succeed; its stdout.
    fn stdout_of(&self, args: &[&str]) -> String {
        let (code, out, err) = self.exec(args);
        assert_eq!(code, Some(0), "exec {args:?}: {err}");
        out
    }

    /// Creates container `name` from busybox (with a working directory, an environment and
    /// a hostname of its own) and starts it in a forked child that records its state.
    fn start(&self, name: &str) -> Running {
        let images = ImageStore::open(self.root()).unwrap();
        let process = ProcessOptions {
            hostname: Some("box".into()),
            env: vec![("FROM_RUN".into(), "1".into())],
            workdir: Some("/tmp".into()),
            ..ProcessOptions::default()
        };
        let request = ch04_images::run::prepare(
            &images,
            ImageRun {
                image: "busybox".into(),
                overrides: Overrides {
                    entrypoint: None,
                    command: vec!["/probe".into(), "sleep".into(), "120".into()],
                },
                process: process.clone(),
                name: Some(name.into()),
                ..ImageRun::default()
            },
        )
        .unwrap();
        let storage = StorageOptions::default();
        let store = images.containers();
        let mut record =
            ch03_union_fs::run::create(store, &request, &storage, &Narrator::silent(), &Discard)
                .unwrap();
        let paths = Paths::new(store, &record.id);
        let host = HostConfig {
            process,
            ..HostConfig::default()
        };
        write_json(&paths.host_config(), &host).unwrap();
        // SAFETY: this test runs no other thread (no libtest harness), so the copy holds no
        // lock another thread had taken.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let mut recorder = RecordState {
                    paths: paths.clone(),
                };
                let ended = ch03_union_fs::run::start(
                    store,
                    &mut record,
                    request.spec,
                    &request.cgroup,
                    &storage,
                    &Narrator::silent(),
                    &mut [&mut recorder],
                );
                let state = RunState {
                    status: Status::Exited,
                    exit_code: ended.ok().map(|end| end.status.code()),
                    ..RunState::default()
                };
                let _best_effort = write_json(&paths.state(), &state);
                // SAFETY: _exit ends this copy of the test at once, without its atexit handlers.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => {
                let mut pid = None;
                let running = wait_until(PATIENCE, || {
                    pid = read_json::<RunState>(&paths.state())
                        .ok()
                        .filter(|s| s.status == Status::Running)
                        .and_then(|s| s.pid);
                    pid.is_some()
                });
                assert!(running, "the container never ran");
                let record = store.find(name).unwrap();
                Running {
                    record,
                    pid: pid.unwrap(),
                    monitor: child,
                }
            }
        }
    }
}

impl Running {
    /// Kills the container's first process and waits for its "monitor".
    fn stop(&self) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.pid as i32, libc::SIGKILL) };
        let status = nix::sys::wait::waitpid(self.monitor, None).unwrap();
        assert!(
            matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)),
            "{status:?}"
        );
    }
}

/// The monitor's part this test plays: `state.json` says running, with the container's pid.
struct RecordState {
    paths: Paths,
}

impl Step for RecordState {
    fn name(&self) -> &str {
        "state"
    }

    fn setup(&mut self, _child: nix::unistd::Pid, _n: &Narrator) -> Result<(), StepError> {
        Ok(())
    }

    fn started(&mut self, child: nix::unistd::Pid, _n: &Narrator) {
        let state = RunState {
            status: Status::Running,
            pid: Some(child.as_raw() as u32),
            monitor_pid: Some(std::process::id()),
            ..RunState::default()
        };
        write_json(&self.paths.state(), &state).unwrap();
    }

    fn teardown(&mut self, _n: &Narrator) -> Result<(), StepError> {
        Ok(())
    }
}

fn runs_with_the_containers_config(bench: &Bench, _: &Running) {
    let out = bench.stdout_of(&[
        "-e", "ADDED=2", "web", "/probe", "report", "hostname", "ids", "cwd", "env", "caps",
    ]);
    let out = out
        .lines()
        .map(|l| {
            if l.starts_with("pid: ") {
                "pid: [PID]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        out,
        "\
hostname: box
pid: [PID]
ppid: 0
uid: 0
gid: 0
groups: 0
cwd: /tmp
env:
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOSTNAME=box
  FROM_RUN=1
  ADDED=2
  HOME=/root
CapInh: 0000000000000000
CapPrm: 00000000a80425fb
CapEff: 00000000a80425fb
CapBnd: 00000000a80425fb
CapAmb: 0000000000000000
NoNewPrivs: 0
Seccomp: 2"
    );
    // -w and --privileged: the container's seccomp profile stays, every capability is given.
    let out = bench.stdout_of(&[
        "-w",
        "/",
        "--privileged",
        "web",
        "/probe",
        "report",
        "cwd",
        "caps",
    ]);
    assert!(out.starts_with("cwd: /\n"), "{out}");
    assert!(out.contains("Seccomp: 2\n"), "{out}");
    assert!(!out.contains("CapEff: 00000000a80425fb"), "{out}");
}

fn joins_the_containers_namespaces(bench: &Bench, container: &Running) {
    let script = "for ns in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$ns; done";
    let inside = bench.stdout_of(&["web", "/bin/sh", "-c", script]);
    let expected: String = ["mnt", "uts", "ipc", "net", "pid", "cgroup"]
        .iter()
        .map(|ns| {
            let link = std::fs::read_link(format!("/proc/{}/ns/{ns}", container.pid)).unwrap();
            format!("{}\n", link.display())
        })
        .collect();
    assert_eq!(inside, expected);
    // Its root is the container's overlay, mounted in the container's mount namespace only.
    let mounts = bench.stdout_of(&["web", "/probe", "report", "mounts"]);
    assert!(mounts.contains("\n  / overlay "), "{mounts}");
    let cgroups = bench.stdout_of(&["web", "/probe", "report", "cgroup"]);
    assert!(
        cgroups.lines().skip(1).all(|l| l.ends_with(":/")),
        "{cgroups}"
    );
}

fn users_by_name_come_from_the_image(bench: &Bench, _: &Running) {
    let out = bench.stdout_of(&["-u", "nobody", "web", "/probe", "report", "ids"]);
    assert!(out.contains("uid: 65534\ngid: 65534\n"), "{out}");
    let (code, _, err) = bench.exec(&["-u", "nosuchuser", "web", "/bin/true"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("unable to find user"), "{err}");
}

fn exit_statuses_are_docker_execs(bench: &Bench, container: &Running) {
    assert_eq!(bench.exec(&["web", "/bin/sh", "-c", "exit 3"]).0, Some(3));
    assert_eq!(
        bench.exec(&["web", "/bin/sh", "-c", "kill -TERM $$"]).0,
        Some(143)
    );
    // docker 20.10 answers 126 for any process that could not start in the container.
    let (code, _, err) = bench.exec(&["web", "/no/such"]);
    assert_eq!(code, Some(126));
    assert_eq!(
        err,
        "ch06-compose: exec \"/no/such\": no such file or directory (hint: check that the path exists inside the rootfs, not on the host)\n"
    );
    assert_eq!(
        bench.exec(&["-w", "/nope", "web", "/bin/true"]).0,
        Some(126)
    );
    let (code, _, err) = bench.exec(&["nosuch", "/bin/true"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "ch06-compose: no such container: nosuch (hint: list containers with: ps -a)\n"
    );
    let prefix = &container.record.id[..12];
    assert_eq!(bench.exec(&[prefix, "/bin/true"]).0, Some(0));
}

fn detached_returns_at_once(bench: &Bench, _: &Running) {
    let (code, out, _) = bench.exec(&["-d", "web", "/probe", "sleep", "30"]);
    assert_eq!((code, out.as_str()), (Some(0), ""));
    let processes = bench.stdout_of(&["web", "/probe", "report", "processes"]);
    assert_eq!(processes.split_whitespace().count(), 4, "{processes}");
    assert_eq!(bench.exec(&["-d", "web", "/no/such"]).0, Some(1));
}

fn capture_keeps_4_kib_and_times_out(bench: &Bench, container: &Running) {
    let store = bench.store();
    let id = &container.record.id;
    let sh = |script: &str| vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()];
    let captured = exec_capture(&store, id, sh("pwd; echo err >&2; exit 2"), PATIENCE).unwrap();
    assert_eq!(captured.exit_code, 2);
    assert_eq!(captured.output, "/tmp\nerr\n");
    let big = exec_capture(&store, id, sh("yes | head -c 10000"), PATIENCE).unwrap();
    assert_eq!(big.exit_code, 0);
    assert_eq!(big.output.len(), CAPTURED_OUTPUT_LIMIT + 3);
    assert!(big.output.ends_with("y\n..."));
    let sleep = vec!["/probe".to_owned(), "sleep".to_owned(), "30".to_owned()];
    let slow = exec_capture(&store, id, sleep, Duration::from_millis(300)).unwrap();
    assert_eq!(slow.exit_code, -1);
    assert_eq!(slow.output, "Health check exceeded timeout (300ms)");
    let missing = exec_capture(&store, id, vec!["/no/such".into()], PATIENCE).unwrap_err();
    assert!(missing.to_string().contains("no such file"), "{missing}");
}

/// A state naming a pid that is not the container's (a stale state after the container
/// ended, the number given to another process) is refused, not joined.
fn a_reused_pid_is_refused(bench: &Bench, container: &Running) {
    let paths = Paths::new(&bench.store(), &container.record.id);
    let real: RunState = read_json(&paths.state()).unwrap();
    let mut stranger = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let stale = RunState {
        pid: Some(stranger.id()),
        ..real.clone()
    };
    write_json(&paths.state(), &stale).unwrap();
    let (code, _, err) = bench.exec(&["web", "/bin/true"]);
    write_json(&paths.state(), &real).unwrap();
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "ch06-compose: verify the container's process: container {} is not running (hint: start it first with `start`)\n",
            container.record.id
        )
    );
}

fn not_running_is_refused(bench: &Bench) {
    let (code, _, err) = bench.exec(&["web", "/bin/true"]);
    assert_eq!(code, Some(1));
    let id = bench.store().find("web").unwrap().id;
    assert_eq!(
        err,
        format!(
            "ch06-compose: container {id} is not running (hint: start it first with `start`)\n"
        )
    );
}
