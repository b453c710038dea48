//! The fault-injecting proxy is what it claims: in front of a real registry it forwards the
//! v2 API (rewriting the registry's `Location`s), and with each fault a plain HTTP exchange
//! goes as [`Faults`] documents: Docker Hub's Bearer challenge and token service, blobs
//! redirected to a storage path that refuses credentials, a blob's first response cut short
//! and `Range` requests answered `206`, and `503` for the first requests.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use dockyard_tests::proxy::{BearerAuth, Faults, Proxy, SERVICE};
use dockyard_tests::registry::{
    HttpResponse, Registry, basic_auth_header, http_get, http_request, upload_blob,
};
use dockyard_tests::require_registry;
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `size` bytes that are not all alike.
fn content(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

/// The JSON body of a response.
fn json(response: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

/// A token from the proxy's token service for `scope`, with `headers` (credentials).
fn token(proxy: &Proxy, scope: &str, headers: &[(&str, &str)]) -> String {
    let path = format!("/token?service={SERVICE}&scope={scope}");
    let response = http_get(&proxy.host(), &path, headers).expect("GET /token");
    assert_eq!(response.status, 200, "{response:?}");
    let answer = json(&response);
    let token = answer["token"].as_str().expect("a token").to_string();
    assert_eq!(answer["access_token"].as_str(), Some(token.as_str()));
    assert!(token.len() >= 32, "{token}");
    token
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn without_faults_forwards_the_api_and_points_locations_at_itself() {
    require_registry!();
    let registry = Registry::start();
    let proxy = Proxy::start(&registry, Faults::default());
    let host = proxy.host();
    assert!(host.starts_with("127.0.0.1:"), "{host}");
    assert_ne!(host, registry.host());
    assert_eq!(proxy.url(), format!("http://{host}"));

    let response = http_get(&host, "/v2/", &[]).expect("GET /v2/");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.header("Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(response.body, b"{}");

    // Through the proxy end to end: the upload's Location names the proxy (checked by
    // upload_blob), and the blob comes back.
    let blob = content(3000);
    let digest = upload_blob(&host, "fixture/plain", &blob, &[]);
    let path = format!("/v2/fixture/plain/blobs/{digest}");
    let response = http_get(&host, &path, &[]).expect("GET the blob");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, blob);
    let response = http_request("HEAD", &host, &path, &[], &[]).expect("HEAD the blob");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("Content-Length"), Some("3000"));
    assert_eq!(
        response.header("Docker-Content-Digest"),
        Some(digest.as_str())
    );
    assert!(response.body.is_empty());
    let response = http_get(&host, "/v2/fixture/plain/manifests/nope", &[]).expect("GET");
    assert_eq!(response.status, 404, "{response:?}");
    assert_eq!(json(&response)["errors"][0]["code"], "MANIFEST_UNKNOWN");

    let requests = proxy.requests();
    assert_eq!(requests[0], "GET /v2/ HTTP/1.1 auth=none -> 200");
    assert!(
        requests[1].starts_with("POST /v2/fixture/plain/blobs/uploads/ HTTP/1.1 auth=none -> 202"),
        "{requests:#?}"
    );
    assert_eq!(requests.len(), 6, "{requests:#?}");
    let seen = proxy.seen();
    assert_eq!(seen[2].method, "PUT");
    assert_eq!(seen[2].body, "length 3000");
    assert_eq!(seen[2].status, 201);
    assert!(proxy.token_requests().is_empty());
}

#[test]
fn a_chunked_upload_is_forwarded_whole() {
    require_registry!();
    let registry = Registry::start();
    let proxy = Proxy::start(&registry, Faults::default());
    let host = proxy.host();
    let response = http_request(
        "POST",
        &host,
        "/v2/fixture/chunked/blobs/uploads/",
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(response.status, 202, "{response:?}");
    let location = response.header("Location").unwrap();
    let path = location.strip_prefix(&proxy.url()).unwrap();
    let blob = content(10_000);
    let digest = format!("sha256:{}", sha256_hex(&blob));

    let mut stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = format!(
        "PUT {path}&digest={digest} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    for chunk in blob.chunks(4096) {
        request.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201 Created\r\n"), "{answer}");
    assert!(answer.contains("Connection: close\r\n"), "{answer}");

    let seen = proxy.seen();
    assert_eq!(seen[1].body, "chunked");
    let response = http_get(&host, &format!("/v2/fixture/chunked/blobs/{digest}"), &[]).unwrap();
    assert_eq!(response.body, blob);
    assert_eq!(
        std::fs::read(registry.blob_data_path(&digest)).unwrap(),
        blob
    );
}

#[test]
fn bearer_challenges_exactly_like_docker_hub() {
    require_registry!();
    let registry = Registry::start();
    let faults = Faults {
        bearer: Some(BearerAuth::anonymous()),
        ..Faults::default()
    };
    let proxy = Proxy::start(&registry, faults);
    let host = proxy.host();
    let realm = format!("http://{host}/token");

    let response = http_get(&host, "/v2/", &[]).expect("GET /v2/");
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(
        response.header("WWW-Authenticate"),
        Some(format!(r#"Bearer realm="{realm}",service="dockyard-test""#).as_str())
    );
    assert_eq!(
        response.header("Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
    let body = json(&response);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(body["errors"][0]["message"], "authentication required");

    for (method, path, scope) in [
        (
            "GET",
            "/v2/test/busybox/manifests/v1",
            "repository:test/busybox:pull",
        ),
        (
            "HEAD",
            "/v2/test/busybox/blobs/sha256:0000",
            "repository:test/busybox:pull",
        ),
        (
            "POST",
            "/v2/test/busybox/blobs/uploads/",
            "repository:test/busybox:pull,push",
        ),
        (
            "PUT",
            "/v2/a/b/c/manifests/v1",
            "repository:a/b/c:pull,push",
        ),
    ] {
        let response = http_request(method, &host, path, &[], &[]).expect("a request");
        assert_eq!(response.status, 401, "{method} {path}: {response:?}");
        let expected = format!(r#"Bearer realm="{realm}",service="dockyard-test",scope="{scope}""#);
        assert_eq!(
            response.header("Www-Authenticate"),
            Some(expected.as_str()),
            "{method} {path}"
        );
    }
    // Nothing reached the registry.
    assert!(
        !registry.log().contains("/v2/test/busybox"),
        "{}",
        registry.log()
    );
}

#[test]
fn bearer_accepts_only_its_own_tokens_for_the_scope_they_cover() {
    require_registry!();
    let registry = Registry::start();
    let faults = Faults {
        bearer: Some(BearerAuth::anonymous()),
        ..Faults::default()
    };
    let proxy = Proxy::start(&registry, faults);
    let host = proxy.host();

    let pull = token(&proxy, "repository:test/busybox:pull", &[]);
    let push = token(&proxy, "repository%3Atest%2Fbusybox%3Apull%2Cpush", &[]);
    assert_ne!(pull, push);

    let get = |path: &str, token: &str| {
        http_get(&host, path, &[("Authorization", &bearer(token))])
            .expect("GET")
            .status
    };
    assert_eq!(get("/v2/", &pull), 200);
    assert_eq!(get("/v2/", "made-up"), 401);
    // The registry's own answer (no such manifest), once the token is accepted.
    assert_eq!(get("/v2/test/busybox/manifests/v1", &pull), 404);
    assert_eq!(get("/v2/test/busybox/manifests/v1", &push), 404);
    assert_eq!(get("/v2/test/other/manifests/v1", &pull), 401);
    assert_eq!(get("/v2/test/busybox/manifests/v1", "made-up"), 401);

    let post = |token: &str| {
        http_request(
            "POST",
            &host,
            "/v2/test/busybox/blobs/uploads/",
            &[("Authorization", &bearer(token))],
            &[],
        )
        .expect("POST")
    };
    let refused = post(&pull);
    assert_eq!(refused.status, 401, "a pull token cannot push: {refused:?}");
    assert!(
        refused
            .header("Www-Authenticate")
            .unwrap()
            .ends_with(r#"scope="repository:test/busybox:pull,push""#)
    );
    let accepted = post(&push);
    assert_eq!(accepted.status, 202, "{accepted:?}");
    assert!(
        accepted
            .header("Location")
            .unwrap()
            .starts_with(&format!("http://{host}/v2/test/busybox/blobs/uploads/")),
        "{accepted:?}"
    );
    let blob = content(100);
    let digest = upload_blob(
        &host,
        "test/busybox",
        &blob,
        &[("Authorization", &bearer(&push))],
    );
    assert_eq!(get(&format!("/v2/test/busybox/blobs/{digest}"), &pull), 200);

    // Several scopes in one request; a wrong service is refused.
    let both = token(
        &proxy,
        "repository:a/one:pull&scope=repository:a/two:pull,push",
        &[],
    );
    assert_eq!(get("/v2/a/one/tags/list", &both), 404);
    assert_eq!(get("/v2/a/two/tags/list", &both), 404);
    let response = http_get(&host, "/token?service=other&scope=repository:a/b:pull", &[]).unwrap();
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(
        proxy.token_requests(),
        vec![
            "repository:test/busybox:pull anonymous",
            "repository:test/busybox:pull,push anonymous",
            "repository:a/one:pull repository:a/two:pull,push anonymous",
            "repository:a/b:pull anonymous",
        ]
    );
    let requests = proxy.requests();
    assert!(
        requests.contains(&"GET /v2/ HTTP/1.1 auth=Bearer -> 200".to_string()),
        "{requests:#?}"
    );
}

#[test]
fn bearer_with_a_user_gives_tokens_only_for_the_right_password() {
    require_registry!();
    let registry = Registry::start();
    let faults = Faults {
        bearer: Some(BearerAuth::user("tester", "s3cret")),
        ..Faults::default()
    };
    let proxy = Proxy::start(&registry, faults);
    let host = proxy.host();
    let path = format!("/token?service={SERVICE}&scope=repository:test/busybox:pull");

    let response = http_get(&host, &path, &[]).expect("GET /token");
    assert_eq!(response.status, 401, "{response:?}");
    assert!(
        response
            .header("WWW-Authenticate")
            .unwrap()
            .starts_with("Basic ")
    );
    let wrong = basic_auth_header("tester", "wrong");
    let response = http_get(&host, &path, &[("Authorization", &wrong)]).expect("GET /token");
    assert_eq!(response.status, 401, "{response:?}");
    let right = basic_auth_header("tester", "s3cret");
    let issued = token(
        &proxy,
        "repository:test/busybox:pull",
        &[("Authorization", &right)],
    );
    let response =
        http_get(&host, "/v2/", &[("Authorization", &bearer(&issued))]).expect("GET /v2/");
    assert_eq!(response.status, 200, "{response:?}");
    // Basic credentials sent to the registry itself are no token.
    let response = http_get(&host, "/v2/", &[("Authorization", &right)]).expect("GET /v2/");
    assert_eq!(response.status, 401, "{response:?}");

    assert_eq!(
        proxy.token_requests(),
        vec![
            "repository:test/busybox:pull anonymous",
            "repository:test/busybox:pull user=tester",
            "repository:test/busybox:pull user=tester",
        ]
    );
    assert_eq!(
        format!("{:?}", BearerAuth::user("tester", "s3cret")),
        r#"BearerAuth { user: "tester", password: <redacted> }"#
    );
}

#[test]
fn redirects_blobs_to_storage_that_refuses_credentials() {
    require_registry!();
    let registry = Registry::start();
    let blob = content(5000);
    let digest = upload_blob(&registry.host(), "fixture/redirect", &blob, &[]);
    let faults = Faults {
        redirect_blobs: true,
        ..Faults::default()
    };
    let proxy = Proxy::start(&registry, faults);
    let host = proxy.host();
    let path = format!("/v2/fixture/redirect/blobs/{digest}");

    let response = http_get(&host, &path, &[]).expect("GET the blob");
    assert_eq!(response.status, 307, "{response:?}");
    let location = response.header("Location").expect("a Location").to_string();
    let prefix = format!("http://{host}/storage/{digest}?sig=");
    assert!(location.starts_with(&prefix), "{location}");
    let storage = location.strip_prefix(&format!("http://{host}")).unwrap();

    let response = http_get(&host, storage, &[]).expect("GET the storage URL");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, blob);
    assert_eq!(
        response.header("Docker-Content-Digest"),
        Some(digest.as_str())
    );
    let response = http_get(&host, storage, &[("Range", "bytes=4000-")]).expect("GET a range");
    assert_eq!(response.status, 206, "{response:?}");
    assert_eq!(
        response.header("Content-Range"),
        Some("bytes 4000-4999/5000")
    );
    assert_eq!(response.body, &blob[4000..]);

    for authorization in ["Bearer abc", &basic_auth_header("tester", "s3cret")] {
        let response = http_get(&host, storage, &[("Authorization", authorization)]).unwrap();
        assert_eq!(response.status, 400, "{response:?}");
        assert!(
            String::from_utf8_lossy(&response.body).contains("Authorization"),
            "{response:?}"
        );
    }
    let forged = format!("/storage/{digest}?sig=forged");
    assert_eq!(http_get(&host, &forged, &[]).unwrap().status, 403);

    // HEAD is not redirected; an unknown blob is the registry's 404.
    let response = http_request("HEAD", &host, &path, &[], &[]).expect("HEAD the blob");
    assert_eq!(response.status, 200, "{response:?}");
    let unknown = format!("/v2/fixture/redirect/blobs/sha256:{}", sha256_hex(b"none"));
    let response = http_get(&host, &unknown, &[]).expect("GET an unknown blob");
    assert_eq!(response.status, 404, "{response:?}");

    let seen = proxy.seen();
    let statuses: Vec<(String, u16)> = seen.iter().map(|s| (s.method.clone(), s.status)).collect();
    assert_eq!(
        statuses,
        [
            ("GET", 307),
            ("GET", 200),
            ("GET", 206),
            ("GET", 400),
            ("GET", 400),
            ("GET", 403),
            ("HEAD", 200),
            ("GET", 404)
        ]
        .map(|(m, s)| (m.to_string(), s))
    );
    assert_eq!(seen[3].authorization.as_deref(), Some("Bearer"));
    assert_eq!(seen[4].authorization.as_deref(), Some("Basic"));
}

#[test]
fn cuts_each_blobs_first_response_then_serves_ranges() {
    require_registry!();
    let registry = Registry::start();
    let blob = content(5000);
    let digest = upload_blob(&registry.host(), "fixture/drop", &blob, &[]);
    let small = content(10);
    let small_digest = upload_blob(&registry.host(), "fixture/drop", &small, &[]);
    let faults = Faults {
        drop_blob_after: Some(1000),
        ..Faults::default()
    };
    let proxy = Proxy::start(&registry, faults);
    let host = proxy.host();
    let path = format!("/v2/fixture/drop/blobs/{digest}");

    // The whole length announced, 1000 bytes sent, the connection closed.
    let response = http_get(&host, &path, &[]).expect("GET the blob");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("Content-Length"), Some("5000"));
    assert_eq!(response.header("Accept-Ranges"), Some("bytes"));
    assert_eq!(response.body, &blob[..1000]);

    let response = http_get(&host, &path, &[("Range", "bytes=1000-")]).expect("GET the rest");
    assert_eq!(response.status, 206, "{response:?}");
    assert_eq!(
        response.header("Content-Range"),
        Some("bytes 1000-4999/5000")
    );
    assert_eq!(response.header("Content-Length"), Some("4000"));
    assert_eq!(response.body, &blob[1000..]);

    let response = http_get(&host, &path, &[("Range", "bytes=10-19")]).expect("GET 10 bytes");
    assert_eq!(response.status, 206, "{response:?}");
    assert_eq!(response.body, &blob[10..20]);
    let response = http_get(&host, &path, &[("Range", "bytes=5000-")]).expect("GET past the end");
    assert_eq!(response.status, 416, "{response:?}");
    assert_eq!(response.header("Content-Range"), Some("bytes */5000"));
    let response = http_get(&host, &path, &[]).expect("GET the blob again");
    assert_eq!(response.body, blob, "only the first response is cut");

    // A blob shorter than the cut is sent whole.
    let small_path = format!("/v2/fixture/drop/blobs/{small_digest}");
    assert_eq!(http_get(&host, &small_path, &[]).unwrap().body, small);

    // After set_faults, each blob's first response is cut again.
    proxy.set_faults(Faults {
        drop_blob_after: Some(10),
        ..Faults::default()
    });
    let response = http_get(&host, &path, &[("Range", "bytes=100-")]).unwrap();
    assert_eq!(response.status, 206);
    assert_eq!(response.body, &blob[100..110]);

    let requests = proxy.requests();
    assert!(
        requests.contains(&format!(
            "GET {path} HTTP/1.1 auth=none range=bytes=1000- -> 206"
        )),
        "{requests:#?}"
    );
}

#[test]
fn fails_the_first_api_requests_with_503() {
    require_registry!();
    let registry = Registry::start();
    let faults = Faults {
        fail_first: 3,
        ..Faults::default()
    };
    let proxy = Proxy::start(&registry, faults);
    let host = proxy.host();
    // Paths outside /v2/ do not count.
    assert_eq!(http_get(&host, "/elsewhere", &[]).unwrap().status, 404);
    for _ in 0..3 {
        let response = http_get(&host, "/v2/", &[]).expect("GET /v2/");
        assert_eq!(response.status, 503, "{response:?}");
        assert_eq!(response.status_line, "HTTP/1.1 503 Service Unavailable");
        assert_eq!(json(&response)["errors"][0]["code"], "UNAVAILABLE");
    }
    assert_eq!(http_get(&host, "/v2/", &[]).unwrap().status, 200);
    assert_eq!(http_get(&host, "/v2/", &[]).unwrap().status, 200);

    proxy.set_faults(Faults {
        fail_first: 1,
        ..Faults::default()
    });
    assert_eq!(http_get(&host, "/v2/", &[]).unwrap().status, 503);
    assert_eq!(http_get(&host, "/v2/", &[]).unwrap().status, 200);
    let statuses: Vec<u16> = proxy.seen().iter().map(|s| s.status).collect();
    assert_eq!(statuses, [404, 503, 503, 503, 200, 200, 503, 200]);
}

#[test]
fn an_unreachable_registry_is_a_502() {
    require_registry!();
    let mut registry = Registry::start();
    let proxy = Proxy::start(&registry, Faults::default());
    registry.kill();
    let response = http_get(&proxy.host(), "/v2/", &[]).expect("GET /v2/");
    assert_eq!(response.status, 502, "{response:?}");
    registry.restart();
    assert_eq!(http_get(&proxy.host(), "/v2/", &[]).unwrap().status, 200);
}

#[test]
fn dropping_stops_listening_at_once() {
    require_registry!();
    let registry = Registry::start();
    let proxy = Proxy::start(&registry, Faults::default());
    let host = proxy.host();
    assert_eq!(http_get(&host, "/v2/", &[]).unwrap().status, 200);
    // No connection is being served: nothing to wait for.
    let started = Instant::now();
    drop(proxy);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let error = http_get(&host, "/v2/", &[]).expect_err("a dropped proxy answers nothing");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}
