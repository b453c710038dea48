//! A container's files as `cp` reaches them: a descriptor of the container's root directory,
//! from which every path is resolved by the kernel as if it were `/`.
//!
//! - **Running**, the container's files are those its first process sees: `/proc/PID/root`
//!   is that process's root directory, in the container's mount namespace, with its volumes
//!   and binds mounted over it. The pid comes from `state.json`, which may be stale, so it is
//!   checked while a pidfd holds the process (see [`open_running`]).
//! - **Stopped** (created or exited), nothing is mounted anywhere: `cp` mounts the
//!   container's overlay (chapter 03's, over the same writable layer its runs use) and binds
//!   its volumes over it, as a start would, in a mount namespace of its own made on a thread
//!   of its own (see [`open_stopped`]). The host never sees those mounts, and they end with
//!   the last descriptor into them, however this process ends.
//!
//! Reading the layers directly would do for a copy out (chapter 03's `lower_view` knows the
//! whiteouts), but a copy in would then have to copy files up into the writable layer as
//! overlayfs does, opaque directories and all; the kernel's overlay already does it right.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use ch01_namespaces::{Mount, MountKind, Narrator};
use ch03_union_fs::archive::apply::path::IN_ROOT;
use ch03_union_fs::lifecycle::{self, Rootfs};
use ch03_union_fs::{StorageOptions, Store};
use nix::mount::MsFlags;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sched::CloneFlags;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags};

use super::error::Error as CopyError;
use super::lock::{self, FilesLock};
use crate::container::{HostConfig, read_json};
use crate::error::{Error, Result};
use crate::lifecycle::Live;
use dockyard_support::FromIo;

/// How long `cp` waits for a container whose monitor neither runs it nor has left it
/// (starting, restarting, ending) to be one or the other.
const PATIENCE: Duration = Duration::from_secs(10);

/// How often it looks again meanwhile.
const RETRY: Duration = Duration::from_millis(10);

/// How many times a lookup is tried again when the kernel says a rename raced it.
const RACE_RETRIES: usize = 64;

/// A container's root directory, open.
#[derive(Debug)]
pub struct ContainerFs {
    root: OwnedFd,
    name: String,
    _held: Held,
}

/// What keeps a stopped container's mounts there and its monitor away.
#[derive(Debug)]
enum Held {
    /// Nothing: a running container's mounts are its own.
    Running,
    /// The mount namespace holding the mounts (a descriptor keeps it alive once the thread
    /// that made it is gone) and the lock on the container's files.
    Stopped {
        _namespace: OwnedFd,
        _lock: FilesLock,
    },
}

impl ContainerFs {
    /// Opens the root of the container `reference` names (a name, an id or a prefix),
    /// running or not.
    pub fn open(
        store: &Store,
        reference: &str,
        storage: &StorageOptions,
        n: &Narrator,
    ) -> Result<ContainerFs> {
        let mut deadline = Instant::now() + PATIENCE;
        loop {
            let live = Live::find(store, reference)?;
            let opened = if live.running() {
                open_running(&live)?.map(|root| (root, Held::Running))
            } else if let Some(lock) = lock::try_exclusive(&live.paths)? {
                let (root, namespace) = open_stopped(store, &live, storage, n)?;
                let held = Held::Stopped {
                    _namespace: namespace,
                    _lock: lock,
                };
                Some((root, held))
            } else {
                // A monitor is starting it, restarting it or recording its end; or, with no
                // monitor, another `cp` is working on its files, for as long as it takes.
                None
            };
            if let Some((root, held)) = opened {
                return Ok(ContainerFs {
                    root,
                    name: reference.to_owned(),
                    _held: held,
                });
            }
            if live.monitor().is_none() {
                deadline = Instant::now() + PATIENCE;
            } else if Instant::now() >= deadline {
                return Err(CopyError::Restarting(reference.to_owned()).into());
            }
            std::thread::sleep(RETRY);
        }
    }

    /// The container, as the user named it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The root directory.
    pub fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    // ANCHOR: lookup
    /// An `O_PATH` descriptor of the entry at `parts` (elements from the container's root).
    /// The kernel resolves every link on the way as if the root were `/` and refuses `/proc`'s
    /// magic links, so no name the container controls can lead out of it; the last element is
    /// followed only if `follow` says so.
    pub fn lookup(&self, parts: &[String], follow: bool) -> rustix::io::Result<OwnedFd> {
        let relative = if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        };
        let mut flags = OFlags::PATH | OFlags::CLOEXEC;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(&self.root, &relative, flags, Mode::empty(), IN_ROOT) {
                // A rename anywhere raced a `..` of the walk: the kernel asks to walk again.
                Err(Errno::AGAIN) if tries < RACE_RETRIES => tries += 1,
                found => return found,
            }
        }
    }
    // ANCHOR_END: lookup
}

// ANCHOR: open_running
/// The root of the running container `live`, as its first process sees it; `None` if that
/// process is gone (or the pid is now another's), for the caller to look again.
///
/// The pid was read from a file. A pidfd is opened first, and the process it holds must be
/// the container's (it is in the container's cgroup); then its root is opened by pid; then
/// the pidfd must not say it exited. A process that has not exited keeps its pid, so the
/// `/proc/PID` opened in between was that very process.
fn open_running(live: &Live) -> Result<Option<OwnedFd>> {
    let Some(pid) = live.pid() else {
        return Ok(None);
    };
    let gone = |e: Errno| matches!(e, Errno::SRCH | Errno::NOENT);
    let Some(process) = Pid::from_raw(pid as i32) else {
        return Ok(None);
    };
    let pidfd = match rustix::process::pidfd_open(process, PidfdFlags::empty()) {
        Ok(pidfd) => pidfd,
        Err(e) if gone(e) => return Ok(None),
        Err(e) => return Err(Error::io_op("open a pidfd of the container")(e.into())),
    };
    if !crate::container::is_container_process(pid, &live.record.id) {
        return Ok(None);
    }
    let path = format!("/proc/{pid}/root");
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let root = match rustix::fs::open(&path, flags, Mode::empty()) {
        Ok(root) => root,
        Err(e) if gone(e) => return Ok(None),
        Err(e) => return Err(Error::io("open", &path)(e.into())),
    };
    Ok((!exited(&pidfd)?).then_some(root))
}
// ANCHOR_END: open_running

/// Whether the process a pidfd holds has exited (the pidfd reads as ready).
fn exited(pidfd: &OwnedFd) -> Result<bool> {
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    let ready = nix::poll::poll(&mut fds, PollTimeout::ZERO)
        .map_err(|e| Error::io_op("poll the container's pidfd")(e.into()))?;
    Ok(ready > 0)
}

/// The root of the stopped container `live`: its overlay mounted, its volumes and binds
/// over it, in a mount namespace of this process's own. Returns the root and the namespace.
fn open_stopped(
    store: &Store,
    live: &Live,
    storage: &StorageOptions,
    n: &Narrator,
) -> Result<(OwnedFd, OwnedFd)> {
    let host: HostConfig = match read_json(&live.paths.host_config()) {
        Ok(host) => host,
        Err(Error::Io(io)) if io.source.kind() == std::io::ErrorKind::NotFound => {
            HostConfig::default()
        }
        Err(error) => return Err(error),
    };
    let record = &live.record;
    let mounts = crate::volume::mounts_for(
        store,
        &host.volumes,
        &host.process.mounts,
        &record.layers,
        n,
    )?;
    // A tmpfs is new at each start and gone at each stop: a stopped container has none, and
    // a copy into one would vanish. Docker's copy skips them too.
    let binds: Vec<Mount> = mounts
        .into_iter()
        .filter(|mount| matches!(mount.kind, MountKind::Bind { .. }))
        .collect();
    let rootfs = lifecycle::existing_rootfs(store, record, storage.mount_api)?;
    let target = store.rootfs_dir(record);
    // A thread of its own: it can leave this process's mount namespace without taking the
    // rest of the process (a caller's threads, a daemon's) along.
    std::thread::scope(|scope| {
        scope
            .spawn(|| mount_privately(&rootfs, &target, &binds, n))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// On the calling thread: a new mount namespace, private, where the container's root
/// filesystem is mounted at `target` and `binds` over it.
fn mount_privately(
    rootfs: &Rootfs,
    target: &Path,
    binds: &[Mount],
    n: &Narrator,
) -> Result<(OwnedFd, OwnedFd)> {
    // CLONE_NEWNS implies CLONE_FS: this thread's root and working directory become its own,
    // so the legacy overlay mount may change directory without moving the others.
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)
        .map_err(|e| Error::io_op("enter a mount namespace of cp's own")(e.into()))?;
    let private = MsFlags::MS_PRIVATE | MsFlags::MS_REC;
    nix::mount::mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
        .map_err(|e| Error::io_op("make cp's mounts private")(e.into()))?;
    if let Some(mount) = rootfs.mount() {
        mount
            .mount(target, n)
            .map_err(|source| ch01_namespaces::Error::Step {
                step: mount.name().to_owned(),
                source,
            })?;
    }
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let root = rustix::fs::open(target, flags, Mode::empty())
        .map_err(|e| Error::io("open", target)(e.into()))?;
    ch01_namespaces::mount_inside(&root, binds, n)?;
    let namespace = "/proc/thread-self/ns/mnt";
    let namespace = rustix::fs::open(namespace, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io("open", namespace)(e.into()))?;
    Ok((root, namespace))
}
