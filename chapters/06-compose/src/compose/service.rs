//! # A service, typed
//!
//! The loader keeps a service as the JSON tree of its canonical long syntax (see
//! [`super::normalize`]): every list in its list form, every short syntax in its long form.
//! Running a service needs typed values, so [`Service::from_value`] reads that tree into the
//! structs here. Only what this engine can run is read; an attribute it cannot honour is
//! refused by [`Service::check_supported`] rather than silently ignored, so a file never runs
//! differently from what it says.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// The attributes of a service this engine acts on (or that change nothing on one machine,
/// such as `profiles` or `develop`).
pub const SUPPORTED: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "configs",
    "container_name",
    "cpus",
    "depends_on",
    "deploy",
    "develop",
    "dns",
    "dns_opt",
    "dns_search",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "labels",
    "logging",
    "mem_limit",
    "network_mode",
    "networks",
    "pids_limit",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "secrets",
    "security_opt",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "tmpfs",
    "tty",
    "user",
    "volumes",
    "working_dir",
];

/// A service as this engine runs it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Service {
    /// `image:`: what to run (and the name a built image gets).
    pub image: Option<String>,
    /// `build:`: how to build the image.
    pub build: Option<Build>,
    /// `command:`, as words.
    pub command: Option<Vec<String>>,
    /// `entrypoint:`, as words.
    pub entrypoint: Option<Vec<String>>,
    /// `environment:` (with `env_file`s read in); a name without a value is left out.
    #[serde(deserialize_with = "optional_scalars")]
    pub environment: BTreeMap<String, Option<String>>,
    /// `working_dir:`.
    pub working_dir: Option<String>,
    /// `user:`.
    pub user: Option<String>,
    /// `hostname:`.
    pub hostname: Option<String>,
    /// `container_name:`: a fixed name instead of `<project>-<service>-1`.
    pub container_name: Option<String>,
    /// `ports:`, one per port.
    pub ports: Vec<Port>,
    /// `expose:`.
    #[serde(deserialize_with = "scalars")]
    pub expose: Vec<String>,
    /// `volumes:`.
    pub volumes: Vec<ServiceVolume>,
    /// `tmpfs:`: `/path[:options]`.
    pub tmpfs: Vec<String>,
    /// `labels:`.
    #[serde(deserialize_with = "scalar_map")]
    pub labels: BTreeMap<String, String>,
    /// `healthcheck:`.
    pub healthcheck: Option<Healthcheck>,
    /// `restart:`.
    pub restart: Option<String>,
    /// `stop_signal:`.
    pub stop_signal: Option<String>,
    /// `stop_grace_period:`: a duration.
    pub stop_grace_period: Option<String>,
    /// `init:`.
    pub init: Option<bool>,
    /// `tty:`.
    pub tty: bool,
    /// `stdin_open:`.
    pub stdin_open: bool,
    /// `cap_add:`.
    pub cap_add: Vec<String>,
    /// `cap_drop:`.
    pub cap_drop: Vec<String>,
    /// `privileged:`.
    pub privileged: bool,
    /// `read_only:`: the root filesystem read-only.
    pub read_only: bool,
    /// `security_opt:`.
    pub security_opt: Vec<String>,
    /// `deploy:`: replicas and resource limits.
    pub deploy: Option<Deploy>,
    /// `scale:`.
    pub scale: Option<u32>,
    /// `mem_limit:`.
    #[serde(deserialize_with = "optional_scalar")]
    pub mem_limit: Option<String>,
    /// `cpus:`.
    #[serde(deserialize_with = "optional_scalar")]
    pub cpus: Option<String>,
    /// `pids_limit:`.
    pub pids_limit: Option<i64>,
    /// `networks:`: the networks it joins, with its aliases on each.
    pub networks: BTreeMap<String, Option<ServiceNetwork>>,
    /// `network_mode:`: `none`, `host` (instead of networks).
    pub network_mode: Option<String>,
    /// `depends_on:`.
    pub depends_on: BTreeMap<String, Dependency>,
    /// `secrets:`: files from the top-level `secrets`, at `/run/secrets/<target>`.
    pub secrets: Vec<FileReference>,
    /// `configs:`: files from the top-level `configs`, at `/<target>`.
    pub configs: Vec<FileReference>,
    /// `dns:`.
    pub dns: Vec<String>,
    /// `dns_search:`.
    pub dns_search: Vec<String>,
    /// `dns_opt:`.
    pub dns_opt: Vec<String>,
    /// `extra_hosts:`, as `name:ip` or `name=ip`.
    #[serde(deserialize_with = "host_list")]
    pub extra_hosts: Vec<String>,
    /// `pull_policy:`: `always`, `never`, `missing` (the default), `build`.
    pub pull_policy: Option<String>,
}

/// `build:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Build {
    /// The context directory (absolute once loaded).
    pub context: Option<String>,
    /// The Dockerfile, relative to the context.
    pub dockerfile: Option<String>,
    /// `args:`; a name without a value takes it from the environment, or is left out.
    #[serde(deserialize_with = "optional_scalars")]
    pub args: BTreeMap<String, Option<String>>,
    /// `target:`.
    pub target: Option<String>,
    /// `labels:` of the built image.
    #[serde(deserialize_with = "scalar_map")]
    pub labels: BTreeMap<String, String>,
    /// `no_cache:`.
    pub no_cache: bool,
    /// `pull:`.
    pub pull: bool,
}

/// One published or exposed port of `ports:` in its long form.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Port {
    /// The container's port.
    pub target: u16,
    /// The host's port (absent: one the kernel chooses).
    #[serde(deserialize_with = "optional_scalar")]
    pub published: Option<String>,
    /// The host address (absent: all).
    pub host_ip: Option<String>,
    /// `tcp` or `udp`.
    pub protocol: Option<String>,
}

/// One entry of `volumes:` in its long form.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ServiceVolume {
    /// `volume`, `bind`, `tmpfs`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A volume's key in the top-level `volumes`, or a host path.
    pub source: Option<String>,
    /// Where it is mounted.
    pub target: String,
    /// `read_only:`.
    pub read_only: bool,
    /// `volume: {nocopy}`.
    pub volume: Option<VolumeOptions>,
    /// `bind: {create_host_path}`.
    pub bind: Option<BindOptions>,
    /// `tmpfs: {size, mode}`.
    pub tmpfs: Option<TmpfsOptions>,
}

/// `volume:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct VolumeOptions {
    /// Do not fill an empty volume with the image's content.
    pub nocopy: bool,
}

/// `bind:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct BindOptions {
    /// Make the host directory when it is missing (the short syntax's way).
    pub create_host_path: bool,
}

/// `tmpfs:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TmpfsOptions {
    /// Bytes.
    #[serde(deserialize_with = "optional_scalar")]
    pub size: Option<String>,
    /// Permission bits.
    pub mode: Option<u32>,
}

/// `healthcheck:` in its long form.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Healthcheck {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
    pub test: Vec<String>,
    /// Durations, as Go prints them (`30s`, `1m30s`).
    pub interval: Option<String>,
    /// See `interval`.
    pub timeout: Option<String>,
    /// See `interval`.
    pub start_period: Option<String>,
    /// See `interval`.
    pub start_interval: Option<String>,
    /// Failures in a row that make it unhealthy.
    pub retries: Option<i64>,
    /// `disable: true`: no health check, not even the image's.
    pub disable: bool,
}

/// `deploy:`: what of it one machine can honour.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Deploy {
    /// How many containers.
    pub replicas: Option<u32>,
    /// `resources:`.
    pub resources: Resources,
}

/// `deploy.resources`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// `limits:`: chapter 02's limits.
    pub limits: Limits,
}

/// `deploy.resources.limits`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// CPUs, e.g. `0.5`.
    #[serde(deserialize_with = "optional_scalar")]
    pub cpus: Option<String>,
    /// Bytes, or a size such as `50M`.
    #[serde(deserialize_with = "optional_scalar")]
    pub memory: Option<String>,
    /// Processes.
    pub pids: Option<i64>,
}

/// A service's entry under `networks:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ServiceNetwork {
    /// More names the container is found by on that network.
    pub aliases: Vec<String>,
    /// A fixed address.
    pub ipv4_address: Option<String>,
}

/// A service's entry under `depends_on:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Dependency {
    /// `service_started`, `service_healthy`, `service_completed_successfully`.
    pub condition: String,
    /// `required: false`: a dependency that may be missing or fail.
    pub required: bool,
    /// `restart: true`: restart this service when the dependency is recreated.
    pub restart: bool,
}

impl Default for Dependency {
    fn default() -> Dependency {
        Dependency {
            condition: "service_started".into(),
            required: true,
            restart: false,
        }
    }
}

/// An entry of a service's `secrets:` or `configs:`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReference {
    /// The top-level secret's or config's key.
    pub source: String,
    /// Where it appears (default: the source's name).
    pub target: Option<String>,
}

impl<'de> Deserialize<'de> for FileReference {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Long {
            source: String,
            #[serde(default)]
            target: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Short(String),
            Long(Long),
        }
        Ok(match Either::deserialize(deserializer)? {
            Either::Short(source) => FileReference {
                source,
                target: None,
            },
            Either::Long(Long { source, target }) => FileReference { source, target },
        })
    }
}

impl Service {
    /// Reads the canonical tree of the service `name`.
    pub fn from_value(name: &str, value: &Value) -> Result<Service> {
        Service::check_supported(name, value)?;
        serde_json::from_value(value.clone()).map_err(|e| {
            Error::invalid(
                format!("services.{name}: {e}"),
                "see `compose config` for the service as it was read",
            )
        })
    }

    /// Refuses an attribute this engine cannot honour (`x-*` extensions are for tools).
    pub fn check_supported(name: &str, value: &Value) -> Result<()> {
        let Some(attributes) = value.as_object() else {
            return Ok(());
        };
        for key in attributes.keys() {
            if !key.starts_with("x-") && !SUPPORTED.contains(&key.as_str()) {
                return Err(Error::invalid(
                    format!("services.{name}.{key}: not supported by this engine"),
                    "remove the attribute, or run the file with docker compose",
                ));
            }
        }
        Ok(())
    }

    /// How many containers it runs: `scale`, else `deploy.replicas`, else 1.
    pub fn replicas(&self) -> u32 {
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }
}

/// A scalar as text: YAML's `8080`, `true` and `"8080"` all mean the string here.
fn scalar_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn optional_scalar<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?))
}

fn scalars<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(scalar_text).collect(),
        other => scalar_text(other).into_iter().collect(),
    })
}

fn optional_scalars<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, Option<String>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, scalar_text(v))).collect(),
        _ => BTreeMap::new(),
    })
}

fn scalar_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, String>, D::Error> {
    Ok(optional_scalars(d)?
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// `extra_hosts` as a list (`["name:ip"]`) or a mapping (`{name: ip}`), as `name:ip` lines.
fn host_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map
            .into_iter()
            .flat_map(|(name, ips)| match ips {
                Value::Array(ips) => ips
                    .into_iter()
                    .filter_map(scalar_text)
                    .map(|ip| format!("{name}:{ip}"))
                    .collect::<Vec<_>>(),
                ip => scalar_text(ip)
                    .map(|ip| format!("{name}:{ip}"))
                    .into_iter()
                    .collect(),
            })
            .collect(),
        Value::Array(items) => items
            .into_iter()
            .filter_map(scalar_text)
            .map(|entry| entry.replacen('=', ":", 1))
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_canonical_service_reads_into_types() {
        let service = Service::from_value(
            "web",
            &json!({
                "image": "busybox",
                "command": ["httpd", "-f"],
                "environment": {"A": "1", "B": null, "C": 3},
                "ports": [{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}],
                "volumes": [{"type": "volume", "source": "data", "target": "/data", "volume": {}}],
                "depends_on": {"db": {"condition": "service_healthy", "required": true}},
                "deploy": {"replicas": 2, "resources": {"limits": {"memory": "52428800", "cpus": 0.5}}},
                "secrets": ["token", {"source": "key", "target": "id_rsa"}],
                "x-anything": true,
            }),
        )
        .unwrap();
        assert_eq!(service.environment["C"].as_deref(), Some("3"));
        assert_eq!(service.environment["B"], None);
        assert_eq!(service.ports[0].published.as_deref(), Some("8080"));
        assert_eq!(service.replicas(), 2);
        assert_eq!(service.depends_on["db"].condition, "service_healthy");
        let limits = &service.deploy.as_ref().unwrap().resources.limits;
        assert_eq!(limits.cpus.as_deref(), Some("0.5"));
        assert_eq!(service.secrets[1].target.as_deref(), Some("id_rsa"));
    }

    #[test]
    fn an_attribute_the_engine_cannot_honour_is_refused() {
        let error = Service::from_value("web", &json!({"image": "x", "devices": ["/dev/kvm"]}))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "services.web.devices: not supported by this engine"
        );
    }
}
