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

/// How long the builder waits for threads that are ending (see [`wait_for_one_thread`]).
const THREADS_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits until this process has one thread again, for [`THREADS_PATIENCE`] at most: a
/// pull's HTTP client may leave a helper thread that is still ending, and chapter 04 flushes
/// a large layer on a thread it does not wait for. A mount namespace of one's own and a
/// worker's fork need them gone (chapter 01 waits the same way before a clone).
pub fn wait_for_one_thread() -> Result<()> {
    match dockyard_support::process::wait_until_single_threaded(THREADS_PATIENCE) {
        Some(1) => Ok(()),
        threads => Err(Error::Build {
            message: format!(
                "the builder still runs {} threads, and must run one to make containers",
                threads.map_or("several".to_owned(), |n| n.to_string())
            ),
            hint: Some(
                "a registry that resolves slowly keeps a thread: try the build again".into(),
            ),
        }),
    }
}
