//! Storage drivers: how a container's layers become its root filesystem.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the layers are stacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// overlayfs: the layers are shared, the container's writes go to its own upper directory.
    Overlay,
    /// A private copy of every layer, flattened (Docker's `vfs`): slow and large, but works on
    /// any filesystem.
    Vfs,
}

impl std::str::FromStr for Driver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Driver> {
        match s {
            "overlay" | "overlay2" => Ok(Driver::Overlay),
            "vfs" => Ok(Driver::Vfs),
            _ => Err(Error::Invalid(format!(
                "unknown storage driver {s:?} (supported: overlay, vfs)"
            ))),
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Driver::Overlay => "overlay",
            Driver::Vfs => "vfs",
        })
    }
}

/// `f_type` of an overlayfs mount (linux/magic.h).
const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

// ANCHOR: select
/// The driver to use under `root`: the one asked for, else overlay where the kernel has it and
/// `root` can hold an upper directory, else vfs, with the reason why (to tell the user).
pub fn select(requested: Option<Driver>, root: &Path) -> (Driver, Option<String>) {
    if let Some(driver) = requested {
        return (driver, None);
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"))
    {
        return (
            Driver::Vfs,
            Some("overlayfs is not available in this kernel; using the vfs driver, which copies every layer".into()),
        );
    }
    // An overlay's upper directory cannot itself be on an overlay (a container inside a container).
    if nix::sys::statfs::statfs(root)
        .is_ok_and(|fs| fs.filesystem_type().0 == OVERLAYFS_SUPER_MAGIC)
    {
        return (
            Driver::Vfs,
            Some(format!(
                "{} is on overlayfs, which cannot hold an upper layer; using the vfs driver, which copies every layer",
                root.display()
            )),
        );
    }
    (Driver::Overlay, None)
}
// ANCHOR_END: select
