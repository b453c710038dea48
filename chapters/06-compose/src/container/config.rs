//! How a container runs: what `run` and `create` decide once, and every `start` reads again.

use ch01_namespaces::ProcessOptions;
use ch02_cgroups::CgroupOptions;
use ch04_images::oci::Healthcheck;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A container's options beyond its image config, saved as `hostconfig.json` (the image
/// config it runs with, overrides applied, is chapter 03's record's `config`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostConfig {
    /// How its process runs (chapter 01): user, terminal, capabilities, bind and tmpfs
    /// mounts…
    pub process: ProcessOptions,
    /// Its cgroup (chapter 02).
    pub cgroup: CgroupOptions,
    /// What its monitor does when it ends (`--restart`).
    pub restart: RestartPolicy,
    /// Remove it when it ends (`--rm`).
    pub auto_remove: bool,
    /// How its log is kept (`--log-opt`).
    pub log: LogOptions,
    /// A health check replacing the image's (`--health-cmd`…); a test of `["NONE"]` turns the
    /// image's off (`--no-healthcheck`).
    pub healthcheck: Option<Healthcheck>,
    /// The signal `stop` sends first (`--stop-signal`; default: the image's, else SIGTERM).
    pub stop_signal: Option<String>,
    /// How long `stop` waits before SIGKILL, in seconds (`--stop-timeout`; default 10).
    pub stop_timeout: Option<u32>,
    /// The volumes it mounts, named or anonymous.
    pub volumes: Vec<VolumeUse>,
    /// Its network: `--network`, `-p`, `--dns`… (absent from containers made before
    /// networks existed: they get the default).
    #[serde(default)]
    pub network: crate::network::config::NetworkConfig,
}

/// A volume a container mounts: `-v NAME:/path`, `--mount type=volume`, or an anonymous
/// volume for a path the image declares with `VOLUME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeUse {
    /// The volume's name (64 hex digits for an anonymous one).
    pub name: String,
    /// Where it appears in the container.
    pub target: std::path::PathBuf,
    /// Mounted read-only.
    pub read_only: bool,
    /// Created for this container alone: `rm -v` removes it with the container.
    pub anonymous: bool,
    /// Do not fill an empty volume with the image's content at the target (`nocopy`).
    pub no_copy: bool,
}

/// How docker's `json-file` log is kept: `--log-opt max-size=10m --log-opt max-file=3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOptions {
    /// Rotate once the file holds this many bytes; `None` never rotates.
    pub max_size: Option<u64>,
    /// How many files to keep, the current one included (at least 1).
    pub max_file: u32,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            max_size: None,
            max_file: 1,
        }
    }
}

/// `--restart`: what the monitor does when the container's command ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Name", rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Never restart (`no`, the default).
    #[default]
    No,
    /// Restart when it exits with a status other than 0, at most `max_retries` times if given.
    OnFailure {
        /// The most restarts, `on-failure:N`.
        #[serde(rename = "MaximumRetryCount")]
        max_retries: Option<u32>,
    },
    /// Always restart, unless it was stopped by `stop` or `kill`.
    Always,
    /// As `always`; the difference shows only when an engine restarts (final/'s daemon).
    UnlessStopped,
}

impl std::str::FromStr for RestartPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = || {
            Error::invalid(
                format!("invalid restart policy {s:?}"),
                "use no, always, unless-stopped, on-failure or on-failure:N",
            )
        };
        match s.split_once(':') {
            None => match s {
                "no" | "" => Ok(RestartPolicy::No),
                "always" => Ok(RestartPolicy::Always),
                "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
                "on-failure" => Ok(RestartPolicy::OnFailure { max_retries: None }),
                _ => Err(invalid()),
            },
            Some(("on-failure", count)) => match count.parse::<u32>() {
                Ok(n) => Ok(RestartPolicy::OnFailure {
                    max_retries: Some(n),
                }),
                Err(_) => Err(Error::invalid(
                    format!("invalid restart policy {s:?}: maximum retry count must be a number"),
                    "write on-failure:N with N a whole number, e.g. on-failure:3",
                )),
            },
            Some(("no" | "always" | "unless-stopped", _)) => Err(Error::invalid(
                format!(
                    "invalid restart policy {s:?}: maximum retry count can only be used with 'on-failure'"
                ),
                "drop the :N, or use on-failure:N",
            )),
            Some(_) => Err(invalid()),
        }
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::OnFailure { max_retries: None } => f.write_str("on-failure"),
            RestartPolicy::OnFailure {
                max_retries: Some(n),
            } => write!(f, "on-failure:{n}"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_read_as_docker_writes_them() {
        for text in [
            "no",
            "always",
            "unless-stopped",
            "on-failure",
            "on-failure:3",
        ] {
            let policy: RestartPolicy = text.parse().unwrap();
            assert_eq!(policy.to_string(), text);
        }
        for bad in ["sometimes", "on-failure:x", "always:2"] {
            assert!(bad.parse::<RestartPolicy>().is_err(), "{bad}");
        }
    }
}
