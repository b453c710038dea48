//! The registry fixture is what it claims: a real distribution server on a free loopback port
//! that speaks the v2 API, challenges for Basic authentication when asked to, stores blobs
//! where [`Registry::blob_data_path`] says, refuses connections once killed, comes back with
//! the same storage, and leaves nothing behind.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use dockyard_tests::registry::{Registry, basic_auth_header, http_get, upload_blob};
use dockyard_tests::require_registry;

/// How long a start may take in these tests (the fixture's own limit is 10 s).
const QUICK: Duration = Duration::from_secs(5);

#[test]
fn answers_the_v2_api_on_loopback() {
    require_registry!();
    let started = Instant::now();
    let registry = Registry::start();
    assert!(
        started.elapsed() < QUICK,
        "start took {:?}",
        started.elapsed()
    );

    let host = registry.host();
    assert!(host.starts_with("127.0.0.1:"), "{host}");
    assert_eq!(registry.url(), format!("http://{host}"));
    assert_eq!(host, format!("127.0.0.1:{}", registry.port()));
    assert!(registry.storage().is_dir());

    let response = http_get(&host, "/v2/", &[]).expect("GET /v2/");
    assert_eq!(response.status, 200, "{response:?}");
    assert!(response.status_line.starts_with("HTTP/1.1 200"));
    assert_eq!(
        response.header("Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
    assert_eq!(response.body, b"{}");
    assert!(
        registry.log().contains(&format!("listening on {host}")),
        "{}",
        registry.log()
    );
}

#[test]
fn stores_blobs_where_blob_data_path_says() {
    require_registry!();
    let registry = Registry::start();
    let content = b"a blob of the registry fixture\n";
    let digest = upload_blob(&registry.host(), "fixture/blob", content, &[]);
    let hex = digest.trim_start_matches("sha256:").to_string();

    let path = registry.blob_data_path(&hex);
    assert_eq!(path, registry.blob_data_path(&format!("sha256:{hex}")));
    assert_eq!(std::fs::read(&path).expect("read the stored blob"), content);

    let url = format!("/v2/fixture/blob/blobs/sha256:{hex}");
    let response = http_get(&registry.host(), &url, &[]).expect("GET the blob");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, content);

    // The server reads the file on every request, so a test can corrupt what it serves.
    std::fs::write(&path, b"corrupted").expect("corrupt the blob");
    let response = http_get(&registry.host(), &url, &[]).expect("GET the corrupted blob");
    assert_eq!(response.body, b"corrupted");
}

#[test]
fn basic_auth_challenges_then_accepts_the_right_password() {
    require_registry!();
    let mut registry = Registry::start_with_basic_auth("alice", "s3cret: with spaces");
    let check = |registry: &Registry| {
        let host = registry.host();
        let response = http_get(&host, "/v2/", &[]).expect("GET /v2/ without credentials");
        assert_eq!(response.status, 401, "{response:?}");
        assert_eq!(
            response.header("WWW-Authenticate"),
            Some(r#"Basic realm="dockyard-test""#)
        );

        let wrong = basic_auth_header("alice", "wrong");
        let response = http_get(&host, "/v2/", &[("Authorization", &wrong)]).expect("GET /v2/");
        assert_eq!(response.status, 401, "{response:?}");

        let right = basic_auth_header("alice", "s3cret: with spaces");
        let response = http_get(&host, "/v2/", &[("Authorization", &right)]).expect("GET /v2/");
        assert_eq!(response.status, 200, "{response:?}\n{}", registry.log());
    };
    check(&registry);
    registry.restart();
    check(&registry);
}

#[test]
fn killed_refuses_connections_and_restarts_with_the_same_storage() {
    require_registry!();
    let mut registry = Registry::start();
    let (host, port) = (registry.host(), registry.port());
    let content = b"survives a restart\n";
    let digest = upload_blob(&registry.host(), "fixture/restart", content, &[]);
    let hex = digest.trim_start_matches("sha256:").to_string();

    registry.kill();
    let error = http_get(&host, "/v2/", &[]).expect_err("a killed registry answers nothing");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    registry.kill(); // a second kill does nothing

    let started = Instant::now();
    registry.restart();
    assert!(
        started.elapsed() < QUICK,
        "restart took {:?}",
        started.elapsed()
    );
    assert_eq!(registry.port(), port);
    let response = http_get(&host, "/v2/", &[]).expect("GET /v2/ after the restart");
    assert_eq!(response.status, 200, "{response:?}");
    let url = format!("/v2/fixture/restart/blobs/sha256:{hex}");
    let response = http_get(&host, &url, &[]).expect("GET the blob after the restart");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, content);

    // Restarting a running registry kills it first.
    registry.restart();
    assert_eq!(http_get(&host, "/v2/", &[]).expect("GET /v2/").status, 200);
    assert_eq!(registry.log().matches("listening on").count(), 3);
}

#[test]
fn two_registries_at_once_get_their_own_port_and_storage() {
    require_registry!();
    let first = Registry::start();
    let second = Registry::start();
    assert_ne!(first.port(), second.port());
    assert_ne!(first.storage(), second.storage());
    for registry in [&first, &second] {
        let response = http_get(&registry.host(), "/v2/", &[]).expect("GET /v2/");
        assert_eq!(response.status, 200, "{response:?}");
    }
}

#[test]
fn dropping_kills_the_server_and_removes_its_directory() {
    require_registry!();
    let registry = Registry::start();
    let host = registry.host();
    let storage = registry.storage().to_path_buf();
    drop(registry);
    assert!(!storage.exists(), "{} is left", storage.display());
    let error = http_get(&host, "/v2/", &[]).expect_err("a dropped registry answers nothing");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

#[test]
fn basic_auth_header_is_rfc_7617_base64() {
    assert_eq!(
        basic_auth_header("Aladdin", "open sesame"),
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(basic_auth_header("", ""), "Basic Og==");
    assert_eq!(basic_auth_header("a", ""), "Basic YTo=");
    assert_eq!(basic_auth_header("ab", ""), "Basic YWI6");
}

#[test]
fn restart_gives_up_when_another_listener_took_the_port() {
    require_registry!();
    let mut registry = Registry::start();
    registry.kill();
    let squatter = std::net::TcpListener::bind(registry.host()).expect("take the port");
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| registry.restart()));
    let message = outcome.expect_err("restart cannot listen on a taken port");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("stayed in use"), "{message}");
    assert!(message.contains("address already in use"), "{message}");
    assert!(
        started.elapsed() < QUICK,
        "gave up after {:?}",
        started.elapsed()
    );
    drop(squatter);
    registry.restart();
    assert_eq!(
        http_get(&registry.host(), "/v2/", &[])
            .expect("GET /v2/")
            .status,
        200
    );
}
