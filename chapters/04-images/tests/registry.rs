//! `pull`, `push`, `login` and `logout` against a real registry (Debian's `docker-registry`,
//! the reference distribution server) on a loopback port of its own: images going there and
//! back unchanged, nothing downloaded twice, credentials kept as docker keeps them and never
//! shown, and a store left as it was when the registry lies, is missing or dies mid-pull.
//!
//! Every test has its own fixture image, `--root`s, registry and `DOCKER_CONFIG` (each command
//! gets it in its environment, so the user's own credentials are never read or written).

mod common;

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    BIN, Dock, Layout, PATIENCE, Root, StoreState, big_layout, break_deflate_stream, sha256_hex,
};
use dockyard_tests::registry::{Registry, http_request, upload_blob};
use dockyard_tests::{
    assert_no_mounts_under, require_image_tools, require_registry, require_root, wait_until,
};
use serde_json::{Value, json};

/// The name the fixture image is loaded under.
const FIXTURE_NAME: &str = "docker.io/library/busybox:latest";

/// The OCI media types the hand-made index of the `--platform` test uses.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// What only these tests do with a [`Dock`].
impl Dock {
    /// The fixture's layout, its image named `busybox:latest`, loaded into [`Dock::root`].
    fn load_fixture(&self) -> Layout {
        let layout = Layout::copy(self.engine.layout(), self.engine.dir().join("named"));
        layout.name_entry(0, FIXTURE_NAME);
        let out = self.ok(self.root(), &["load", "-i", &layout.dir.to_string_lossy()]);
        assert_eq!(out, "Loaded image: busybox:latest\n");
        layout
    }

    /// Loads the fixture, names it `reference` and pushes it; push's stdout.
    fn push_fixture(&self, reference: &str) -> (Layout, String) {
        let layout = self.load_fixture();
        self.ok(self.root(), &["tag", "busybox", reference]);
        let out = self.ok(self.root(), &["push", reference]);
        (layout, out)
    }

    /// The test's `config.json`.
    fn config_file(&self) -> PathBuf {
        self.config.join("config.json")
    }
}

/// The docker lines of a push or pull that are about one layer: `(short id, state)`.
fn layer_lines(out: &str) -> Vec<(String, String)> {
    let line = regex::Regex::new(r"^([0-9a-f]{12}): (.+)$").unwrap();
    out.lines()
        .filter_map(|l| line.captures(l))
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

/// The short ids docker shows for layer digests.
fn short_ids(digests: &[String]) -> Vec<String> {
    digests
        .iter()
        .map(|d| d.strip_prefix("sha256:").unwrap()[..12].to_string())
        .collect()
}

/// The ids of the layer lines in `lines` whose state is `state`, in order.
fn ids_in_state(lines: &[(String, String)], state: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|(_, s)| s == state)
        .map(|(id, _)| id.clone())
        .collect()
}

/// The `sha256:...` of a `Digest: ` line.
fn digest_line(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no Digest line in:\n{out}"))
        .to_string()
}

/// Runs `body` with the test's redactions (its directory, ids) plus the registry's address
/// and manifest sizes, which change with the port and with the busybox and probe binaries.
fn redacted_registry<R>(dir: &Path, registry: &Registry, body: impl FnOnce() -> R) -> R {
    common::redacted(dir, || {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&regex::escape(&registry.host()), "[REGISTRY]");
        settings.add_filter(r"size: \d+", "size: [SIZE]");
        settings.bind(body)
    })
}

/// What the registry logged since `mark` (a length of its log): one `response completed`
/// line per request, with its `http.request.uri`.
fn log_since(registry: &Registry, mark: usize) -> String {
    registry.log()[mark..].to_string()
}

/// The URIs of the requests the registry answered, from its log lines.
fn requested_uris(log: &str) -> Vec<String> {
    // Quoted when it holds a character logfmt quotes (`?`, `=`), bare otherwise.
    let uri = regex::Regex::new(r#"http\.request\.uri=(?:"([^"]*)"|(\S+))"#).unwrap();
    log.lines()
        .filter(|l| l.contains("msg=\"response completed"))
        .filter_map(|l| {
            let captures = uri.captures(l)?;
            Some(captures.get(1).or(captures.get(2))?.as_str().to_string())
        })
        .collect()
}

/// The method and URI of each request the registry's log says it answered.
fn requests(log: &str) -> Vec<(String, String)> {
    let method = regex::Regex::new(r"http\.request\.method=(\w+)").unwrap();
    let uris = requested_uris(log);
    let methods: Vec<String> = log
        .lines()
        .filter(|l| l.contains("msg=\"response completed"))
        .filter_map(|l| Some(method.captures(l)?[1].to_string()))
        .collect();
    assert_eq!(
        methods.len(),
        uris.len(),
        "every logged request has a method"
    );
    methods.into_iter().zip(uris).collect()
}

/// Asserts a failed command left `root`'s store as `before` and nothing in `tmp/`, looking
/// before any other command would sweep it.
fn assert_unchanged(root: &Root, before: &StoreState, case: &str) {
    let tmp = root.tmp();
    let after = root.state();
    assert!(tmp.is_empty(), "{case}: left in tmp/: {tmp:?}");
    assert_eq!(&after, before, "{case}: the store changed");
}

/// Asserts the store at `root` holds nothing: no blobs, no layers, no image in `images.json`,
/// nothing in `tmp/`.
fn assert_empty_store(root: &Root, case: &str) {
    let state = root.state();
    assert_eq!(state.blobs.len(), 0, "{case}: blobs {:?}", state.blobs);
    assert_eq!(state.layers.len(), 0, "{case}: layers {:?}", state.layers);
    if let Some(index) = &state.index {
        let index: Value = serde_json::from_str(index).unwrap();
        assert_eq!(index["images"], json!({}), "{case}: images.json {index}");
        assert_eq!(index["tags"], json!({}), "{case}: images.json {index}");
    }
    assert_eq!(root.tmp(), Vec::<String>::new(), "{case}: tmp/");
}

/// A port of 127.0.0.1 that nothing listens on (the kernel's pick for a listener closed at
/// once).
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// PUTs a manifest or index as `reference` (a tag or its digest) of `repository`.
fn put_manifest(
    registry: &Registry,
    repository: &str,
    reference: &str,
    media_type: &str,
    bytes: &[u8],
) {
    let path = format!("/v2/{repository}/manifests/{reference}");
    let response = http_request(
        "PUT",
        &registry.host(),
        &path,
        &[("Content-Type", media_type)],
        bytes,
    )
    .expect("PUT the manifest");
    assert_eq!(
        response.status,
        201,
        "PUT {path}: {response:?} {}\n{}",
        String::from_utf8_lossy(&response.body),
        registry.log()
    );
}

/// `images --format ...` of `root`: one line per row.
fn images_rows(dock: &Dock, root: &Root, extra: &[&str]) -> String {
    let mut args = vec!["images"];
    args.extend(extra);
    dock.ok(root, &args)
}

#[test]
fn a_pushed_image_pulls_back_the_same_into_an_empty_store_and_runs() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let host = registry.host();
    let reference = format!("{host}/test/busybox:v1");

    let (layout, push) = dock.push_fixture(&reference);
    let manifest_digest = layout.manifest_digest(0);
    let manifest_size = fs::metadata(layout.blob_path(&manifest_digest))
        .unwrap()
        .len();
    let layers = short_ids(&layout.layer_digests(0));
    let mut top_first = layers.clone();
    top_first.reverse();

    // docker's lines: the repository, each layer top first, the manifest's digest and size.
    let lines: Vec<&str> = push.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("The push refers to repository [{host}/test/busybox]").as_str()),
        "{push}"
    );
    let pushed = layer_lines(&push);
    assert_eq!(ids_in_state(&pushed, "Pushed"), top_first, "{push}");
    assert_eq!(pushed.len(), layers.len(), "{push}");
    assert_eq!(
        lines.last().copied(),
        Some(format!("v1: digest: {manifest_digest} size: {manifest_size}").as_str()),
        "the registry gets the layout's manifest as it is:\n{push}"
    );
    assert_eq!(lines.len(), 2 + layers.len(), "{push}");

    // The registry has the blobs, byte for byte.
    for digest in layout.layer_digests(0) {
        assert_eq!(
            fs::read(registry.blob_data_path(&digest)).unwrap(),
            fs::read(layout.blob_path(&digest)).unwrap(),
            "{digest} on the registry"
        );
    }

    // Again: everything is there already.
    let again = dock.ok(dock.root(), &["push", &reference]);
    let again_lines = layer_lines(&again);
    assert_eq!(
        ids_in_state(&again_lines, "Layer already exists"),
        top_first,
        "{again}"
    );
    assert_eq!(again_lines.len(), layers.len(), "{again}");
    assert!(
        again.ends_with(&format!(
            "v1: digest: {manifest_digest} size: {manifest_size}\n"
        )),
        "{again}"
    );

    // Into an empty store.
    let pulled_root = dock.empty_root("pulled");
    let pull = dock.ok(&pulled_root, &["pull", &reference]);
    let pull_lines = layer_lines(&pull);
    assert_eq!(
        ids_in_state(&pull_lines, "Pulling fs layer"),
        layers,
        "{pull}"
    );
    let mut complete = ids_in_state(&pull_lines, "Pull complete");
    complete.sort();
    let mut sorted = layers.clone();
    sorted.sort();
    assert_eq!(complete, sorted, "one Pull complete per layer:\n{pull}");
    assert_eq!(pull_lines.len(), 2 * layers.len(), "{pull}");
    assert_eq!(digest_line(&pull), manifest_digest, "{pull}");
    assert!(
        pull.ends_with(&format!("Status: Downloaded newer image for {reference}\n")),
        "{pull}"
    );

    // The same image: id, diff ids, and the manifest the registry had.
    let original = dock.inspect(dock.root(), &reference);
    let copy = dock.inspect(&pulled_root, &reference);
    assert_eq!(copy["Id"], json!(layout.config_digest(0)));
    assert_eq!(copy["Id"], original["Id"]);
    assert_eq!(copy["RootFS"]["Layers"], original["RootFS"]["Layers"]);
    assert_eq!(copy["Config"], original["Config"]);
    assert_eq!(copy["Manifest"]["Digest"], json!(manifest_digest));
    assert_eq!(copy["RepoTags"], json!([reference]));
    assert_eq!(
        copy["RepoDigests"],
        json!([format!("{host}/test/busybox@{manifest_digest}")])
    );

    // It runs as its config says.
    let report = dock.ok(
        &pulled_root,
        &["run", "--rm", &reference, "/probe", "report", "env", "cwd"],
    );
    assert!(report.contains("cwd: /data\n"), "{report}");
    assert!(report.contains("  FIXTURE=1\n"), "{report}");
    dock.cmd(
        &pulled_root,
        &["run", "--rm", &reference, "/bin/cat", "/data/hello.txt"],
    )
    .assert()
    .success()
    .stdout("hello from layer 3\n");
    assert_no_mounts_under(dock.engine.dir());

    // docker's first line names the repository by its path on the registry.
    assert_eq!(
        pull.lines().next(),
        Some("v1: Pulling from test/busybox"),
        "{pull}"
    );
    redacted_registry(dock.engine.dir(), &registry, || {
        insta::assert_snapshot!("push", push);
        insta::assert_snapshot!("push_again", again);
        // The layer lines are all `[SHORT_ID]: ...` once redacted: their order does not show.
        insta::assert_snapshot!("pull", pull);
    });
}

#[test]
fn a_second_pull_downloads_nothing_and_leaves_the_store_as_it_was() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let reference = format!("{}/test/busybox:v1", registry.host());
    let (layout, _) = dock.push_fixture(&reference);

    let root = dock.empty_root("pulled");
    let first = dock.ok(&root, &["pull", &reference]);
    assert!(
        first.contains("Status: Downloaded newer image for"),
        "{first}"
    );
    let first_uris = requested_uris(&log_since(&registry, 0));
    assert!(
        first_uris.iter().any(|u| u.contains("/blobs/")),
        "the log shows requests for blobs (else the check below proves nothing): {first_uris:?}"
    );
    let before = root.state();

    let mark = registry.log().len();
    let second = dock.ok(&root, &["pull", &reference]);
    assert_eq!(digest_line(&second), layout.manifest_digest(0), "{second}");
    assert!(
        second.ends_with(&format!("\nStatus: Image is up to date for {reference}\n")),
        "{second}"
    );
    assert_eq!(layer_lines(&second), [], "no layer lines:\n{second}");
    let log = log_since(&registry, mark);
    let uris = requested_uris(&log);
    assert!(
        uris.iter().any(|u| u == "/v2/test/busybox/manifests/v1"),
        "the second pull asked for the manifest: {uris:?}\n{log}"
    );
    let blobs: Vec<&String> = uris.iter().filter(|u| u.contains("/blobs/")).collect();
    assert!(blobs.is_empty(), "the second pull fetched {blobs:?}");
    assert_eq!(root.state(), before, "the second pull changed the store");
    assert_eq!(root.tmp(), Vec::<String>::new());

    // docker's first line names the repository by its path on the registry.
    assert_eq!(
        second,
        format!(
            "v1: Pulling from test/busybox\nDigest: {}\nStatus: Image is up to date for \
             {reference}\n",
            layout.manifest_digest(0)
        )
    );
}

#[test]
fn a_pull_by_digest_stores_the_image_without_a_tag_and_with_its_digest() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let host = registry.host();
    let (layout, _) = dock.push_fixture(&format!("{host}/test/busybox:v1"));
    let digest = layout.manifest_digest(0);
    let by_digest = format!("{host}/test/busybox@{digest}");

    let root = dock.empty_root("pulled");
    let out = dock.ok(&root, &["pull", &by_digest]);
    assert!(
        out.starts_with(&format!("{digest}: Pulling from test/busybox\n")),
        "{out}"
    );
    assert_eq!(digest_line(&out), digest, "{out}");
    assert!(
        out.ends_with(&format!("Status: Downloaded newer image for {by_digest}\n")),
        "{out}"
    );
    let id = layout.config_digest(0);
    let short = &id[7..19];

    let table = images_rows(
        &dock,
        &root,
        &["--format", "{{.Repository}} {{.Tag}} {{.ID}}"],
    );
    let table_digests = images_rows(
        &dock,
        &root,
        &["--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}"],
    );
    let listed = images_rows(&dock, &root, &["--digests"]);
    assert!(listed.contains(&digest), "images --digests:\n{listed}");
    assert!(
        table.lines().count() == 1 && table.contains(&format!(" <none> {short}")),
        "{table}"
    );
    assert!(
        table_digests.contains(&format!("<none> {digest} {short}")),
        "{table_digests}"
    );
    // It runs by its digest reference, and inspect knows where it came from.
    let document = dock.inspect(&root, &id);
    assert_eq!(document["RepoDigests"], json!([by_digest]));
    assert_eq!(document["RepoTags"], json!([]));
    dock.cmd(&root, &["run", "--rm", &id, "/bin/cat", "/data/hello.txt"])
        .assert()
        .success()
        .stdout("hello from layer 3\n");

    // docker lists an image pulled by digest under its repository, with no tag:
    // `127.0.0.1:PORT/test/busybox   <none>   sha256:...   ID`.
    assert_eq!(
        table,
        format!("{host}/test/busybox <none> {short}\n"),
        "the repository of an image pulled by digest"
    );
}

#[test]
fn a_missing_tag_and_a_missing_registry_fail_with_one_line_and_store_nothing() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let host = registry.host();
    dock.push_fixture(&format!("{host}/test/busybox:v1"));

    let root = dock.empty_root("pulled");
    dock.ok(&root, &["images"]);
    let before = root.state();

    let missing = format!("{host}/test/busybox:nope");
    let (missing_stdout, error) = dock.fails(&root, &["pull", &missing], 1);
    assert!(
        error.starts_with(&format!(
            "ch04-images: manifest for {missing} not found: manifest unknown (hint: "
        )),
        "{error}"
    );
    assert_unchanged(&root, &before, "a missing tag");

    let nowhere = format!("127.0.0.1:{}", dead_port());
    let started = Instant::now();
    let (nowhere_stdout, error) =
        dock.fails(&root, &["pull", &format!("{nowhere}/test/busybox:v1")], 125);
    let took = started.elapsed();
    eprintln!("a pull from a port where nothing listens failed after {took:?}");
    assert!(
        error.starts_with(&format!(
            "ch04-images: cannot reach the registry {nowhere}: "
        )),
        "{error}"
    );
    // Four retries, 0.2 + 0.4 + 0.8 + 1.6 s apart: about 3 s, not the 30 s connect timeout.
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(20),
        "took {took:?}"
    );
    assert_unchanged(&root, &before, "a missing registry");

    // docker says nothing on stdout before it has the manifest: `Pulling from` is printed
    // once the registry answered with one.
    assert_eq!(
        (missing_stdout.as_str(), nowhere_stdout.as_str()),
        ("", ""),
        "stdout of a pull of a missing tag, and of a pull from nowhere"
    );
}

#[test]
fn basic_auth_login_push_pull_logout() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start_with_basic_auth("tester", "secret");
    let dock = Dock::new();
    let host = registry.host();
    let reference = format!("{host}/test/busybox:v1");
    let layout = dock.load_fixture();
    dock.ok(dock.root(), &["tag", "busybox", &reference]);

    // Without credentials.
    let (_, error) = dock.fails(dock.root(), &["push", &reference], 1);
    assert!(error.contains("unauthorized"), "{error}");
    assert!(
        error.contains(&format!("(hint: log in with: login {host})")),
        "{error}"
    );

    // A wrong password: refused, nothing written.
    let login = |password: &str| {
        dock.cmd(
            dock.root(),
            &["login", "-u", "tester", "--password-stdin", &host],
        )
        .write_stdin(format!("{password}\n"))
        .output()
        .unwrap()
    };
    let wrong = login("wrong");
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("incorrect username or password"),
        "{stderr}"
    );
    assert!(
        !dock.config_file().exists(),
        "a failed login wrote config.json"
    );

    // The right one.
    let right = login("secret");
    assert!(
        right.status.success(),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&right.stdout), "Login Succeeded\n");
    let config: Value = serde_json::from_slice(&fs::read(dock.config_file()).unwrap()).unwrap();
    let basic = "dGVzdGVyOnNlY3JldA=="; // base64("tester:secret")
    assert_eq!(config["auths"][&host]["auth"], json!(basic), "{config}");
    let mode = fs::metadata(dock.config_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "config.json's mode is {mode:o}");

    // Push and pull work, and --explain shows neither the password nor its base64.
    let push = dock.ok(dock.root(), &["push", &reference]);
    assert!(
        push.contains(&format!(
            "\nv1: digest: {} size: ",
            layout.manifest_digest(0)
        )),
        "{push}"
    );
    let root = dock.empty_root("pulled");
    let explained = dock.output(&root, &["--explain", "pull", &reference]);
    let stdout = String::from_utf8_lossy(&explained.stdout);
    let stderr = String::from_utf8_lossy(&explained.stderr);
    assert!(explained.status.success(), "{stderr}");
    assert!(
        stdout.contains("Status: Downloaded newer image for"),
        "{stdout}"
    );
    assert!(
        stderr.contains("> GET "),
        "--explain narrates the requests:\n{stderr}"
    );
    for secret in ["secret", basic, "Basic "] {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "--explain shows {secret:?}:\n{stderr}"
        );
    }
    assert_eq!(
        dock.inspect(&root, &reference)["Id"],
        json!(layout.config_digest(0))
    );

    // Logged out: the credentials are gone, and the registry refuses again.
    assert_eq!(
        dock.ok(dock.root(), &["logout", &host]),
        format!("Removing login credentials for {host}\n")
    );
    let config: Value = serde_json::from_slice(&fs::read(dock.config_file()).unwrap()).unwrap();
    assert!(config["auths"].get(&host).is_none(), "{config}");
    let again = dock.empty_root("again");
    let (_, error) = dock.fails(&again, &["pull", &reference], 1);
    assert!(
        error.contains("unauthorized") && error.contains(&format!("login {host}")),
        "{error}"
    );
}

#[test]
fn a_blob_corrupted_on_the_registry_is_refused_and_nothing_is_stored() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let reference = format!("{}/test/busybox:v1", registry.host());
    let (layout, _) = dock.push_fixture(&reference);
    let layer = layout.layer_digests(0)[1].clone();
    let path = registry.blob_data_path(&layer);
    let original = fs::read(&path).unwrap();
    let mismatch = |bytes: &[u8]| {
        format!(
            "layer {layer} from {}/test/busybox does not match its digest (got sha256:{})",
            registry.host(),
            sha256_hex(bytes)
        )
    };

    // Layer 2's gzip header says another operating system made it: the same length, still
    // valid gzip of the same tar, so only the digest can tell.
    let mut bytes = original.clone();
    assert_eq!(bytes[..2], [0x1f, 0x8b], "a gzip blob");
    bytes[9] = if bytes[9] == 3 { 255 } else { 3 };
    fs::write(&path, &bytes).unwrap();
    let root = dock.empty_root("pulled");
    let (_, error) = dock.fails(&root, &["pull", &reference], 125);
    assert!(error.contains(&mismatch(&bytes)), "{error}");
    assert_empty_store(&root, "after a corrupt layer");

    // Its deflate stream broken where it starts, as a bad disk would: the decompressor gives
    // up on the first block, the rest of the blob is still read, and the error names the
    // digest it has rather than what the decompressor tripped on.
    let mut bytes = original.clone();
    break_deflate_stream(&mut bytes);
    fs::write(&path, &bytes).unwrap();
    let root = dock.empty_root("pulled-again");
    let (_, error) = dock.fails(&root, &["pull", &reference], 125);
    assert!(
        error.contains(&mismatch(&bytes)) && !error.contains("corrupt layer archive"),
        "{error}"
    );
    assert_empty_store(&root, "after a layer whose deflate stream is damaged");
}

#[test]
fn a_broken_archive_the_registry_serves_under_its_own_digest_is_named() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let host = registry.host();
    let repository = "test/broken";
    let layout = Layout::copy(dock.engine.layout(), dock.engine.dir().join("broken"));

    // The fixture's blobs, but layer 2 broken before it was pushed: the registry serves
    // exactly what it was given, and its digest is the one the manifest names.
    let layers = layout.layer_digests(0);
    let mut manifest = layout.manifest(0);
    for (i, digest) in layers.iter().enumerate() {
        let mut bytes = fs::read(layout.blob_path(digest)).unwrap();
        if i == 1 {
            break_deflate_stream(&mut bytes);
            manifest["layers"][i]["size"] = json!(bytes.len());
        }
        manifest["layers"][i]["digest"] = json!(upload_blob(&host, repository, &bytes, &[]));
    }
    let config = layout.config_digest(0);
    upload_blob(
        &host,
        repository,
        &fs::read(layout.blob_path(&config)).unwrap(),
        &[],
    );
    put_manifest(
        &registry,
        repository,
        "v1",
        OCI_MANIFEST,
        &serde_json::to_vec(&manifest).unwrap(),
    );

    let root = dock.empty_root("pulled");
    let reference = format!("{host}/{repository}:v1");
    let (_, error) = dock.fails(&root, &["pull", &reference], 125);
    let named = format!(
        "ch04-images: corrupt layer archive: layer {} from {host}/{repository}: ",
        manifest["layers"][1]["digest"].as_str().unwrap()
    );
    assert!(
        error.starts_with(&named) && !error.contains("does not match"),
        "{error}"
    );
    assert_empty_store(&root, "after a broken layer archive");
}

#[test]
fn a_registry_killed_mid_pull_fails_it_cleanly_and_a_second_pull_completes() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let mut registry = Registry::start();
    let dock = Dock::new();
    let (layout, sum) = big_layout(&dock.engine, 48);
    assert_eq!(
        dock.ok(dock.root(), &["load", "-i", &layout.dir.to_string_lossy()]),
        "Loaded image: big:latest\n"
    );
    let reference = format!("{}/test/big:v1", registry.host());
    dock.ok(dock.root(), &["tag", "big", &reference]);
    dock.ok(dock.root(), &["push", &reference]);

    let root = dock.empty_root("pulled");
    let started = Instant::now();
    let mut pull = Command::new(BIN)
        .arg("--root")
        .arg(&root.path)
        .args(["pull", &reference])
        .envs(dock.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Downloading: a blob in tmp/ has a few megabytes.
    let tmp = root.path.join("tmp");
    let downloading = || {
        common::names_in(&tmp).iter().any(|name| {
            name.ends_with("-blob")
                && fs::metadata(tmp.join(name)).is_ok_and(|m| m.len() >= 4 << 20)
        })
    };
    let reached = wait_until(PATIENCE, || {
        downloading() || pull.try_wait().unwrap().is_some()
    });
    let finished = pull.try_wait().unwrap();
    if !reached || finished.is_some() {
        let _exited_already = pull.kill();
        let output = pull.wait_with_output().unwrap();
        panic!(
            "the pull did not get to downloading within {PATIENCE:?} ({:?}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    registry.kill();
    let killed = Instant::now();
    eprintln!("registry killed {:?} into the pull", killed - started);

    let limit = Duration::from_secs(60);
    let ended = wait_until(limit, || pull.try_wait().unwrap().is_some());
    if !ended {
        let _exited_already = pull.kill();
    }
    let output = pull.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        ended,
        "the pull still ran {limit:?} after the registry died"
    );
    eprintln!(
        "the pull failed {:?} after the kill: {stderr}",
        killed.elapsed()
    );
    assert_eq!(output.status.code(), Some(125), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach the registry {}", registry.host())),
        "{stderr}"
    );

    // The store is usable, and as it was: nothing stored, nothing left in tmp/ after the
    // next command.
    let images = dock.ok(&root, &["images", "-q"]);
    assert_eq!(images, "", "images after the failed pull");
    assert_empty_store(&root, "after a pull whose registry died");

    registry.restart();
    let out = dock.ok(&root, &["pull", &reference]);
    assert!(out.contains("Status: Downloaded newer image for"), "{out}");
    assert_eq!(
        root.tmp(),
        Vec::<String>::new(),
        "tmp/ after the second pull"
    );
    dock.cmd(
        &root,
        &[
            "run",
            "--rm",
            &reference,
            "/bin/sha256sum",
            "/big/random.bin",
        ],
    )
    .assert()
    .success()
    .stdout(format!("{sum}  /big/random.bin\n"));
    assert_no_mounts_under(dock.engine.dir());

    // The line says what happened, the registry went away, with what to do about it: not
    // that the layer's content is corrupt.
    assert!(
        stderr.starts_with(&format!(
            "ch04-images: cannot reach the registry {}: ",
            registry.host()
        )) && stderr.contains("(hint: ")
            && !stderr.contains("corrupt"),
        "the error of a pull whose registry died: {stderr}"
    );
}

#[test]
fn platform_chooses_the_manifest_of_a_multi_platform_index() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let host = registry.host();
    let repository = "test/multi";
    let layout = Layout::copy(dock.engine.layout(), dock.engine.dir().join("multi"));

    // Every blob of the fixture, and an arm64 config: the same, its architecture changed.
    for digest in layout.layer_digests(0) {
        upload_blob(
            &registry.host(),
            repository,
            &fs::read(layout.blob_path(&digest)).unwrap(),
            &[],
        );
    }
    let amd64_config = layout.config_digest(0);
    upload_blob(
        &registry.host(),
        repository,
        &fs::read(layout.blob_path(&amd64_config)).unwrap(),
        &[],
    );
    let mut config = layout.config(0);
    assert_eq!(config["architecture"], json!("amd64"));
    config["architecture"] = json!("arm64");
    config["variant"] = json!("v8");
    let arm64_config_bytes = serde_json::to_vec(&config).unwrap();
    let arm64_config = upload_blob(&registry.host(), repository, &arm64_config_bytes, &[]);

    // The fixture's manifest, and one for arm64, each under its digest.
    let amd64_manifest = layout.manifest_digest(0);
    let amd64_bytes = fs::read(layout.blob_path(&amd64_manifest)).unwrap();
    put_manifest(
        &registry,
        repository,
        &amd64_manifest,
        OCI_MANIFEST,
        &amd64_bytes,
    );
    let mut manifest = layout.manifest(0);
    manifest["config"] = json!({
        "mediaType": OCI_CONFIG,
        "digest": arm64_config,
        "size": arm64_config_bytes.len(),
    });
    let arm64_bytes = serde_json::to_vec(&manifest).unwrap();
    let arm64_manifest = format!("sha256:{}", sha256_hex(&arm64_bytes));
    put_manifest(
        &registry,
        repository,
        &arm64_manifest,
        OCI_MANIFEST,
        &arm64_bytes,
    );

    // The index, as the tag `multi`.
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": amd64_manifest,
                "size": amd64_bytes.len(),
                "platform": {"architecture": "amd64", "os": "linux"},
            },
            {
                "mediaType": OCI_MANIFEST,
                "digest": arm64_manifest,
                "size": arm64_bytes.len(),
                "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
            },
        ],
    });
    let index_bytes = serde_json::to_vec(&index).unwrap();
    let index_digest = format!("sha256:{}", sha256_hex(&index_bytes));
    put_manifest(&registry, repository, "multi", OCI_INDEX, &index_bytes);
    let reference = format!("{host}/{repository}:multi");

    // This machine's platform.
    assert_eq!(
        std::env::consts::ARCH,
        "x86_64",
        "the test expects an amd64 host"
    );
    let amd64 = dock.empty_root("amd64");
    let out = dock.ok(&amd64, &["pull", &reference]);
    assert_eq!(
        digest_line(&out),
        index_digest,
        "the index's digest:\n{out}"
    );
    let document = dock.inspect(&amd64, &reference);
    assert_eq!(document["Id"], json!(amd64_config));
    assert_eq!(document["Architecture"], json!("amd64"));
    assert_eq!(document["Manifest"]["Digest"], json!(amd64_manifest));
    assert_eq!(
        document["RepoDigests"],
        json!([format!("{host}/{repository}@{index_digest}")])
    );
    dock.cmd(
        &amd64,
        &["run", "--rm", &reference, "/bin/cat", "/data/hello.txt"],
    )
    .assert()
    .success()
    .stdout("hello from layer 3\n");

    // Another platform, by --platform.
    let arm64 = dock.empty_root("arm64");
    let out = dock.ok(&arm64, &["pull", "--platform", "linux/arm64", &reference]);
    assert_eq!(digest_line(&out), index_digest, "{out}");
    let document = dock.inspect(&arm64, &reference);
    assert_eq!(document["Id"], json!(arm64_config));
    assert_eq!(document["Architecture"], json!("arm64"));
    assert_eq!(document["Variant"], json!("v8"));
    assert_eq!(document["Manifest"]["Digest"], json!(arm64_manifest));

    // A platform the index lacks.
    let none = dock.empty_root("s390x");
    let (_, error) = dock.fails(
        &none,
        &["pull", "--platform", "linux/s390x", &reference],
        125,
    );
    assert!(
        error.contains("linux/s390x") && error.contains("linux/amd64, linux/arm64/v8"),
        "{error}"
    );
    assert_empty_store(&none, "after no matching platform");

    // The arm64 image, pulled into the store that has the amd64 one under the same tag: the
    // store has the index's digest already, but not for this platform.
    let out = dock.ok(&amd64, &["pull", "--platform", "linux/arm64", &reference]);
    let document = dock.inspect(&amd64, &reference);
    assert_eq!(
        document["Id"],
        json!(arm64_config),
        "pull --platform linux/arm64 after the amd64 image of the same index:\n{out}"
    );
}

#[test]
fn chunked_uploads_and_mounts_push_the_same_blobs() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let host = registry.host();
    let reference = format!("{host}/test/chunked:v1");
    let layout = dock.load_fixture();
    dock.ok(dock.root(), &["tag", "busybox", &reference]);
    // Chunks of 100 kB: every layer of the fixture goes in several PATCHes.
    let mark = registry.log().len();
    let out = dock.ok(dock.root(), &["push", "--chunk-size", "100000", &reference]);
    assert!(out.contains("Pushed"), "{out}");
    let patches = requests(&log_since(&registry, mark))
        .iter()
        .filter(|(method, _)| method == "PATCH")
        .count();
    assert!(patches > layout.layer_digests(0).len(), "{patches} PATCHes");
    for digest in layout.layer_digests(0) {
        let stored = fs::read(registry.blob_data_path(&digest)).unwrap();
        assert_eq!(
            stored,
            fs::read(layout.blob_path(&digest)).unwrap(),
            "{digest}"
        );
    }

    // Pulled, then pushed to another repository of the same registry: mounted, not sent.
    let fresh = dock.empty_root("fresh");
    dock.ok(&fresh, &["pull", &reference]);
    let other = format!("{host}/test/other:v1");
    dock.ok(&fresh, &["tag", &reference, &other]);
    let mark = registry.log().len();
    let out = dock.ok(&fresh, &["push", &other]);
    for line in layer_lines(&out) {
        assert_eq!(line.1, "Mounted from test/chunked", "{out}");
    }
    let uploads = requests(&log_since(&registry, mark))
        .iter()
        .filter(|(method, uri)| method == "PUT" && uri.contains("/blobs/uploads/"))
        .count();
    assert_eq!(
        uploads, 0,
        "the layers and the config are all mounted: nothing travels"
    );
    let again = dock.empty_root("again");
    dock.ok(&again, &["pull", &other]);
    assert_eq!(
        dock.ok(&again, &["run", "--rm", &other, "/bin/echo", "hi"]),
        "hi\n"
    );
}

#[test]
fn on_a_terminal_pull_redraws_a_line_per_layer() {
    require_root!();
    require_image_tools!();
    require_registry!();
    let registry = Registry::start();
    let dock = Dock::new();
    let reference = format!("{}/test/busybox:v1", registry.host());
    dock.push_fixture(&reference);
    let fresh = dock.empty_root("fresh");
    let mut command = Command::new(BIN);
    command
        .arg("--root")
        .arg(&fresh.path)
        .args(["pull", &reference]);
    for (name, value) in dock.env() {
        command.env(name, value);
    }
    let mut session = dockyard_tests::pty::PtySession::spawn(command).unwrap();
    let at = session.expect("Status: Downloaded newer image", 0, PATIENCE);
    assert!(session.wait(PATIENCE).success());
    let screen = &session.transcript[..at];
    // Each redraw goes back up to the first layer's line and clears every line it rewrites.
    assert!(screen.contains("\u{1b}[2K"), "{screen:?}");
    assert!(screen.contains(&format!("\u{1b}[{}A", 3)), "{screen:?}");
    assert!(screen.contains(": Downloading ["), "a bar: {screen:?}");
    // The last drawing: every layer complete.
    let last = screen.rsplit("\u{1b}[3A").next().unwrap();
    assert_eq!(last.matches(": Pull complete\r\n").count(), 3, "{last:?}");
}
