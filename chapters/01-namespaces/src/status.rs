//! How a container ended, and waiting for it.
//!
//! The container's first process is the engine's child: the engine learns how it ended from
//! `waitpid`, as a shell learns how a command ended, and reports it as `docker run` does.

use dockyard_support::error::exit_code;
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// How a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The container's PID 1 exited with this status.
    Exited(i32),
    /// The container's PID 1 was killed by this signal.
    Signaled(Signal),
}

impl ExitStatus {
    /// The status `docker run` exits with: the command's own, or 128 + N for signal N.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(signal) => exit_code::SIGNAL_BASE + signal as i32,
        }
    }
}

impl std::fmt::Display for ExitStatus {
    /// `status 3`, `killed by SIGKILL`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "status {code}"),
            ExitStatus::Signaled(signal) => write!(f, "killed by {signal}"),
        }
    }
}

fn from_wait(status: WaitStatus) -> Option<ExitStatus> {
    match status {
        WaitStatus::Exited(_, code) => Some(ExitStatus::Exited(code)),
        WaitStatus::Signaled(_, signal, _) => Some(ExitStatus::Signaled(signal)),
        _ => None,
    }
}

/// Waits for the child, retrying on EINTR.
pub(crate) fn reap(child: Pid) -> Result<ExitStatus> {
    loop {
        match waitpid(child, None) {
            Ok(status) => {
                if let Some(ended) = from_wait(status) {
                    return Ok(ended);
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::sys(format!("wait for pid {child}"))(e)),
        }
    }
}

/// Checks without blocking whether the child has ended.
pub(crate) fn try_reap(child: Pid) -> Result<Option<ExitStatus>> {
    match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
        Ok(status) => Ok(from_wait(status)),
        Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(Error::sys(format!("wait for pid {child}"))(e)),
    }
}

/// On a failed start: SIGKILL the child (as PID 1 its death ends the whole namespace) and wait.
pub(crate) fn kill_and_reap(child: Pid) {
    // Both can only fail if the child is already gone and reaped, which is what we want.
    let _already_gone = kill(child, Signal::SIGKILL);
    let _already_reaped = reap(child);
}
