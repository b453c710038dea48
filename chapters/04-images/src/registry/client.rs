//! One repository's conversation with a registry over HTTP: every request goes through
//! [`Client::send`], which authenticates when the registry asks (a `401` and its challenge),
//! retries with backoff when the registry fails (`5xx`) or the connection drops, and narrates
//! each request and response line for `--explain`, never the credentials or tokens.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use ch01_namespaces::{Actor, Narrator};
use ureq::http::{Request, Response};
use ureq::{Agent, Body};

use super::auth::{Challenge, parse_challenge, query_escape};
use super::endpoint::Endpoint;
use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// How many times a failed request is tried again, and the first pause (doubled each time).
const RETRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// How long to wait for a connection, and for the first byte of an answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest error body or token answer read into memory.
const SMALL_BODY: u64 = 1 << 20;

/// What a request sends.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Nothing.
    Empty,
    /// Bytes in memory (a manifest).
    Bytes(Vec<u8>),
    /// A file, opened anew for every attempt (a blob of the store).
    File(PathBuf),
}

/// A client for one repository of one registry.
#[derive(Debug)]
pub struct Client {
    agent: Agent,
    endpoint: Endpoint,
    repository: String,
    actions: &'static str,
    credentials: Option<Credentials>,
    authorization: Mutex<Option<String>>,
    n: Narrator,
}

/// TLS as this engine speaks it: the server's certificate checked against the platform's
/// roots (the system's certificate store), as docker does. Also used by `ADD https://…`.
pub fn tls_config() -> ureq::tls::TlsConfig {
    ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build()
}

impl Client {
    /// A client for `repository` at `endpoint`, for `actions` (`pull`, or `pull,push`).
    pub fn new(
        endpoint: Endpoint,
        repository: &str,
        actions: &'static str,
        credentials: Option<Credentials>,
        n: &Narrator,
    ) -> Client {
        let config = Agent::config_builder()
            .tls_config(tls_config())
            .http_status_as_error(false)
            // A redirect (to blob storage, usually another host) never carries the
            // registry's credentials or token.
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .user_agent(concat!("dockyard/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: Agent::new_with_config(config),
            endpoint,
            repository: repository.to_string(),
            actions,
            credentials,
            authorization: Mutex::new(None),
            n: n.clone(),
        }
    }

    /// A client for the repository `reference` names, with the credentials `login` stored
    /// for its registry.
    pub fn for_repository(
        reference: &crate::reference::Reference,
        actions: &'static str,
        insecure: &[String],
        n: &Narrator,
    ) -> Result<Client> {
        let endpoint = Endpoint::new(&reference.registry, insecure);
        let credentials = crate::credentials::lookup(&reference.registry)?;
        Ok(Client::new(
            endpoint,
            &reference.repository,
            actions,
            credentials,
            n,
        ))
    }

    /// The registry, as references name it.
    pub fn registry(&self) -> &str {
        &self.endpoint.registry
    }

    /// The repository, as the registry names it: `library/busybox`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The repository's API path for `what`: `/v2/<repository>/<what>`.
    pub fn path(&self, what: &str) -> String {
        format!("/v2/{}/{what}", self.repository)
    }

    /// `GET /v2/`: checks that the registry speaks the protocol, and authenticates when it
    /// answers `401` (with the token for this repository's scope, for a Bearer registry).
    pub fn ping(&self) -> Result<()> {
        let response = self.send("GET", "/v2/", &[], &Payload::Empty)?;
        match response.status().as_u16() {
            200 => Ok(()),
            404 => Err(Error::Registry(format!(
                "{} does not answer /v2/: not an OCI distribution registry",
                self.endpoint.registry
            ))),
            _ => Err(self.failure("GET /v2/", response)),
        }
    }

    // ANCHOR: send
    /// Sends a request to `path` (or to the URL a `Location` header gave), authenticating
    /// when asked and retrying what failed on the way.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        payload: &Payload,
    ) -> Result<Response<Body>> {
        let url = self.endpoint.url(path);
        let mut authenticated = false;
        let mut attempt = 0;
        loop {
            let pause = FIRST_BACKOFF * 2u32.pow(attempt);
            match self.send_once(method, &url, headers, payload) {
                Ok(response) if response.status() == 401 && !authenticated => {
                    let challenge = header(&response, "www-authenticate");
                    self.authenticate(challenge.as_deref())?;
                    authenticated = true;
                }
                Ok(response) if response.status().is_server_error() && attempt < RETRIES => {
                    self.n.say(Actor::Engine, format!("retrying in {pause:?}"));
                    std::thread::sleep(pause);
                    attempt += 1;
                }
                Ok(response) => return Ok(response),
                Err(error) if attempt < RETRIES => {
                    self.n
                        .say(Actor::Engine, format!("{error}; retrying in {pause:?}"));
                    std::thread::sleep(pause);
                    attempt += 1;
                }
                Err(error) => {
                    return Err(Error::Unreachable {
                        registry: self.endpoint.registry.clone(),
                        cause: error.to_string(),
                    });
                }
            }
        }
    }
    // ANCHOR_END: send

    fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        payload: &Payload,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        self.n
            .say(Actor::Engine, format!("> {method} {}", redact_query(url)));
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(authorization) = self.authorization.lock().expect("not poisoned").as_ref() {
            request = request.header("Authorization", authorization);
        }
        let request = |body| {
            request
                .body(body)
                .map_err(|e| ureq::Error::BadUri(e.to_string()))
        };
        let response = match payload {
            Payload::Empty => self.agent.run(request(())?),
            Payload::Bytes(bytes) => self.agent.run(request(())?.map(|()| bytes.as_slice())),
            Payload::File(path) => {
                let file = File::open(path)?;
                self.agent.run(request(())?.map(|()| file))
            }
        }?;
        self.n
            .say(Actor::Engine, format!("< {}", response.status()));
        Ok(response)
    }

    /// Answers a challenge: Basic sends the credentials with every request from now on;
    /// Bearer fetches a token for this repository's scope.
    fn authenticate(&self, challenge: Option<&str>) -> Result<()> {
        let unauthorized = |message: &str| Error::Unauthorized {
            registry: self.endpoint.registry.clone(),
            message: message.to_string(),
        };
        let authorization = match challenge.and_then(parse_challenge) {
            Some(Challenge::Basic) => match &self.credentials {
                Some(credentials) => credentials.basic(),
                None => {
                    return Err(unauthorized(
                        "the registry asks for a user name and password",
                    ));
                }
            },
            Some(Challenge::Bearer { realm, service, .. }) => {
                // A login names no repository: its token proves the credentials, nothing more.
                let scope = (!self.repository.is_empty())
                    .then(|| format!("repository:{}:{}", self.repository, self.actions));
                self.token(&realm, service.as_deref(), scope.as_deref())?
            }
            None => {
                return Err(unauthorized(
                    "the registry refused the request and names no way to authenticate",
                ));
            }
        };
        *self.authorization.lock().expect("not poisoned") = Some(authorization);
        Ok(())
    }

    /// A token from the token service, as `Bearer <token>`.
    fn token(&self, realm: &str, service: Option<&str>, scope: Option<&str>) -> Result<String> {
        let mut params = Vec::new();
        if let Some(service) = service {
            params.push(format!("service={}", query_escape(service)));
        }
        if let Some(scope) = scope {
            params.push(format!("scope={}", query_escape(scope)));
        }
        let separator = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{separator}{}", params.join("&"));
        self.n
            .say(Actor::Engine, format!("> GET {url} (the token service)"));
        let mut request = self.agent.get(&url);
        if let Some(credentials) = &self.credentials {
            request = request.header("Authorization", credentials.basic());
        }
        let mut response = request.call().map_err(|e| Error::Unreachable {
            registry: realm.to_string(),
            cause: e.to_string(),
        })?;
        self.n.say(
            Actor::Engine,
            format!("< {} (token redacted)", response.status()),
        );
        if !response.status().is_success() {
            return Err(Error::Unauthorized {
                registry: self.endpoint.registry.clone(),
                message: format!("the token service answered {}", response.status()),
            });
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(SMALL_BODY)
            .read_to_vec()
            .map_err(|e| Error::Registry(format!("read the token: {e}")))?;
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Error::Registry(format!("the token service's answer is not JSON: {e}")))?;
        let token = answer["token"]
            .as_str()
            .or_else(|| answer["access_token"].as_str())
            .ok_or_else(|| Error::Registry("the token service's answer has no token".into()))?;
        Ok(format!("Bearer {token}"))
    }

    /// The error for a response that is not what was asked for: its status and the message of
    /// the registry's `{"errors": [...]}` body.
    pub fn failure(&self, what: &str, mut response: Response<Body>) -> Error {
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(SMALL_BODY)
            .read_to_vec()
            .unwrap_or_default();
        let messages: Vec<String> = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["errors"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let code = e["code"]
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase()
                    .replace('_', " ");
                let message = e["message"].as_str().unwrap_or("");
                if message.is_empty() {
                    code
                } else {
                    message.to_string()
                }
            })
            .collect();
        let detail = if messages.is_empty() {
            String::new()
        } else {
            format!(": {}", messages.join("; "))
        };
        if status == 401 || status == 403 {
            return Error::Unauthorized {
                registry: self.endpoint.registry.clone(),
                message: format!("{what}: {status}{detail}"),
            };
        }
        Error::Registry(format!(
            "{} {what}: {status}{detail}",
            self.endpoint.registry
        ))
    }
}

/// A header's value, as text.
pub fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A URL as narrated: without its query, which may carry signatures (blob storage) or upload
/// state.
fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}
