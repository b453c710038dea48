//! Signals: the engine stands in for the container, so what is sent to it goes to the container.
//!
//! Before `clone`, the engine blocks the signals it forwards (and `SIGCHLD`) and opens a
//! `signalfd` for them: instead of interrupting the engine at random points, they queue up and
//! are read like data in the engine's wait loop, which then `kill`s the container's PID 1 with
//! the same signal. The child inherits the blocked mask and must restore it before `execve`,
//! or the command would start with those signals blocked.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::{Error, Result};

// ANCHOR: forwarded
/// The signals a user sends to a running `docker run` to reach the container (as the Docker CLI
/// proxies them): interrupt, terminate, hang up, quit, the two user signals and window changes.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];
// ANCHOR_END: forwarded

/// The forwarded signals plus `SIGCHLD`, which tells the waiter a child changed state.
pub(crate) fn watched() -> SigSet {
    let mut set = SigSet::empty();
    for signal in FORWARDED {
        set.add(signal);
    }
    set.add(Signal::SIGCHLD);
    set
}

/// Blocks the watched signals, returning the previous mask (to restore in the child) and a
/// `signalfd` that reads them.
pub(crate) fn block_and_watch() -> Result<(SigSet, SignalFd)> {
    let mut previous = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&watched()), Some(&mut previous))
        .map_err(Error::sys("block the forwarded signals"))?;
    let fd = SignalFd::with_flags(&watched(), SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(Error::sys("open a signalfd"))?;
    Ok((previous, fd))
}

/// Puts the signal mask back as it was before [`block_and_watch`].
pub(crate) fn restore_mask(previous: &SigSet) -> Result<()> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(previous), None)
        .map_err(Error::sys("restore the signal mask"))
}
