//! `depends_on` conditions for real: a dependency that turns unhealthy or exits with an error
//! stops `up` with a clear message and leaves its dependents unstarted; one that completes
//! successfully lets them start; an optional one (`required: false`) only warns.

mod common;

use common::Bench;
use dockyard_tests::require_root;

fn state_of(bench: &Bench, name: &str) -> serde_json::Value {
    let id = bench.ok(&["inspect", "--format", "{{.Id}}", name]);
    bench.state(id.trim())
}

fn status_of(bench: &Bench, name: &str) -> String {
    state_of(bench, name)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_unhealthy_dependency_stops_up_and_its_dependent_never_starts() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project(
        "sick",
        r#"
services:
  db:
    image: busybox
    init: true
    command: ["/probe", "sleep", "600"]
    healthcheck:
      test: ["CMD", "/probe", "exit", "1"]
      interval: 100ms
      retries: 2
  web:
    image: busybox
    init: true
    command: ["/probe", "sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
"#,
    );
    let output = bench.compose(&dir, &["up", "-d"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("dependency failed to start: container sick-db-1 is unhealthy"),
        "{stderr}"
    );
    assert_eq!(status_of(&bench, "sick-web-1"), "created");
    bench.compose_ok(&dir, &["down", "-t", "1"]);
}

#[test]
fn completed_dependencies_gate_the_start_and_an_optional_failure_only_warns() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project(
        "jobs",
        r#"
services:
  migrate:
    image: busybox
    command: ["sh", "-c", "sleep 0.3; exit 0"]
  flaky:
    image: busybox
    command: ["/probe", "exit", "3"]
  web:
    image: busybox
    init: true
    command: ["/probe", "sleep", "600"]
    depends_on:
      migrate:
        condition: service_completed_successfully
      flaky:
        condition: service_completed_successfully
        required: false
"#,
    );
    let output = bench.compose(&dir, &["up", "-d"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Container jobs-migrate-1  Exited"),
        "{stderr}"
    );
    assert!(
        stderr.contains("optional dependency flaky of web: service jobs-flaky-1 didn't complete successfully: exit 3"),
        "{stderr}"
    );
    // `web` started after `migrate` ended.
    let migrate_end = state_of(&bench, "jobs-migrate-1")["finished_ns"].as_u64();
    let web_start = state_of(&bench, "jobs-web-1")["started_ns"].as_u64();
    assert!(
        migrate_end.is_some() && web_start >= migrate_end,
        "{migrate_end:?} {web_start:?}"
    );
    assert_eq!(status_of(&bench, "jobs-web-1"), "running");

    // A required dependency that fails stops `up`.
    let strict = bench.project(
        "strict",
        r#"
services:
  flaky:
    image: busybox
    command: ["/probe", "exit", "3"]
  web:
    image: busybox
    command: ["/probe", "sleep", "600"]
    depends_on:
      flaky:
        condition: service_completed_successfully
"#,
    );
    let output = bench.compose(&strict, &["up", "-d"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("service strict-flaky-1 didn't complete successfully: exit 3"),
        "{stderr}"
    );
    assert_eq!(status_of(&bench, "strict-web-1"), "created");
    bench.compose_ok(&dir, &["down", "-t", "1"]);
    bench.compose_ok(&strict, &["down", "-t", "1"]);
}

#[test]
fn up_wait_returns_once_every_container_is_healthy() {
    require_root!();
    let bench = Bench::new();
    let dir = bench.project(
        "patient",
        r#"
services:
  db:
    image: busybox
    init: true
    command: ["sh", "-c", "sleep 0.5; exec /probe serve 5432"]
    healthcheck:
      test: ["CMD", "/probe", "connect", "127.0.0.1", "5432", "0.2"]
      interval: 100ms
      retries: 30
"#,
    );
    bench.compose_ok(&dir, &["up", "--wait"]);
    assert_eq!(
        state_of(&bench, "patient-db-1")["health"]["status"],
        "healthy"
    );
    bench.compose_ok(&dir, &["down"]);
}
