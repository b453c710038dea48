//! Mounts: host directories and files, or fresh tmpfs, attached inside the container on top of
//! its root filesystem. They are how data gets in and out of a container (`docker run -v`,
//! `--mount`, `--tmpfs`) and how a build hands a `RUN` its context, cache or secret.
//!
//! The container's first process makes them in two halves, around `pivot_root`:
//!
//! 1. before it, while the host's paths still resolve, each mount's filesystem is made without
//!    being attached anywhere ([`detached`]): a bind's source is copied into a detached tree,
//!    a tmpfs is created, both held by a descriptor that survives the pivot;
//! 2. after the pivot and the pseudo-filesystems, each is attached at its target, in order,
//!    resolved inside the new root so that no symbolic link can lead it out ([`target`]).
//!    Attaching last lets a mount cover `/dev/shm` or a file under `/sys`, as Docker's can.
//!
//! Everything happens in the container's own mount namespace: when it ends, its mounts are
//! gone with it, and none was ever visible on the host.

mod detached;
mod spec;
mod target;

use std::os::fd::OwnedFd;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use rustix::mount::{MoveMountFlags, move_mount};

pub use self::spec::{Mount, MountKind};
use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use detached::Detached;

/// Makes every mount's filesystem, in order, attached nowhere yet.
pub(crate) fn detach_all<'m>(mounts: &'m [Mount], n: &Narrator) -> Result<Vec<Detached<'m>>> {
    mounts
        .iter()
        .map(|mount| detached::detach(mount, n))
        .collect()
}

// ANCHOR: attach
/// Attaches the detached mounts, in order, each at its target inside the current root.
pub(crate) fn attach_all(detached: Vec<Detached<'_>>, n: &Narrator) -> Result<()> {
    if detached.is_empty() {
        return Ok(());
    }
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let root = open("/", flags, Mode::empty()).map_err(Error::sys("open the root directory"))?;
    attach_inside(&root, detached, n)
}

/// Attaches the detached mounts, in order, each at its target inside the directory `root`.
fn attach_inside(root: &OwnedFd, detached: Vec<Detached<'_>>, n: &Narrator) -> Result<()> {
    for one in detached {
        let mount = one.mount;
        let target = target::resolve(root, mount, one.is_dir, n)?;
        if target::is_the_root(root, &target).map_err(mount.failed("inspect the target"))? {
            return Err(Error::MountOverRoot {
                what: mount.what(),
                target: mount.target.clone(),
            });
        }
        n.say(Actor::Child, describe(mount));
        // Both ends are descriptors: the target was resolved once, above, and is not walked again.
        let flags =
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
        move_mount(&one.tree, "", &target, "", flags)
            .map_err(mount.failed("attach it (move_mount)"))?;
    }
    Ok(())
}
// ANCHOR_END: attach

/// Makes `mounts` and attaches them, in order, inside the directory `root` rather than the
/// current root, in the caller's mount namespace: each target is resolved inside `root` as a
/// container's are. Chapter 06's `cp` shows a stopped container's volumes over its root
/// filesystem this way, in a namespace of its own.
pub fn mount_inside(root: &OwnedFd, mounts: &[Mount], n: &Narrator) -> Result<()> {
    attach_inside(root, detach_all(mounts, n)?, n)
}

/// `move_mount /srv/data on /data (rbind,ro)`, as the other mounts are narrated.
fn describe(mount: &Mount) -> String {
    let options = match mount.kind {
        MountKind::Bind { read_only: true } => "rbind,ro",
        MountKind::Bind { read_only: false } => "rbind",
        MountKind::Tmpfs { no_exec: true, .. } => "tmpfs,nosuid,nodev,noexec",
        MountKind::Tmpfs { no_exec: false, .. } => "tmpfs,nosuid,nodev",
    };
    format!(
        "move_mount {} on {} ({options})",
        mount.what(),
        mount.target.display()
    )
}
