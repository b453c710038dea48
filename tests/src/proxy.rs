//! A test proxy in front of a [`Registry`] that does to the traffic what real registries and
//! networks do and the reference registry's filesystem storage never does: token
//! authentication like Docker Hub's, blobs redirected to a storage host, connections dropped
//! in the middle of a blob, and servers failing with `503` for a while. See [`Faults`].
//!
//! The proxy listens on a free port of 127.0.0.1, speaks plain HTTP/1.1 over `std::net`, one
//! thread per connection, and answers every request with `Connection: close` before closing
//! the connection (a keep-alive client reconnects). It forwards each request it does not
//! answer itself to the registry on a fresh connection, with `Host` set to the registry's and
//! `Connection: close`; a request body (sent with `Content-Length`, or chunked) is read whole
//! first and forwarded with `Content-Length`. `Location` headers that point at the registry
//! are rewritten to point at the proxy. Every socket operation has a time limit, and dropping
//! the proxy stops it and waits (a bounded time) for its threads.
//!
//! Everything the proxy saw is kept for assertions: [`Proxy::requests`] (or
//! [`Proxy::seen`], the same as values) and [`Proxy::token_requests`].
//!
//! Bodies are held in memory, whole: the proxy is meant for test images of a few megabytes.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::registry::Registry;

/// The `service` of the Bearer challenge; the token service refuses any other.
pub const SERVICE: &str = "dockyard-test";

/// How long connecting to the registry, and each read or write of a connection, may take.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long dropping the proxy waits for the threads still serving a connection (longer than
/// [`IO_TIMEOUT`], which bounds each of their steps); after that they are left to finish.
const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// How often the accepting thread looks for a new connection or the order to stop.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

/// The largest request or response head (request line or status line, and header fields).
const MAX_HEAD: u64 = 64 * 1024;

/// The largest body read into memory.
const MAX_BODY: u64 = 1 << 30;

/// What the proxy does to the traffic; `Faults::default()` does nothing (a plain proxy).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Behave like Docker Hub: every `/v2/` request without a valid token gets `401` and
    /// `Www-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",service="dockyard-test",
    /// scope="repository:<name>:<actions>"` (no scope for `/v2/` itself, as Hub does), and
    /// `GET /token?service=dockyard-test&scope=...` issues tokens. A token is accepted for a
    /// repository's request only if it was issued for a scope naming that repository and the
    /// action (`pull` for `GET` and `HEAD`, `push` for the others); for `/v2/` itself, any
    /// token issued is accepted. Tokens are never forwarded to the registry.
    pub bearer: Option<BearerAuth>,
    /// `GET /v2/<name>/blobs/<digest>` of a blob the registry has answers `307` with
    /// `Location: http://127.0.0.1:PORT/storage/<digest>?sig=<random>`, like a registry whose
    /// blobs are on a storage service. That path serves the blob (fetched from the registry;
    /// `Range` requests too) to anyone with the signature, and refuses with `400` a request
    /// that carries an `Authorization` header: the registry's credentials must not leak to
    /// blob storage. `HEAD` requests of blobs are forwarded as they are.
    pub redirect_blobs: bool,
    /// The first response with the content of each blob (by digest: a `GET` of
    /// `/v2/<name>/blobs/<digest>`, or of its storage URL) announces its whole length but the
    /// connection is closed after this many bytes of the body. Blob `GET`s are served by the
    /// proxy itself from the whole blob, fetched from the registry: `Range: bytes=N-` (or
    /// `bytes=N-M`) gets `206 Partial Content` with `Content-Range`.
    pub drop_blob_after: Option<u64>,
    /// The first this many requests of a `/v2/` path get `503 Service Unavailable` (before
    /// authentication is checked). Counted from the start or from [`Proxy::set_faults`].
    pub fail_first: u32,
}

/// How the token service of [`Faults::bearer`] authenticates.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BearerAuth {
    /// The user name and password the token service requires (HTTP Basic); without them, or
    /// with others, it answers `401`. `None`: anyone gets a token, anonymously (as Docker Hub
    /// does for public images); Basic credentials sent anyway are recorded, not checked.
    pub credentials: Option<(String, String)>,
}

impl BearerAuth {
    /// A token service that gives tokens to anyone.
    pub fn anonymous() -> BearerAuth {
        BearerAuth { credentials: None }
    }

    /// A token service that gives tokens only to `user` with `password`.
    pub fn user(user: &str, password: &str) -> BearerAuth {
        BearerAuth {
            credentials: Some((user.to_string(), password.to_string())),
        }
    }
}

impl fmt::Debug for BearerAuth {
    /// The user, never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.credentials {
            Some((user, _)) => write!(f, "BearerAuth {{ user: {user:?}, password: <redacted> }}"),
            None => write!(f, "BearerAuth {{ anonymous }}"),
        }
    }
}

/// One request the proxy received, as [`Proxy::seen`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The request line: `GET /v2/ HTTP/1.1`.
    pub line: String,
    /// The method: `GET`.
    pub method: String,
    /// The request target, with its query: `/v2/test/busybox/blobs/sha256:...`.
    pub target: String,
    /// The scheme of its `Authorization` header (`Basic`, `Bearer`, ...), if it had one.
    pub authorization: Option<String>,
    /// Its `Range` header, if any: `bytes=100000-`.
    pub range: Option<String>,
    /// How its body came: `none`, `length N` (`Content-Length`), or `chunked`; with
    /// `, expect 100-continue` if it asked for that.
    pub body: String,
    /// The status the proxy answered, or 0 if it did not answer (the registry could not be
    /// reached, or the client went away).
    pub status: u16,
}

impl fmt::Display for Seen {
    /// `GET /v2/ HTTP/1.1 auth=Bearer -> 200`, with ` range=bytes=N-` after the
    /// authorization when the request had a `Range` header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} auth={}",
            self.line,
            self.authorization.as_deref().unwrap_or("none")
        )?;
        if let Some(range) = &self.range {
            write!(f, " range={range}")?;
        }
        write!(f, " -> {}", self.status)
    }
}

/// A proxy on `127.0.0.1:PORT` in front of a registry; stopped when dropped.
#[derive(Debug)]
pub struct Proxy {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the proxy's threads share.
#[derive(Debug)]
struct Shared {
    /// The proxy's own `127.0.0.1:PORT`.
    host: String,
    /// The registry's `127.0.0.1:PORT`.
    upstream: String,
    state: Mutex<State>,
    /// The threads serving connections (finished ones are pruned as new ones come).
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// For random tokens and signatures.
    counter: AtomicU64,
}

/// The faults and what the proxy remembers.
#[derive(Debug, Default)]
struct State {
    faults: Faults,
    /// How many more `/v2/` requests get `503`.
    fail_left: u32,
    /// The digests whose first content response was cut.
    cut: HashSet<String>,
    /// Tokens issued, and the scopes each was issued for.
    tokens: HashMap<String, Vec<String>>,
    /// Storage signatures handed out: signature to (repository, digest).
    signatures: HashMap<String, (String, String)>,
    seen: Vec<Seen>,
    token_requests: Vec<String>,
}

impl Proxy {
    /// A proxy in front of `upstream` (by its host: the proxy keeps working across
    /// [`Registry::restart`]), doing `faults`. Returns once it listens.
    pub fn start(upstream: &Registry, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy on 127.0.0.1:0");
        let port = listener.local_addr().expect("the proxy's address").port();
        listener
            .set_nonblocking(true)
            .expect("make the proxy's listener non-blocking");
        let shared = Arc::new(Shared {
            host: format!("127.0.0.1:{port}"),
            upstream: upstream.host(),
            state: Mutex::new(State {
                fail_left: faults.fail_first,
                faults,
                ..State::default()
            }),
            workers: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(format!("proxy-{port}"))
                .spawn(move || accept_loop(&listener, &shared, &stop))
                .expect("start the proxy's thread")
        };
        Proxy {
            shared,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// `127.0.0.1:PORT`, the proxy's host as an image reference names it.
    pub fn host(&self) -> String {
        self.shared.host.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.host)
    }

    /// Replaces the faults from now on: the count of [`Faults::fail_first`] starts again, and
    /// each blob's first response is cut again. Tokens already issued stay valid.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.shared.state();
        state.fail_left = faults.fail_first;
        state.faults = faults;
        state.cut.clear();
    }

    /// Every request received, in the order they came, as [`Seen`] displays it:
    /// `GET /v2/test/busybox/manifests/v1 HTTP/1.1 auth=Bearer -> 200`,
    /// `GET /v2/... HTTP/1.1 auth=none range=bytes=100000- -> 206`.
    pub fn requests(&self) -> Vec<String> {
        self.seen().iter().map(Seen::to_string).collect()
    }

    /// Every request received, in the order they came.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.state().seen.clone()
    }

    /// Every token the token service issued, for checking that none is shown.
    pub fn tokens(&self) -> Vec<String> {
        self.shared.state().tokens.keys().cloned().collect()
    }

    /// Every request of the token service, in order: the scopes asked (space-separated;
    /// `(no scope)` if none), then `user=<name>` for Basic credentials (right or wrong) or
    /// `anonymous`: `repository:test/busybox:pull,push user=tester`.
    pub fn token_requests(&self) -> Vec<String> {
        self.shared.state().token_requests.clone()
    }
}

impl Drop for Proxy {
    /// Stops accepting connections and waits up to 15 s for the connections being served.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            // The thread polls the flag every few milliseconds; a panic in it was reported.
            let _ = acceptor.join();
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        let deadline = Instant::now() + JOIN_TIMEOUT;
        for worker in workers {
            while !worker.is_finished() && Instant::now() < deadline {
                std::thread::sleep(ACCEPT_POLL);
            }
            if worker.is_finished() {
                let _ = worker.join();
            } else {
                eprintln!(
                    "proxy {}: a connection is still being served",
                    self.shared.host
                );
            }
        }
    }
}

/// Locks a mutex, even one a panicking thread held (the data is records, still usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// 32 hex digits no one can guess: a fresh `RandomState` (seeded by the OS) hashing a
    /// counter and the time.
    fn random(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut out = String::new();
        for part in 0..2u8 {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(n);
            hasher.write_u128(now);
            hasher.write_u8(part);
            out.push_str(&format!("{:016x}", hasher.finish()));
        }
        out
    }
}

/// Accepts connections until told to stop, each served by a thread of its own.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let worker_shared = Arc::clone(shared);
                let spawned = std::thread::Builder::new()
                    .name("proxy-connection".into())
                    .spawn(move || serve_connection(stream, &worker_shared));
                match spawned {
                    Ok(handle) => {
                        let mut workers = lock(&shared.workers);
                        let (done, running): (Vec<_>, Vec<_>) =
                            workers.drain(..).partition(|w| w.is_finished());
                        *workers = running;
                        drop(workers);
                        for worker in done {
                            let _ = worker.join();
                        }
                        lock(&shared.workers).push(handle);
                    }
                    Err(error) => {
                        eprintln!("proxy {}: cannot start a thread: {error}", shared.host)
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(ACCEPT_POLL);
            }
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
}

/// A request or response head: its first line and header fields.
#[derive(Debug, Clone)]
struct Head {
    line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    /// The value of the first field named `name` (case-insensitively).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_chunked(&self) -> bool {
        self.header("Transfer-Encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
    }

    fn content_length(&self) -> io::Result<Option<u64>> {
        self.header("Content-Length")
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| invalid("a bad Content-Length"))
            })
            .transpose()
    }
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

/// Reads a head, up to the empty line; `None` if the connection closed before any byte.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut lines = Vec::new();
    let mut total = 0u64;
    loop {
        let mut line = Vec::new();
        let n = reader.take(MAX_HEAD - total).read_until(b'\n', &mut line)?;
        total += n as u64;
        if n == 0 {
            if lines.is_empty() {
                return Ok(None);
            }
            return Err(invalid("the connection closed in the middle of a head"));
        }
        if !line.ends_with(b"\n") {
            return Err(invalid("a head too long"));
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.is_empty() {
            if lines.is_empty() {
                continue; // a stray empty line before a request is allowed (RFC 9112 2.2)
            }
            break;
        }
        lines.push(text);
    }
    let line = lines.remove(0);
    let headers = lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Some(Head { line, headers }))
}

/// Reads a body framed by `head`: chunked, by `Content-Length`, or (`to_close`, for a
/// response) until the connection closes; none otherwise.
fn read_body(reader: &mut impl BufRead, head: &Head, to_close: bool) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head.is_chunked() {
        loop {
            let mut size_line = Vec::new();
            reader.take(4096).read_until(b'\n', &mut size_line)?;
            let text = String::from_utf8_lossy(&size_line);
            let hex = text.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(hex, 16).map_err(|_| invalid("a bad chunk size"))?;
            if size == 0 {
                // Trailer fields, up to the empty line.
                while read_line(reader)?.is_some_and(|l| !l.is_empty()) {}
                return Ok(body);
            }
            if body.len() as u64 + size > MAX_BODY {
                return Err(invalid("a body too large"));
            }
            let start = body.len();
            reader.take(size).read_to_end(&mut body)?;
            if ((body.len() - start) as u64) < size {
                return Err(invalid("the connection closed in the middle of a chunk"));
            }
            read_line(reader)?; // the CRLF after the chunk
        }
    }
    match head.content_length()? {
        Some(length) if length > MAX_BODY => Err(invalid("a body too large")),
        Some(length) => {
            reader.take(length).read_to_end(&mut body)?;
            if (body.len() as u64) < length {
                return Err(invalid("the connection closed in the middle of a body"));
            }
            Ok(body)
        }
        None if to_close => {
            reader.take(MAX_BODY).read_to_end(&mut body)?;
            Ok(body)
        }
        None => Ok(body),
    }
}

/// One line without its CRLF; `None` at the end of the stream.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    if reader.take(MAX_HEAD).read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(
        String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string(),
    ))
}

/// A response the proxy sends.
#[derive(Debug)]
struct Reply {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The `Content-Length` to announce when it is not the body's (a `HEAD` response).
    length: Option<u64>,
    /// Close the connection after this many bytes of the body (a dropped connection).
    cut_after: Option<u64>,
}

impl Reply {
    fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Reply {
        Reply {
            status,
            reason: reason(status).to_string(),
            headers,
            body,
            length: None,
            cut_after: None,
        }
    }

    /// A distribution-style JSON error: `{"errors":[{"code":..,"message":..}]}`.
    fn error(status: u16, code: &str, message: &str, mut headers: Vec<(String, String)>) -> Reply {
        headers.push((
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ));
        headers.push(api_version());
        let body = format!(
            r#"{{"errors":[{{"code":"{code}","message":"{}"}}]}}"#,
            json_escape(message)
        );
        Reply::new(status, headers, body.into_bytes())
    }

    /// A plain-text answer.
    fn text(status: u16, message: &str) -> Reply {
        let headers = vec![("Content-Type".into(), "text/plain; charset=utf-8".into())];
        Reply::new(status, headers, format!("{message}\n").into_bytes())
    }
}

/// `Docker-Distribution-Api-Version: registry/2.0`, which registries send on `/v2/` answers.
fn api_version() -> (String, String) {
    (
        "Docker-Distribution-Api-Version".into(),
        "registry/2.0".into(),
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn json_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Writes `reply` with `Content-Length` and `Connection: close`; the body is left out for a
/// `HEAD` request and cut short if asked.
fn write_reply(stream: &mut TcpStream, reply: &Reply, head_only: bool) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reply.reason);
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    let length = reply.length.unwrap_or(reply.body.len() as u64);
    out.push_str(&format!(
        "Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ));
    let mut bytes = out.into_bytes();
    if !head_only {
        let end = reply.cut_after.map_or(reply.body.len(), |n| {
            n.min(reply.body.len() as u64) as usize
        });
        bytes.extend_from_slice(&reply.body[..end]);
    }
    stream.write_all(&bytes)?;
    stream.flush()
}

/// A request as received.
#[derive(Debug)]
struct Request {
    head: Head,
    method: String,
    target: String,
    /// The target's path, without the query.
    path: String,
    query: String,
    body: Vec<u8>,
}

/// Serves one connection: one request, one answer, then the connection is closed.
fn serve_connection(stream: TcpStream, shared: &Shared) {
    // A client that goes away or sends garbage just loses its connection.
    let _ = serve(stream, shared);
}

fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(head) = read_head(&mut reader)? else {
        return Ok(());
    };
    let mut parts = head.line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (target.clone(), String::new()),
    };
    let expects_continue = head
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    let framing = if head.is_chunked() {
        "chunked".to_string()
    } else {
        match head.content_length()? {
            Some(n) => format!("length {n}"),
            None => "none".to_string(),
        }
    };
    let index = {
        let mut state = shared.state();
        state.seen.push(Seen {
            line: head.line.clone(),
            method: method.clone(),
            target: target.clone(),
            authorization: head
                .header("Authorization")
                .map(|a| a.split(' ').next().unwrap_or_default().to_string()),
            range: head.header("Range").map(str::to_string),
            body: match expects_continue {
                true => format!("{framing}, expect 100-continue"),
                false => framing,
            },
            status: 0,
        });
        state.seen.len() - 1
    };
    if expects_continue {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = read_body(&mut reader, &head, false)?;
    let request = Request {
        head,
        method,
        target,
        path,
        query,
        body,
    };
    let head_only = request.method == "HEAD";
    let reply = match route(shared, &request) {
        Ok(reply) => reply,
        Err(error) => Reply::text(
            502,
            &format!("the proxy could not reach the registry: {error}"),
        ),
    };
    shared.state().seen[index].status = reply.status;
    write_reply(&mut stream, &reply, head_only)?;
    if reply.cut_after.is_some() {
        stream.shutdown(Shutdown::Both)?;
    } else {
        stream.shutdown(Shutdown::Write)?;
    }
    Ok(())
}

/// What a request gets: the token service, blob storage, or the registry's API (with the
/// faults), or `404`.
fn route(shared: &Shared, request: &Request) -> io::Result<Reply> {
    if request.path == "/token" {
        return Ok(token_service(shared, request));
    }
    if let Some(digest) = request.path.strip_prefix("/storage/") {
        return storage(shared, request, digest);
    }
    if request.path != "/v2" && !request.path.starts_with("/v2/") {
        return Ok(Reply::text(
            404,
            "the proxy serves /v2/, /token and /storage/",
        ));
    }
    let faults = {
        let mut state = shared.state();
        if state.fail_left > 0 {
            state.fail_left -= 1;
            return Ok(Reply::error(
                503,
                "UNAVAILABLE",
                "service unavailable",
                Vec::new(),
            ));
        }
        state.faults.clone()
    };
    let repository = repository_of(&request.path);
    let action = match request.method.as_str() {
        "GET" | "HEAD" => "pull",
        _ => "push",
    };
    if faults.bearer.is_some() && !token_valid(shared, request, repository.as_deref(), action) {
        return Ok(challenge(shared, repository.as_deref(), action));
    }
    if let Some((name, digest)) = blob_of(&request.path)
        && request.method == "GET"
    {
        if faults.redirect_blobs {
            return redirect(shared, request, &name, &digest, &faults);
        }
        if faults.drop_blob_after.is_some() {
            return serve_blob(shared, request, &name, &digest, &faults, true);
        }
    }
    forward(shared, request, faults.bearer.is_some())
}

/// The repository a `/v2/<name>/{manifests,blobs,tags}/...` path names.
fn repository_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v2/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let at = parts
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, p)| matches!(**p, "manifests" | "blobs" | "tags"))
        .map(|(i, _)| i)?;
    Some(parts[..at].join("/"))
}

/// The repository and digest of a `/v2/<name>/blobs/<digest>` path (not an upload's).
fn blob_of(path: &str) -> Option<(String, String)> {
    let name = repository_of(path)?;
    let rest = path.strip_prefix(&format!("/v2/{name}/blobs/"))?;
    (rest.contains(':') && !rest.contains('/')).then(|| (name, rest.to_string()))
}

/// Whether the request carries a token this proxy issued for the repository and action.
fn token_valid(shared: &Shared, request: &Request, repository: Option<&str>, action: &str) -> bool {
    let Some(token) = request
        .head
        .header("Authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    else {
        return false;
    };
    let state = shared.state();
    let Some(scopes) = state.tokens.get(token.trim()) else {
        return false;
    };
    let Some(repository) = repository else {
        return true; // `/v2/` and the like: any token of ours
    };
    scopes.iter().any(|scope| {
        let Some((kind_name, actions)) = scope.rsplit_once(':') else {
            return false;
        };
        kind_name == format!("repository:{repository}")
            && actions.split(',').any(|a| a == action || a == "*")
    })
}

/// `401` with Docker Hub's challenge and error body.
fn challenge(shared: &Shared, repository: Option<&str>, action: &str) -> Reply {
    let realm = format!("http://{}/token", shared.host);
    let mut value = format!(r#"Bearer realm="{realm}",service="{SERVICE}""#);
    let actions = if action == "pull" {
        "pull"
    } else {
        "pull,push"
    };
    if let Some(repository) = repository {
        value.push_str(&format!(r#",scope="repository:{repository}:{actions}""#));
    }
    let headers = vec![("Www-Authenticate".to_string(), value)];
    Reply::error(401, "UNAUTHORIZED", "authentication required", headers)
}

/// `GET /token?service=...&scope=...`: a token for the scopes asked, if the credentials are
/// right.
fn token_service(shared: &Shared, request: &Request) -> Reply {
    let params = query_params(&request.query);
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let service = params
        .iter()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.clone());
    let authorization = request.head.header("Authorization");
    let basic = authorization
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| base64_decode(b.trim()))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let user = basic
        .as_deref()
        .map(|b| b.split_once(':').map_or(b, |(user, _)| user).to_string());
    let mut state = shared.state();
    state.token_requests.push(format!(
        "{} {}",
        if scopes.is_empty() {
            "(no scope)".to_string()
        } else {
            scopes.join(" ")
        },
        user.as_ref()
            .map_or("anonymous".to_string(), |u| format!("user={u}"))
    ));
    let Some(bearer) = state.faults.bearer.clone() else {
        return Reply::text(
            404,
            "no token service: the proxy does not do Bearer authentication",
        );
    };
    if request.method != "GET" {
        return Reply::text(405, "the token service answers GET");
    }
    if service.as_deref() != Some(SERVICE) {
        return Reply::text(
            400,
            &format!("unknown service {service:?}: it is {SERVICE:?}"),
        );
    }
    if let Some((user, password)) = &bearer.credentials
        && basic.as_deref() != Some(&format!("{user}:{password}"))
    {
        let headers = vec![
            (
                "Www-Authenticate".to_string(),
                format!(r#"Basic realm="{SERVICE} token service""#),
            ),
            ("Content-Type".into(), "application/json".into()),
        ];
        let body = br#"{"details":"incorrect username or password"}"#.to_vec();
        return Reply::new(401, headers, body);
    }
    drop(state);
    let token = shared.random();
    shared.state().tokens.insert(token.clone(), scopes);
    let body = format!(r#"{{"token":"{token}","access_token":"{token}","expires_in":300}}"#);
    Reply::new(
        200,
        vec![("Content-Type".into(), "application/json".into())],
        body.into_bytes(),
    )
}

/// `key=value` pairs of a query string, percent-decoded (`+` is a space).
fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 (with or without padding); `None` if it is not.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `307` to the blob's storage URL, if the registry has the blob (otherwise the registry's
/// own answer).
fn redirect(
    shared: &Shared,
    request: &Request,
    name: &str,
    digest: &str,
    faults: &Faults,
) -> io::Result<Reply> {
    let path = format!("/v2/{name}/blobs/{digest}");
    let exists = upstream(shared, "HEAD", &path, &[], &[])?;
    if exists.status != 200 {
        return forward(shared, request, faults.bearer.is_some());
    }
    let signature = shared.random();
    shared
        .state()
        .signatures
        .insert(signature.clone(), (name.to_string(), digest.to_string()));
    let location = format!("http://{}/storage/{digest}?sig={signature}", shared.host);
    let headers = vec![("Location".into(), location), api_version()];
    Ok(Reply::new(307, headers, Vec::new()))
}

/// `/storage/<digest>?sig=...`: the blob, to a request without `Authorization` that has the
/// signature a redirect gave.
fn storage(shared: &Shared, request: &Request, digest: &str) -> io::Result<Reply> {
    if request.head.header("Authorization").is_some() {
        return Ok(Reply::text(
            400,
            "blob storage refuses a request with an Authorization header: a client must not \
             send its registry credentials to another host",
        ));
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Ok(Reply::text(405, "blob storage answers GET and HEAD"));
    }
    let params = query_params(&request.query);
    let signature = params
        .iter()
        .find(|(k, _)| k == "sig")
        .map(|(_, v)| v.as_str());
    let signed = signature.and_then(|s| shared.state().signatures.get(s).cloned());
    let Some((name, signed_digest)) = signed else {
        return Ok(Reply::text(403, "no valid signature"));
    };
    if signed_digest != digest {
        return Ok(Reply::text(403, "the signature is for another blob"));
    }
    let faults = shared.state().faults.clone();
    serve_blob(shared, request, &name, digest, &faults, false)
}

/// The blob, whole (`200`) or the part a `Range: bytes=N-[M]` asks (`206`), from the whole
/// blob fetched from the registry; its first content response is cut if the faults say so.
fn serve_blob(
    shared: &Shared,
    request: &Request,
    name: &str,
    digest: &str,
    faults: &Faults,
    api: bool,
) -> io::Result<Reply> {
    let whole = upstream(
        shared,
        "GET",
        &format!("/v2/{name}/blobs/{digest}"),
        &[],
        &[],
    )?;
    if whole.status != 200 {
        return Ok(whole.into_reply(shared, request.method == "HEAD"));
    }
    let total = whole.body.len() as u64;
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/octet-stream".to_string(),
        ),
        ("Accept-Ranges".into(), "bytes".into()),
        ("Docker-Content-Digest".into(), digest.to_string()),
        ("Etag".into(), format!("\"{digest}\"")),
    ];
    if api {
        headers.push(api_version());
    }
    let range = request.head.header("Range").and_then(parse_range);
    let (status, body) = match range {
        Some((start, _)) if start >= total => {
            headers.push(("Content-Range".into(), format!("bytes */{total}")));
            return Ok(Reply::new(416, headers, Vec::new()));
        }
        Some((start, end)) => {
            let end = end.map_or(total - 1, |e| e.min(total - 1));
            headers.push((
                "Content-Range".into(),
                format!("bytes {start}-{end}/{total}"),
            ));
            (206, whole.body[start as usize..=end as usize].to_vec())
        }
        None => (200, whole.body),
    };
    let mut reply = Reply::new(status, headers, body);
    if request.method == "HEAD" {
        reply.length = Some(reply.body.len() as u64);
    } else if let Some(after) = faults.drop_blob_after
        && shared.state().cut.insert(digest.to_string())
    {
        reply.cut_after = Some(after);
    }
    Ok(reply)
}

/// `bytes=N-` or `bytes=N-M`: the first and (if given) last byte.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        end => Some(end.parse().ok()?),
    };
    match end {
        Some(end) if end < start => None,
        _ => Some((start, end)),
    }
}

/// The registry's answer to a request.
#[derive(Debug)]
struct Upstream {
    head: Head,
    status: u16,
    body: Vec<u8>,
}

impl Upstream {
    /// The answer as the proxy passes it on: hop-by-hop fields dropped, a `Location` that
    /// points at the registry pointed at the proxy.
    fn into_reply(self, shared: &Shared, head_only: bool) -> Reply {
        let registry = format!("http://{}", shared.upstream);
        let proxy = format!("http://{}", shared.host);
        let headers = self
            .head
            .headers
            .iter()
            .filter(|(n, _)| !is_hop_by_hop(n) && !n.eq_ignore_ascii_case("Content-Length"))
            .map(|(n, v)| {
                let v = match v.strip_prefix(&registry) {
                    Some(rest) if n.eq_ignore_ascii_case("Location") => format!("{proxy}{rest}"),
                    _ => v.clone(),
                };
                (n.clone(), v)
            })
            .collect();
        let reason = self
            .head
            .line
            .splitn(3, ' ')
            .nth(2)
            .unwrap_or_default()
            .to_string();
        let length = match head_only {
            true => self.head.content_length().ok().flatten(),
            false => None,
        };
        Reply {
            status: self.status,
            reason,
            headers,
            body: self.body,
            length,
            cut_after: None,
        }
    }
}

/// Header fields that are about one connection, not the message (RFC 9110 7.6.1), and those
/// the proxy sets itself.
fn is_hop_by_hop(name: &str) -> bool {
    [
        "Connection",
        "Keep-Alive",
        "Proxy-Connection",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Expect",
        "Host",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

/// Passes the request on to the registry, and its answer back; without the `Authorization`
/// header when `strip_authorization` (a token is the proxy's, not the registry's).
fn forward(shared: &Shared, request: &Request, strip_authorization: bool) -> io::Result<Reply> {
    let headers: Vec<(String, String)> = request
        .head
        .headers
        .iter()
        .filter(|(n, _)| {
            !is_hop_by_hop(n)
                && !n.eq_ignore_ascii_case("Content-Length")
                && (!strip_authorization || !n.eq_ignore_ascii_case("Authorization"))
        })
        .cloned()
        .collect();
    let answer = upstream(
        shared,
        &request.method,
        &request.target,
        &headers,
        &request.body,
    )?;
    Ok(answer.into_reply(shared, request.method == "HEAD"))
}

/// One request to the registry on a fresh connection (`Connection: close`), and its whole
/// answer.
fn upstream(
    shared: &Shared,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<Upstream> {
    let address = shared
        .upstream
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| invalid("the registry has no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        shared.upstream
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()?;
    let mut reader = BufReader::new(stream);
    let head = loop {
        let head =
            read_head(&mut reader)?.ok_or_else(|| invalid("the registry answered nothing"))?;
        // Skip interim answers (`100 Continue`); the proxy never asks for them.
        if !head
            .line
            .split(' ')
            .nth(1)
            .is_some_and(|s| s.starts_with('1'))
        {
            break head;
        }
    };
    let status: u16 = head
        .line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status code from the registry"))?;
    let body = if method == "HEAD" || status == 204 || status == 304 {
        Vec::new()
    } else {
        read_body(&mut reader, &head, true)?
    };
    Ok(Upstream { head, status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_repository_and_blob_of_a_path() {
        assert_eq!(
            repository_of("/v2/test/busybox/manifests/v1").as_deref(),
            Some("test/busybox")
        );
        assert_eq!(repository_of("/v2/a/blobs/uploads/x").as_deref(), Some("a"));
        assert_eq!(repository_of("/v2/"), None);
        assert_eq!(repository_of("/v2/_catalog"), None);
        assert_eq!(
            blob_of("/v2/test/busybox/blobs/sha256:abc"),
            Some(("test/busybox".into(), "sha256:abc".into()))
        );
        assert_eq!(blob_of("/v2/test/busybox/blobs/uploads/"), None);
    }

    #[test]
    fn decodes_queries_base64_and_ranges() {
        assert_eq!(
            query_params("scope=repository%3Aa%2Fb%3Apull&service=x+y&e=%"),
            vec![
                ("scope".to_string(), "repository:a/b:pull".to_string()),
                ("service".to_string(), "x y".to_string()),
                ("e".to_string(), "%".to_string()),
            ]
        );
        assert_eq!(
            base64_decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap(),
            b"Aladdin:open sesame"
        );
        assert_eq!(base64_decode("YTo").unwrap(), b"a:");
        assert_eq!(base64_decode("a b"), None);
        assert_eq!(parse_range("bytes=100-"), Some((100, None)));
        assert_eq!(parse_range("bytes=1-2"), Some((1, Some(2))));
        assert_eq!(parse_range("bytes=2-1"), None);
        assert_eq!(parse_range("items=1-"), None);
    }
}
