//! Which cgroup version a machine runs: v1, one hierarchy per controller, or v2, one tree.

use std::path::Path;

use dockyard_support::FromIo;
use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, statfs};

use crate::error::{Error, Result};

/// Which cgroup version the machine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// One hierarchy per controller (and, on hybrid machines, an empty v2 tree beside them).
    V1,
    /// The unified hierarchy.
    V2,
}

// ANCHOR: detect
/// Detects the version from the filesystem mounted at `root`: cgroup2 there means v2 (the
/// default of current distributions); a tmpfs holding per-controller mounts means v1, also on
/// hybrid machines whose cgroup2 mount at `unified/` holds no controllers.
pub fn detect(root: &Path) -> Result<Version> {
    if version_of(root)? == Version::V2 {
        return Ok(Version::V2);
    }
    if root.join("memory").join("cgroup.procs").exists()
        || root.join("pids").join("cgroup.procs").exists()
    {
        return Ok(Version::V1);
    }
    Err(Error::NoCgroupFs(root.to_path_buf()))
}
// ANCHOR_END: detect

/// The version, from the filesystem mounted at `root` alone: cgroup2 or not. [`detect`] also
/// makes sure a v1 root holds controllers; creating a group skips that, since it checks the
/// controllers it needs anyway.
pub(crate) fn version_of(root: &Path) -> Result<Version> {
    let fs = statfs(root).map_err(|e| Error::io("inspect", root)(e.into()))?;
    Ok(if fs.filesystem_type() == CGROUP2_SUPER_MAGIC {
        Version::V2
    } else {
        Version::V1
    })
}
