//! Containers that keep running: `run -d` under a monitor, `stop`, `kill`, `wait`, `start`,
//! `restart`, `rm`, restart policies, and what each leaves (nothing, once removed).

mod common;

use std::time::Duration;

use common::{Bench, alive, cgroups_of};
use dockyard_tests::{require_root, wait_until};

fn pid(state: &serde_json::Value, field: &str) -> u64 {
    state[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {state}"))
}

#[test]
fn a_detached_container_runs_under_its_monitor_and_logs_its_output() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&[
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exec /probe sleep 600",
    ]);
    let state = bench.state(&id);
    assert_eq!(state["status"], "running");
    let (monitor, container) = (pid(&state, "monitor_pid"), pid(&state, "pid"));
    assert!(alive(monitor) && alive(container), "{state}");
    // The command that started it has ended; the monitor is the container's parent.
    let parent = dockyard_support::process::parent_of(container as u32);
    assert_eq!(parent, Some(monitor as u32));
    assert!(
        wait_until(Duration::from_secs(10), || bench.log(&id).contains("err")),
        "log: {:?}",
        bench.log(&id)
    );
    let log = bench.log(&id);
    assert!(log.contains("out\n") && log.contains("err\n"), "{log:?}");
    assert!(!cgroups_of(&id).is_empty(), "the container has its cgroup");
    // Without --name, a name made up as docker makes them: adjective_person.
    let name = bench.ok(&["inspect", "-f", "{{.Name}}", &id]);
    let (adjective, person) = name.trim().trim_start_matches('/').split_once('_').unwrap();
    assert!(!adjective.is_empty() && !person.is_empty(), "{name:?}");

    bench.ok(&["rm", "-f", &id]);
    assert!(gone(&[container, monitor]));
    assert!(cgroups_of(&id).is_empty(), "{:?}", cgroups_of(&id));
    assert!(bench.containers().is_empty());
}

/// Whether the processes are gone (reaped: the monitor's parent, init, reaps it a moment
/// after it exited).
fn gone(pids: &[u64]) -> bool {
    wait_until(Duration::from_secs(10), || !pids.iter().any(|p| alive(*p)))
}

#[test]
fn stop_sends_the_stop_signal_then_sigkill() {
    require_root!();
    let bench = Bench::new();
    // As PID 1 a plain sleeper ignores SIGTERM: only the SIGKILL after the timeout ends it.
    let ignores = bench.detach(&["busybox", "/probe", "sleep", "600"]);
    // With --init, the init forwards SIGTERM and the sleeper dies of it.
    let obeys = bench.detach(&["--init", "busybox", "/probe", "sleep", "600"]);
    assert_eq!(
        bench.ok(&["stop", "-t", "1", &ignores, &obeys]),
        format!("{ignores}\n{obeys}\n")
    );
    for (id, code) in [(&ignores, 137), (&obeys, 143)] {
        let state = bench.state(id);
        assert_eq!(state["status"], "exited", "{state}");
        assert_eq!(state["exit_code"], code, "{state}");
        assert!(state["monitor_pid"].is_null(), "{state}");
        assert!(cgroups_of(id).is_empty(), "{:?}", cgroups_of(id));
    }
    // Stopping a stopped container is fine, as docker's.
    bench.ok(&["stop", &ignores]);
}

#[test]
fn kill_and_wait_report_the_signal() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&["--name", "sleeper", "busybox", "/probe", "sleep", "600"]);
    let mut wait = bench.tool();
    wait.args(["wait", "sleeper"]);
    let waiter = std::thread::spawn(move || wait.output());
    bench.ok(&["kill", "-s", "KILL", "sleeper"]);
    let waited = waiter.join().unwrap().expect("wait runs");
    assert_eq!(String::from_utf8_lossy(&waited.stdout), "137\n");
    bench.wait_for(&id, "the monitor records the end", |s| {
        s["status"] == "exited"
    });
    let refused = bench.tool().args(["kill", "sleeper"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("is not running"), "{message}");
}

#[test]
fn start_runs_a_stopped_container_again_with_its_writable_layer() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&[
        "busybox",
        "sh",
        "-c",
        "echo run >> /count; cat /count | wc -l",
    ]);
    bench.wait_for(&id, "the first run ends", |s| s["status"] == "exited");
    assert_eq!(bench.ok(&["start", &id]), format!("{id}\n"));
    bench.wait_for(&id, "the second run ends", |s| {
        s["status"] == "exited" && s["exit_code"] == 0
    });
    assert!(
        wait_until(Duration::from_secs(10), || bench.log(&id).ends_with("2\n")),
        "{:?}",
        bench.log(&id)
    );
    assert_eq!(bench.log(&id), "1\n2\n");
}

#[test]
fn on_failure_restarts_up_to_its_limit_and_always_ends_with_stop() {
    require_root!();
    let bench = Bench::new();
    let failing = bench.detach(&[
        "--restart",
        "on-failure:3",
        "busybox",
        "sh",
        "-c",
        "echo try; exit 3",
    ]);
    bench.wait_for(&failing, "three restarts, then the end", |s| {
        s["status"] == "exited" && s["restart_count"] == 3 && s["monitor_pid"].is_null()
    });
    assert_eq!(bench.state(&failing)["exit_code"], 3);
    assert_eq!(bench.log(&failing), "try\ntry\ntry\ntry\n");

    let service = bench.detach(&["--restart", "always", "busybox", "sh", "-c", "exit 0"]);
    bench.wait_for(&service, "always restarts", |s| {
        s["restart_count"].as_u64() >= Some(2)
    });
    bench.ok(&["stop", "-t", "1", &service]);
    let state = bench.state(&service);
    assert_eq!(state["status"], "exited", "{state}");
    assert!(state["monitor_pid"].is_null(), "{state}");
}

#[test]
fn run_without_detach_is_attached_and_exits_with_the_command() {
    require_root!();
    let bench = Bench::new();
    let output = bench
        .tool()
        .args([
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 4",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "err\n");
    assert!(bench.containers().is_empty(), "--rm removed it");

    let output = bench
        .tool()
        .args(["run", "--name", "kept", "busybox", "echo", "hi"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let id = bench.containers().pop().expect("the container is kept");
    assert_eq!(bench.log(&id), "hi\n", "the attached output is logged too");
}

#[test]
fn a_command_that_cannot_start_fails_as_docker_run_does() {
    require_root!();
    let bench = Bench::new();
    for detach in [false, true] {
        let mut command = bench.tool();
        command.arg("run");
        if detach {
            command.arg("-d");
        }
        let output = command
            .args(["busybox", "/no/such/program"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(127), "detach: {detach}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("/no/such/program"), "{message}");
    }
    // Docker keeps such a container, created; nothing of it runs.
    for id in bench.containers() {
        let state = bench.state(&id);
        assert_eq!(state["status"], "created", "{state}");
        assert!(
            state["error"]
                .as_str()
                .is_some_and(|e| e.contains("/no/such/program"))
        );
        assert!(cgroups_of(&id).is_empty());
    }
    let refused = bench
        .tool()
        .args(["run", "--rm", "--restart", "always", "busybox"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Conflicting options"));
}

#[test]
fn rm_refuses_a_running_container_and_rm_f_takes_it_all_away() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&["busybox", "/probe", "sleep", "600"]);
    let refused = bench.tool().args(["rm", &id]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("You cannot remove a running container")
    );
    let state = bench.state(&id);
    let (monitor, container) = (pid(&state, "monitor_pid"), pid(&state, "pid"));
    bench.ok(&["rm", "-f", &id]);
    assert!(gone(&[monitor, container]));
    assert!(cgroups_of(&id).is_empty());
    assert!(bench.containers().is_empty());
    dockyard_tests::assert_no_mounts_under(bench.dir.path());
}

#[test]
fn a_container_whose_monitor_was_killed_is_still_removed_completely() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&["busybox", "/probe", "sleep", "600"]);
    let state = bench.state(&id);
    let (monitor, container) = (pid(&state, "monitor_pid"), pid(&state, "pid"));
    let monitor_pid = nix::unistd::Pid::from_raw(monitor as i32);
    nix::sys::signal::kill(monitor_pid, nix::sys::signal::SIGKILL).unwrap();
    // Chapter 01's child asked to die with its parent (PR_SET_PDEATHSIG): nothing of the
    // container runs unwatched. Its cgroup is left, with no teardown to remove it.
    assert!(gone(&[monitor, container]));
    assert!(!cgroups_of(&id).is_empty());
    // Not running any more: a plain rm takes it, and what the monitor left with it.
    bench.ok(&["rm", &id]);
    assert!(cgroups_of(&id).is_empty(), "{:?}", cgroups_of(&id));
    assert!(bench.containers().is_empty());
}

#[test]
fn two_starts_at_once_make_one_monitor() {
    require_root!();
    let bench = Bench::new();
    let id = bench
        .ok(&["create", "busybox", "/probe", "sleep", "600"])
        .trim()
        .to_owned();
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let mut command = bench.tool();
            command.args(["start", &id]);
            std::thread::spawn(move || command.output().expect("start runs"))
        })
        .collect();
    for start in starts {
        assert!(start.join().unwrap().status.success());
    }
    let monitors = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| cmdline.ends_with(format!("monitor\0{id}\0").as_bytes()))
        })
        .count();
    assert_eq!(monitors, 1);
}

#[test]
fn pause_freezes_the_container_and_stop_still_ends_a_paused_one() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&["--name", "frozen", "busybox", "/probe", "sleep", "600"]);
    bench.ok(&["pause", "frozen"]);
    let status = bench.ok(&["ps", "--format", "{{.Status}}", "--filter", "name=frozen"]);
    assert!(status.trim().ends_with("(Paused)"), "{status:?}");
    let again = bench.tool().args(["pause", "frozen"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is already paused"));
    bench.ok(&["unpause", "frozen"]);
    let refused = bench.tool().args(["unpause", "frozen"]).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not paused"));
    bench.ok(&["pause", "frozen"]);
    // A frozen process cannot die of SIGKILL until it is thawed: stop thaws it.
    bench.ok(&["stop", "-t", "0", "frozen"]);
    assert_eq!(bench.state(&id)["exit_code"], 137);
}

#[test]
fn container_prune_removes_what_does_not_run() {
    require_root!();
    let bench = Bench::new();
    let running = bench.detach(&["busybox", "/probe", "sleep", "600"]);
    let exited = bench.detach(&["busybox", "true"]);
    bench.wait_for(&exited, "it ends", |s| s["status"] == "exited");
    let created = bench.ok(&["create", "busybox", "true"]).trim().to_owned();
    let report = bench.ok(&["container", "prune", "-f"]);
    let mut expected = vec![exited.clone(), created.clone()];
    expected.sort();
    let mut deleted: Vec<String> = report
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    deleted.sort();
    assert!(report.starts_with("Deleted Containers:\n"), "{report}");
    assert_eq!(deleted, expected, "{report}");
    assert!(report.contains("Total reclaimed space: "), "{report}");
    assert_eq!(bench.containers(), vec![running]);
}

#[test]
fn start_a_and_attach_show_the_output_and_end_with_the_status() {
    require_root!();
    let bench = Bench::new();
    let id = bench
        .ok(&[
            "create",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 5",
        ])
        .trim()
        .to_owned();
    let output = bench.tool().args(["start", "-a", &id]).output().unwrap();
    assert_eq!(output.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "err\n");
    let refused = bench.tool().args(["attach", &id]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("You cannot attach to a stopped container")
    );

    // With -i, what attach is given reaches the container's standard input; only once it
    // arrived does the container answer, so the answer cannot come before attach is there.
    let interactive = bench.detach(&[
        "-i",
        "busybox",
        "sh",
        "-c",
        "read line; echo \"got $line\"; echo bye >&2; exit 7",
    ]);
    let attached = attach(&bench, &interactive, b"go\n");
    assert_eq!(attached.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&attached.stdout), "got go\n");
    assert_eq!(String::from_utf8_lossy(&attached.stderr), "bye\n");

    // With -t too, one stream through the container's terminal, which echoes what it reads.
    let shell = bench.detach(&["-i", "-t", "busybox", "sh"]);
    let attached = attach(&bench, &shell, b"echo hi-$((1+2))\nexit 3\n");
    assert_eq!(attached.status.code(), Some(3));
    let shown = String::from_utf8_lossy(&attached.stdout);
    assert!(shown.contains("hi-3"), "{shown:?}");
}

/// `attach CONTAINER` with `input` on its standard input (not a terminal); how it ended.
fn attach(bench: &Bench, container: &str, input: &[u8]) -> std::process::Output {
    bench
        .tool()
        .args(["attach", container])
        .write_stdin(input)
        .output()
        .unwrap()
}

#[test]
fn logs_f_follows_a_detached_container_to_its_end() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&[
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo done >&2",
    ]);
    // Started while the container still runs, `logs -f` ends when it does, with every line.
    let output = bench.tool().args(["logs", "-f", &id]).output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "line 1\nline 2\nline 3\n"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "done\n");
}
