//! Credentials, kept as docker keeps them: `config.json` in `$DOCKER_CONFIG` (default
//! `~/.docker`), `{"auths": {"registry": {"auth": base64("user:password")}}}`. An existing
//! `docker login` works here, and ours works for docker. Credentials are never printed or
//! narrated.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dockyard_support::FromIo;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The key docker uses for Docker Hub in `auths`.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name and password (or token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials {{ user: {:?}, password: <redacted> }}",
            self.user
        )
    }
}

impl Credentials {
    /// The value of an `Authorization: Basic` header.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.user, self.password))
        )
    }
}

/// The docker configuration file.
pub fn config_path() -> PathBuf {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            PathBuf::from(home).join(".docker")
        });
    dir.join("config.json")
}

/// The key under which `registry`'s credentials are kept.
fn key(registry: &str) -> &str {
    if registry == crate::reference::DEFAULT_REGISTRY {
        DOCKER_HUB_KEY
    } else {
        registry
    }
}

fn read_config() -> Result<Value> {
    let path = config_path();
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("{}: not valid JSON: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
        Err(e) => Err(Error::io("read", &path)(e)),
    }
}

/// The stored credentials for `registry`, if any.
pub fn lookup(registry: &str) -> Result<Option<Credentials>> {
    let config = read_config()?;
    let entry = &config["auths"][key(registry)];
    let Some(encoded) = entry["auth"].as_str() else {
        return Ok(None);
    };
    let decoded = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{}: the credentials for {registry} are not base64 of user:password",
                config_path().display()
            ))
        })?;
    Ok(decoded.split_once(':').map(|(user, password)| Credentials {
        user: user.to_string(),
        password: password.to_string(),
    }))
}

/// Stores credentials for `registry`, keeping everything else in the file.
pub fn store(registry: &str, credentials: &Credentials) -> Result<()> {
    let mut config = read_config()?;
    let encoded = STANDARD.encode(format!("{}:{}", credentials.user, credentials.password));
    if !config["auths"].is_object() {
        config["auths"] = json!({});
    }
    config["auths"][key(registry)] = json!({ "auth": encoded });
    write_config(&config)
}

/// Removes the credentials for `registry`; whether there were any.
pub fn remove(registry: &str) -> Result<bool> {
    let mut config = read_config()?;
    let removed = config["auths"]
        .as_object_mut()
        .is_some_and(|auths| auths.remove(key(registry)).is_some());
    if removed {
        write_config(&config)?;
    }
    Ok(removed)
}

/// Replaces the file atomically, readable by its owner only: it holds passwords.
fn write_config(config: &Value) -> Result<()> {
    let path = config_path();
    let dir = path.parent().expect("the config file is in a directory");
    fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    let temp = path.with_extension(format!("json.{}", std::process::id()));
    let mut json = serde_json::to_vec_pretty(config).expect("JSON values serialize");
    json.push(b'\n');
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| file.write_all(&json))
        .map_err(Error::io("write", &temp))?;
    fs::rename(&temp, &path).map_err(Error::io("replace", &path))
}
