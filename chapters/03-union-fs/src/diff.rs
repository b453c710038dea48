//! What a container changed, as `docker diff` prints it: `A` added, `C` changed, `D` deleted.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::tree::{self, Node};

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The path is new.
    Added,
    /// The path existed in the layers and was modified (or something under it was).
    Changed,
    /// The path existed in the layers and is gone.
    Deleted,
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Added, changed or deleted.
    pub kind: Kind,
    /// The path inside the container, relative to its root (`etc/passwd`).
    pub path: PathBuf,
    /// A directory that replaced a lower one entirely (deleted, then created again): its lower
    /// contents are hidden, not merged.
    pub opaque: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = match self.kind {
            Kind::Added => 'A',
            Kind::Changed => 'C',
            Kind::Deleted => 'D',
        };
        write!(f, "{letter} /{}", self.path.display())
    }
}

// ANCHOR: overlay_changes
/// The changes recorded in an overlay upper directory: everything in it is a change. A
/// whiteout is a deletion; anything else was added, unless the layers below have it, in which
/// case it was changed (copied up, then written; or a directory that got new entries).
pub fn overlay_changes(upper: &Path, layers: &[PathBuf]) -> Result<Vec<Change>> {
    let below = tree::lower_view(layers)?;
    let mut changes = Vec::new();
    for entry in tree::walk(upper) {
        let (path, meta) = entry?;
        let kind = if tree::is_whiteout(&meta) {
            Kind::Deleted
        } else if below.contains_key(&path) {
            Kind::Changed
        } else {
            Kind::Added
        };
        let opaque = meta.is_dir() && tree::is_opaque(&upper.join(&path));
        changes.push(Change { kind, path, opaque });
    }
    Ok(changes)
}
// ANCHOR_END: overlay_changes

/// The changes in a vfs container's private copy, found by comparing it with the layers:
/// there is no upper directory to read them from.
pub fn vfs_changes(rootfs: &Path, layers: &[PathBuf]) -> Result<Vec<Change>> {
    let below = tree::lower_view(layers)?;
    let mut changes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in tree::walk(rootfs) {
        let (path, meta) = entry?;
        let kind = match below.get(&path) {
            None => Some(Kind::Added),
            Some(node) if differs(&meta, &rootfs.join(&path), node, layers, &path)? => {
                Some(Kind::Changed)
            }
            Some(_) => None,
        };
        if let Some(kind) = kind {
            changes.push(Change {
                kind,
                path: path.clone(),
                opaque: false,
            });
        }
        seen.insert(path);
    }
    changes.extend(deleted(&below, &seen));
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// Paths of `below` that are gone, reported once at the top of each deleted subtree.
fn deleted(
    below: &BTreeMap<PathBuf, Node>,
    seen: &std::collections::BTreeSet<PathBuf>,
) -> Vec<Change> {
    let mut gone: Vec<Change> = Vec::new();
    for path in below.keys() {
        if seen.contains(path) {
            continue;
        }
        if gone.last().is_some_and(|g| path.starts_with(&g.path)) {
            continue;
        }
        gone.push(Change {
            kind: Kind::Deleted,
            path: path.clone(),
            opaque: false,
        });
    }
    gone
}

/// Whether a file differs from its version in the layers, by the metadata `docker diff`
/// compares (type, mode, owner, size, modification time, device, link target).
fn differs(
    meta: &Metadata,
    path: &Path,
    node: &Node,
    layers: &[PathBuf],
    relative: &Path,
) -> Result<bool> {
    let old = &node.meta;
    let same_type = meta.file_type() == old.file_type();
    let same_meta = meta.mode() == old.mode()
        && meta.uid() == old.uid()
        && meta.gid() == old.gid()
        && meta.rdev() == old.rdev()
        && (meta.is_dir() || meta.size() == old.size())
        && meta.mtime() == old.mtime()
        && meta.mtime_nsec() == old.mtime_nsec();
    if !same_type || !same_meta {
        return Ok(true);
    }
    if meta.file_type().is_symlink() {
        let read = |p: &Path| std::fs::read_link(p).map_err(Error::io("read the link", p));
        return Ok(read(path)? != read(&node.source(layers, relative))?);
    }
    Ok(false)
}
