//! A real OCI distribution registry on loopback, for the tests of `pull` and `push` (chapter
//! 04, part two): Debian's `docker-registry` package, the reference server
//! (`github.com/docker/distribution` 2.8), run as a child process of the test.
//!
//! Each [`Registry`] has its own temporary directory holding the config file this module
//! writes, the filesystem storage, the htpasswd file (with [`Registry::start_with_basic_auth`])
//! and the log of everything the server printed. It listens on a free port of 127.0.0.1 only,
//! never touches the network (no notifications, no pull-through proxy, no reporting, no redis)
//! and does no background work (upload purging off, no storage health checks). The system
//! service, its port 5000 and `/var/lib/docker-registry` are left alone.
//!
//! Tests may reach into the storage to damage it ([`Registry::blob_data_path`]), kill the
//! server in the middle of a transfer ([`Registry::kill`]) and bring it back on the same port
//! and storage ([`Registry::restart`]). The config sets a fixed `http.secret`, so an upload
//! started before a kill can be resumed after the restart (with the random secret the server
//! otherwise generates at each start, the old upload URLs answer 404 `BLOB_UPLOAD_INVALID`).
//!
//! [`http_request`] and [`http_get`] are a minimal HTTP/1.1 client over `std::net`, enough to
//! check what the server answers without an HTTP crate.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::in_ci;

/// The program Debian's `docker-registry` package installs.
const REGISTRY: &str = "docker-registry";

/// The realm of the Basic authentication challenge.
pub const REALM: &str = "dockyard-test";

/// The `http.secret` in every config, so that upload state survives a restart.
const HTTP_SECRET: &str = "dockyard-test-upload-state-secret";

/// How long a start or restart may take until `GET /v2/` answers; it takes a few tens of
/// milliseconds.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times a start tries again when the port turned out to be taken.
const START_ATTEMPTS: usize = 5;

/// How long `htpasswd` or `docker-registry --version` may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one connection of [`http_request`] may take to connect, and each read or write.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `docker-registry` and `htpasswd` are installed (and `htpasswd -B` works).
/// Otherwise fails under CI, or prints a visible notice and returns false so the test can
/// return early.
pub fn registry_or_skip(test: &str) -> bool {
    let registry = output_within(Command::new(REGISTRY).arg("--version"))
        .is_some_and(|out| out.status.success());
    let htpasswd = output_within(Command::new("htpasswd").args(["-nbB", "probe", "probe"]))
        .is_some_and(|out| out.status.success() && out.stdout.starts_with(b"probe:$2"));
    if registry && htpasswd {
        return true;
    }
    let why = "needs docker-registry (apt-get install docker-registry apache2-utils)";
    assert!(!in_ci(), "{test}: {why}, and CI=true forbids skipping");
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// Returns early from a test that needs `docker-registry` and `htpasswd` and cannot have them
/// (failing under CI).
#[macro_export]
macro_rules! require_registry {
    () => {
        if !$crate::registry::registry_or_skip(module_path!()) {
            return;
        }
    };
}

/// A `docker-registry serve` child process on `127.0.0.1:PORT`, killed and its temporary
/// directory removed when dropped.
#[derive(Debug)]
pub struct Registry {
    /// The running server; `None` after [`Registry::kill`].
    child: Option<Child>,
    /// Holds `config.yml`, `registry.log`, `storage/` and, with authentication, `htpasswd`.
    dir: tempfile::TempDir,
    /// The filesystem storage root, `DIR/storage`.
    storage: PathBuf,
    /// The port it listens on (the same after a restart).
    port: u16,
    /// The user and password it requires, if any (the readiness check sends them).
    credentials: Option<(String, String)>,
}

impl Registry {
    /// A registry with filesystem storage in its own temporary directory, on a free port of
    /// 127.0.0.1, without authentication. Returns once `GET /v2/` answers 200 (panics, with
    /// the server's log, if that takes longer than 10 s).
    pub fn start() -> Registry {
        Registry::launch(None)
    }

    /// Like [`Registry::start`], but every request needs HTTP Basic authentication as `user`
    /// with `password` (an htpasswd file with a bcrypt hash); see [`basic_auth_header`].
    /// Unauthenticated requests get 401 with `WWW-Authenticate: Basic realm="dockyard-test"`.
    pub fn start_with_basic_auth(user: &str, password: &str) -> Registry {
        Registry::launch(Some((user.to_string(), password.to_string())))
    }

    /// `127.0.0.1:PORT`, the registry's host as an image reference names it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The filesystem storage root. The server keeps everything under
    /// `docker/registry/v2/` there: `blobs/sha256/<2 hex>/<hex>/data`, and
    /// `repositories/<name>/` with `_layers/`, `_manifests/` (tags and revisions, links to
    /// blobs) and `_uploads/` (uploads in progress).
    pub fn storage(&self) -> &Path {
        &self.storage
    }

    /// Where the content of the blob with this digest is stored (the file may not exist).
    /// `digest` is the 64 hex digits of a SHA-256 digest, with or without `sha256:`.
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{digest:?} is not a SHA-256 digest (64 hex digits)"
        );
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Kills the server at once (SIGKILL, as a crash or a power cut would) and waits for it.
    /// The port then refuses connections. Does nothing if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means it has exited already; `wait` reaps it either way.
            let _already_exited = child.kill();
            child.wait().expect("wait for docker-registry");
        }
    }

    /// Starts the server again on the same port with the same storage and credentials (it is
    /// killed first if it is still running). Returns once `GET /v2/` answers again; panics if
    /// the port has been taken meanwhile or the server is not up within 10 s.
    pub fn restart(&mut self) {
        self.kill();
        for attempt in 1..=START_ATTEMPTS {
            match self.spawn_and_wait(&format!("restart (attempt {attempt})")) {
                Ok(()) => return,
                // Someone else's listener took the port after the kill; it may be brief.
                Err(PortTaken) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        panic!(
            "restart docker-registry: {} stayed in use by another process\n{}",
            self.host(),
            self.log()
        );
    }

    /// Everything the server printed (stdout and stderr, every run since the start), for
    /// failure messages. The log level is `info`: one line per request, with its status.
    pub fn log(&self) -> String {
        let bytes = fs::read(self.log_path()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Writes the config, picks a free port and starts the server, trying again with another
    /// port if the one picked was taken before the server could bind it.
    fn launch(credentials: Option<(String, String)>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("dockyard-registry-")
            .tempdir()
            .expect("create a temporary directory for the registry");
        let storage = dir.path().join("storage");
        fs::create_dir(&storage).expect("create the registry's storage directory");
        if let Some((user, password)) = &credentials {
            write_htpasswd(&dir.path().join("htpasswd"), user, password);
        }
        let mut registry = Registry {
            child: None,
            dir,
            storage,
            port: 0,
            credentials,
        };
        for attempt in 1..=START_ATTEMPTS {
            registry.port = free_port();
            registry.write_config();
            match registry.spawn_and_wait(&format!("start (attempt {attempt})")) {
                Ok(()) => return registry,
                Err(PortTaken) => continue,
            }
        }
        panic!(
            "start docker-registry: {START_ATTEMPTS} free ports in a row were taken before it \
             could listen\n{}",
            registry.log()
        );
    }

    /// Writes `DIR/config.yml` for the current port.
    fn write_config(&self) {
        let htpasswd = self
            .credentials
            .as_ref()
            .map(|_| self.dir.path().join("htpasswd"));
        let text = config_yaml(self.port, &self.storage, htpasswd.as_deref());
        let path = self.config_path();
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Starts `docker-registry serve DIR/config.yml` with its output appended to the log, and
    /// waits until it says it listens on our port and `GET /v2/` answers 200. `Err` if the
    /// port was in use; panics, with the log, on any other failure.
    fn spawn_and_wait(&mut self, what: &str) -> Result<(), PortTaken> {
        let log_path = self.log_path();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("open {}: {e}", log_path.display()));
        writeln!(log, "--- dockyard-tests: {what} on {} ---", self.host()).expect("write the log");
        let from = log.metadata().expect("stat the log").len() as usize;
        let stderr = log.try_clone().expect("duplicate the log descriptor");

        let mut command = Command::new(REGISTRY);
        command
            .arg("serve")
            .arg(self.config_path())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        // REGISTRY_* variables override the config file (REGISTRY_HTTP_ADDR and so on).
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRY_") {
                command.env_remove(name);
            }
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("start {REGISTRY}: {e} (apt-get install docker-registry apache2-utils)")
        });
        self.child = Some(child);

        let listening = format!("listening on {}", self.host());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let new_output = || {
                let all = fs::read(&log_path).unwrap_or_default();
                String::from_utf8_lossy(all.get(from..).unwrap_or_default()).into_owned()
            };
            let child = self.child.as_mut().expect("the registry was just started");
            if let Some(status) = child.try_wait().expect("poll docker-registry") {
                self.child = None;
                if new_output().contains("address already in use") {
                    return Err(PortTaken);
                }
                panic!(
                    "docker-registry exited during its {what} ({status}):\n{}",
                    self.log()
                );
            }
            // Only once our server has bound the port can the answer be its own (another
            // test's registry might have picked the same port).
            if new_output().contains(&listening) && self.answers_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                panic!(
                    "docker-registry did not answer GET /v2/ on {} within {START_TIMEOUT:?} \
                     ({what}):\n{}",
                    self.host(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether `GET /v2/` (with the credentials, if any) answers 200.
    fn answers_ok(&self) -> bool {
        let authorization = self
            .credentials
            .as_ref()
            .map(|(user, password)| basic_auth_header(user, password));
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("Authorization", value.as_str()))
            .collect();
        http_get(&self.host(), "/v2/", &headers).is_ok_and(|response| response.status == 200)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yml")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }
}

impl Drop for Registry {
    /// Kills the server and waits for it; the temporary directory goes with the `TempDir`.
    /// When the test is failing, the end of the server's log goes to stderr first.
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            eprintln!(
                "docker-registry on {} logged (last 40 lines):\n{tail}",
                self.host()
            );
        }
    }
}

/// The port was in use when the server tried to listen on it.
#[derive(Debug)]
struct PortTaken;

/// A port of 127.0.0.1 that nothing listens on right now: the kernel picks it for a listener
/// that is closed at once. Someone else may take it before the server binds it, hence the
/// retries of [`Registry::start`].
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a listener on 127.0.0.1:0");
    listener
        .local_addr()
        .expect("the listener's address")
        .port()
}

/// The config file of a registry on `127.0.0.1:port` storing under `storage`, requiring the
/// users of `htpasswd` if given.
fn config_yaml(port: u16, storage: &Path, htpasswd: Option<&Path>) -> String {
    let mut text = format!(
        "# Written by dockyard-tests (tests/src/registry.rs) for one test's registry.
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: {HTTP_SECRET}
  headers:
    X-Content-Type-Options: [nosniff]
",
        storage = yaml_string(storage),
    );
    if let Some(htpasswd) = htpasswd {
        text.push_str(&format!(
            "auth:
  htpasswd:
    realm: {REALM}
    path: {path}
",
            path = yaml_string(htpasswd),
        ));
    }
    text
}

/// A path as a single-quoted YAML scalar (a quote inside is doubled).
fn yaml_string(path: &Path) -> String {
    let text = path.to_str().expect("a temporary path that is UTF-8");
    format!("'{}'", text.replace('\'', "''"))
}

/// Writes an htpasswd file with one user whose password is hashed with bcrypt (`htpasswd
/// -B`), the only hash docker-registry accepts.
fn write_htpasswd(path: &Path, user: &str, password: &str) {
    assert!(
        !user.contains(':'),
        "an htpasswd user name cannot contain ':' ({user:?})"
    );
    let out = output_within(Command::new("htpasswd").args(["-nbB", user, password]))
        .expect("htpasswd ran and finished (apt-get install apache2-utils)");
    assert!(
        out.status.success(),
        "htpasswd -nbB failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // `-n` prints the line and a blank line; keep the one line.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().unwrap_or_default();
    fs::write(path, format!("{line}\n"))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Runs `command` with no input and its output captured; `None` if it cannot be started or
/// does not finish within [`COMMAND_TIMEOUT`] (it is then killed).
fn output_within(command: &mut Command) -> Option<Output> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let pid = child.id() as i32;
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match result.recv_timeout(COMMAND_TIMEOUT) {
        Ok(output) => output.ok(),
        Err(_) => {
            // SAFETY: kill has no memory-safety preconditions; the waiting thread reaps it.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            None
        }
    }
}

/// The value of an `Authorization` header for HTTP Basic authentication (RFC 7617):
/// `Basic ` and the base64 of `user:password`.
pub fn basic_auth_header(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 (RFC 4648, with `=` padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An HTTP response as [`http_request`] read it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code (200, 401, ...).
    pub status: u16,
    /// The status line, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The header fields in the order received, names as sent (Go writes them in canonical
    /// form: `Www-Authenticate`, `Docker-Distribution-Api-Version`).
    pub headers: Vec<(String, String)>,
    /// The body, with a chunked transfer coding undone.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header field named `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` from `host` (`127.0.0.1:PORT`) with extra `headers`; see [`http_request`].
pub fn http_get(host: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<HttpResponse> {
    http_request("GET", host, path, headers, &[])
}

/// Sends one HTTP/1.1 request on a new connection (`Connection: close`; `Content-Length` when
/// there is a body) and reads the whole response. Connecting, and each read and write, time
/// out after 5 s. A refused connection is an error of kind `ConnectionRefused`.
pub fn http_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let address = host.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("no address: {host}"))
    })?;
    let mut stream = TcpStream::connect_timeout(&address, HTTP_TIMEOUT)?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: dockyard-tests\r\n\
         Connection: close\r\n"
    );
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw, method == "HEAD")
}

/// Splits a whole response into status, header fields and body.
fn parse_response(raw: &[u8], head_only: bool) -> io::Result<HttpResponse> {
    let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of the response head"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_string();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status code in the status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let mut response = HttpResponse {
        status,
        status_line,
        headers,
        body: Vec::new(),
    };
    let rest = &raw[end + 4..];
    response.body = if head_only {
        Vec::new()
    } else if response
        .header("Transfer-Encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest).ok_or_else(|| invalid("a malformed chunked body"))?
    } else {
        rest.to_vec()
    };
    Ok(response)
}

/// Undoes the chunked transfer coding (chunk extensions and trailers ignored).
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size_hex = size_field.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// Uploads `content` as a blob of `repository` through `host` (a registry or a proxy in front
/// of one) with extra `headers`: a POST that opens the upload, a PUT with the whole content
/// that closes it (distribution 2.8 ignores a body sent with the POST). Returns the digest,
/// `sha256:<hex>`; panics on any other answer.
pub fn upload_blob(
    host: &str,
    repository: &str,
    content: &[u8],
    headers: &[(&str, &str)],
) -> String {
    use sha2::{Digest as _, Sha256};
    let hex: String = Sha256::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let digest = format!("sha256:{hex}");
    let start = format!("/v2/{repository}/blobs/uploads/");
    let response = http_request("POST", host, &start, headers, &[]).expect("start an upload");
    assert_eq!(response.status, 202, "{response:?}");
    let location = response.header("Location").expect("the upload's Location");
    // The server answers with an absolute URL built from the request's Host header.
    let path = location
        .strip_prefix(&format!("http://{host}"))
        .unwrap_or_else(|| panic!("{location} is not on {host}"));
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut put_headers = vec![("Content-Type", "application/octet-stream")];
    put_headers.extend_from_slice(headers);
    let response = http_request(
        "PUT",
        host,
        &format!("{path}{separator}digest={digest}"),
        &put_headers,
        content,
    )
    .expect("finish the upload");
    assert_eq!(response.status, 201, "{response:?}");
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "base64 of {input:?}");
        }
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let response = parse_response(raw, false).expect("a valid response");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"abcde");
    }
}
