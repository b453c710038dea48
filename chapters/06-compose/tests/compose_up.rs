//! `compose up` and `down` for real: a three-service application (`web` built from a
//! Dockerfile and published on a port, `db` with a health check and a named volume, `worker`
//! waiting for `db` to be healthy) comes up, converges, and goes away leaving nothing.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Bench;
use dockyard_tests::require_root;

/// The book's application (`book/examples/ch06-shop`): `db` becomes healthy only after a
/// second (its server starts late), so a `worker` started before that would show. `init:
/// true` gives each a process 1 that passes `SIGTERM` on (the probe, as process 1, would
/// ignore it), so `down` does not wait 10 s.
fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/examples/ch06-shop")
}

/// Copies a directory's files (two levels are enough for the example).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create a directory");
    for entry in fs::read_dir(from).expect("read the example") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy a file");
        }
    }
}

/// The example copied beside a test's store, run as a project of the test's own name.
struct App<'a> {
    bench: &'a Bench,
    dir: PathBuf,
    name: String,
    port: u16,
}

impl<'a> App<'a> {
    fn new(bench: &'a Bench, name: &str) -> App<'a> {
        let dir = bench.dir.path().join(name);
        copy_dir(&example(), &dir);
        App {
            bench,
            dir,
            name: name.to_owned(),
            port: free_port(),
        }
    }

    /// `compose ARGS…` in the project's directory: status, stdout, stderr.
    fn compose(&self, args: &[&str], greeting: &str) -> (i32, String, String) {
        let output = self
            .bench
            .tool()
            .current_dir(&self.dir)
            .env("WEB_PORT", self.port.to_string())
            .env("GREETING", greeting)
            .args(["compose", "-p", &self.name])
            .args(args)
            .output()
            .expect("run compose");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `compose ARGS…`, asserting success: its stderr (where progress goes).
    fn ok(&self, args: &[&str], greeting: &str) -> String {
        let (status, stdout, stderr) = self.compose(args, greeting);
        assert_eq!(status, 0, "compose {args:?}: {stderr}");
        stdout + &stderr
    }

    /// A service's first container's id.
    fn id(&self, service: &str) -> String {
        let name = format!("{}-{service}-1", self.name);
        self.bench
            .ok(&["inspect", "--format", "{{.Id}}", &name])
            .trim()
            .to_owned()
    }
}

impl Drop for App<'_> {
    /// Whatever the test's outcome, the project goes (volumes and networks are the store's
    /// and the host's: the bench removes only containers and networks).
    fn drop(&mut self) {
        let (status, _, stderr) = self.compose(&["down", "-v", "-t", "1"], "hello");
        if status != 0 {
            // A drop cannot fail the test; the leftovers check after the suite will.
            eprintln!("compose down of {} failed ({status}): {stderr}", self.name);
        }
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

/// The first line a TCP server at `address` says.
fn greeting_at(address: &str) -> String {
    let stream = TcpStream::connect(address).unwrap_or_else(|e| panic!("connect {address}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("a line");
    line
}

fn names(bench: &Bench, project: &str) -> Vec<String> {
    let text = bench.ok(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}}",
    ]);
    let mut names: Vec<String> = text.lines().map(str::to_owned).collect();
    names.sort();
    names
}

fn volume_names(bench: &Bench) -> Vec<String> {
    bench
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn started_ns(bench: &Bench, id: &str) -> u64 {
    bench.state(id)["started_ns"]
        .as_u64()
        .unwrap_or_else(|| panic!("{id} started: {}", bench.state(id)))
}

#[test]
fn the_application_comes_up_in_order_answers_and_goes_away() {
    require_root!();
    let bench = Bench::new();
    let app = App::new(&bench, "shop");

    app.ok(&["up", "-d"], "hello");
    assert_eq!(
        names(&bench, "shop"),
        ["shop-db-1", "shop-web-1", "shop-worker-1"]
    );

    // `web` answers on its published port, and reaches `db` by its service name.
    let answer = greeting_at(&format!("127.0.0.1:{}", app.port));
    assert!(answer.starts_with("hello from "), "{answer:?}");
    let through = bench.ok(&[
        "exec",
        "shop-web-1",
        "/probe",
        "connect",
        "db",
        "5432",
        "10",
    ]);
    assert!(through.starts_with("hello from "), "{through:?}");

    // `worker` started only once a check of `db` had passed.
    let db = bench.state(&app.id("db"));
    let healthy_at = db["health"]["log"]
        .as_array()
        .expect("db's health log")
        .iter()
        .find(|result| result["exit_code"] == 0)
        .and_then(|result| result["end_ns"].as_u64())
        .expect("a passing check of db");
    let worker_started = started_ns(&bench, &app.id("worker"));
    assert!(
        worker_started >= healthy_at,
        "worker started {} ms before db was healthy",
        (healthy_at - worker_started) / 1_000_000
    );

    // The named volume, the network.
    assert!(volume_names(&bench).contains(&"shop_data".to_owned()));
    let networks = bench.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(networks.lines().any(|n| n == "shop_default"), "{networks}");

    // `down -v`: no container, network or volume of the project remains.
    app.ok(&["down", "-v"], "hello");
    assert!(names(&bench, "shop").is_empty());
    assert!(!volume_names(&bench).contains(&"shop_data".to_owned()));
    let networks = bench.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.lines().any(|n| n == "shop_default"), "{networks}");
}

#[test]
fn a_second_up_recreates_nothing_and_a_change_recreates_only_its_service() {
    require_root!();
    let bench = Bench::new();
    let app = App::new(&bench, "converge");
    app.ok(&["up", "-d"], "hello");
    let ids =
        |app: &App| -> Vec<String> { ["db", "web", "worker"].iter().map(|s| app.id(s)).collect() };
    let first = ids(&app);

    let again = app.ok(&["up", "-d"], "hello");
    assert_eq!(ids(&app), first, "a second up recreated: {again}");
    assert!(again.contains("Running"), "{again}");

    // A changed environment of `web` recreates `web` alone.
    let changed = app.ok(&["up", "-d"], "bonjour");
    let second = ids(&app);
    assert_ne!(second[1], first[1], "web was not recreated: {changed}");
    assert_eq!(second[0], first[0], "db was recreated: {changed}");
    assert_eq!(second[2], first[2], "worker was recreated: {changed}");
    assert!(
        changed.contains("Container converge-web-1  Recreated"),
        "{changed}"
    );
}

#[test]
fn compose_ps_lists_the_projects_containers() {
    require_root!();
    let bench = Bench::new();
    let app = App::new(&bench, "listing");
    app.ok(&["up", "-d", "db"], "hello");
    let table = app.ok(&["ps"], "hello");
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"
        ]
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{table}");
    assert!(rows[0].starts_with("listing-db-1 "), "{table}");
    let json = app.ok(&["ps", "--format", "json"], "hello");
    let line: serde_json::Value =
        serde_json::from_str(json.lines().next().expect("a line")).expect("a JSON line");
    assert_eq!(line["Service"], "db");
    assert_eq!(line["Project"], "listing");
    assert_eq!(line["Name"], "listing-db-1");
}

#[test]
fn a_file_asking_for_what_the_engine_cannot_do_changes_nothing() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.dir.path().join("refused");
    fs::create_dir_all(&dir).expect("a project directory");
    fs::write(
        dir.join("compose.yaml"),
        "services:\n  a:\n    image: busybox\n  b:\n    image: busybox\n    devices: [\"/dev/kvm:/dev/kvm\"]\n",
    )
    .expect("compose.yaml");
    let output = bench
        .tool()
        .current_dir(&dir)
        .args(["compose", "up", "-d"])
        .output()
        .expect("run compose");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("services.b.devices: not supported by this engine"),
        "{stderr}"
    );
    assert!(names(&bench, "refused").is_empty());
    let networks = bench.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("refused_default"), "{networks}");
}
