//! `build` over the network: `ADD` of URLs served on loopback by a small server in the test
//! (names, modes, times, `--checksum`, the cache), and base images that only a registry on
//! loopback holds, pulled when missing and again with `--pull`.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Bench;
use dockyard_tests::registry::Registry;
use dockyard_tests::{assert_no_mounts_under, require_registry, require_root};

/// `hello\n`'s sha256.
const HELLO_SHA256: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
/// `Thu, 02 Jan 2020 03:04:05 GMT`.
const LAST_MODIFIED: i64 = 1_577_934_245;

/// One file the server serves: its content, and its `Last-Modified` header if any.
#[derive(Debug, Clone)]
struct Served {
    content: Vec<u8>,
    last_modified: Option<&'static str>,
}

/// A tiny HTTP/1.1 server on 127.0.0.1: `GET /path` answers the file served at that path
/// (the query ignored) or 404, then closes the connection. It counts the requests.
#[derive(Debug, Clone)]
struct Server {
    port: u16,
    files: Arc<Mutex<HashMap<String, Served>>>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let server = Server {
            port: listener.local_addr().expect("its address").port(),
            files: Arc::default(),
            requests: Arc::default(),
        };
        let serving = server.clone();
        // The thread ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serving.answer(stream);
            }
        });
        server
    }

    fn serve(&self, path: &str, content: &[u8], last_modified: Option<&'static str>) {
        self.files.lock().unwrap().insert(
            path.to_owned(),
            Served {
                content: content.to_vec(),
                last_modified,
            },
        );
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn answer(&self, stream: TcpStream) {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
        let mut reader = BufReader::new(&stream);
        let mut request = String::new();
        if reader.read_line(&mut request).is_err() {
            return;
        }
        // The headers, up to the empty line.
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        self.requests.fetch_add(1, Ordering::SeqCst);
        let target = request.split_whitespace().nth(1).unwrap_or("/");
        let path = target.split('?').next().unwrap_or_default();
        let served = self.files.lock().unwrap().get(path).cloned();
        let mut stream = &stream;
        let _ = match served {
            Some(file) => {
                let modified = file
                    .last_modified
                    .map(|date| format!("Last-Modified: {date}\r\n"))
                    .unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{modified}Connection: close\r\n\r\n",
                    file.content.len()
                );
                stream
                    .write_all(head.as_bytes())
                    .and_then(|()| stream.write_all(&file.content))
            }
            None => stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            ),
        };
    }
}

/// A tar holding `hello.txt`, to show that a downloaded archive is not unpacked.
fn a_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(6);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "hello.txt", &b"hello\n"[..])
        .expect("append");
    builder.into_inner().expect("a tar")
}

fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "build failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn add_of_a_url_downloads_it_as_docker_does() {
    require_root!();
    let server = Server::start();
    server.serve(
        "/files/hello.txt",
        b"hello\n",
        Some("Thu, 02 Jan 2020 03:04:05 GMT"),
    );
    server.serve("/undated.txt", b"no date\n", None);
    server.serve("/archive.tar", &a_tar(), None);
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        &format!(
            "FROM busybox\n\
             ADD {hello} /into/\n\
             ADD {hello}?v=1 /renamed\n\
             ADD {undated} /undated/\n\
             ADD {tar} /tar/\n\
             ADD --chown=5:6 {hello} /owned/\n",
            hello = server.url("/files/hello.txt"),
            undated = server.url("/undated.txt"),
            tar = server.url("/archive.tar"),
        ),
    );
    let output = bench.build(&["-t", "fetched"]).output().expect("build");
    assert_success(&output);
    let stat = bench.run(
        "fetched",
        &[
            "stat",
            "-c",
            "%n %a %u:%g %Y",
            "/into/hello.txt",
            "/renamed",
            "/undated/undated.txt",
            "/tar/archive.tar",
            "/owned/hello.txt",
        ],
    );
    // Mode 0600 whatever the server's was; the time from Last-Modified, or the epoch; the
    // tar not unpacked; --chown's owner.
    assert_eq!(
        stat,
        format!(
            "/into/hello.txt 600 0:0 {LAST_MODIFIED}\n\
             /renamed 600 0:0 {LAST_MODIFIED}\n\
             /undated/undated.txt 600 0:0 0\n\
             /tar/archive.tar 600 0:0 0\n\
             /owned/hello.txt 600 5:6 {LAST_MODIFIED}\n"
        )
    );
    assert_eq!(bench.run("fetched", &["cat", "/renamed"]), "hello\n");
    // docker's history names a URL's file by its digest, without `file:`.
    let history = bench
        .tool()
        .args(["history", "--no-trunc", "fetched"])
        .output()
        .expect("history");
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.contains(&format!("ADD {HELLO_SHA256} in /into/ ")),
        "{history}"
    );
    assert!(
        history.contains(&format!("ADD --chown=5:6{HELLO_SHA256} in /owned/ ")),
        "{history}"
    );
    assert!(bench.containers().is_empty(), "no container is left");
    assert_no_mounts_under(bench.dir.path());
}

#[test]
fn a_url_is_downloaded_on_every_build_and_cached_by_its_content() {
    require_root!();
    let server = Server::start();
    server.serve("/hello.txt", b"hello\n", None);
    let bench = Bench::new();
    let dockerfile = format!(
        "FROM busybox\nADD {} /\nRUN cat /hello.txt\n",
        server.url("/hello.txt")
    );
    bench.write("Dockerfile", &dockerfile);
    let first = bench.build_quiet(&[]);
    assert_eq!(server.requests(), 1);
    // The same content: downloaded again, and the cache used.
    let output = bench.build(&[]).output().expect("rebuild");
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("Using cache").count(), 2, "{text}");
    assert_eq!(server.requests(), 2);
    assert_eq!(bench.build_quiet(&[]), first);
    // Other content at the same URL: the step and the ones after it run again.
    server.serve("/hello.txt", b"changed\n", None);
    let output = bench.build(&["-t", "changed"]).output().expect("rebuild");
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("Using cache").count(), 0, "{text}");
    assert_eq!(bench.run("changed", &["cat", "/hello.txt"]), "changed\n");
}

#[test]
fn checksum_pins_the_content_and_spares_the_download_on_a_cache_hit() {
    require_root!();
    let server = Server::start();
    server.serve("/hello.txt", b"hello\n", None);
    let bench = Bench::new();
    let url = server.url("/hello.txt");
    bench.write(
        "Dockerfile",
        &format!("FROM busybox\nADD --checksum=sha256:{HELLO_SHA256} {url} /pinned/\n"),
    );
    let output = bench.build(&["-t", "pinned"]).output().expect("build");
    assert_success(&output);
    assert_eq!(server.requests(), 1);
    assert_eq!(
        bench.run("pinned", &["cat", "/pinned/hello.txt"]),
        "hello\n"
    );
    // A cache hit: the checksum stands for the content, nothing is downloaded.
    let output = bench.build(&[]).output().expect("rebuild");
    assert_success(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("Using cache"));
    assert_eq!(server.requests(), 1, "no download on a cache hit");

    // Another checksum: downloaded, refused naming both digests, nothing made.
    let wrong = "0".repeat(64);
    bench.write(
        "Dockerfile",
        &format!("FROM busybox\nADD --checksum=sha256:{wrong} {url} /pinned/\n"),
    );
    let output = bench.build(&[]).output().expect("build");
    assert!(!output.status.success(), "a wrong checksum fails the build");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "digest mismatch for {url}: downloaded sha256:{HELLO_SHA256}, --checksum says sha256:{wrong}"
        )),
        "{stderr}"
    );
    assert_eq!(server.requests(), 2);
    assert!(bench.containers().is_empty(), "no container is left");
    assert_no_mounts_under(bench.dir.path());
    let leftovers: Vec<_> = std::fs::read_dir(bench.root().join("tmp"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "no download is left behind: {leftovers:?}"
    );

    // A checksum that is no sha256, and one on a local file, are refused before anything.
    bench.write(
        "Dockerfile",
        &format!("FROM busybox\nADD --checksum=md5:abc {url} /\n"),
    );
    let output = bench.build(&[]).output().expect("build");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid checksum \"md5:abc\""),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    bench.write("local.txt", "local\n").write(
        "Dockerfile",
        &format!("FROM busybox\nADD --checksum=sha256:{HELLO_SHA256} local.txt /\n"),
    );
    let output = bench.build(&[]).output().expect("build");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("checksum can't be specified for non-HTTP(S) sources"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_url_that_is_not_there_fails_with_its_status() {
    require_root!();
    let server = Server::start();
    let bench = Bench::new();
    let url = server.url("/missing.txt");
    bench.write("Dockerfile", &format!("FROM busybox\nADD {url} /\n"));
    let output = bench.build(&[]).output().expect("build");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "ADD failed: failed to GET {url} with status 404 Not Found: not found"
        )),
        "{stderr}"
    );
    // A URL naming no file, into a directory: docker's message.
    let url = server.url("/");
    bench.write("Dockerfile", &format!("FROM busybox\nADD {url} /dir/\n"));
    server.serve("/", b"index", None);
    let output = bench.build(&[]).output().expect("build");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "ADD failed: cannot determine filename for source {url}"
        )),
        "{stderr}"
    );
}

#[test]
fn a_base_image_only_a_registry_has_is_pulled_and_pull_pulls_it_again() {
    require_root!();
    require_registry!();
    let registry = Registry::start();
    let image = format!("{}/base", registry.host());
    // Another store pushes its busybox to the registry.
    let pusher = Bench::new();
    pusher
        .tool()
        .args(["tag", "busybox", &image])
        .assert()
        .success();
    pusher.tool().args(["push", &image]).assert().success();

    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        &format!("FROM {image}\nRUN echo built > /built\n"),
    );
    let output = bench.build(&["-t", "pulled"]).output().expect("build");
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("latest: Pulling from base\n"), "{text}");
    assert!(
        text.contains(&format!(
            "Status: Downloaded newer image for {image}:latest\n"
        )),
        "{text}"
    );
    assert_eq!(bench.run("pulled", &["cat", "/built"]), "built\n");

    // Now the store has it: no pull, unless --pull.
    let output = bench.build(&[]).output().expect("rebuild");
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("Pulling"), "{text}");
    let output = bench.build(&["--pull"]).output().expect("rebuild");
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("latest: Pulling from base\n"), "{text}");
    assert!(
        text.contains(&format!("Status: Image is up to date for {image}:latest\n")),
        "{text}"
    );
    assert!(text.contains("Using cache"), "{text}");
    assert!(bench.containers().is_empty(), "no container is left");
}

#[test]
fn a_base_image_no_registry_has_fails_the_build_before_any_step() {
    require_root!();
    require_registry!();
    let registry = Registry::start();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        &format!("FROM {}/nothing\nRUN true\n", registry.host()),
    );
    let output = bench.build(&[]).output().expect("build");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("Step 1/2"), "{stdout}");
}
