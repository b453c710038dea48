//! The compose commands that act on what `up` made: stop and start in dependency order,
//! restart, kill, pause, rm, logs, exec, run, ls, and `up` in the foreground ended by Ctrl-C.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use common::{Bench, PATIENCE};
use dockyard_tests::{require_root, wait_until};

/// `worker` depends on `db`; `talker` says two lines and waits. `init: true` lets each stop
/// at once on SIGTERM.
const COMPOSE: &str = r#"
services:
  db:
    image: busybox
    init: true
    command: ["/probe", "serve", "5432"]
    expose: ["5432", "7000-7001/udp"]
  worker:
    image: busybox
    init: true
    command: ["/probe", "sleep", "600"]
    environment:
      ROLE: worker
    depends_on: [db]
  talker:
    image: busybox
    init: true
    command: ["sh", "-c", "echo one; echo two >&2; exec /probe sleep 600"]
"#;

/// The id of a project's service's first container.
fn id(bench: &Bench, project: &str, service: &str) -> String {
    let name = format!("{project}-{service}-1");
    bench
        .ok(&["inspect", "--format", "{{.Id}}", &name])
        .trim()
        .to_owned()
}

/// What the monitor of a project's service's first container last wrote.
fn state(bench: &Bench, project: &str, service: &str) -> serde_json::Value {
    bench.state(&id(bench, project, service))
}

fn status(bench: &Bench, project: &str, service: &str) -> String {
    state(bench, project, service)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn stop_start_restart_kill_pause_and_rm_act_in_dependency_order() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project("acts", COMPOSE);
    bench.compose_ok(&dir, &["up", "-d"]);

    // `stop`: `worker` (which depends on `db`) ends before `db` does.
    bench.compose_ok(&dir, &["stop"]);
    let finished = |service| state(&bench, "acts", service)["finished_ns"].as_u64();
    let (worker, db) = (finished("worker"), finished("db"));
    assert!(worker.is_some() && db.is_some(), "both stopped");
    assert!(worker <= db, "worker stopped after db");

    // `start` brings them back; `restart worker` restarts only it.
    bench.compose_ok(&dir, &["start"]);
    for service in ["db", "worker", "talker"] {
        assert_eq!(status(&bench, "acts", service), "running", "{service}");
    }
    let started = |service| state(&bench, "acts", service)["started_ns"].as_u64();
    let (db_before, worker_before) = (started("db"), started("worker"));
    bench.compose_ok(&dir, &["restart", "worker"]);
    assert_eq!(started("db"), db_before);
    assert_ne!(started("worker"), worker_before);

    // `kill -s SIGKILL db`: killed by signal 9.
    bench.compose_ok(&dir, &["kill", "-s", "SIGKILL", "db"]);
    bench.wait_for(&id(&bench, "acts", "db"), "db killed", |s| {
        s["status"] == "exited"
    });
    assert_eq!(state(&bench, "acts", "db")["exit_code"], 137);

    // `pause` and `unpause`: ps says so.
    bench.compose_ok(&dir, &["pause", "talker"]);
    let table = bench.compose_ok(&dir, &["ps", "talker"]);
    assert!(table.contains("(Paused)"), "{table}");
    bench.compose_ok(&dir, &["unpause"]);
    let table = bench.compose_ok(&dir, &["ps", "talker"]);
    assert!(!table.contains("(Paused)"), "{table}");

    // `ls` knows the project; `rm -f -s` removes every container, `ls -a` then forgets it.
    let projects = bench.compose_ok(&dir, &["ls", "-q"]);
    assert!(projects.lines().any(|p| p == "acts"), "{projects}");
    let listed: serde_json::Value =
        serde_json::from_str(&bench.compose_ok(&dir, &["ls", "--format", "json"])).expect("JSON");
    assert_eq!(listed[0]["Name"], "acts");
    assert_eq!(listed[0]["Status"], "exited(1), running(2)");
    let files = listed[0]["ConfigFiles"].as_str().unwrap_or_default();
    assert!(files.ends_with("/acts/compose.yaml"), "{files}");
    bench.compose_ok(&dir, &["rm", "-f", "-s"]);
    let left = bench.compose_ok(&dir, &["ps", "-a", "-q"]);
    assert_eq!(left, "");
    let projects = bench.compose_ok(&dir, &["ls", "-a", "-q"]);
    assert!(!projects.lines().any(|p| p == "acts"), "{projects}");
    bench.compose_ok(&dir, &["down"]);
}

#[test]
fn logs_exec_and_run_reach_the_services() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project("reach", COMPOSE);
    bench.compose_ok(&dir, &["up", "-d", "talker", "db"]);
    let id = id(&bench, "reach", "talker");
    assert!(
        wait_until(PATIENCE, || bench.log(&id).contains("two")),
        "talker wrote: {:?}",
        bench.log(&id)
    );

    // `logs`: each line after its container's name, both streams.
    let logs = bench.compose_ok(&dir, &["logs", "talker"]);
    assert_eq!(logs, "talker-1  | one\ntalker-1  | two\n");
    let bare = bench.compose_ok(&dir, &["logs", "--no-log-prefix", "--tail", "1", "talker"]);
    assert_eq!(bare, "two\n");

    // `expose`d ports show in the PORTS column, as docker shows them.
    let ports = bench.compose_ok(&dir, &["ps", "--format", "{{.Ports}}", "db"]);
    assert_eq!(ports, "5432/tcp, 7000-7001/udp\n");

    // `exec` in a running service's container; a service without one is refused.
    let hostname = bench.compose_ok(&dir, &["exec", "-T", "db", "/probe", "report", "hostname"]);
    assert!(hostname.starts_with("hostname: "), "{hostname}");
    let refused = bench.compose(&dir, &["exec", "-T", "worker", "true"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("service \"worker\" is not running"),
        "{}",
        stderr(&refused)
    );

    // `run --rm`: the service's environment plus -e, the command's status, nothing left.
    let output = bench.compose(
        &dir,
        &[
            "run",
            "--rm",
            "-e",
            "EXTRA=1",
            "worker",
            "sh",
            "-c",
            "echo $ROLE $EXTRA; exit 3",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "worker 1\n");
    let names = bench.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(!names.contains("-run-"), "{names}");
    // Its dependency runs; the service itself was not started by `run`.
    assert_eq!(status(&bench, "reach", "db"), "running");
    assert!(!names.lines().any(|n| n == "reach-worker-1"), "{names}");
    bench.compose_ok(&dir, &["down"]);
}

#[test]
fn up_in_the_foreground_shows_the_output_and_ctrl_c_stops_the_project() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project("front", COMPOSE);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("ch06-compose"))
        .arg("--root")
        .arg(bench.root())
        .args(["compose", "up", "talker"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start compose up");
    let running = wait_until(PATIENCE, || {
        bench.compose_ok(&dir, &["ps", "-q"]).lines().count() == 1
    });
    assert!(running, "talker never ran");
    let id = id(&bench, "front", "talker");
    assert!(wait_until(PATIENCE, || bench.log(&id).contains("two")));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("send SIGINT");
    let ended = wait_until(PATIENCE, || matches!(child.try_wait(), Ok(Some(_))));
    if !ended {
        // The assertion below fails the test; the kill only keeps the process from outliving it.
        if let Err(error) = child.kill() {
            eprintln!("kill compose up: {error}");
        }
    }
    assert!(ended, "compose up did not end on SIGINT");
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert!(out.contains("Attaching to front-talker-1\n"), "{out}");
    assert!(out.contains("talker-1  | one\n"), "{out}");
    assert!(out.contains("talker-1  | two\n"), "{out}");
    assert!(err.contains("Gracefully stopping..."), "{err}");
    assert_eq!(status(&bench, "front", "talker"), "exited");
    bench.compose_ok(&dir, &["down"]);
}

#[test]
fn a_read_only_service_writes_only_to_its_volumes() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project(
        "sealed",
        "services:\n  app:\n    image: busybox\n    read_only: true\n    working_dir: /made/at/start\n    volumes: [\"data:/data\"]\nvolumes:\n  data:\n",
    );
    let denied = bench.compose(&dir, &["run", "--rm", "app", "touch", "/x"]);
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
    assert!(
        stderr(&denied).contains("Read-only file system"),
        "{}",
        stderr(&denied)
    );
    let output = bench.compose(
        &dir,
        &["run", "--rm", "app", "sh", "-c", "touch /data/x && pwd"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "/made/at/start\n");
    bench.compose_ok(&dir, &["down", "-v"]);
}

#[test]
fn replicas_scale_up_and_down_keeping_the_first() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project(
        "scaled",
        "services:\n  worker:\n    image: busybox\n    init: true\n    command: [\"/probe\", \"sleep\", \"600\"]\n    deploy:\n      replicas: ${REPLICAS:-2}\n",
    );
    let up = |replicas: &str| {
        let output = bench
            .tool()
            .current_dir(&dir)
            .env("REPLICAS", replicas)
            .args(["compose", "up", "-d"])
            .output()
            .expect("run compose");
        assert!(output.status.success(), "{}", stderr(&output));
    };
    let names = || {
        let mut names: Vec<String> = bench
            .compose_ok(&dir, &["ps", "--format", "{{.Name}}"])
            .lines()
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    };
    up("2");
    assert_eq!(names(), ["scaled-worker-1", "scaled-worker-2"]);
    let first = id(&bench, "scaled", "worker");
    up("3");
    assert_eq!(
        names(),
        ["scaled-worker-1", "scaled-worker-2", "scaled-worker-3"]
    );
    up("1");
    assert_eq!(names(), ["scaled-worker-1"]);
    assert_eq!(
        id(&bench, "scaled", "worker"),
        first,
        "worker-1 was recreated"
    );
    bench.compose_ok(&dir, &["down"]);
}

/// `compose ARGS…` in `dir` as a transcript: the command, what it printed, its status.
fn transcript_of(bench: &Bench, dir: &Path, args: &[&str]) -> String {
    let output = bench.compose(dir, args);
    format!(
        "$ compose {}\n{}{}[status {}]\n",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        stderr(&output),
        output.status.code().unwrap_or(-1)
    )
}

#[test]
fn what_a_user_sees_of_a_project_and_of_files_that_cannot_be_loaded() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project("seen", COMPOSE);
    let mut transcript = String::new();
    for args in [
        &["up", "-d", "worker"][..],
        &[
            "ps",
            "--format",
            "table {{.Name}}\t{{.Service}}\t{{.State}}",
        ],
        &["up", "-d", "nope"],
        &["exec", "-T", "talker", "true"],
        &["stop"],
        &["down"],
    ] {
        transcript += &transcript_of(&bench, &dir, args);
    }
    for (name, yaml) in [
        (
            "bad-port",
            "services:\n  web:\n    image: busybox\n    ports: [\"80\", \"80:x\"]\n",
        ),
        (
            "cycle",
            "services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n",
        ),
        (
            "required",
            "services:\n  web:\n    image: ${IMAGE:?set IMAGE to the image to run}\n",
        ),
        (
            "unknown-key",
            "services:\n  web:\n    image: busybox\n    imgae: typo\n",
        ),
        (
            "not-a-number",
            "services:\n  web:\n    image: busybox\n    scale: many\n",
        ),
    ] {
        let dir = bench.project(name, yaml);
        transcript += &transcript_of(&bench, &dir, &["config"]);
    }
    dockyard_tests::with_redactions(bench.dir.path(), || {
        insta::assert_snapshot!("compose_transcript", transcript);
    });
}
