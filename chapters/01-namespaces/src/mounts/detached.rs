//! The first half of a mount: the filesystem, made but attached nowhere yet.
//!
//! Linux's mount API (5.2 and later) splits `mount(2)` in two. `open_tree(OPEN_TREE_CLONE)`
//! copies a directory's mounts into a *detached* tree held by a file descriptor, and
//! `fsopen`/`fsconfig`/`fsmount` make a new filesystem the same way; `move_mount` attaches
//! either later. In between, `mount_setattr` changes the whole tree's options at once, which
//! is how a recursive bind becomes read-only all the way down: with the old API a bind is
//! remounted read-only one mount at a time, and the mounts below stay writable.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use rustix::fs::{CWD, FileType, fstat};
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, OpenTreeFlags, fsconfig_create, fsconfig_set_string,
    fsmount, fsopen, open_tree,
};

use super::spec::{Mount, MountKind};
use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

/// A mount's filesystem, held by a descriptor until it is attached at its target.
#[derive(Debug)]
pub(crate) struct Detached<'m> {
    /// The mount it was made for.
    pub mount: &'m Mount,
    /// The detached tree (close-on-exec: it never reaches the command).
    pub tree: OwnedFd,
    /// Whether its root is a directory; if not, a missing target is created as a file.
    pub is_dir: bool,
}

// ANCHOR: detach
/// Makes `mount`'s filesystem without attaching it. Runs while the host's paths still
/// resolve: a bind's source is a host path, and after `pivot_root` none is reachable.
pub(crate) fn detach<'m>(mount: &'m Mount, n: &Narrator) -> Result<Detached<'m>> {
    let (tree, is_dir) = match (mount.kind, &mount.source) {
        (MountKind::Bind { read_only }, Some(source)) => copy_tree(mount, source, read_only, n)?,
        (
            MountKind::Tmpfs {
                size,
                mode,
                no_exec,
            },
            None,
        ) => (new_tmpfs(mount, size, mode, no_exec, n)?, true),
        _ => return Err(Error::InvalidSpec(format!("invalid mount {mount:?}"))),
    };
    Ok(Detached {
        mount,
        tree,
        is_dir,
    })
}

/// A detached copy of the host's `source` and every mount below it, read-only all the way
/// down if asked; and whether it is a directory.
fn copy_tree(
    mount: &Mount,
    source: &Path,
    read_only: bool,
    n: &Narrator,
) -> Result<(OwnedFd, bool)> {
    let shown = source.display();
    n.say(
        Actor::Child,
        format!("open_tree {shown} (OPEN_TREE_CLONE|AT_RECURSIVE)"),
    );
    let flags = OpenTreeFlags::OPEN_TREE_CLONE
        | OpenTreeFlags::OPEN_TREE_CLOEXEC
        | OpenTreeFlags::AT_RECURSIVE;
    let tree =
        open_tree(CWD, source, flags).map_err(mount.failed("copy the source (open_tree)"))?;
    if read_only {
        n.say(
            Actor::Child,
            format!("mount_setattr {shown} (MOUNT_ATTR_RDONLY, AT_RECURSIVE)"),
        );
        make_read_only(&tree).map_err(mount.failed("make it read-only"))?;
    }
    let stat = fstat(&tree).map_err(mount.failed("inspect the source"))?;
    let is_dir = FileType::from_raw_mode(stat.st_mode) == FileType::Directory;
    Ok((tree, is_dir))
}
// ANCHOR_END: detach

/// A new tmpfs: `fsopen` a filesystem context, set its options, create the superblock, and
/// `fsmount` it as a detached mount, `nosuid,nodev` (and `noexec` if asked).
fn new_tmpfs(
    mount: &Mount,
    size: Option<u64>,
    mode: Option<u32>,
    no_exec: bool,
    n: &Narrator,
) -> Result<OwnedFd> {
    let mut options = vec![("source", "tmpfs".to_string())];
    options.extend(size.map(|size| ("size", size.to_string())));
    options.extend(mode.map(|mode| ("mode", format!("{mode:o}"))));
    let mut attrs = MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV;
    if no_exec {
        attrs |= MountAttrFlags::MOUNT_ATTR_NOEXEC;
    }
    let shown: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let flags = if no_exec {
        "nosuid,nodev,noexec"
    } else {
        "nosuid,nodev"
    };
    n.say(
        Actor::Child,
        format!(
            "fsopen tmpfs, fsconfig {}, fsmount ({flags})",
            shown.join(",")
        ),
    );
    let context = fsopen("tmpfs", FsOpenFlags::FSOPEN_CLOEXEC)
        .map_err(mount.failed("open a tmpfs context (fsopen)"))?;
    for (key, value) in &options {
        fsconfig_set_string(&context, *key, value.as_str())
            .map_err(mount.failed(format!("set the tmpfs option {key}={value}")))?;
    }
    fsconfig_create(&context).map_err(mount.failed("create the tmpfs"))?;
    fsmount(&context, FsMountFlags::FSMOUNT_CLOEXEC, attrs)
        .map_err(mount.failed("make the tmpfs a mount (fsmount)"))
}

/// `mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, {MOUNT_ATTR_RDONLY})`: every mount
/// in the detached tree becomes read-only before any of it is visible to the container.
fn make_read_only(tree: &OwnedFd) -> rustix::io::Result<()> {
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: the path is a NUL-terminated empty string, `attr` is a valid `mount_attr` that
    // outlives the call, and the size passed is its size; the kernel only reads both.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &raw const attr,
            size_of::<libc::mount_attr>(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(
            rustix::io::Errno::from_io_error(&std::io::Error::last_os_error())
                .unwrap_or(rustix::io::Errno::IO),
        )
    }
}
