//! The container's root filesystem: a directory becomes `/`, with its own `/proc`, `/sys` and `/dev`.
//!
//! The child already lives in a new mount namespace, but that namespace starts as a copy of the
//! host's mount table, and with shared propagation its mounts would even travel back to the host.
//! So the child first makes every mount private, then bind-mounts the rootfs onto itself (the
//! new root must be a mount point for `pivot_root`), swaps it in with `pivot_root` and detaches
//! the old root, after which the host's files are unreachable. Only then does it mount the
//! pseudo-filesystems, so that every path it mounts on resolves inside the container: a symbolic
//! link planted in the rootfs (say `/proc -> /etc`) can only point somewhere inside it too.
//! The spec's own mounts straddle the pivot (see [`crate::mounts`]): made before it, while their
//! host sources are reachable, attached after the pseudo-filesystems, inside the new root.

use std::path::Path;

use dockyard_support::FromIo;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::{Mode, SFlag, makedev, mknod, umask};
use nix::unistd::{chdir, pivot_root};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::mounts::{self, Mount};
use crate::steps::RootfsMount;

/// A character device `/dev` provides, as Docker's default device list does (major, minor from
/// the kernel's Documentation/admin-guide/devices.txt).
struct Device {
    name: &'static str,
    major: u64,
    minor: u64,
}

const DEVICES: &[Device] = &[
    Device {
        name: "null",
        major: 1,
        minor: 3,
    },
    Device {
        name: "zero",
        major: 1,
        minor: 5,
    },
    Device {
        name: "full",
        major: 1,
        minor: 7,
    },
    Device {
        name: "random",
        major: 1,
        minor: 8,
    },
    Device {
        name: "urandom",
        major: 1,
        minor: 9,
    },
    Device {
        name: "tty",
        major: 5,
        minor: 0,
    },
];

/// The links every `/dev` has; `/proc/self/fd` makes them point at the reader's own descriptors.
const DEV_LINKS: &[(&str, &str)] = &[
    ("/dev/fd", "/proc/self/fd"),
    ("/dev/stdin", "/proc/self/fd/0"),
    ("/dev/stdout", "/proc/self/fd/1"),
    ("/dev/stderr", "/proc/self/fd/2"),
    ("/dev/ptmx", "pts/ptmx"),
];

/// The `tty` group that owns terminals, as in Debian's and Alpine's /etc/group, and Docker's devpts.
const TTY_GID: u32 = 5;

// ANCHOR: enter
/// Makes `rootfs` the root of the calling process's (new) mount namespace and mounts the
/// pseudo-filesystems a Linux program expects. A later chapter's `mount` (an overlay of layers)
/// first builds the root filesystem on `rootfs`, once the mounts are private; the spec's
/// `mounts` then go on top of it.
pub fn enter(
    rootfs: &Path,
    mounts: &[Mount],
    mount: Option<&dyn RootfsMount>,
    n: &Narrator,
) -> Result<()> {
    make_mounts_private(n)?;
    if let Some(mount) = mount {
        mount.mount(rootfs, n).map_err(|source| Error::Step {
            step: mount.name().to_string(),
            source,
        })?;
    }
    bind_onto_itself(rootfs, n)?;
    let detached = mounts::detach_all(mounts, n)?; // while the host's paths still resolve
    pivot_into(rootfs, n)?;
    mount_proc(n)?;
    mount_sys(n)?;
    mount_dev(n)?;
    mounts::attach_all(detached, n) // inside the new root, over the pseudo-filesystems too
}
// ANCHOR_END: enter

/// `--read-only`: the root's mount made read-only, after everything was mounted on it (the
/// mounts on top keep their own flags: a volume stays writable, as with docker).
pub fn make_read_only(n: &Narrator) -> Result<()> {
    n.say(Actor::Child, "mount -o remount,bind,ro /");
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(Error::sys("make the root filesystem read-only"))
}

/// A mount, narrated and with its failure named.
fn mount_fs(
    n: &Narrator,
    source: &str,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<()> {
    let what = describe_mount(source, target, fstype, flags, data);
    n.say(Actor::Child, &what);
    mount(Some(source), target, fstype, flags, data).map_err(Error::sys(what))
}

/// `mount proc on /proc type proc (nosuid,nodev,noexec)`, in the order mount(8) prints.
fn describe_mount(
    source: &str,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> String {
    const NAMES: &[(MsFlags, &str)] = &[
        (MsFlags::MS_RDONLY, "ro"),
        (MsFlags::MS_NOSUID, "nosuid"),
        (MsFlags::MS_NODEV, "nodev"),
        (MsFlags::MS_NOEXEC, "noexec"),
        (MsFlags::MS_STRICTATIME, "strictatime"),
        (MsFlags::MS_BIND, "bind"),
        (MsFlags::MS_REC, "rec"),
        (MsFlags::MS_PRIVATE, "private"),
    ];
    let mut opts: Vec<&str> = NAMES
        .iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, name)| *name)
        .collect();
    if let Some(data) = data {
        opts.push(data);
    }
    let fstype = fstype.map(|t| format!(" type {t}")).unwrap_or_default();
    format!(
        "mount {source} on {}{fstype} ({})",
        target.display(),
        opts.join(",")
    )
}

// ANCHOR: private
/// Stops mount events from propagating between the container and the host, in both directions.
fn make_mounts_private(n: &Narrator) -> Result<()> {
    let flags = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    n.say(Actor::Child, "mount --make-rprivate /");
    mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
        .map_err(Error::sys("make mounts private (mount --make-rprivate /)"))
}

/// `pivot_root` needs the new root to be a mount point; a bind mount onto itself makes it one.
fn bind_onto_itself(rootfs: &Path, n: &Narrator) -> Result<()> {
    let source = rootfs.to_string_lossy();
    let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount_fs(n, &source, rootfs, None, flags, None)
}
// ANCHOR_END: private

// ANCHOR: pivot
/// Swaps the root: `pivot_root(".", ".")` stacks the old root on top of the new one (no spare
/// directory needed, see pivot_root(2)), and a lazy unmount then detaches it, so no path leads
/// back to the host.
fn pivot_into(rootfs: &Path, n: &Narrator) -> Result<()> {
    chdir(rootfs).map_err(Error::sys(format!("chdir {}", rootfs.display())))?;
    n.say(
        Actor::Child,
        format!(
            "pivot_root {} (new root and old root stacked on .)",
            rootfs.display()
        ),
    );
    pivot_root(".", ".").map_err(Error::sys(format!("pivot_root into {}", rootfs.display())))?;
    n.say(Actor::Child, "umount2 old root (MNT_DETACH)");
    umount2(".", MntFlags::MNT_DETACH).map_err(Error::sys("detach the old root"))?;
    chdir("/").map_err(Error::sys("chdir /"))
}
// ANCHOR_END: pivot

/// Creates a mount point that the rootfs lacks (Docker does the same in the container's layer).
fn ensure_dir(path: &str) -> Result<()> {
    std::fs::create_dir_all(path).map_err(Error::io("create mount point", path))
}

// ANCHOR: pseudo
/// A fresh procfs shows the processes of the new PID namespace only.
fn mount_proc(n: &Narrator) -> Result<()> {
    ensure_dir("/proc")?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_fs(n, "proc", Path::new("/proc"), Some("proc"), flags, None)
}

/// sysfs mounted from inside the new network namespace lists that namespace's interfaces;
/// read-only, so the container cannot reconfigure the host's devices through it.
fn mount_sys(n: &Narrator) -> Result<()> {
    ensure_dir("/sys")?;
    let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_fs(n, "sysfs", Path::new("/sys"), Some("sysfs"), flags, None)
}

// ANCHOR_END: pseudo

// ANCHOR: dev
/// `/dev` is a small tmpfs holding only the devices a container may use, never the host's `/dev`.
fn mount_dev(n: &Narrator) -> Result<()> {
    ensure_dir("/dev")?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME;
    mount_fs(
        n,
        "tmpfs",
        Path::new("/dev"),
        Some("tmpfs"),
        flags,
        Some("mode=755,size=65536k"),
    )?;

    // The nodes must be readable and writable by everyone (0666): lift the umask while creating.
    let saved = umask(Mode::empty());
    let nodes = make_device_nodes(n);
    umask(saved);
    nodes?;

    // A private devpts instance: the container's terminals are numbered from 0 and invisible to
    // the host's, and its ptmx hands out terminals from this instance only.
    ensure_dir("/dev/pts")?;
    let pts_flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    let pts_opts = format!("newinstance,ptmxmode=0666,mode=0620,gid={TTY_GID}");
    mount_fs(
        n,
        "devpts",
        Path::new("/dev/pts"),
        Some("devpts"),
        pts_flags,
        Some(&pts_opts),
    )?;

    ensure_dir("/dev/shm")?;
    let shm_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_fs(
        n,
        "shm",
        Path::new("/dev/shm"),
        Some("tmpfs"),
        shm_flags,
        Some("mode=1777,size=65536k"),
    )?;

    for (link, target) in DEV_LINKS {
        n.say(Actor::Child, format!("symlink {link} -> {target}"));
        std::os::unix::fs::symlink(target, link)
            .map_err(Error::io_op(format!("create {link} -> {target}")))?;
    }
    Ok(())
}

// ANCHOR_END: dev

fn make_device_nodes(n: &Narrator) -> Result<()> {
    let mode = Mode::from_bits_truncate(0o666);
    for dev in DEVICES {
        let path = format!("/dev/{}", dev.name);
        n.say(
            Actor::Child,
            format!("mknod {path} c {} {}", dev.major, dev.minor),
        );
        mknod(
            path.as_str(),
            SFlag::S_IFCHR,
            mode,
            makedev(dev.major, dev.minor),
        )
        .map_err(Error::sys(format!("mknod {path}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_described_as_mount_would_print_them() {
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
        assert_eq!(
            describe_mount(
                "devpts",
                Path::new("/dev/pts"),
                Some("devpts"),
                flags,
                Some("gid=5")
            ),
            "mount devpts on /dev/pts type devpts (nosuid,noexec,gid=5)"
        );
        let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
        assert_eq!(
            describe_mount("rootfs", Path::new("rootfs"), None, bind, None),
            "mount rootfs on rootfs (bind,rec)"
        );
    }
}
