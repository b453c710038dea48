//! Health checks: run in the container by the monitor, with docker's rules for the status,
//! the failing streak, timeouts, and the image's `HEALTHCHECK` under `--health-*` options.

mod common;

use common::Bench;
use dockyard_tests::require_root;

fn health(state: &serde_json::Value) -> &str {
    state["health"]["status"].as_str().unwrap_or("none")
}

#[test]
fn a_check_turns_healthy_then_unhealthy_and_ps_shows_it() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&[
        "--health-cmd",
        "test -e /tmp/ready",
        "--health-interval",
        "100ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "touch /tmp/ready; while ! test -e /tmp/stop; do sleep 0.05; done; rm /tmp/ready; exec /probe sleep 600",
    ]);
    bench.wait_for(&id, "healthy", |s| health(s) == "healthy");
    let status = bench.ok(&["ps", "--format", "{{.Status}}"]);
    assert!(status.trim().ends_with("(healthy)"), "{status:?}");
    bench.ok(&["exec", &id, "touch", "/tmp/stop"]);
    bench.wait_for(&id, "unhealthy after two failures", |s| {
        health(s) == "unhealthy"
    });
    let state = bench.state(&id);
    assert!(
        state["health"]["failing_streak"].as_u64() >= Some(2),
        "{state}"
    );
    assert_eq!(
        bench
            .ok(&["ps", "-q", "--filter", "health=unhealthy"])
            .trim(),
        &id[..12]
    );
    let log = state["health"]["log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{state}");
}

#[test]
fn the_images_healthcheck_applies_and_a_slow_check_times_out() {
    require_root!();
    let bench = Bench::new();
    bench.build(
        "slow",
        "FROM busybox\nHEALTHCHECK --interval=100ms --timeout=100ms --retries=1 CMD [\"/probe\", \"sleep\", \"5\"]\n",
    );
    let id = bench.detach(&["slow", "/probe", "sleep", "600"]);
    bench.wait_for(&id, "unhealthy: the check never ends in time", |s| {
        health(s) == "unhealthy"
    });
    let state = bench.state(&id);
    let last = &state["health"]["log"][0];
    assert_eq!(last["exit_code"], -1, "{state}");
    assert_eq!(last["output"], "Health check exceeded timeout (100ms)");

    // --no-healthcheck turns the image's off.
    let unchecked = bench.detach(&["--no-healthcheck", "slow", "/probe", "sleep", "600"]);
    assert!(bench.state(&unchecked)["health"].is_null());
    bench.ok(&["rm", "-f", &id, &unchecked]);
}
