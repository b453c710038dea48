//! A container's life on disk, around chapter 01's run: create its writable layer, prepare its
//! root filesystem, record that it runs, record how it ended, remove it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, ExitStatus, Narrator, RootfsMount};
use dockyard_support::FromIo;
use dockyard_support::clock::now;
use dockyard_support::process;

use crate::archive::{self, Written};
use crate::copy;
use crate::diff;
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::overlay::{MountApi, OverlayMount};
use crate::store::{Record, State, Store};

/// The layers given with `--layer`, bottom first: each must be a directory; they are used by
/// absolute path, so the container finds them wherever it is started from.
pub fn check_layers(layers: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if layers.is_empty() {
        return Err(Error::Invalid(
            "a container needs at least one --layer DIR".into(),
        ));
    }
    layers
        .iter()
        .map(|layer| match layer.canonicalize() {
            Ok(path) if path.is_dir() => Ok(path),
            _ => Err(Error::LayerNotDirectory(layer.clone())),
        })
        .collect()
}

/// A container's root filesystem, ready for chapter 01's run.
#[derive(Debug)]
pub enum Rootfs {
    /// An overlay that the container's first process mounts.
    Overlay(OverlayMount),
    /// A private copy, already made.
    Vfs,
}

impl Rootfs {
    /// What chapter 01 should mount before entering the root, if anything.
    pub fn mount(&self) -> Option<&dyn RootfsMount> {
        match self {
            Rootfs::Overlay(overlay) => Some(overlay),
            Rootfs::Vfs => None,
        }
    }
}

// ANCHOR: create
/// Creates the container's directory and writable layer. For vfs that means a full copy of
/// every layer; for overlay, an empty upper directory and the layers' short names.
pub fn create(store: &Store, record: &Record, api: MountApi, n: &Narrator) -> Result<Rootfs> {
    store.create(record)?;
    let prepared = match record.driver {
        Driver::Overlay => OverlayMount::new(store, record, api).map(Rootfs::Overlay),
        Driver::Vfs => {
            copy::flatten(&record.layers, &store.rootfs_dir(record), n).map(|()| Rootfs::Vfs)
        }
    };
    if prepared.is_err() {
        let _best_effort = store.remove(record);
    }
    prepared
}
// ANCHOR_END: create

/// The root filesystem of a container created earlier, to start it (again): its writable
/// layer is kept, so what it wrote before is still there, as `docker start` keeps it.
pub fn existing_rootfs(store: &Store, record: &Record, api: MountApi) -> Result<Rootfs> {
    match record.driver {
        Driver::Overlay => OverlayMount::new(store, record, api).map(Rootfs::Overlay),
        Driver::Vfs => Ok(Rootfs::Vfs),
    }
}

// ANCHOR: commit
/// Writes a container's changes as an OCI layer archive to `output`.
pub fn commit_layer(store: &Store, container: &str, output: impl Write) -> Result<Written> {
    let record = store.find(container)?;
    let changes = changes(store, &record)?;
    archive::write_layer(&changes, &changes_source(store, &record), output)
}

/// Writes a container's changes as an OCI layer archive file at `path`. It is written beside
/// the destination and renamed: a failed commit leaves no partial archive.
pub fn commit_layer_to_file(store: &Store, container: &str, path: &Path) -> Result<Written> {
    let partial = path.with_extension("partial");
    let written = File::create(&partial)
        .map_err(Error::io("create", &partial))
        .and_then(|file| commit_layer(store, container, BufWriter::new(file)));
    match written {
        Ok(written) => {
            std::fs::rename(&partial, path).map_err(Error::io("create", path))?;
            Ok(written)
        }
        Err(error) => {
            let _best_effort = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}
// ANCHOR_END: commit

/// The state of a container this engine process is starting now. It is saved with the record
/// when the container is created: one write fewer on every run.
pub fn starting_now() -> State {
    State::Running {
        engine_pid: std::process::id(),
        started: now(),
    }
}

/// Records how the run ended: an exit status, or back to created if the command never ran
/// (not found, not executable), as docker leaves such a container.
pub fn ended(
    store: &Store,
    record: &mut Record,
    outcome: &std::result::Result<ExitStatus, ch01_namespaces::Error>,
) -> Result<()> {
    // A `rename` while it ran changed the name on disk; the caller's copy has the old one.
    if let Ok(saved) = store.load(&record.id) {
        record.name = saved.name;
    }
    record.state = match outcome {
        Ok(status) => State::Exited {
            code: status.code(),
            finished: now(),
        },
        Err(_) => State::Created,
    };
    store.save(record)
}

/// The status `ps` shows, checking that a "running" container's engine is still alive.
pub fn effective_state(record: &Record) -> State {
    match record.state {
        State::Running { engine_pid, .. } if !process::alive(engine_pid) => State::Created,
        state => state,
    }
}

/// A container as `ps` lists it: its record, and the state it is really in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// What the container is.
    pub record: Record,
    /// Its state, checked (see [`effective_state`]).
    pub state: State,
}

/// Every container, newest first.
pub fn list(store: &Store) -> Result<Vec<Listed>> {
    let mut listed: Vec<Listed> = store
        .list()?
        .into_iter()
        .map(|record| Listed {
            state: effective_state(&record),
            record,
        })
        .collect();
    listed.reverse();
    Ok(listed)
}

/// The bytes of a container's writable layer, and of everything it sees (its writable layer
/// with the layers below: docker's "virtual" size).
pub fn sizes(store: &Store, record: &Record) -> (u64, u64) {
    let writable = disk_usage(&changes_source(store, record));
    let layers: u64 = record.layers.iter().map(|l| disk_usage(l)).sum();
    (writable, writable + layers)
}

/// Removes a container that is not running, and what is left of its cgroup if the engine that
/// ran it was killed before its teardown (under the default parent: the record does not keep
/// a `--cgroup-parent`).
pub fn remove(store: &Store, record: &Record) -> Result<()> {
    if let State::Running { .. } = effective_state(record) {
        return Err(Error::ContainerRunning(record.short_id().into()));
    }
    store.remove(record)?;
    // Empty groups only, and best effort: the record is gone, which is what was asked.
    let _best_effort = ch02_cgroups::remove_leftover(
        Path::new(ch02_cgroups::CGROUP_ROOT),
        ch02_cgroups::DEFAULT_PARENT,
        &record.id,
    );
    Ok(())
}

/// What the container changed.
pub fn changes(store: &Store, record: &Record) -> Result<Vec<diff::Change>> {
    match record.driver {
        Driver::Overlay => diff::overlay_changes(&store.upper_dir(&record.id), &record.layers),
        Driver::Vfs => diff::vfs_changes(&store.rootfs_dir(record), &record.layers),
    }
}

/// The directory holding the files of the container's changes: its upper layer, or its copy.
pub fn changes_source(store: &Store, record: &Record) -> PathBuf {
    match record.driver {
        Driver::Overlay => store.upper_dir(&record.id),
        Driver::Vfs => store.rootfs_dir(record),
    }
}

// ANCHOR: explain_upper
/// For `--explain`, after the run: what the kernel did in the upper layer. Every file there
/// that the layers also have was *copied up* (the first write to a lower file copies it whole
/// into the upper layer); a 0/0 character device is a whiteout for a deletion; an opaque
/// directory replaced a lower one.
pub fn explain_upper(store: &Store, record: &Record, n: &Narrator) -> Result<()> {
    if !n.enabled() || record.driver != Driver::Overlay {
        return Ok(());
    }
    let upper = store.upper_dir(&record.id);
    for change in changes(store, record)? {
        let path = format!("/{}", change.path.display());
        let what = match change.kind {
            diff::Kind::Deleted => "whiteout (char 0/0) hides the lower file".to_string(),
            diff::Kind::Changed if change.opaque => {
                "opaque directory (trusted.overlay.opaque=y)".into()
            }
            diff::Kind::Changed if upper.join(&change.path).is_dir() => {
                "directory copied up (its metadata; lower entries still show through)".into()
            }
            diff::Kind::Changed => "copied up from a lower layer, then changed".into(),
            diff::Kind::Added => "new in the upper layer".into(),
        };
        n.say(Actor::Engine, format!("upper layer: {path}: {what}"));
    }
    Ok(())
}
// ANCHOR_END: explain_upper

/// The size in bytes of the files under `dir` (not following links), as `ps -s` shows it.
pub fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    crate::tree::walk(dir)
        .filter_map(|e| e.ok())
        .filter(|(_, meta)| !meta.is_dir())
        .map(|(_, meta)| meta.size())
        .sum()
}
