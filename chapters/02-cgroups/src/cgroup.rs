//! One API over two hierarchies.
//!
//! Cgroup v1 has one tree per controller (`/sys/fs/cgroup/memory/...`, `/sys/fs/cgroup/pids/...`),
//! so a container is a directory in each. Cgroup v2 has a single tree
//! (`/sys/fs/cgroup/...`) where each directory enables the controllers its children may use.
//! The files differ too (`memory.limit_in_bytes` against `memory.max`). [`Cgroup`] hides that:
//! the rest of the chapter creates, limits, watches and removes a container's cgroup the same way
//! on both, as youki's managers do.

use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;
use dockyard_support::FromIo;
use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, statfs};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::stats::Stats;
use crate::{v1, v2};

/// Where cgroup filesystems are mounted on every current distribution.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

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
    let fs = statfs(root).map_err(|e| Error::io("inspect", root)(e.into()))?;
    if fs.filesystem_type() == CGROUP2_SUPER_MAGIC {
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

/// A container's cgroup, on either hierarchy.
#[derive(Debug)]
pub struct Cgroup {
    version: Version,
    backend: Box<dyn Backend>,
}

impl Cgroup {
    /// Creates `parent/name` under `root` with `limits` written, on the detected hierarchy.
    pub fn create(
        root: &Path,
        parent: &str,
        name: &str,
        limits: &Limits,
        n: &Narrator,
    ) -> Result<Self> {
        let version = detect(root)?;
        let relative = PathBuf::from(parent.trim_start_matches('/')).join(name);
        let backend: Box<dyn Backend> = match version {
            Version::V1 => Box::new(v1::V1::create(root, &relative, limits, n)?),
            Version::V2 => Box::new(v2::V2::create(root, &relative, limits, n)?),
        };
        Ok(Cgroup { version, backend })
    }

    /// The hierarchy it lives in.
    pub fn version(&self) -> Version {
        self.version
    }

    /// See [`Backend::attach`].
    pub fn attach(&self, pid: i32, n: &Narrator) -> Result<()> {
        self.backend.attach(pid, n)
    }

    /// See [`Backend::oom_kills`].
    pub fn oom_kills(&self) -> Result<u64> {
        self.backend.oom_kills()
    }

    /// See [`Backend::stats`].
    pub fn stats(&self) -> Result<Stats> {
        self.backend.stats()
    }

    /// Freezes every process in the group: they stop where they are, without a signal.
    pub fn freeze(&self, n: &Narrator) -> Result<()> {
        self.backend.set_frozen(true, n)
    }

    /// Thaws a frozen group.
    pub fn thaw(&self, n: &Narrator) -> Result<()> {
        self.backend.set_frozen(false, n)
    }

    /// See [`Backend::pids`].
    pub fn pids(&self) -> Result<Vec<i32>> {
        self.backend.pids()
    }

    /// Sends SIGKILL to every process in the group.
    pub fn kill_all(&self) -> Result<()> {
        for pid in self.pids()? {
            // A process may exit between the listing and the kill; that is the goal anyway.
            let _already_gone = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        Ok(())
    }

    /// Removes the group (which must be empty: see [`Cgroup::kill_all`]).
    pub fn remove(&self, n: &Narrator) -> Result<()> {
        self.backend.remove(n)
    }
}
