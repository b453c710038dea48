//! The overlay driver: the container's root filesystem is an overlayfs mount that stacks the
//! read-only layers (the *lower* directories) under the container's own writable *upper*
//! directory.
//!
//! The mount happens inside the container's mount namespace (see
//! [`ch01_namespaces::RootfsMount`]), so the host never sees it and it cannot outlive the
//! container.
//!
//! Many layers need care: `mount(2)` takes its options as one page (4096 bytes), and 128
//! layers under `/var/lib/dockyard/...` do not fit. Two ways around it:
//! - the new mount API (Linux 6.8+) adds lower layers one at a time with
//!   `fsconfig(..., "lowerdir+", path)`, each path its own string;
//! - on older kernels, every layer gets a short name, a symbolic link `l/<12 hex digits>` in
//!   the state directory, and the mount is made from that directory so the names can be
//!   relative: 15 bytes per layer instead of about 90.

use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, Narrator, RootfsMount, StepError};
use dockyard_support::FromIo;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, fsconfig_create,
    fsconfig_set_string, fsmount, fsopen, move_mount,
};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{Record, Store};

/// The most bytes of options `mount(2)` accepts: one page, with its terminating NUL.
pub const MOUNT_DATA_LIMIT: usize = 4095;

/// Which mount interface to use (`--storage-opt overlay.mount_api=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MountApi {
    /// The new API where the kernel has `lowerdir+`, else `mount(2)` with short names.
    #[default]
    Auto,
    /// `mount(2)` with one option string, layers by short name.
    Legacy,
    /// `fsopen`/`fsconfig("lowerdir+")`/`fsmount`/`move_mount`; fails before Linux 6.8.
    LowerdirPlus,
}

impl std::str::FromStr for MountApi {
    type Err = Error;
    fn from_str(s: &str) -> Result<MountApi> {
        match s {
            "auto" => Ok(MountApi::Auto),
            "legacy" => Ok(MountApi::Legacy),
            "lowerdir+" => Ok(MountApi::LowerdirPlus),
            _ => Err(Error::Invalid(format!(
                "unknown overlay.mount_api {s:?} (supported: auto, legacy, lowerdir+)"
            ))),
        }
    }
}

/// An overlay mount, prepared by the engine and performed by the container's first process.
#[derive(Debug, Clone)]
pub struct OverlayMount {
    /// The layers' absolute paths, topmost first (overlayfs's order).
    lowers: Vec<PathBuf>,
    /// The same layers by short name, relative to `state_dir`, topmost first.
    short_lowers: Vec<String>,
    state_dir: PathBuf,
    upper: PathBuf,
    work: PathBuf,
    api: MountApi,
}

impl OverlayMount {
    /// Prepares the mount for `record`'s layers, creating their short names.
    pub fn new(store: &Store, record: &Record, api: MountApi) -> Result<OverlayMount> {
        let lowers: Vec<PathBuf> = record.layers.iter().rev().cloned().collect();
        let short_lowers = lowers
            .iter()
            .map(|layer| short_name(&store.links_dir(), layer))
            .collect::<Result<_>>()?;
        let relative = |path: PathBuf| {
            path.strip_prefix(store.root())
                .map(Path::to_path_buf)
                .unwrap_or(path)
        };
        Ok(OverlayMount {
            lowers,
            short_lowers,
            state_dir: store.root().to_path_buf(),
            upper: relative(store.upper_dir(&record.id)),
            work: relative(store.work_dir(&record.id)),
            api,
        })
    }

    // ANCHOR: legacy_options
    /// The option string for `mount(2)`, relative to the state directory. overlayfs lists
    /// lower layers topmost first, separated by `:`.
    pub fn legacy_options(&self) -> String {
        format!(
            "lowerdir={},upperdir={},workdir={}",
            self.short_lowers.join(":"),
            self.upper.display(),
            self.work.display()
        )
    }
    // ANCHOR_END: legacy_options

    /// Mounts with `mount(2)`, from the state directory so the short names resolve.
    fn mount_legacy(&self, target: &Path, n: &Narrator) -> Result<()> {
        let options = self.legacy_options();
        if options.len() > MOUNT_DATA_LIMIT {
            return Err(Error::Invalid(format!(
                "{} layers need {} bytes of overlay options, more than mount(2)'s {MOUNT_DATA_LIMIT}",
                self.lowers.len(),
                options.len()
            )));
        }
        n.say(
            Actor::Child,
            format!(
                "chdir {} (lower layers by short name: {} bytes of options, limit {MOUNT_DATA_LIMIT})",
                self.state_dir.display(),
                options.len()
            ),
        );
        std::env::set_current_dir(&self.state_dir)
            .map_err(Error::io("enter the state directory", &self.state_dir))?;
        n.say(
            Actor::Child,
            format!(
                "mount overlay on {} type overlay ({options})",
                target.display()
            ),
        );
        let data = std::ffi::CString::new(options).expect("paths have no NUL byte");
        rustix::mount::mount(
            "overlay",
            target,
            "overlay",
            MountFlags::empty(),
            Some(data.as_c_str()),
        )
        .map_err(Error::errno("mount the overlay on", target))
    }

    // ANCHOR: lowerdir_plus
    /// Mounts with the new mount API: a filesystem context configured one option at a time,
    /// then attached where it belongs. Returns `Ok(false)` if this kernel has no `lowerdir+`.
    fn mount_lowerdir_plus(&self, target: &Path, n: &Narrator) -> Result<bool> {
        n.say(Actor::Child, "fsopen(\"overlay\")");
        let fs = fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC).map_err(Error::errno(
            "open an overlay filesystem context for",
            target,
        ))?;
        for (i, lower) in self.lowers.iter().enumerate() {
            if i < 3 || i + 1 == self.lowers.len() {
                n.say(
                    Actor::Child,
                    format!("fsconfig lowerdir+ {}", lower.display()),
                );
            } else if i == 3 {
                n.say(
                    Actor::Child,
                    format!("fsconfig lowerdir+ ... ({} more)", self.lowers.len() - 4),
                );
            }
            match fsconfig_set_string(fs.as_fd(), "lowerdir+", lower.as_os_str().as_bytes()) {
                Ok(()) => {}
                // Before Linux 6.8 the key is unknown: the caller falls back to mount(2).
                Err(rustix::io::Errno::INVAL) if i == 0 => return Ok(false),
                Err(e) => return Err(Error::errno("add the lower layer", lower)(e)),
            }
        }
        let state = |path: &Path| self.state_dir.join(path);
        for (key, dir) in [
            ("upperdir", state(&self.upper)),
            ("workdir", state(&self.work)),
        ] {
            n.say(Actor::Child, format!("fsconfig {key} {}", dir.display()));
            fsconfig_set_string(fs.as_fd(), key, dir.as_os_str().as_bytes())
                .map_err(Error::errno(format!("set the overlay's {key} to"), &dir))?;
        }
        n.say(Actor::Child, "fsconfig create; fsmount");
        fsconfig_create(fs.as_fd()).map_err(Error::errno("create the overlay for", target))?;
        let mnt = fsmount(
            fs.as_fd(),
            FsMountFlags::FSMOUNT_CLOEXEC,
            MountAttrFlags::empty(),
        )
        .map_err(Error::errno("create the overlay mount for", target))?;
        n.say(
            Actor::Child,
            format!("move_mount overlay to {}", target.display()),
        );
        move_mount(
            mnt.as_fd(),
            "",
            rustix::fs::CWD,
            target,
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
        )
        .map_err(Error::errno("attach the overlay at", target))?;
        Ok(true)
    }
    // ANCHOR_END: lowerdir_plus
}

impl RootfsMount for OverlayMount {
    fn name(&self) -> &str {
        "overlay"
    }

    fn mount(&self, target: &Path, n: &Narrator) -> Result<(), StepError> {
        match self.api {
            MountApi::Legacy => self.mount_legacy(target, n)?,
            MountApi::LowerdirPlus => {
                if !self.mount_lowerdir_plus(target, n)? {
                    return Err(Error::Invalid(
                        "this kernel has no overlay lowerdir+ (needs Linux 6.8)".into(),
                    )
                    .into());
                }
            }
            MountApi::Auto => {
                if !self.mount_lowerdir_plus(target, n)? {
                    n.say(
                        Actor::Child,
                        "no lowerdir+ before Linux 6.8: use mount(2) instead",
                    );
                    self.mount_legacy(target, n)?;
                }
            }
        }
        Ok(())
    }
}

// ANCHOR: short_name
/// The short name of `layer`: `l/` and the first 12 hex digits of the SHA-256 of its path, a
/// symbolic link to it in `links`. The same layer always gets the same name, so containers
/// share links; creating one is atomic, so concurrent runs agree.
fn short_name(links: &Path, layer: &Path) -> Result<String> {
    let hash = Sha256::digest(layer.as_os_str().as_bytes());
    let name: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
    let link = links.join(&name);
    match std::os::unix::fs::symlink(layer, &link) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = std::fs::read_link(&link).map_err(Error::io("read", &link))?;
            if existing != layer {
                return Err(Error::Invalid(format!(
                    "short layer name {} is taken by {} (a hash collision): remove the link",
                    link.display(),
                    existing.display()
                )));
            }
        }
        Err(e) => return Err(Error::io("create the short layer name", &link)(e)),
    }
    Ok(format!("l/{name}"))
}
// ANCHOR_END: short_name
