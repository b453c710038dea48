//! From an image to a process: the image's config says what to run and how, and the command
//! line may override each part of it, with docker's rules.
//!
//! - The command is `Entrypoint + Cmd`. Arguments after the image replace `Cmd`;
//!   `--entrypoint` replaces `Entrypoint` and drops the image's `Cmd` too.
//! - `Env` comes first, and `-e` overrides or adds to it.
//! - `WorkingDir` and `User` apply unless `-w` or `-u` say otherwise.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use ch01_namespaces::{ContainerSpec, Narrator, ProcessOptions, User};
use ch02_cgroups::CgroupOptions;
use ch03_union_fs::{RunEnd, RunEvent, RunRequest, StorageOptions};
use dockyard_support::Sink;

use crate::error::{Error, Result};
use crate::oci::{ContainerConfig, EmptyObject};
use crate::store::ImageStore;

/// What the command line says about the command, beside the image.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    /// `--entrypoint` (one word) or Compose's `entrypoint:` (a list): replaces the image's
    /// entrypoint; `Some(vec![])` clears it.
    pub entrypoint: Option<Vec<String>>,
    /// The arguments after the image name.
    pub command: Vec<String>,
}

/// A container to run from an image: what a caller of chapter 04 decides, in `docker run`'s
/// terms.
#[derive(Debug, Clone, Default)]
pub struct ImageRun {
    /// The image: a name or an id.
    pub image: String,
    /// The command line's overrides of the image's command.
    pub overrides: Overrides,
    /// How the process runs (chapter 01).
    pub process: ProcessOptions,
    /// Its cgroup: where, and what it may use (chapter 02).
    pub cgroup: CgroupOptions,
    /// Its name, if it has one (`--name`).
    pub name: Option<String>,
    /// Remove the container when it exits (`--rm`).
    pub remove: bool,
    /// `--label`: the container's labels, over the image's (Compose finds its containers by
    /// them).
    pub labels: BTreeMap<String, String>,
    /// `--expose PORT[/PROTO]` or a range `FROM-TO[/PROTO]`: ports the container exposes
    /// besides the image's (`ps` lists them; `-P` publishes them).
    pub expose: Vec<String>,
}

// ANCHOR: run_image
/// Runs a container from an image to its end: the image's layers under chapter 03's run,
/// its config under the caller's options. What the container ran with is recorded for a
/// later `commit`.
pub fn run_image(
    store: &ImageStore,
    request: ImageRun,
    storage: &StorageOptions,
    n: &Narrator,
    events: &dyn Sink<RunEvent>,
) -> Result<RunEnd> {
    let run = prepare(store, request)?;
    Ok(ch03_union_fs::run::run(
        store.containers(),
        run,
        storage,
        n,
        events,
    )?)
}
// ANCHOR_END: run_image

/// `--expose` values as an image config's keys: `80` is `80/tcp`, a range one key per port.
fn exposed_ports(expose: &[String]) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    for text in expose {
        let (ports, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
        let invalid = || {
            Error::Invalid(format!(
                "invalid range format for --expose: {text} (write PORT, PORT/PROTOCOL or FROM-TO)"
            ))
        };
        let (from, to) = ports.split_once('-').unwrap_or((ports, ports));
        let from: u16 = from.parse().map_err(|_| invalid())?;
        let to: u16 = to.parse().map_err(|_| invalid())?;
        if from > to || !matches!(protocol, "tcp" | "udp" | "sctp") {
            return Err(invalid());
        }
        keys.extend((from..=to).map(|port| format!("{port}/{protocol}")));
    }
    Ok(keys)
}

// ANCHOR: prepare
/// Chapter 03's request for a container from an image: the image's layers, and its config
/// under the caller's options. `create` (chapter 06) takes it as `run_image` does.
pub fn prepare(store: &ImageStore, request: ImageRun) -> Result<RunRequest> {
    let image = store.find_image(&request.image)?;
    let layers: Vec<PathBuf> = image
        .chain_ids()
        .iter()
        .map(|c| store.layer_dir(c))
        .collect();
    let config = image.config.config.clone().unwrap_or_default();
    let spec = spec(&config, &request.process, &request.overrides, &layers)?;
    let mut running = container_config(&config, &request.process, &request.overrides, &spec);
    // The container's labels over the image's, as docker merges them.
    running.labels.extend(request.labels);
    for port in exposed_ports(&request.expose)? {
        running.exposed_ports.insert(port, EmptyObject);
    }
    Ok(RunRequest {
        spec,
        config: Some(serde_json::to_value(running).expect("a config serializes")),
        layers,
        image: Some(request.image),
        name: request.name,
        remove: request.remove,
        cgroup: request.cgroup,
    })
}
// ANCHOR_END: prepare

// ANCHOR: command
/// The command the container runs: docker's rules for `Entrypoint`, `Cmd` and the command
/// line.
pub fn command(config: &ContainerConfig, overrides: &Overrides) -> Result<Vec<String>> {
    let (entrypoint, cmd) = match &overrides.entrypoint {
        // --entrypoint replaces the entrypoint, and the image's Cmd goes with it.
        Some(entrypoint) if entrypoint.is_empty() => (Vec::new(), overrides.command.clone()),
        Some(entrypoint) => (entrypoint.clone(), overrides.command.clone()),
        None if !overrides.command.is_empty() => (
            config.entrypoint.clone().unwrap_or_default(),
            overrides.command.clone(),
        ),
        None => (
            config.entrypoint.clone().unwrap_or_default(),
            config.cmd.clone().unwrap_or_default(),
        ),
    };
    let command: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if command.is_empty() {
        return Err(Error::NoCommand);
    }
    Ok(command)
}
// ANCHOR_END: command

// ANCHOR: spec
/// The container's spec: the image config's environment, directory and user, under the
/// command line's options. `layers` (bottom first) are read to resolve a user name.
pub fn spec(
    config: &ContainerConfig,
    options: &ProcessOptions,
    overrides: &Overrides,
    layers: &[PathBuf],
) -> Result<ContainerSpec> {
    let mut spec = options.to_spec(PathBuf::new(), command(config, overrides)?)?;
    let image_env = config.env.iter().filter_map(|entry| {
        entry
            .split_once('=')
            .map(|(k, v)| (k.to_string(), v.to_string()))
    });
    // The image's variables first; the user's, already in the spec, win over them.
    let mut env: Vec<(String, String)> = image_env.collect();
    for (key, value) in std::mem::take(&mut spec.env) {
        match env.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => env.push((key, value)),
        }
    }
    spec.env = env;
    if options.workdir.is_none()
        && let Some(dir) = config.working_dir.as_deref().filter(|d| !d.is_empty())
    {
        spec.workdir = Some(PathBuf::from(dir));
    }
    if options.user.is_none()
        && let Some(user) = config.user.as_deref().filter(|u| !u.is_empty())
    {
        spec.user = resolve_user(user, layers)?;
    }
    Ok(spec)
}
// ANCHOR_END: spec

// ANCHOR: container_config
/// What the container runs with, in the image config's terms: the image's, with the command
/// line's overrides in. `commit` makes it the new image's config, as docker's does.
pub fn container_config(
    image: &ContainerConfig,
    options: &ProcessOptions,
    overrides: &Overrides,
    spec: &ContainerSpec,
) -> ContainerConfig {
    let (entrypoint, cmd) = match &overrides.entrypoint {
        Some(entrypoint) if entrypoint.is_empty() => (None, Some(overrides.command.clone())),
        Some(entrypoint) => (Some(entrypoint.clone()), Some(overrides.command.clone())),
        None if !overrides.command.is_empty() => {
            (image.entrypoint.clone(), Some(overrides.command.clone()))
        }
        None => (image.entrypoint.clone(), image.cmd.clone()),
    };
    let user = match options.user {
        Some(User {
            uid,
            gid: Some(gid),
        }) => Some(format!("{uid}:{gid}")),
        Some(User { uid, gid: None }) => Some(uid.to_string()),
        None => image.user.clone(),
    };
    ContainerConfig {
        user,
        env: spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        entrypoint,
        cmd: cmd.filter(|c| !c.is_empty()),
        working_dir: spec.workdir.as_ref().map(|d| d.display().to_string()),
        ..image.clone()
    }
}
// ANCHOR_END: container_config

/// The image's `User`: `uid`, `uid:gid`, or names from the image's own `/etc/passwd` and
/// `/etc/group`.
pub fn resolve_user(user: &str, layers: &[PathBuf]) -> Result<User> {
    let (name, group) = match user.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (user, None),
    };
    let unknown = |what: &str, file: &str| {
        Error::Invalid(format!(
            "unable to find {what} {user:?}: no matching entries in the image's {file}"
        ))
    };
    let (uid, primary_gid) = match name.parse::<u32>() {
        Ok(uid) => (uid, None),
        Err(_) => {
            let passwd = read_from_layers(layers, "etc/passwd").unwrap_or_default();
            lookup(&passwd, name)
                .map(|fields| (fields.0, Some(fields.1)))
                .ok_or_else(|| unknown("user", "/etc/passwd"))?
        }
    };
    let gid = match group {
        None => primary_gid,
        Some(group) => Some(match group.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                let groups = read_from_layers(layers, "etc/group").unwrap_or_default();
                lookup(&groups, group)
                    .map(|fields| fields.0)
                    .ok_or_else(|| unknown("group", "/etc/group"))?
            }
        }),
    };
    Ok(User { uid, gid })
}

/// The id (third field) and, for passwd, the group id (fourth) of `name` in a passwd- or
/// group-format file.
fn lookup(file: &str, name: &str) -> Option<(u32, u32)> {
    file.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.first() != Some(&name) {
            return None;
        }
        let id = fields.get(2)?.parse().ok()?;
        let gid = fields.get(3).and_then(|g| g.parse().ok()).unwrap_or(id);
        Some((id, gid))
    })
}

/// A file as the stacked layers show it: from the topmost layer that has it, unless a layer
/// above deleted it (an overlay whiteout).
fn read_from_layers(layers: &[PathBuf], path: &str) -> Option<String> {
    for layer in layers.iter().rev() {
        let candidate = layer.join(path);
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_char_device() => return None,
            Ok(meta) if meta.is_file() => return fs::read_to_string(candidate).ok(),
            _ => {}
        }
        if is_opaque(layer, Path::new(path)) {
            return None;
        }
    }
    None
}

/// Whether a parent directory of `path` in `layer` is opaque, hiding the layers below.
fn is_opaque(layer: &Path, path: &Path) -> bool {
    path.ancestors().skip(1).any(|dir| {
        !dir.as_os_str().is_empty()
            && rustix::fs::getxattr(layer.join(dir), "trusted.overlay.opaque", &mut [0u8; 1])
                .is_ok_and(|n| n == 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_ports_read_as_docker_reads_them() {
        let ports =
            |list: &[&str]| exposed_ports(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            ports(&["80", "53/udp", "7000-7001"]).unwrap(),
            ["80/tcp", "53/udp", "7000/tcp", "7001/tcp"]
        );
        assert_eq!(
            ports(&["http"]).unwrap_err().to_string(),
            "invalid range format for --expose: http (write PORT, PORT/PROTOCOL or FROM-TO)"
        );
        assert!(ports(&["9-8"]).is_err());
        assert!(ports(&["80/icmp"]).is_err());
    }

    fn config(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ContainerConfig {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        ContainerConfig {
            entrypoint: entrypoint.map(list),
            cmd: cmd.map(list),
            ..ContainerConfig::default()
        }
    }

    fn overrides(entrypoint: Option<&str>, command: &[&str]) -> Overrides {
        Overrides {
            entrypoint: entrypoint.map(|e| {
                if e.is_empty() {
                    Vec::new()
                } else {
                    vec![e.to_string()]
                }
            }),
            command: command.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn dockers_rules_for_entrypoint_and_cmd() {
        let image = config(Some(&["/entry", "-x"]), Some(&["default"]));
        let cases: [(Overrides, &[&str]); 4] = [
            (overrides(None, &[]), &["/entry", "-x", "default"]),
            (overrides(None, &["mine"]), &["/entry", "-x", "mine"]),
            (overrides(Some("/other"), &[]), &["/other"]),
            (overrides(Some(""), &["/bin/sh"]), &["/bin/sh"]),
        ];
        for (given, expected) in cases {
            assert_eq!(command(&image, &given).unwrap(), expected, "{given:?}");
        }
        let no_command = command(&config(None, None), &overrides(None, &[]));
        assert!(matches!(no_command, Err(Error::NoCommand)));
    }

    #[test]
    fn users_by_name_come_from_the_image() {
        let dir = tempfile::tempdir().unwrap();
        let layer = dir.path().join("l1");
        fs::create_dir_all(layer.join("etc")).unwrap();
        fs::write(
            layer.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n",
        )
        .unwrap();
        fs::write(layer.join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        let layers = [layer];
        let user = |u: &str| resolve_user(u, &layers).unwrap();
        assert_eq!(
            user("app"),
            User {
                uid: 1000,
                gid: Some(1001)
            }
        );
        assert_eq!(
            user("app:staff"),
            User {
                uid: 1000,
                gid: Some(50)
            }
        );
        assert_eq!(
            user("7:8"),
            User {
                uid: 7,
                gid: Some(8)
            }
        );
        assert_eq!(user("7"), User { uid: 7, gid: None });
        let error = resolve_user("nobody", &layers).unwrap_err().to_string();
        assert!(error.contains("no matching entries"), "{error}");
    }
}
