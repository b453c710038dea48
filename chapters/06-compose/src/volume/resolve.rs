//! What a container's mounts become each time it starts: its volumes made if they are not
//! there yet (a named volume springs into being on first use, as docker's do), filled with the
//! image's files if they are empty, and turned, with its binds and tmpfs, into chapter 01's
//! mounts, in an order where a mount inside another comes after it.

use std::path::{Component, PathBuf};

use ch01_namespaces::{Actor, Mount, MountKind, Narrator};
use dockyard_support::FromIo;

use super::copy_up::{ImageFiles, fill};
use super::driver::{Backing, backing};
use super::error::{Error, Result};
use super::store::{CreateOptions, Volumes};
use crate::container::VolumeUse;

// ANCHOR: mounts_for
/// The mounts a container starts with: one for each of its `volumes` (created on first use,
/// filled from the image's `layers` when empty unless `no_copy`) and its binds and tmpfs
/// `mounts` (a bind's missing host directory is created, as docker does at start), sorted so
/// that a mount comes before the mounts inside it. What it returns replaces the spec's mounts;
/// chapter 01 resolves each target inside the container's root and attaches it.
pub fn mounts_for(
    containers: &ch03_union_fs::Store,
    volumes: &[VolumeUse],
    mounts: &[Mount],
    layers: &[PathBuf],
    n: &Narrator,
) -> Result<Vec<Mount>> {
    let store = Volumes::open(containers)?;
    let mut image = ImageFiles::new(layers);
    let mut resolved = Vec::new();
    for wanted in volumes {
        let options = CreateOptions {
            anonymous: wanted.anonymous,
            ..CreateOptions::default()
        };
        let (volume, created) = store.create(Some(&wanted.name), &options)?;
        if created {
            n.say(Actor::Engine, format!("create volume {}", volume.name));
        }
        let mount = match backing(&volume)? {
            Backing::Directory => {
                if !wanted.no_copy {
                    fill(&store, &volume, &wanted.target, &mut image, n)?;
                }
                Mount::bind(&volume.mountpoint, &wanted.target, wanted.read_only)
            }
            Backing::Bind { device, read_only } => {
                Mount::bind(device, &wanted.target, wanted.read_only || read_only)
            }
            Backing::Tmpfs(_) if wanted.read_only => {
                return Err(Error::invalid(
                    format!(
                        "volume {} is a tmpfs: mounted read-only it would stay empty",
                        volume.name
                    ),
                    "mount it without ro",
                ));
            }
            Backing::Tmpfs(kind) => Mount {
                source: None,
                target: wanted.target.clone(),
                kind,
            },
        };
        resolved.push(mount);
    }
    for mount in mounts {
        if let (MountKind::Bind { .. }, Some(source)) = (&mount.kind, &mount.source) {
            create_missing_source(source, n)?;
        }
        resolved.push(mount.clone());
    }
    // docker's order: by the number of elements in the target, stable for equal depths.
    resolved.sort_by_key(|mount| {
        mount
            .target
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count()
    });
    Ok(resolved)
}
// ANCHOR_END: mounts_for

/// Creates a bind's host directory if nothing is there (`-v /srv/new:/data`): `mkdir -p`,
/// mode 0755. Something else in the way (a file) is left for the mount to use or refuse.
fn create_missing_source(source: &std::path::Path, n: &Narrator) -> Result<()> {
    if std::fs::symlink_metadata(source).is_ok() {
        return Ok(());
    }
    n.say(
        Actor::Engine,
        format!("mkdir -p {} (a missing bind source)", source.display()),
    );
    std::fs::create_dir_all(source).map_err(Error::io("create the bind source", source))
}

/// Removes the anonymous ones among a removed container's `volumes` (`rm -v`, and `--rm`),
/// except those another container still uses; returns the names removed. Named volumes stay.
/// Call it once the container's own files are gone, so that it does not count as a user.
pub fn remove_anonymous(
    containers: &ch03_union_fs::Store,
    volumes: &[VolumeUse],
) -> Result<Vec<String>> {
    let anonymous: Vec<&VolumeUse> = volumes.iter().filter(|v| v.anonymous).collect();
    if anonymous.is_empty() {
        return Ok(Vec::new());
    }
    let store = Volumes::open(containers)?;
    let mut removed = Vec::new();
    for volume in anonymous {
        match store.remove(&volume.name) {
            Ok(()) => removed.push(volume.name.clone()),
            // Never created (the container never started), or removed already.
            Err(Error::NoSuchVolume(_)) => {}
            // Another container uses it too: it stays, as docker leaves it.
            Err(Error::InUse { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}
