//! File descriptors: a container must start with exactly the ones it was given.
//!
//! The engine inherits descriptors from whoever started it (a shell, a test harness, a daemon
//! with its sockets and directories), and the child inherits them all from the engine. A leaked
//! directory descriptor is an escape hatch: `-w /proc/self/fd/7` would make a host directory the
//! container's working directory (the shape of runc's CVE-2024-21626). So the child closes every
//! descriptor it does not need as its first act, and marks the rest close-on-exec before
//! `execve`.

use std::os::fd::RawFd;

use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

/// close_range(2)'s flag: mark close-on-exec instead of closing (linux/close_range.h).
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

fn close_range(first: u32, last: u32, flags: libc::c_uint) -> std::io::Result<()> {
    // SAFETY: close_range only closes or flags this process's descriptors in the range.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

// ANCHOR: close_others
/// Closes every descriptor above stderr except `keep`, one `close_range` per gap.
pub fn close_all_except(keep: &[RawFd], n: &Narrator) -> Result<()> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter(|fd| **fd > 2)
        .map(|fd| *fd as u32)
        .collect();
    keep.sort_unstable();
    // The numbers depend on what the engine inherited, so the narration does not list them.
    n.say(
        Actor::Child,
        format!(
            "close_range: close inherited fds above 2, keep the engine's {}",
            keep.len()
        ),
    );
    let mut next = 3;
    for fd in keep.iter().copied().chain([u32::MAX]) {
        if fd > next {
            let last = if fd == u32::MAX { u32::MAX } else { fd - 1 };
            close_range(next, last, 0).map_err(Error::io_op("close inherited descriptors"))?;
        }
        next = fd.saturating_add(1);
    }
    Ok(())
}
// ANCHOR_END: close_others

// ANCHOR: close_fds
/// Marks every descriptor above stderr close-on-exec, so the command starts with exactly 0, 1
/// and 2 open while the child keeps its pipes until the very `execve`.
pub fn close_on_exec_above_stderr(n: &Narrator) -> Result<()> {
    n.say(Actor::Child, "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)");
    close_range(3, u32::MAX, CLOSE_RANGE_CLOEXEC)
        .map_err(Error::io_op("mark descriptors close-on-exec"))
}
// ANCHOR_END: close_fds
