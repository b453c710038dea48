//! `push`, `pull` and `login` through the fault-injecting proxy of `dockyard_tests::proxy`
//! in front of a real registry: what real registries and networks do and the reference
//! registry alone never does. Docker Hub's token authentication, anonymous and with a login;
//! blobs redirected to a storage host that must not see the registry's credentials; a blob's
//! connection dropped part-way (the pull resumes it with a `Range` request); and a registry
//! failing with `503` for a while (the client retries, then gives up with one clear line and
//! the store as it was).
//!
//! Every test has its own fixture image, `--root`s, registry, proxy and `DOCKER_CONFIG` (each
//! command gets it in its environment, so the user's own credentials are never read or
//! written).

mod common;

use std::fs;

use common::{Dock, Root, StoreState};
use dockyard_tests::images::busybox_docker_archive;
use dockyard_tests::proxy::{BearerAuth, Faults, Proxy, Seen};
use dockyard_tests::registry::Registry;
use dockyard_tests::{require_image_tools, require_registry, require_root};

/// The repository and tag the fixture is pushed as, on the proxy's host.
const REPOSITORY: &str = "test/busybox";
const TAG: &str = "v1";

/// The user and password of the token service, in the tests that log in.
const USER: &str = "tester";
const PASSWORD: &str = "s3cret";

/// A test's dock (its engine and `DOCKER_CONFIG`), a registry and a proxy in front of it.
struct Faulty {
    dock: Dock,
    proxy: Proxy,
    registry: Registry,
}

impl std::ops::Deref for Faulty {
    type Target = Dock;

    fn deref(&self) -> &Dock {
        &self.dock
    }
}

impl Faulty {
    /// The fixture loaded into the engine's root from a `docker save` archive and named
    /// [`Faulty::image`]; the proxy does `faults` from the start.
    fn new(faults: Faults) -> Faulty {
        let registry = Registry::start();
        let proxy = Proxy::start(&registry, faults);
        let faulty = Faulty {
            dock: Dock::new(),
            proxy,
            registry,
        };
        let archive = busybox_docker_archive(&faulty.engine.fixture, "busybox:latest");
        let out = faulty.ok(faulty.root(), &["load", "-i", &archive.to_string_lossy()]);
        assert!(out.starts_with("Loaded image: "), "{out}");
        faulty.ok(faulty.root(), &["tag", "busybox:latest", &faulty.image()]);
        faulty
    }

    /// `<proxy host>/test/busybox:v1`.
    fn image(&self) -> String {
        format!("{}/{REPOSITORY}:{TAG}", self.proxy.host())
    }

    /// Runs a command that must succeed and print nothing on stderr; its stdout. On failure,
    /// the proxy's record and the registry's log tell what happened.
    fn ok(&self, root: &Root, args: &[&str]) -> String {
        self.dock.ok_or_explain(root, args, || {
            format!(
                "the proxy saw:\n{}\nthe registry logged:\n{}",
                self.proxy.requests().join("\n"),
                self.registry.log()
            )
        })
    }

    /// `login -u tester --password-stdin <proxy host>`.
    fn login(&self) {
        let out = self
            .cmd(
                self.root(),
                &["login", "-u", USER, "--password-stdin", &self.proxy.host()],
            )
            .write_stdin(format!("{PASSWORD}\n"))
            .assert()
            .success()
            .stderr("");
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert_eq!(stdout, "Login Succeeded\n");
    }

    /// Pushes the image; push's stdout.
    fn push(&self) -> String {
        let out = self.ok(self.root(), &["push", &self.image()]);
        assert!(out.contains(&format!("{TAG}: digest: sha256:")), "{out}");
        out
    }

    /// Pulls the image into a new, empty root named `name`; that root.
    fn pull(&self, name: &str) -> Root {
        let root = self.empty_root(name);
        let out = self.ok(&root, &["pull", &self.image()]);
        assert!(
            out.ends_with(&format!(
                "Status: Downloaded newer image for {}\n",
                self.image()
            )),
            "{out}"
        );
        root
    }

    /// Runs `/bin/echo hi` in a container of the image in `root`.
    fn run_echo(&self, root: &Root) {
        let out = self.ok(root, &["run", "--rm", &self.image(), "/bin/echo", "hi"]);
        assert_eq!(out, "hi\n");
    }

    /// How many requests the proxy has seen so far: a mark for [`Faulty::seen`].
    fn mark(&self) -> usize {
        self.proxy.seen().len()
    }

    /// The requests the proxy saw after `mark` whose target starts with `prefix`.
    fn seen(&self, mark: usize, prefix: &str) -> Vec<Seen> {
        self.proxy.seen()[mark..]
            .iter()
            .filter(|s| s.target.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Asserts that no request of the registry's API carried credentials of its own: only
    /// tokens (or nothing, to be challenged) go to `/v2/`.
    fn assert_no_basic_to_the_api(&self) {
        let basic: Vec<String> = self
            .seen(0, "/v2")
            .iter()
            .filter(|s| is_basic(s))
            .map(Seen::to_string)
            .collect();
        assert!(
            basic.is_empty(),
            "sent Basic credentials to /v2/: {basic:#?}"
        );
    }
}

/// Whether a request carried `Authorization: Basic ...`.
fn is_basic(seen: &Seen) -> bool {
    seen.authorization
        .as_deref()
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic"))
}

fn bearer(credentials: Option<BearerAuth>) -> Faults {
    Faults {
        bearer: credentials,
        ..Faults::default()
    }
}

#[test]
fn an_anonymous_pull_fetches_a_token_for_the_pull_scope() {
    require_root!();
    dockyard_tests::require_image_tools!();
    dockyard_tests::require_registry!();
    let faulty = Faulty::new(Faults::default());
    faulty.push();

    faulty
        .proxy
        .set_faults(bearer(Some(BearerAuth::anonymous())));
    let mark = faulty.mark();
    let pulled = faulty.pull("pulled");
    faulty.run_echo(&pulled);

    let scope = format!("repository:{REPOSITORY}:pull");
    assert_eq!(
        faulty.proxy.token_requests(),
        vec![format!("{scope} anonymous")],
        "one token, asked anonymously, for the repository's pull scope"
    );
    faulty.assert_no_basic_to_the_api();
    // Challenged once, then every request carried the token.
    let api = faulty.seen(mark, "/v2/");
    let challenged: Vec<&Seen> = api.iter().filter(|s| s.status == 401).collect();
    assert_eq!(challenged.len(), 1, "{:#?}", faulty.proxy.requests());
    assert!(
        api.iter()
            .filter(|s| s.status != 401)
            .all(|s| s.authorization.as_deref() == Some("Bearer")),
        "{:#?}",
        faulty.proxy.requests()
    );
}

#[test]
fn login_then_push_and_pull_with_tokens_for_their_scopes() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(bearer(Some(BearerAuth::user(USER, PASSWORD))));

    // The wrong password: refused, nothing stored.
    let out = faulty
        .cmd(
            faulty.root(),
            &[
                "login",
                "-u",
                USER,
                "--password-stdin",
                &faulty.proxy.host(),
            ],
        )
        .write_stdin("wrong\n")
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("incorrect username or password"),
        "{stderr}"
    );
    assert!(!faulty.config.join("config.json").exists());

    faulty.login();
    let config = fs::read_to_string(faulty.config.join("config.json")).unwrap();
    assert!(config.contains(&faulty.proxy.host()), "{config}");
    let logins = faulty.proxy.token_requests();

    faulty.push();
    let pushes = faulty.proxy.token_requests()[logins.len()..].to_vec();
    let pulled = faulty.pull("pulled");
    let pulls = faulty.proxy.token_requests()[logins.len() + pushes.len()..].to_vec();
    faulty.run_echo(&pulled);

    assert!(
        logins.iter().all(|t| t.ends_with(&format!("user={USER}"))),
        "{logins:#?}"
    );
    assert_eq!(
        pushes,
        vec![format!("repository:{REPOSITORY}:pull,push user={USER}")]
    );
    assert_eq!(
        pulls,
        vec![format!("repository:{REPOSITORY}:pull user={USER}")]
    );
    faulty.assert_no_basic_to_the_api();
    // ureq sends a blob (a `File`) and a manifest with their length, not chunked.
    let puts: Vec<Seen> = faulty
        .proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.status != 401)
        .collect();
    assert_eq!(puts.len(), 5, "{puts:#?}");
    assert!(
        puts.iter()
            .all(|s| s.body.starts_with("length ") && s.body != "length 0"),
        "{puts:#?}"
    );
    // The upload itself went with a token.
    let uploads = faulty.seen(0, &format!("/v2/{REPOSITORY}/blobs/uploads/"));
    assert!(!uploads.is_empty());
    assert!(
        uploads
            .iter()
            .filter(|s| s.status != 401)
            .all(|s| s.authorization.as_deref() == Some("Bearer")),
        "{uploads:#?}"
    );
}

#[test]
fn login_asks_the_token_service_for_no_repository_scope() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(bearer(Some(BearerAuth::user(USER, PASSWORD))));
    faulty.login();
    // docker login asks for a token without a scope (`GET /v2/` names no repository); a
    // scope with an empty repository name, `repository::pull`, is not one a token service
    // knows.
    assert_eq!(
        faulty.proxy.token_requests(),
        vec![format!("(no scope) user={USER}")]
    );
}

#[test]
fn redirected_blobs_are_fetched_from_storage_without_credentials() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(bearer(Some(BearerAuth::user(USER, PASSWORD))));
    faulty.login();
    faulty.push();
    faulty.proxy.set_faults(Faults {
        bearer: Some(BearerAuth::user(USER, PASSWORD)),
        redirect_blobs: true,
        ..Faults::default()
    });
    let mark = faulty.mark();
    let pulled = faulty.pull("pulled");
    faulty.run_echo(&pulled);

    let redirects: Vec<Seen> = faulty
        .seen(mark, &format!("/v2/{REPOSITORY}/blobs/"))
        .into_iter()
        .filter(|s| s.status == 307)
        .collect();
    let storage = faulty.seen(mark, "/storage/");
    // The config and the three layers, each redirected once and fetched once.
    assert_eq!(redirects.len(), 4, "{:#?}", faulty.proxy.requests());
    assert_eq!(storage.len(), 4, "{:#?}", faulty.proxy.requests());
    for request in &storage {
        assert_eq!(request.authorization, None, "{request}");
        assert_eq!(request.status, 200, "{request}");
    }
    assert!(
        redirects
            .iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer")),
        "{redirects:#?}"
    );
}

#[test]
fn explain_never_shows_the_password_tokens_or_storage_signatures() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(bearer(Some(BearerAuth::user(USER, PASSWORD))));
    faulty.login();
    faulty.proxy.set_faults(Faults {
        bearer: Some(BearerAuth::user(USER, PASSWORD)),
        redirect_blobs: true,
        drop_blob_after: Some(100_000),
        ..Faults::default()
    });
    let mut narrated = String::new();
    let push = faulty
        .cmd(faulty.root(), &["--explain", "push", &faulty.image()])
        .assert()
        .success();
    narrated.push_str(&String::from_utf8_lossy(&push.get_output().stderr));
    let root = faulty.empty_root("pulled");
    let pull = faulty
        .cmd(&root, &["--explain", "pull", &faulty.image()])
        .assert()
        .success();
    narrated.push_str(&String::from_utf8_lossy(&pull.get_output().stderr));
    assert!(
        narrated.contains("/token"),
        "narrates the token requests:\n{narrated}"
    );

    let basic = dockyard_tests::registry::basic_auth_header(USER, PASSWORD);
    let basic = basic.strip_prefix("Basic ").unwrap();
    let tokens = faulty.proxy.tokens();
    assert_eq!(tokens.len(), 3, "login, push, pull");
    let signatures: Vec<String> = faulty
        .seen(0, "/storage/")
        .iter()
        .filter_map(|s| s.target.split_once("sig=").map(|(_, sig)| sig.to_string()))
        .collect();
    assert!(!signatures.is_empty());
    for secret in [PASSWORD, basic]
        .into_iter()
        .chain(tokens.iter().map(String::as_str))
    {
        assert!(!narrated.contains(secret), "{secret} shown:\n{narrated}");
    }
    for signature in &signatures {
        assert!(
            !narrated.contains(signature.as_str()),
            "sig={signature} shown:\n{narrated}"
        );
    }
}

#[test]
fn a_dropped_blob_connection_is_resumed_with_a_range_request() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults::default());
    faulty.push();
    faulty.proxy.set_faults(Faults {
        drop_blob_after: Some(100_000),
        ..Faults::default()
    });
    let mark = faulty.mark();
    let pulled = faulty.pull("pulled");
    faulty.run_echo(&pulled);

    let blobs = faulty.seen(mark, &format!("/v2/{REPOSITORY}/blobs/"));
    let resumed: Vec<&Seen> = blobs
        .iter()
        .filter(|s| s.range.as_deref() == Some("bytes=100000-"))
        .collect();
    assert!(!resumed.is_empty(), "{:#?}", faulty.proxy.requests());
    assert!(resumed.iter().all(|s| s.status == 206), "{resumed:#?}");
    // Each blob was asked for once whole and, if cut, once for the rest: never from 0 again.
    let wholes = blobs.iter().filter(|s| s.range.is_none()).count();
    assert_eq!(wholes, 4, "{:#?}", faulty.proxy.requests());
    assert_eq!(
        blobs.len(),
        4 + resumed.len(),
        "{:#?}",
        faulty.proxy.requests()
    );
    assert_eq!(pulled.tmp(), Vec::<String>::new());
}

#[test]
fn every_blob_cut_early_is_resumed_even_the_config() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults::default());
    faulty.push();
    for cut in [0, 512] {
        faulty.proxy.set_faults(Faults {
            drop_blob_after: Some(cut),
            ..Faults::default()
        });
        let mark = faulty.mark();
        let pulled = faulty.pull(&format!("pulled-{cut}"));
        faulty.run_echo(&pulled);
        let range = format!("bytes={cut}-");
        let resumed = faulty
            .seen(mark, &format!("/v2/{REPOSITORY}/blobs/"))
            .into_iter()
            .filter(|s| s.range.as_deref() == Some(range.as_str()) && s.status == 206)
            .count();
        assert_eq!(resumed, 4, "cut at {cut}: {:#?}", faulty.proxy.requests());
    }
}

#[test]
fn a_dropped_redirected_blob_is_resumed_from_storage() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults::default());
    faulty.push();
    faulty.proxy.set_faults(Faults {
        redirect_blobs: true,
        drop_blob_after: Some(100_000),
        ..Faults::default()
    });
    let mark = faulty.mark();
    let pulled = faulty.pull("pulled");
    faulty.run_echo(&pulled);

    let resumed: Vec<Seen> = faulty
        .seen(mark, "/storage/")
        .into_iter()
        .filter(|s| s.range.as_deref() == Some("bytes=100000-"))
        .collect();
    assert!(!resumed.is_empty(), "{:#?}", faulty.proxy.requests());
    assert!(resumed.iter().all(|s| s.status == 206), "{resumed:#?}");
}

#[test]
fn a_registry_failing_for_a_while_is_retried() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults {
        fail_first: 3,
        ..Faults::default()
    });
    faulty.push();
    faulty.proxy.set_faults(Faults {
        fail_first: 3,
        ..Faults::default()
    });
    let pulled = faulty.pull("pulled");
    faulty.run_echo(&pulled);
    let failed = faulty
        .seen(0, "/v2/")
        .iter()
        .filter(|s| s.status == 503)
        .count();
    assert_eq!(failed, 6, "{:#?}", faulty.proxy.requests());
}

#[test]
fn a_registry_failing_too_long_fails_the_pull_in_one_line_and_leaves_the_store() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults::default());
    faulty.push();

    for root in [faulty.root().clone(), faulty.empty_root("empty")] {
        faulty.proxy.set_faults(Faults {
            fail_first: 10,
            ..Faults::default()
        });
        // `images` makes the store if it is not there yet.
        faulty.ok(&root, &["images"]);
        let before = StoreState::of(&root.path);
        let out = faulty
            .cmd(&root, &["pull", &faulty.image()])
            .assert()
            .code(125);
        let output = out.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
        assert!(stderr.starts_with("ch04-images: "), "{stderr}");
        assert!(stderr.contains("503"), "{stderr}");
        assert_eq!(root.tmp(), Vec::<String>::new(), "tmp/ after the failure");
        assert_eq!(StoreState::of(&root.path), before, "the store changed");
        let stderr = stderr.replace(&faulty.proxy.host(), "[PROXY]");
        insta::assert_snapshot!("pull_503_too_long", stderr);
    }
}

#[test]
fn a_push_to_a_registry_failing_too_long_fails_in_one_line() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults {
        fail_first: 10,
        ..Faults::default()
    });
    let out = faulty
        .cmd(faulty.root(), &["push", &faulty.image()])
        .assert()
        .code(125);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    let stderr = stderr.replace(&faulty.proxy.host(), "[PROXY]");
    insta::assert_snapshot!("push_503_too_long", stderr);
}

#[test]
fn a_pull_from_a_private_registry_without_login_says_to_log_in() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let faulty = Faulty::new(Faults::default());
    faulty.push();
    faulty
        .proxy
        .set_faults(bearer(Some(BearerAuth::user(USER, PASSWORD))));
    let root = faulty.empty_root("pulled");
    faulty.ok(&root, &["images"]);
    let before = StoreState::of(&root.path);
    let out = faulty
        .cmd(&root, &["pull", &faulty.image()])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert_eq!(StoreState::of(&root.path), before, "the store changed");
    assert_eq!(
        faulty.proxy.token_requests(),
        vec![format!("repository:{REPOSITORY}:pull anonymous")],
        "asked anonymously, once"
    );
    let stderr = stderr.replace(&faulty.proxy.host(), "[PROXY]");
    insta::assert_snapshot!("pull_private_without_login", stderr);
}
