//! Registries: `pull`, `push` and `login`, in the OCI distribution protocol that Docker Hub,
//! GHCR and private registries speak over HTTP.
//!
//! - [`endpoint`]: where a registry answers, and over TLS or not;
//! - [`auth`]: the challenges a registry answers with, and tokens;
//! - [`client`]: one repository's requests, authenticated and retried;
//! - [`blob`]: a blob read as a stream that resumes after a dropped connection;
//! - [`pull`] and [`push`], which send what happens as events for a display like docker's.

pub mod auth;
pub mod blob;
pub mod client;
pub mod endpoint;
pub mod pull;
pub mod push;

use ch01_namespaces::Narrator;

use crate::credentials::{self, Credentials};
use crate::error::{Error, Result};
use client::Client;
use endpoint::Endpoint;

/// `login`: checks the credentials against the registry (`GET /v2/`, authenticating as it
/// asks), then stores them.
pub fn login(
    registry: &str,
    credentials: Credentials,
    insecure: &[String],
    n: &Narrator,
) -> Result<()> {
    let endpoint = Endpoint::new(registry, insecure);
    let client = Client::new(endpoint, "", "pull", Some(credentials.clone()), n);
    client.ping().map_err(|error| match error {
        Error::Unauthorized { registry, .. } => Error::Unauthorized {
            registry,
            message: "incorrect username or password".into(),
        },
        other => other,
    })?;
    credentials::store(registry, &credentials)
}
