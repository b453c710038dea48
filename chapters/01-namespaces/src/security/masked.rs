//! Masked and read-only paths: the parts of `/proc` and `/sys` a container must not see or touch.
//!
//! A fresh procfs is not fully namespaced. `/proc/kcore` is the host's physical memory,
//! `/proc/sysrq-trigger` reboots or crashes the host with one byte, `/proc/sys` holds the kernel's
//! global settings. Docker hides the first kind ("masked": a file gets `/dev/null` bound over it,
//! a directory an empty read-only tmpfs) and freezes the second ("read-only": bound onto itself,
//! then remounted read-only).

use std::path::Path;

use nix::mount::{MsFlags, mount};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

// ANCHOR: paths
/// Docker's masked paths (moby's `oci/defaults.go`).
pub const MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READ_ONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
// ANCHOR_END: paths

// ANCHOR: apply
/// Masks and freezes the paths above; paths this kernel does not have are skipped.
pub fn apply(n: &Narrator) -> Result<()> {
    for path in MASKED {
        mask(Path::new(path), n)?;
    }
    for path in READ_ONLY {
        make_read_only(Path::new(path), n)?;
    }
    Ok(())
}

fn mask(path: &Path, n: &Narrator) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let (source, fstype, flags) = if meta.is_dir() {
        ("tmpfs", Some("tmpfs"), MsFlags::MS_RDONLY)
    } else {
        ("/dev/null", None, MsFlags::MS_BIND)
    };
    n.say(
        Actor::Child,
        format!("mask {} (mount {source} over it)", path.display()),
    );
    mount(Some(source), path, fstype, flags, None::<&str>)
        .map_err(Error::sys(format!("mask {}", path.display())))
}

fn make_read_only(path: &Path, n: &Narrator) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    n.say(
        Actor::Child,
        format!("read-only {} (bind, remount ro)", path.display()),
    );
    let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(path), path, None::<&str>, bind, None::<&str>)
        .map_err(Error::sys(format!("bind {} onto itself", path.display())))?;
    let remount = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    mount(None::<&str>, path, None::<&str>, remount, None::<&str>)
        .map_err(Error::sys(format!("remount {} read-only", path.display())))
}
// ANCHOR_END: apply
