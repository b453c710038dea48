//! `monitor ID` (hidden): the process `start` executes to keep a container; see
//! [`crate::monitor`]. Its answer goes to descriptor 3; its own output is the container's.

use std::os::fd::{FromRawFd, OwnedFd};

use ch04_images::cli::Context;

use crate::error::Result;
use crate::lifecycle::start::READY_FD;
use crate::monitor::{self, Mode, close_on_exec};

/// Runs the monitor of container `id`.
pub fn execute(cx: &Context, id: &str) -> Result<i32> {
    // SAFETY: `start` put the ready pipe on this descriptor before executing this program,
    // and nothing else in this process owns it.
    let ready = unsafe { OwnedFd::from_raw_fd(READY_FD) };
    close_on_exec(&ready)?;
    let storage = cx
        .globals
        .storage
        .options()
        .map_err(ch04_images::Error::from)?;
    monitor::run(
        cx.store.containers(),
        id,
        &storage,
        Mode::Detached { ready },
    )
}
