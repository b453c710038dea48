//! `start`: a created or stopped container started under a new monitor, returning once its
//! command runs.
//!
//! The monitor is a new process, not a fork of this one: `final/`'s daemon is multi-threaded,
//! and a fork of a multi-threaded process may only call what is safe after `fork` until it
//! executes something. So the monitor is a program executed afresh (`ch06-monitor`, a small
//! program of this chapter beside `ch06-compose`), in a session of its own so that no terminal's signals
//! reach it, with a pipe on descriptor 3 on which it answers once the container runs.

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use ch03_union_fs::Store;
use dockyard_support::FromIo;
use nix::fcntl::OFlag;

use super::Live;
use crate::error::{Error, Result};
use crate::lifecycle::ready::{self, Ready};

/// How to execute a monitor: a program and its arguments before the container's id (the
/// `ch06-monitor` with the store's options and `monitor`).
#[derive(Debug, Clone)]
pub struct MonitorCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments; the container's id is added last.
    pub args: Vec<OsString>,
}

/// The descriptor on which a monitor answers.
pub const READY_FD: i32 = 3;

// ANCHOR: start
/// Starts the container `reference` names under a new monitor and waits until its command
/// runs. A container that runs already is left as it is.
pub fn start(store: &Store, reference: &str, monitor: &MonitorCommand) -> Result<Live> {
    let live = Live::find(store, reference)?;
    if live.monitored() {
        return Ok(live);
    }
    let stop_requested = live.paths.stop_requested();
    match std::fs::remove_file(&stop_requested) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("remove", &stop_requested)(e)),
    }
    let (answer, answer_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| Error::io_op("make the monitor's ready pipe")(e.into()))?;
    let raw = answer_write.as_raw_fd();
    let mut command = Command::new(&monitor.program);
    command
        .args(&monitor.args)
        .arg(&live.record.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: between fork and exec the child only calls setsid and dup2, both
    // async-signal-safe; dup2 leaves the new descriptor open across exec.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::dup2(raw, READY_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let spawned = command
        .spawn()
        .map_err(Error::io("start the monitor", &monitor.program))?;
    // Only the monitor holds the write end now: its exit ends the pipe.
    drop(answer_write);
    // The monitor is not waited for: it outlives this command, and when this process ends
    // the init process adopts and reaps it.
    drop(spawned);
    match ready::receive(answer) {
        Ready::Started => Ok(Live::of(store, live.record)),
        Ready::Failed {
            message,
            hint,
            status,
        } => Err(Error::Start {
            message,
            hint,
            status,
        }),
    }
}
// ANCHOR_END: start
