//! The local driver's options: what `volume create -o` may say, and what a volume is backed
//! by when a container mounts it.
//!
//! Without options a volume is its `_data` directory, bound on the target. With options it
//! is what `mount -t TYPE -o O DEVICE` would make, as docker's local driver does it: the two
//! kinds this engine can mount are a tmpfs (`-o type=tmpfs -o device=tmpfs -o o=size=64m`)
//! and a bind of another host directory (`-o type=none -o o=bind -o device=/srv/data`).
//! Docker mounts the device on `_data` once, for every container that uses the volume; here
//! each container gets the mount itself (chapter 01's tmpfs or bind), so a tmpfs volume is
//! not shared between two containers that run at once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ch01_namespaces::MountKind;

use super::error::{Error, Result};
use super::record::Volume;
use super::spec::{TmpfsOptions, tmpfs_options};

/// The option keys docker's local driver knows.
const KNOWN: [&str; 4] = ["type", "device", "o", "size"];

/// What a volume is backed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing {
    /// Its `_data` directory (no options).
    Directory,
    /// A tmpfs of its own in each container.
    Tmpfs(MountKind),
    /// Another host directory, bound.
    Bind {
        /// The directory (`device`).
        device: PathBuf,
        /// `o=...,ro`.
        read_only: bool,
    },
}

/// Checks `volume create -o` options as docker's local driver does, and that this engine can
/// mount what they describe.
pub fn validate_options(name: &str, options: &BTreeMap<String, String>) -> Result<()> {
    if options.is_empty() {
        return Ok(());
    }
    if let Some(key) = options.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(Error::invalid(
            format!("create {name}: invalid option: {key:?}"),
            "the local driver takes -o type=, -o device= and -o o=",
        ));
    }
    if options.contains_key("size") {
        return Err(Error::invalid(
            format!("create {name}: quota size requested but no quota support"),
            "size quotas need an XFS filesystem with project quotas; use a tmpfs with o=size=",
        ));
    }
    for required in ["device", "type"] {
        if !options.contains_key(required) {
            return Err(Error::invalid(
                format!("create {name}: missing required option: {required:?}"),
                "give -o type=, -o device= (and -o o=) together",
            ));
        }
    }
    backing_of(name, options).map(|_| ())
}

/// What the volume is backed by, from its options.
pub fn backing(volume: &Volume) -> Result<Backing> {
    backing_of(&volume.name, &volume.metadata.options)
}

fn backing_of(name: &str, options: &BTreeMap<String, String>) -> Result<Backing> {
    let Some(kind) = options.get("type") else {
        return Ok(Backing::Directory);
    };
    let flags = options.get("o").map_or("", String::as_str);
    let words: Vec<&str> = flags.split(',').filter(|w| !w.is_empty()).collect();
    if words.iter().any(|w| *w == "bind" || *w == "rbind") {
        let device = PathBuf::from(options.get("device").map_or("", String::as_str));
        if !device.is_absolute() {
            return Err(Error::invalid(
                format!(
                    "create {name}: the device of a bind must be an absolute path, not {:?}",
                    device.display().to_string()
                ),
                "write -o device=/path/on/the/host",
            ));
        }
        return Ok(Backing::Bind {
            device,
            read_only: words.contains(&"ro"),
        });
    }
    if kind == "tmpfs" {
        // A tmpfs volume mounts as `mount -t tmpfs -o O`: executable unless O says noexec.
        let other: Vec<&str> = words
            .into_iter()
            .filter(|w| !matches!(*w, "bind" | "rbind"))
            .collect();
        let TmpfsOptions {
            size,
            mode,
            no_exec,
        } = tmpfs_options(&other.join(","), false)?;
        return Ok(Backing::Tmpfs(MountKind::Tmpfs {
            size,
            mode,
            no_exec,
        }));
    }
    Err(Error::invalid(
        format!("create {name}: mounting type={kind} is not supported here"),
        "the local driver here mounts a tmpfs (-o type=tmpfs -o device=tmpfs) or binds a \
         directory (-o type=none -o o=bind -o device=/path)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_are_checked_as_dockers_local_driver_does() {
        let error = |pairs: &[(&str, &str)]| {
            validate_options("v1", &options(pairs))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&[("foo", "bar")]),
            "create v1: invalid option: \"foo\""
        );
        assert_eq!(
            error(&[("type", "tmpfs")]),
            "create v1: missing required option: \"device\""
        );
        assert_eq!(
            error(&[("device", "/x")]),
            "create v1: missing required option: \"type\""
        );
        assert_eq!(
            error(&[("size", "10m")]),
            "create v1: quota size requested but no quota support"
        );
        assert!(error(&[("type", "nfs"), ("device", ":/x")]).contains("type=nfs is not supported"));
        assert!(validate_options("v1", &BTreeMap::new()).is_ok());
    }

    #[test]
    fn options_say_what_backs_the_volume() {
        let tmpfs = options(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m,mode=700"),
        ]);
        assert_eq!(
            backing_of("v1", &tmpfs).unwrap(),
            Backing::Tmpfs(MountKind::Tmpfs {
                size: Some(1 << 20),
                mode: Some(0o700),
                no_exec: false
            })
        );
        let bind = options(&[("type", "none"), ("device", "/srv"), ("o", "bind,ro")]);
        assert_eq!(
            backing_of("v1", &bind).unwrap(),
            Backing::Bind {
                device: "/srv".into(),
                read_only: true
            }
        );
        assert_eq!(
            backing_of("v1", &BTreeMap::new()).unwrap(),
            Backing::Directory
        );
    }
}
