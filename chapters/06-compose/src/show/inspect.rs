//! `inspect`: a container as docker's `docker container inspect` shows it, field names,
//! nesting and order included, so that scripts written against docker's output (and `-f
//! '{{.State.Status}}'`) work here. Anything that is not a container is looked up as an
//! image, with chapter 04's document.
//!
//! The document is built from the three files of a container ([`ContainerView`]): the record
//! gives `Id`, `Created`, `Path`/`Args`, `Name`, `Driver`; `state.json` gives `State` and
//! `RestartCount`; `hostconfig.json` gives `HostConfig` and `Mounts`; the image config it
//! runs with gives `Config`. Times are RFC 3339 with nanoseconds, and "never" is Go's zero
//! time, `0001-01-01T00:00:00Z`, as docker writes them. What later parts of the chapter add
//! `NetworkSettings` comes from the endpoints its monitor holds on its networks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ch01_namespaces::MountKind;
use ch03_union_fs::{Driver, Error as LayersError};
use ch04_images::oci::Healthcheck;
use ch04_images::{Error as ImagesError, ImageStore};
use dockyard_support::clock::{GO_ZERO_TIME, format_rfc3339_nano};
use serde::Serialize;

use super::status::health_word;
use super::view::{ContainerView, find};
use crate::container::{HealthResult, Paths, RestartPolicy};
use crate::error::{Error, Result};

/// What `--type` restricts `inspect` to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Containers only.
    Container,
    /// Images only.
    Image,
}

/// One inspected object: a container's document, or an image's (chapter 04's).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Inspected {
    /// A container.
    Container(Box<Container>),
    /// An image, as chapter 04's `inspect` shows it.
    Image(serde_json::Value),
}

/// The object `name` names: a container if one has that name or id (unless `kind` says
/// image), else an image (unless `kind` says container), as docker looks.
pub fn inspect(store: &ImageStore, name: &str, kind: Option<Kind>) -> Result<Inspected> {
    if kind != Some(Kind::Image) {
        match find(store.containers(), name) {
            Ok(view) => return Ok(Inspected::Container(Box::new(container(store, &view)))),
            Err(Error::Layers(LayersError::NoSuchContainer(_))) if kind.is_none() => {}
            Err(error) => return Err(error),
        }
    }
    match ch04_images::inspect::inspect(store, name) {
        Ok(document) => Ok(Inspected::Image(document)),
        Err(ImagesError::NoSuchImage(_)) if kind.is_none() => Err(Error::NoSuchObject(name.into())),
        Err(error) => Err(error.into()),
    }
}

/// docker's container document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    /// The full id.
    pub id: String,
    /// When it was created.
    pub created: String,
    /// The program its command runs.
    pub path: String,
    /// The program's arguments.
    pub args: Vec<String>,
    /// Where it is in its life.
    pub state: ContainerState,
    /// The id of the image it was made from (`sha256:…`), `""` if that image is gone.
    /// Chapter 03's record keeps the image's name, not its id: the id is what the name
    /// points at now.
    pub image: String,
    /// Its `json-file` log.
    pub log_path: PathBuf,
    /// Its name, with docker's leading `/`.
    pub name: String,
    /// How many times its monitor restarted it.
    pub restart_count: u32,
    /// How its layers are stacked.
    pub driver: String,
    /// The operating system it runs on.
    pub platform: &'static str,
    /// How it runs.
    pub host_config: HostConfigDocument,
    /// Where its layers are.
    pub graph_driver: GraphDriver,
    /// What is mounted into it: binds, volumes, tmpfs.
    pub mounts: Vec<MountPoint>,
    /// What it runs, in the image config's terms.
    pub config: ConfigDocument,
    /// Its addresses and published ports.
    pub network_settings: super::network::NetworkSettings,
}

/// docker's `State`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `exited` or `dead`.
    pub status: &'static str,
    /// Its command runs (paused or restarting included, as docker counts).
    pub running: bool,
    /// Its cgroup is frozen.
    pub paused: bool,
    /// Its monitor waits to start it again.
    pub restarting: bool,
    /// The OOM killer ended it.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Its monitor vanished while it ran.
    pub dead: bool,
    /// Its first process as the host sees it, 0 when it does not run.
    pub pid: u32,
    /// How its command last ended.
    pub exit_code: i32,
    /// Why it could not start.
    pub error: String,
    /// When its command last started.
    pub started_at: String,
    /// When its command last ended.
    pub finished_at: String,
    /// Its health checks, when it has some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthDocument>,
}

/// docker's `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthDocument {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: &'static str,
    /// Failed checks in a row.
    pub failing_streak: u32,
    /// The last checks.
    pub log: Vec<HealthLogEntry>,
}

/// One health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthLogEntry {
    /// When it started.
    pub start: String,
    /// When it ended.
    pub end: String,
    /// How it ended.
    pub exit_code: i32,
    /// What it printed.
    pub output: String,
}

/// docker's `HostConfig`, the parts this chapter has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfigDocument {
    /// Bind mounts and named volumes, `SOURCE:TARGET[:ro]`; `null` when none.
    pub binds: Option<Vec<String>>,
    /// How its output is kept.
    pub log_config: LogConfig,
    /// `--restart`.
    pub restart_policy: RestartPolicyDocument,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--cap-add`; `null` when none.
    pub cap_add: Option<Vec<String>>,
    /// `--cap-drop`; `null` when none.
    pub cap_drop: Option<Vec<String>>,
    /// `--privileged`.
    pub privileged: bool,
    /// `--security-opt`; `null` when none.
    pub security_opt: Option<Vec<String>>,
    /// `--tmpfs`: target → options.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tmpfs: BTreeMap<String, String>,
    /// `--cpu-shares`, 0 when not set.
    pub cpu_shares: u64,
    /// `--memory` in bytes, 0 when not set.
    pub memory: u64,
    /// `--cpus` in billionths of a CPU, 0 when not set.
    pub nano_cpus: u64,
    /// `--cgroup-parent`.
    pub cgroup_parent: String,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: String,
    /// `--memory-swap` in bytes (-1 unlimited), 0 when not set.
    pub memory_swap: i64,
    /// `--pids-limit`; `null` when not set.
    pub pids_limit: Option<u64>,
    /// `--init`.
    pub init: bool,
    /// `--network`: `bridge`, `none`, `host` or a network's name.
    pub network_mode: String,
    /// `-p`, as asked (host port `""` for one the kernel chooses).
    pub port_bindings: BTreeMap<String, Vec<super::network::HostBinding>>,
    /// `-P`.
    pub publish_all_ports: bool,
    /// `--dns`; `[]` when none.
    pub dns: Vec<String>,
    /// `--add-host`; `null` when none.
    pub extra_hosts: Option<Vec<String>>,
}

/// docker's `LogConfig`: always `json-file` here, with its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    /// The log driver.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// `--log-opt` as docker keeps them: `max-size`, `max-file`.
    pub config: BTreeMap<String, String>,
}

/// docker's `RestartPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicyDocument {
    /// `no`, `always`, `unless-stopped` or `on-failure`.
    pub name: &'static str,
    /// `on-failure:N`'s N, else 0.
    pub maximum_retry_count: u32,
}

/// docker's `GraphDriver`: the driver and, for overlay, its directories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    /// `LowerDir` (top first), `MergedDir`, `UpperDir`, `WorkDir`; `null` for vfs.
    pub data: Option<BTreeMap<&'static str, String>>,
    /// `overlay` or `vfs`.
    pub name: String,
}

/// docker's entry of `Mounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// A volume's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Where it comes from on the host (`""` for a tmpfs).
    pub source: String,
    /// Where it is in the container.
    pub destination: String,
    /// A volume's driver.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// The mode as given (`ro`), docker's SELinux labels included; `""` here.
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Mount propagation: binds are `rprivate`.
    pub propagation: String,
}

/// docker's `Config`: the image config the container runs with, and the options that go
/// with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigDocument {
    /// Its hostname.
    pub hostname: String,
    /// Its domain name (always empty here).
    pub domainname: String,
    /// Who its command runs as.
    pub user: String,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
    /// Its environment.
    pub env: Vec<String>,
    /// Its `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// Its health check (the command line's, else the image's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// The image as the user named it.
    pub image: String,
    /// The image's `VOLUME`s; `null` when none.
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// Its working directory.
    pub working_dir: String,
    /// Its `Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// The image's `ONBUILD`s; `null` when none.
    pub on_build: Option<Vec<String>>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// The signal `stop` sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// How long `stop` waits, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<u32>,
}

/// Where named volumes keep their files: `<root>/volumes/<name>/_data`, as the design sets
/// it out (and docker does under `/var/lib/docker`).
pub fn volume_source(root: &Path, name: &str) -> PathBuf {
    root.join("volumes").join(name).join("_data")
}

/// The document of a container.
pub fn container(store: &ImageStore, view: &ContainerView) -> Container {
    let record = &view.record;
    let containers = store.containers();
    let paths = Paths::new(containers, &record.id);
    let (path, args) = record
        .command
        .split_first()
        .map_or((String::new(), Vec::new()), |(p, a)| {
            (p.clone(), a.to_vec())
        });
    let image = record
        .image
        .as_deref()
        .and_then(|name| store.find_image(name).ok())
        .map_or_else(String::new, |image| image.id.to_string());
    Container {
        id: record.id.clone(),
        created: format_rfc3339_nano(record.created_ns),
        path,
        args,
        state: state(view),
        image,
        log_path: paths.log(),
        name: record
            .name
            .as_ref()
            .map_or_else(String::new, |n| format!("/{n}")),
        restart_count: view.state.restart_count,
        driver: record.driver.to_string(),
        platform: "linux",
        host_config: host_config(view),
        graph_driver: graph_driver(containers, view),
        mounts: mounts(store.root(), view),
        config: config(view),
        network_settings: super::network::NetworkSettings::of(view),
    }
}

/// A time of `state.json`, or Go's zero time for "never".
fn time(nanoseconds: Option<u64>) -> String {
    nanoseconds.map_or_else(|| GO_ZERO_TIME.to_string(), format_rfc3339_nano)
}

fn state(view: &ContainerView) -> ContainerState {
    let state = &view.state;
    let running = view.is_running();
    ContainerState {
        status: view.state_word(),
        running,
        paused: view.paused,
        restarting: view.status == crate::container::Status::Restarting,
        oom_killed: state.oom_killed,
        dead: view.status == crate::container::Status::Dead,
        pid: if running { state.pid.unwrap_or(0) } else { 0 },
        exit_code: state.exit_code.unwrap_or(0),
        error: state.error.clone().unwrap_or_default(),
        started_at: time(state.started_ns),
        finished_at: time(state.finished_ns),
        health: state.health.as_ref().map(|health| HealthDocument {
            status: health_word(health.status),
            failing_streak: health.failing_streak,
            log: health.log.iter().map(health_log_entry).collect(),
        }),
    }
}

fn health_log_entry(result: &HealthResult) -> HealthLogEntry {
    HealthLogEntry {
        start: format_rfc3339_nano(result.start_ns),
        end: format_rfc3339_nano(result.end_ns),
        exit_code: result.exit_code,
        output: result.output.clone(),
    }
}

/// `None` for an empty list, as docker writes `null` for a list never given.
fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn host_config(view: &ContainerView) -> HostConfigDocument {
    let host = &view.host;
    let process = &host.process;
    let limits = &host.cgroup.limits;
    let mut binds = Vec::new();
    let mut tmpfs = BTreeMap::new();
    for mount in &process.mounts {
        let target = mount.target.display().to_string();
        match mount.kind {
            MountKind::Bind { read_only } => binds.push(format!(
                "{}:{target}{}",
                mount.what(),
                if read_only { ":ro" } else { "" }
            )),
            MountKind::Tmpfs {
                size,
                mode,
                no_exec,
            } => {
                let options: Vec<String> = [
                    size.map(|s| format!("size={s}")),
                    mode.map(|m| format!("mode={m:o}")),
                    no_exec.then(|| "noexec".to_string()),
                ]
                .into_iter()
                .flatten()
                .collect();
                tmpfs.insert(target, options.join(","));
            }
        }
    }
    for volume in host.volumes.iter().filter(|v| !v.anonymous) {
        binds.push(format!(
            "{}:{}{}",
            volume.name,
            volume.target.display(),
            if volume.read_only { ":ro" } else { "" }
        ));
    }
    let (name, maximum_retry_count) = match host.restart {
        RestartPolicy::No => ("no", 0),
        RestartPolicy::Always => ("always", 0),
        RestartPolicy::UnlessStopped => ("unless-stopped", 0),
        RestartPolicy::OnFailure { max_retries } => ("on-failure", max_retries.unwrap_or(0)),
    };
    let mut log = BTreeMap::new();
    if let Some(size) = host.log.max_size {
        log.insert("max-size".to_string(), size_option(size));
        log.insert("max-file".to_string(), host.log.max_file.to_string());
    }
    HostConfigDocument {
        binds: non_empty(binds),
        log_config: LogConfig {
            kind: "json-file",
            config: log,
        },
        restart_policy: RestartPolicyDocument {
            name,
            maximum_retry_count,
        },
        auto_remove: host.auto_remove,
        cap_add: non_empty(process.cap_add.clone()),
        cap_drop: non_empty(process.cap_drop.clone()),
        privileged: process.privileged,
        security_opt: non_empty(process.security_opt.clone()),
        tmpfs,
        cpu_shares: limits.cpu_shares.unwrap_or(0),
        memory: limits.memory.unwrap_or(0),
        nano_cpus: limits.cpus.map_or(0, |cpus| (cpus * 1e9).round() as u64),
        cgroup_parent: host.cgroup.parent.clone(),
        cpuset_cpus: limits.cpuset_cpus.clone().unwrap_or_default(),
        memory_swap: limits.memory_swap.unwrap_or(0),
        pids_limit: limits.pids,
        init: process.init,
        network_mode: host.network.mode.name().to_owned(),
        port_bindings: port_bindings(&host.network.ports),
        publish_all_ports: host.network.publish_all,
        dns: host.network.dns.iter().map(ToString::to_string).collect(),
        extra_hosts: non_empty(host.network.extra_hosts.clone()),
    }
}

/// `-p` as docker's `HostConfig.PortBindings` keeps it.
fn port_bindings(
    ports: &[crate::network::ports::PortBinding],
) -> BTreeMap<String, Vec<super::network::HostBinding>> {
    let mut bindings: BTreeMap<String, Vec<super::network::HostBinding>> = BTreeMap::new();
    for port in ports {
        bindings
            .entry(format!("{}/{}", port.container_port, port.protocol))
            .or_default()
            .push(super::network::HostBinding {
                host_ip: port.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                host_port: match port.host_port {
                    0 => String::new(),
                    n => n.to_string(),
                },
            });
    }
    bindings
}

/// A byte count as `--log-opt max-size` takes it: the largest binary unit that divides it
/// (`10m`), else bytes.
fn size_option(bytes: u64) -> String {
    for (unit, suffix) in [(1 << 30, "g"), (1 << 20, "m"), (1 << 10, "k")] {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

fn graph_driver(store: &ch03_union_fs::Store, view: &ContainerView) -> GraphDriver {
    let record = &view.record;
    let data = match record.driver {
        Driver::Overlay => {
            let lower: Vec<String> = record
                .layers
                .iter()
                .rev()
                .map(|l| l.display().to_string())
                .collect();
            Some(BTreeMap::from([
                ("LowerDir", lower.join(":")),
                ("MergedDir", store.rootfs_dir(record).display().to_string()),
                (
                    "UpperDir",
                    store.upper_dir(&record.id).display().to_string(),
                ),
                ("WorkDir", store.work_dir(&record.id).display().to_string()),
            ]))
        }
        Driver::Vfs => None,
    };
    GraphDriver {
        data,
        name: record.driver.to_string(),
    }
}

fn mounts(root: &Path, view: &ContainerView) -> Vec<MountPoint> {
    let host = &view.host;
    let volumes = host.volumes.iter().map(|volume| MountPoint {
        kind: "volume",
        name: volume.name.clone(),
        source: volume_source(root, &volume.name).display().to_string(),
        destination: volume.target.display().to_string(),
        driver: "local".into(),
        mode: String::new(),
        rw: !volume.read_only,
        propagation: String::new(),
    });
    let others = host.process.mounts.iter().map(|mount| match mount.kind {
        MountKind::Bind { read_only } => MountPoint {
            kind: "bind",
            name: String::new(),
            source: mount.what(),
            destination: mount.target.display().to_string(),
            driver: String::new(),
            mode: if read_only { "ro" } else { "" }.into(),
            rw: !read_only,
            propagation: "rprivate".into(),
        },
        MountKind::Tmpfs { .. } => MountPoint {
            kind: "tmpfs",
            name: String::new(),
            source: String::new(),
            destination: mount.target.display().to_string(),
            driver: String::new(),
            mode: String::new(),
            rw: true,
            propagation: String::new(),
        },
    });
    others.chain(volumes).collect()
}

fn config(view: &ContainerView) -> ConfigDocument {
    let (host, config) = (&view.host, &view.config);
    let volumes: BTreeMap<String, serde_json::Value> = config
        .volumes
        .keys()
        .map(|path| (path.clone(), serde_json::json!({})))
        .collect();
    ConfigDocument {
        hostname: host
            .process
            .hostname
            .clone()
            .unwrap_or_else(|| view.record.short_id().to_string()),
        domainname: String::new(),
        user: config.user.clone().unwrap_or_default(),
        tty: host.process.tty,
        open_stdin: host.process.interactive,
        env: config.env.clone(),
        cmd: config.cmd.clone(),
        healthcheck: host
            .healthcheck
            .clone()
            .or_else(|| config.healthcheck.clone()),
        image: view.record.image.clone().unwrap_or_default(),
        volumes: (!volumes.is_empty()).then_some(volumes),
        working_dir: config.working_dir.clone().unwrap_or_default(),
        entrypoint: config.entrypoint.clone(),
        on_build: non_empty(config.on_build.clone()),
        labels: config.labels.clone(),
        stop_signal: host
            .stop_signal
            .clone()
            .or_else(|| config.stop_signal.clone()),
        stop_timeout: host.stop_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sizes_read_as_given() {
        assert_eq!(size_option(10 << 20), "10m");
        assert_eq!(size_option(1 << 30), "1g");
        assert_eq!(size_option(1536), "1536");
        assert_eq!(size_option(3 << 10), "3k");
    }
}
