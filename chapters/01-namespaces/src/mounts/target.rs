//! The second half of a mount: finding its target inside the container, safely.
//!
//! A target is a path the image chose, in a directory tree the image (or anything else running
//! in the container) can change. runc's CVE-2021-30465 is the shape of the danger: the engine
//! checks that `/data` is a plain directory, then mounts on the *path* `/data`, and in between a
//! concurrent writer swapped a parent for a symbolic link to `../../..`, so the kernel walked
//! the path again and mounted on the host. Two rules close it here. The path is walked once,
//! by `openat2` with `RESOLVE_IN_ROOT`, which resolves every `..` and every symbolic link as if
//! the container's root were `/`, and with `RESOLVE_NO_MAGICLINKS`, which refuses `/proc`'s
//! links to other processes' files and descriptors; what comes back is an `O_PATH` descriptor.
//! And the mount is attached to that descriptor, never to a path, so nothing is walked again.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags, fstat, mkdirat, openat, openat2};
use rustix::io::Errno;

use super::spec::Mount;
use crate::error::Result;
use crate::explain::{Actor, Narrator};

/// How every target is resolved: inside the root, and never through a `/proc` magic link.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

// ANCHOR: resolve
/// An `O_PATH` descriptor for `mount`'s target inside `root`, created if missing: a directory,
/// or an empty file when `is_dir` is false (a file is bound on a file).
pub(crate) fn resolve(
    root: &OwnedFd,
    mount: &Mount,
    is_dir: bool,
    n: &Narrator,
) -> Result<OwnedFd> {
    let target = &mount.target;
    n.say(
        Actor::Child,
        format!(
            "openat2 {} (RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)",
            target.display()
        ),
    );
    match open_in_root(root, target) {
        Err(Errno::NOENT) => {}
        found => return found.map_err(mount.failed("resolve the target")),
    }
    // Missing: walk down from the root, creating what is missing one name at a time. Each
    // name is created in its parent's descriptor (a single name cannot lead anywhere), and
    // the prefix is then resolved again inside the root, whatever a racing writer made of it.
    let names: Vec<Component> = target
        .components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect();
    let mut parent = open_in_root(root, Path::new("/")).map_err(mount.failed("open the root"))?;
    let mut walked = PathBuf::from("/");
    for (i, name) in names.iter().enumerate() {
        walked.push(name);
        let found = match open_in_root(root, &walked) {
            Err(Errno::NOENT) => {
                let Component::Normal(name) = name else {
                    return Err(mount.failed("resolve the target")(Errno::NOENT));
                };
                let file = i + 1 == names.len() && !is_dir;
                create(&parent, name, file, &walked, n)
                    .map_err(mount.failed(format!("create {}", walked.display())))?;
                open_in_root(root, &walked)
            }
            found => found,
        };
        parent = found.map_err(mount.failed("resolve the target"))?;
    }
    Ok(parent)
}

fn open_in_root(root: &OwnedFd, path: &Path) -> rustix::io::Result<OwnedFd> {
    openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        IN_ROOT,
    )
}
// ANCHOR_END: resolve

/// Creates one missing name in `parent`: a directory, or an empty file as the mount point of
/// a file. Someone else creating it first is fine: the caller resolves it again.
fn create(
    parent: &OwnedFd,
    name: &OsStr,
    file: bool,
    shown: &Path,
    n: &Narrator,
) -> rustix::io::Result<()> {
    let created = if file {
        n.say(
            Actor::Child,
            format!("create {} (empty file)", shown.display()),
        );
        let flags =
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        openat(parent, name, flags, Mode::from_raw_mode(0o644)).map(drop)
    } else {
        n.say(Actor::Child, format!("mkdir {}", shown.display()));
        mkdirat(parent, name, Mode::from_raw_mode(0o755))
    };
    match created {
        Err(Errno::EXIST) => Ok(()),
        other => other,
    }
}

/// Whether `target` is the very directory `root` is: a target that is a symbolic link to `/`
/// (or to `../../..`) resolves there, and a mount over the root would hide the whole container.
pub(crate) fn is_the_root(root: &OwnedFd, target: &OwnedFd) -> rustix::io::Result<bool> {
    let (root, target) = (fstat(root)?, fstat(target)?);
    Ok(root.st_dev == target.st_dev && root.st_ino == target.st_ino)
}
