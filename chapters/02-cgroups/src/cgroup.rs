//! One API over two hierarchies.
//!
//! Cgroup v1 has one tree per controller (`/sys/fs/cgroup/memory/...`, `/sys/fs/cgroup/pids/...`),
//! so a container is a directory in each. Cgroup v2 has a single tree
//! (`/sys/fs/cgroup/...`) where each directory enables the controllers its children may use.
//! The files differ too (`memory.limit_in_bytes` against `memory.max`). [`Cgroup`] hides that:
//! the rest of the chapter creates, limits, watches and removes a container's cgroup the same way
//! on both, as youki's managers do.
//!
//! Every directory a run creates, joins and removes costs the kernel real work (a `mkdir` in the
//! memory hierarchy allocates per-CPU counters and some thirty files), so a group joins only what
//! it needs: on v1, the memory hierarchy (for the OOM counter) and the ones its limits use. What
//! else a caller wants from the group, it asks for with [`Features`]: the counters of
//! [`Cgroup::stats`], or freezing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ch01_namespaces::Narrator;

use crate::backend::Backend;
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::limits::{Features, Limits};
use crate::stats::{Stats, Usage};
use crate::version::{Version, version_of};
use crate::{fs, v1, v2};

/// Where cgroup filesystems are mounted on every current distribution.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// A container's cgroup, on either hierarchy.
#[derive(Debug)]
pub struct Cgroup {
    version: Version,
    backend: Box<dyn Backend>,
}

impl Cgroup {
    /// Creates `parent/name` under `root` with `limits` written, on the detected hierarchy,
    /// offering `features` besides.
    pub fn create(
        root: &Path,
        parent: &str,
        name: &str,
        limits: &Limits,
        features: Features,
        n: &Narrator,
    ) -> Result<Self> {
        let version = version_of(root)?;
        let relative = PathBuf::from(parent.trim_start_matches('/')).join(name);
        let backend: Box<dyn Backend> = match version {
            Version::V1 => Box::new(v1::V1::create(root, &relative, limits, features, n)?),
            Version::V2 => Box::new(v2::V2::create(root, &relative, limits, n)?),
        };
        Ok(Cgroup { version, backend })
    }

    /// The group `parent/name` under `root` that another process created (a container's
    /// monitor, or the engine that runs it), to look at it: `None` if it does not exist. On v1
    /// it has the hierarchies where its directory exists; what it did not join it cannot
    /// report (see [`Usage`]).
    pub fn open(root: &Path, parent: &str, name: &str) -> Result<Option<Self>> {
        let version = version_of(root)?;
        let relative = PathBuf::from(parent.trim_start_matches('/')).join(name);
        let backend: Option<Box<dyn Backend>> = match version {
            Version::V1 => v1::V1::open(root, &relative)?.map(|b| Box::new(b) as Box<dyn Backend>),
            Version::V2 => v2::V2::open(root, &relative).map(|b| Box::new(b) as Box<dyn Backend>),
        };
        Ok(backend.map(|backend| Cgroup { version, backend }))
    }

    /// The hierarchy it lives in.
    pub fn version(&self) -> Version {
        self.version
    }

    /// See [`Backend::attach`].
    pub fn attach(&self, pid: i32, n: &Narrator) -> Result<()> {
        self.backend.attach(pid, n)
    }

    // ANCHOR: self_join
    /// The files a single-threaded process writes `0` into to join the group itself, or `None`
    /// where only [`Cgroup::attach`] works. Moving *another* process takes the kernel's global
    /// `cgroup_threadgroup_rwsem` for writing, and its first writer waits for an RCU grace
    /// period: 4 to 16 ms here whenever no container started in the last few milliseconds.
    /// A thread moving itself (v1: `0` into `tasks`) takes no such lock. On v2, `0` in
    /// `cgroup.procs` still moves a whole thread group under the global lock, so v2 attaches.
    pub fn self_join_files(&self) -> Option<Vec<PathBuf>> {
        self.backend.self_join_files()
    }
    // ANCHOR_END: self_join

    /// See [`Backend::oom_kills`].
    pub fn oom_kills(&self) -> Result<u64> {
        self.backend.oom_kills()
    }

    /// See [`Backend::stats`].
    pub fn stats(&self) -> Result<Stats> {
        self.backend.stats()
    }

    /// See [`Backend::usage`].
    pub fn usage(&self) -> Result<Usage> {
        self.backend.usage()
    }

    /// See [`Backend::frozen`]: `docker ps` says "Paused" for a frozen container.
    pub fn frozen(&self) -> Result<bool> {
        self.backend.frozen()
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

    // ANCHOR: remove
    /// Removes the group. A container's group is empty by then: the death of its PID 1 ends
    /// the PID namespace, and the kernel takes every other process of it down before `wait4`
    /// reports PID 1, so the first `rmdir` succeeds (traced over many runs, plain exits, kills,
    /// OOM kills and fork bombs alike, it never failed). Should a process still be there,
    /// `rmdir` fails with EBUSY: then everything left in the group is killed and removal is
    /// retried until it succeeds or [`REMOVE_PATIENCE`] runs out.
    pub fn remove(&self, n: &Narrator) -> Result<()> {
        let error = match self.backend.remove(n) {
            Err(error) if fs::is_busy(&error) => error,
            done => return done,
        };
        let deadline = Instant::now() + REMOVE_PATIENCE;
        let mut last = error;
        while Instant::now() < deadline {
            self.kill_all()?;
            // Killed processes leave the group as they exit, which takes a moment.
            std::thread::sleep(RETRY_INTERVAL);
            match self.backend.remove(n) {
                Err(error) if fs::is_busy(&error) => last = error,
                done => return done,
            }
        }
        Err(last)
    }
    // ANCHOR_END: remove
}

/// How long removal keeps killing and retrying when processes are still in the group.
pub const REMOVE_PATIENCE: Duration = Duration::from_secs(2);

/// The pause between two removal attempts while processes are still in the group.
const RETRY_INTERVAL: Duration = Duration::from_millis(1);

/// How long a leftover group may take to empty: its last process exiting.
const LEFTOVER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

// ANCHOR: remove_leftover
/// Removes what is left of the group `parent/name` under `root` after its engine died
/// without removing it (killed with SIGKILL: no teardown ran). Its processes died with the
/// container's PID 1, so only empty directories remain, one per v1 hierarchy or one on v2;
/// a group that does not exist is fine. Returns how many directories it removed.
pub fn remove_leftover(root: &Path, parent: &str, name: &str) -> Result<usize> {
    let relative = PathBuf::from(parent.trim_start_matches('/')).join(name);
    let mut candidates = vec![root.join(&relative)];
    if let Ok(hierarchies) = std::fs::read_dir(root) {
        candidates.extend(hierarchies.flatten().map(|h| h.path().join(&relative)));
    }
    let mut removed = 0;
    // The last process may still be exiting (its namespaces are gone before it leaves its
    // cgroups): a busy group gets a moment to empty.
    let deadline = std::time::Instant::now() + LEFTOVER_PATIENCE;
    for dir in candidates {
        loop {
            match std::fs::remove_dir(&dir) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // A v1 hierarchy path that is a file (cgroup.procs…) is not a group: skip it.
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {}
                Err(e)
                    if e.raw_os_error() == Some(libc::EBUSY)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
                Err(e) => return Err(Error::io("remove the leftover cgroup", &dir)(e)),
            }
            break;
        }
    }
    Ok(removed)
}
// ANCHOR_END: remove_leftover
