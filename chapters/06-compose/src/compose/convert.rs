//! # From a service to a container
//!
//! Each container of a service is what `docker run` would make from the service's attributes:
//! this module writes that `run`, as this chapter's [`CreateOptions`]. Names follow Compose:
//! the container `<project>-<service>-<n>`, the network `<project>_<key>`, the volume
//! `<project>_<key>` (unless the file gives a `name:` or marks it `external`), and the labels
//! of [`super::labels`] tell later commands what the container is.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ch01_namespaces::{ProcessOptions, User};
use ch02_cgroups::{CgroupOptions, Limits};
use ch04_images::oci::Healthcheck;
use ch04_images::run::{ImageRun, Overrides};
use dockyard_support::FromIo;
use serde_json::{Map, Value};

use super::Project;
use super::labels;
use super::service::{self, Service};
use crate::container::{HostConfig, RestartPolicy};
use crate::error::{Error, Result};
use crate::lifecycle::create::CreateOptions;
use crate::network::config::{Connection, NetworkConfig, NetworkMode};
use crate::network::ports::{PortBinding, Protocol};
use crate::volume::MountRequest;

/// The network a service joins when it names none.
pub const DEFAULT_NETWORK: &str = "default";

/// The name of container `number` of `service` (`demo-web-1`), or its `container_name`.
pub fn container_name(project: &str, service_name: &str, service: &Service, number: u32) -> String {
    match &service.container_name {
        Some(name) => name.clone(),
        None => format!("{project}-{service_name}-{number}"),
    }
}

/// The image a service runs: its `image:`, else the name a build gives it
/// (`<project>-<service>`, as Compose names it).
pub fn image_name(project: &str, service_name: &str, image: Option<&str>) -> String {
    match image {
        Some(image) => image.to_owned(),
        None => format!("{project}-{service_name}"),
    }
}

/// The engine's name of the top-level network or volume `key` declared in `section`:
/// its `name:`, its key if it is `external`, else `<project>_<key>`.
pub fn resource_name(project: &str, section: &Map<String, Value>, key: &str) -> String {
    let declared = section.get(key);
    if let Some(name) = declared.and_then(|d| d.get("name")).and_then(Value::as_str) {
        return name.to_owned();
    }
    if is_external(declared) {
        return key.to_owned();
    }
    format!("{project}_{key}")
}

/// Whether a top-level network or volume is `external: true` (made by someone else).
pub fn is_external(declared: Option<&Value>) -> bool {
    match declared.and_then(|d| d.get("external")) {
        Some(Value::Bool(external)) => *external,
        // The old form `external: {name: x}`.
        Some(Value::Object(_)) => true,
        _ => false,
    }
}

/// The networks a service joins, by key, in the order it joins them: the ones it lists, or
/// `default`. Empty with a `network_mode`.
pub fn service_networks(service: &Service) -> Vec<String> {
    if service.network_mode.is_some() {
        return Vec::new();
    }
    if service.networks.is_empty() {
        return vec![DEFAULT_NETWORK.to_owned()];
    }
    service.networks.keys().cloned().collect()
}

/// What identifies one container of a service beyond the service itself.
#[derive(Debug, Clone)]
pub struct Replica<'a> {
    /// The service's name.
    pub service_name: &'a str,
    /// The service.
    pub service: &'a Service,
    /// Its number (from 1).
    pub number: u32,
    /// The image's id, for the label that tells a rebuilt image.
    pub image_id: &'a str,
    /// The hash of the service's configuration.
    pub config_hash: &'a str,
    /// The image's layers (bottom first), to find a `user:` name in its `/etc/passwd`.
    pub layers: &'a [PathBuf],
}

/// The `create` of container `replica.number` of a service.
pub fn create_options(project: &Project, replica: &Replica) -> Result<CreateOptions> {
    let Replica {
        service_name,
        service,
        number,
        ..
    } = *replica;
    let name = container_name(&project.name, service_name, service, number);
    let image = image_name(&project.name, service_name, service.image.as_deref());
    let run = ImageRun {
        image,
        overrides: Overrides {
            entrypoint: service.entrypoint.clone(),
            command: service.command.clone().unwrap_or_default(),
        },
        process: process_options(service, replica.layers, service_name)?,
        cgroup: CgroupOptions {
            limits: limits(service, service_name)?,
            ..CgroupOptions::default()
        },
        name: Some(name),
        remove: false,
        labels: container_labels(project, replica),
        expose: service.expose.clone(),
    };
    let host = HostConfig {
        restart: match &service.restart {
            Some(policy) => policy.parse().map_err(|e: Error| {
                Error::invalid(
                    format!("services.{service_name}.restart: {e}"),
                    "use no, always, unless-stopped, on-failure or on-failure:N",
                )
            })?,
            None => RestartPolicy::No,
        },
        healthcheck: healthcheck(service, service_name)?,
        stop_signal: service.stop_signal.clone(),
        stop_timeout: match &service.stop_grace_period {
            Some(period) => Some(seconds(period, service_name, "stop_grace_period")?),
            None => None,
        },
        network: network_config(project, service, service_name)?,
        ..HostConfig::default()
    };
    if let Some(signal) = &host.stop_signal {
        crate::lifecycle::signal::parse(signal)?;
    }
    Ok(CreateOptions {
        run,
        host,
        mounts: mounts(project, service, service_name)?,
    })
}

// ANCHOR: container_labels
/// Compose's labels, over the service's own.
fn container_labels(project: &Project, replica: &Replica) -> BTreeMap<String, String> {
    let mut all = replica.service.labels.clone();
    let depends_on: Vec<String> = replica
        .service
        .depends_on
        .iter()
        .map(|(name, d)| format!("{name}:{}:{}", d.condition, d.restart))
        .collect();
    for (key, value) in [
        (labels::PROJECT, project.name.clone()),
        (
            labels::WORKING_DIR,
            project.working_dir.display().to_string(),
        ),
        (labels::CONFIG_FILES, config_files(project)),
        (labels::SERVICE, replica.service_name.to_owned()),
        (labels::NUMBER, replica.number.to_string()),
        (labels::ONEOFF, "False".to_owned()),
        (labels::CONFIG_HASH, replica.config_hash.to_owned()),
        (labels::IMAGE, replica.image_id.to_owned()),
        (labels::DEPENDS_ON, depends_on.join(",")),
        (labels::VERSION, labels::THIS_VERSION.to_owned()),
    ] {
        all.insert(key.to_owned(), value);
    }
    all
}
// ANCHOR_END: container_labels

/// The project's files, comma-separated, as Compose writes them into a label.
fn config_files(project: &Project) -> String {
    let files: Vec<String> = project
        .files
        .iter()
        .map(|file| file.display().to_string())
        .collect();
    files.join(",")
}

fn invalid(service: &str, attribute: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(
        format!("services.{service}.{attribute}: {message}"),
        "see the Compose Specification for the attribute's forms",
    )
}

fn process_options(service: &Service, layers: &[PathBuf], name: &str) -> Result<ProcessOptions> {
    let user = match &service.user {
        None => None,
        Some(user) => Some(match user.parse::<User>() {
            Ok(user) => user,
            Err(_) => ch04_images::run::resolve_user(user, layers)
                .map_err(|e| invalid(name, "user", e))?,
        }),
    };
    Ok(ProcessOptions {
        hostname: service.hostname.clone(),
        env: service
            .environment
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
            .collect(),
        workdir: service.working_dir.as_ref().map(PathBuf::from),
        user,
        init: service.init.unwrap_or(false),
        tty: service.tty,
        interactive: service.stdin_open,
        cap_add: service.cap_add.clone(),
        cap_drop: service.cap_drop.clone(),
        privileged: service.privileged,
        read_only: service.read_only,
        security_opt: service.security_opt.clone(),
        ..ProcessOptions::default()
    })
}

/// `mem_limit`, `cpus`, `pids_limit` and `deploy.resources.limits` (which wins, as in
/// Compose) to chapter 02's limits.
fn limits(service: &Service, name: &str) -> Result<Limits> {
    let deploy = service.deploy.as_ref().map(|d| &d.resources.limits);
    let memory = deploy
        .and_then(|l| l.memory.as_ref())
        .or(service.mem_limit.as_ref());
    let cpus = deploy
        .and_then(|l| l.cpus.as_ref())
        .or(service.cpus.as_ref());
    let pids = deploy.and_then(|l| l.pids).or(service.pids_limit);
    Ok(Limits {
        memory: match memory {
            Some(text) => Some(
                ch02_cgroups::parse_size(text)
                    .map_err(|e| invalid(name, "deploy.resources.limits.memory", e))?,
            ),
            None => None,
        },
        cpus: match cpus {
            Some(text) => Some(text.parse::<f64>().map_err(|_| {
                invalid(
                    name,
                    "deploy.resources.limits.cpus",
                    format!("invalid number {text:?}"),
                )
            })?),
            None => None,
        },
        pids: pids.and_then(|p| u64::try_from(p).ok()).filter(|p| *p > 0),
        ..Limits::default()
    })
}

fn nanoseconds(text: &str, service: &str, attribute: &str) -> Result<i64> {
    let ns = ch05_dockerfile::instructions::duration::parse_duration(text)
        .map_err(|e| invalid(service, attribute, e))?;
    i64::try_from(ns)
        .ok()
        .filter(|ns| *ns >= 0)
        .ok_or_else(|| invalid(service, attribute, "must not be negative"))
}

fn seconds(text: &str, service: &str, attribute: &str) -> Result<u32> {
    let ns = nanoseconds(text, service, attribute)?;
    // Whole seconds, rounded up: a grace period is never cut short.
    Ok(u32::try_from((ns + 999_999_999) / 1_000_000_000).unwrap_or(u32::MAX))
}

fn healthcheck(service: &Service, name: &str) -> Result<Option<Healthcheck>> {
    let Some(check) = &service.healthcheck else {
        return Ok(None);
    };
    if check.disable {
        return Ok(Some(Healthcheck {
            test: vec!["NONE".into()],
            ..Healthcheck::default()
        }));
    }
    let duration = |text: &Option<String>, attribute: &str| -> Result<i64> {
        match text {
            Some(text) => nanoseconds(text, name, &format!("healthcheck.{attribute}")),
            None => Ok(0),
        }
    };
    Ok(Some(Healthcheck {
        test: check.test.clone(),
        interval: duration(&check.interval, "interval")?,
        timeout: duration(&check.timeout, "timeout")?,
        start_period: duration(&check.start_period, "start_period")?,
        start_interval: duration(&check.start_interval, "start_interval")?,
        retries: check.retries.unwrap_or(0),
    }))
}

fn network_config(project: &Project, service: &Service, name: &str) -> Result<NetworkConfig> {
    let mut ports = Vec::new();
    for (index, port) in service.ports.iter().enumerate() {
        ports.push(
            port_binding(port)
                .map_err(|message| invalid(name, &format!("ports[{index}]"), message))?,
        );
    }
    let mut dns = Vec::new();
    for server in &service.dns {
        dns.push(
            server
                .parse()
                .map_err(|_| invalid(name, "dns", format!("{server:?} is not an ip address")))?,
        );
    }
    let mut config = NetworkConfig {
        ports,
        dns,
        dns_search: service.dns_search.clone(),
        dns_options: service.dns_opt.clone(),
        extra_hosts: service.extra_hosts.clone(),
        ..NetworkConfig::default()
    };
    if let Some(mode) = &service.network_mode {
        config.mode = match mode.as_str() {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            "bridge" => NetworkMode::Bridge(crate::network::DEFAULT_NETWORK.to_owned()),
            other => {
                return Err(invalid(
                    name,
                    "network_mode",
                    format!("{other:?} is not supported here (none, host or bridge)"),
                ));
            }
        };
        config.check()?;
        return Ok(config);
    }
    for (position, key) in service_networks(service).iter().enumerate() {
        let attachment = service
            .networks
            .get(key)
            .cloned()
            .flatten()
            .unwrap_or_default();
        // Others find the container by its service's name, as Compose aliases it.
        let mut aliases = vec![name.to_owned()];
        aliases.extend(attachment.aliases.iter().cloned());
        let ip = match &attachment.ipv4_address {
            Some(text) => Some(text.parse::<Ipv4Addr>().map_err(|_| {
                invalid(
                    name,
                    &format!("networks.{key}.ipv4_address"),
                    format!("{text:?} is not an IPv4 address"),
                )
            })?),
            None => None,
        };
        let network = resource_name(&project.name, &project.networks, key);
        if position == 0 {
            config.mode = NetworkMode::Bridge(network);
            config.aliases = aliases;
            config.ip = ip;
        } else {
            config.connected.push(Connection {
                network,
                aliases,
                ip,
            });
        }
    }
    config.check()?;
    Ok(config)
}

fn port_binding(port: &service::Port) -> std::result::Result<PortBinding, String> {
    let protocol = match port.protocol.as_deref() {
        None | Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some(other) => return Err(format!("invalid protocol {other:?}: tcp or udp")),
    };
    let host_ip = match port.host_ip.as_deref() {
        None | Some("") | Some("0.0.0.0") => None,
        Some(text) => Some(
            text.parse::<Ipv4Addr>()
                .map_err(|_| format!("invalid host_ip {text:?}: an IPv4 address"))?,
        ),
    };
    let host_port = match port.published.as_deref() {
        None | Some("") => 0,
        Some(text) => text
            .parse::<u16>()
            .map_err(|_| format!("invalid published port {text:?}"))?,
    };
    if port.target == 0 {
        return Err("a target port is required".to_owned());
    }
    Ok(PortBinding {
        container_port: port.target,
        protocol,
        host_ip,
        host_port,
    })
}

/// `volumes`, `tmpfs`, `secrets` and `configs` as `--mount` and `--tmpfs` options.
fn mounts(project: &Project, service: &Service, name: &str) -> Result<MountRequest> {
    let mut request = MountRequest {
        cwd: project.working_dir.clone(),
        tmpfs: service.tmpfs.clone(),
        ..MountRequest::default()
    };
    for (index, volume) in service.volumes.iter().enumerate() {
        let attribute = format!("volumes[{index}]");
        let mut fields = vec![format!("target={}", volume.target)];
        match volume.kind.as_str() {
            "volume" => {
                fields.insert(0, "type=volume".to_owned());
                if let Some(source) = &volume.source {
                    if !project.volumes.contains_key(source) {
                        return Err(invalid(
                            name,
                            &attribute,
                            format!("service \"{name}\" refers to undefined volume {source}"),
                        ));
                    }
                    let actual = resource_name(&project.name, &project.volumes, source);
                    fields.push(format!("source={actual}"));
                }
                if volume.volume.as_ref().is_some_and(|v| v.nocopy) {
                    fields.push("volume-nocopy".to_owned());
                }
            }
            "bind" => {
                let Some(source) = &volume.source else {
                    return Err(invalid(name, &attribute, "a bind mount needs a source"));
                };
                let source = project.working_dir.join(source);
                if volume.bind.as_ref().is_some_and(|b| b.create_host_path) && !source.exists() {
                    std::fs::create_dir_all(&source)
                        .map_err(Error::io("create the bind source", &source))?;
                }
                fields.insert(0, "type=bind".to_owned());
                fields.push(format!("source={}", source.display()));
            }
            "tmpfs" => {
                fields.insert(0, "type=tmpfs".to_owned());
                if let Some(options) = &volume.tmpfs {
                    if let Some(size) = &options.size {
                        fields.push(format!("tmpfs-size={size}"));
                    }
                    if let Some(mode) = options.mode {
                        fields.push(format!("tmpfs-mode={mode:o}"));
                    }
                }
            }
            other => {
                return Err(invalid(
                    name,
                    &attribute,
                    format!("volume type {other:?} is not supported here (volume, bind, tmpfs)"),
                ));
            }
        }
        if volume.read_only {
            fields.push("readonly".to_owned());
        }
        request.mounts.push(fields.join(","));
    }
    for (kind, references, section, default_dir) in [
        (
            "secrets",
            &service.secrets,
            &project.secrets,
            "/run/secrets",
        ),
        ("configs", &service.configs, &project.configs, "/"),
    ] {
        for reference in references {
            let file = declared_file(project, section, &reference.source).ok_or_else(|| {
                invalid(
                    name,
                    kind,
                    format!(
                        "{} {:?} is not declared with a file: in the top-level {kind}",
                        &kind[..kind.len() - 1],
                        reference.source
                    ),
                )
            })?;
            let target = reference.target.as_deref().unwrap_or(&reference.source);
            let target = Path::new(default_dir).join(target);
            request.mounts.push(format!(
                "type=bind,source={},target={},readonly",
                file.display(),
                target.display()
            ));
        }
    }
    Ok(request)
}

/// The host file of a top-level secret or config, from the project directory.
fn declared_file(project: &Project, section: &Map<String, Value>, key: &str) -> Option<PathBuf> {
    let file = section.get(key)?.get("file")?.as_str()?;
    Some(project.working_dir.join(file))
}
