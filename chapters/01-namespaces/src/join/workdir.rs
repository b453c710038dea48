//! The exec'd process's working directory: inside the container, and proven to be.
//!
//! runc's CVE-2024-21626 is the danger: runc leaked a descriptor of the host's
//! `/sys/fs/cgroup` into the process it started, and a working directory of
//! `/proc/self/fd/7` made that host directory the container process's current directory, from
//! where `../../..` walked the host's whole filesystem. Three rules close it here. The child
//! closes every inherited descriptor before it enters the container (see the child's
//! sequence). The directory is resolved with `openat2` and `RESOLVE_IN_ROOT`, which treats the
//! container's root as `/` for every `..` and every symbolic link, and `RESOLVE_NO_MAGICLINKS`,
//! which refuses `/proc`'s links to other files and descriptors. And once there, the kernel is
//! asked where the process is: `getcwd(2)` answers with a path starting `(unreachable)` for a
//! directory outside the process's root, which is refused.

use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};

use super::target::errno;
use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

/// How the directory is resolved: inside the root, and never through a `/proc` magic link.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

// ANCHOR: enter_workdir
/// Enters `workdir` inside this process's root (the container's, since `setns`). Unlike
/// `run -w`, `exec -w` never creates it (as Docker's).
pub(super) fn enter(workdir: &Path, n: &Narrator) -> Result<()> {
    n.say(
        Actor::Child,
        format!(
            "openat2 {} (RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) ; fchdir ; getcwd",
            workdir.display()
        ),
    );
    let failed = |e| {
        Error::sys(format!(
            "enter the working directory {} inside the container",
            workdir.display()
        ))(errno(e))
    };
    let root =
        rustix::fs::open("/", OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).map_err(failed)?;
    let dir = open_in_root(&root, workdir).map_err(failed)?;
    rustix::process::fchdir(&dir).map_err(failed)?;
    let cwd = rustix::process::getcwd(Vec::new()).map_err(failed)?;
    if !cwd.to_bytes().starts_with(b"/") {
        return Err(Error::InvalidSpec(format!(
            "the working directory {} is outside the container's root",
            workdir.display()
        )));
    }
    Ok(())
}
// ANCHOR_END: enter_workdir

/// An `O_PATH` descriptor of the directory `path` names inside `root`.
fn open_in_root(root: &OwnedFd, path: &Path) -> rustix::io::Result<OwnedFd> {
    openat2(
        root,
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        IN_ROOT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_root_and_proc_links_are_refused() {
        let dir = std::env::temp_dir().join(format!("dockyard-workdir-{}", std::process::id()));
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::os::unix::fs::symlink("../../../../..", root.join("up")).unwrap();
        std::os::unix::fs::symlink("/tmp", root.join("absolute")).unwrap();
        std::os::unix::fs::symlink(&dir, root.join("host")).unwrap();
        let root_fd = rustix::fs::open(&root, OFlags::PATH, Mode::empty()).unwrap();
        let stat = |fd: &OwnedFd| rustix::fs::fstat(fd).unwrap().st_ino;

        let up = open_in_root(&root_fd, Path::new("/up")).unwrap();
        assert_eq!(stat(&up), stat(&root_fd), "`..` stops at the root");
        let absolute = open_in_root(&root_fd, Path::new("/absolute")).unwrap();
        let inner_tmp = rustix::fs::open(root.join("tmp"), OFlags::PATH, Mode::empty()).unwrap();
        assert_eq!(stat(&absolute), stat(&inner_tmp), "/tmp is the root's own");
        // The host path does not exist inside the root.
        let host = open_in_root(&root_fd, Path::new("/host"));
        assert_eq!(host.unwrap_err(), rustix::io::Errno::NOENT);
        let host_root = rustix::fs::open("/", OFlags::PATH, Mode::empty()).unwrap();
        let magic = open_in_root(&host_root, Path::new("/proc/self/cwd"));
        assert_eq!(magic.unwrap_err(), rustix::io::Errno::LOOP, "a magic link");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
