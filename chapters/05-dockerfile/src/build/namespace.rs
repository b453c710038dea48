//! The builder's own mount namespace.
//!
//! A `COPY` step mounts a container's root filesystem to copy files into it, and a `COPY
//! --from` mounts the stage it reads. Were those mounts made in the host's namespace, a
//! builder killed in mid-step (SIGKILL, a crash, the machine's OOM killer) would leave them
//! behind. Made in a namespace of the builder's own, with `/` private so nothing propagates
//! out, they disappear with the builder's last process, whatever kills it.

use dockyard_support::FromIo;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use crate::error::{Error, Result};

// ANCHOR: enter_private
/// Moves this process into a new mount namespace in which every mount is private. Must be
/// called while the process has one thread (a new mount namespace cannot be shared).
pub fn enter_private() -> Result<()> {
    unshare(CloneFlags::CLONE_NEWNS)
        .map_err(|e| Error::io_op("enter a mount namespace of the builder's own")(e.into()))?;
    let private = MsFlags::MS_PRIVATE | MsFlags::MS_REC;
    mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
        .map_err(|e| Error::io_op("make the builder's mounts private")(e.into()))?;
    Ok(())
}
// ANCHOR_END: enter_private
