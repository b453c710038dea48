//! The engine's wait loop: forward signals, relay the terminal, notice when the container ends.
//!
//! One `poll` watches the signalfd (forwarded signals and SIGCHLD) and, with `-t`, the
//! terminal's master and the user's stdin. Everything the engine reacts to arrives as a readable
//! descriptor, so the loop has no signal handlers and no races with them.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::signalfd::SignalFd;
use nix::unistd::{Pid, read, write};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::status::{ExitStatus, try_reap};
use crate::tty::{self, RawMode};

const BUFFER: usize = 16 * 1024;

/// The terminal side of the loop, present with `-t`.
struct Terminal {
    master: OwnedFd,
    /// The user's stdin while it is relayed (`-i`) and not at end-of-file.
    stdin: Option<BorrowedFd<'static>>,
    _raw: Option<RawMode>,
}

// ANCHOR: wait
/// Waits for `child` to end while forwarding signals to it and, with a terminal, copying the
/// user's keys to the container and the container's output to the user.
pub(crate) fn wait(
    child: Pid,
    signals: &SignalFd,
    master: Option<OwnedFd>,
    interactive: bool,
    n: &Narrator,
) -> Result<ExitStatus> {
    let mut terminal = master
        .map(|master| open_terminal(master, interactive))
        .transpose()?;
    loop {
        let (signal_ready, stdin_ready, master_ready) =
            wait_for_events(signals, terminal.as_ref())?;
        if signal_ready {
            while let Some(info) = signals
                .read_signal()
                .map_err(Error::sys("read the signalfd"))?
            {
                let signal = Signal::try_from(info.ssi_signo as i32).ok();
                match signal {
                    Some(Signal::SIGCHLD) => {
                        if let Some(status) = try_reap(child)? {
                            if let Some(term) = &terminal {
                                drain(&term.master);
                            }
                            return Ok(status);
                        }
                    }
                    Some(Signal::SIGWINCH) if terminal.is_some() => {
                        if let (Some(term), Some(stdin)) = (&terminal, tty::stdin_terminal()) {
                            tty::copy_window_size(stdin, term.master.as_fd());
                        }
                    }
                    Some(signal) => forward(child, signal, n),
                    None => {}
                }
            }
        }
        if let Some(term) = &mut terminal {
            if stdin_ready {
                relay_stdin(term);
            }
            if master_ready && !copy(term.master.as_fd(), stdout()) {
                // The container closed its terminal; keep waiting for its exit status.
                terminal = None;
            }
        }
    }
}
// ANCHOR_END: wait

fn forward(child: Pid, signal: Signal, n: &Narrator) {
    n.say(Actor::Engine, format!("forward {signal} to pid {child}"));
    // ESRCH: the container just ended; its SIGCHLD is on the way.
    let _already_gone = kill(child, signal);
}

fn open_terminal(master: OwnedFd, interactive: bool) -> Result<Terminal> {
    let user_tty = tty::stdin_terminal();
    if let Some(stdin) = user_tty {
        tty::copy_window_size(stdin, master.as_fd());
    }
    let raw = match user_tty {
        Some(stdin) if interactive => Some(RawMode::enter(stdin)?),
        _ => None,
    };
    // SAFETY: fd 0 stays open for the life of the engine.
    let stdin = interactive.then(|| unsafe { BorrowedFd::borrow_raw(0) });
    Ok(Terminal {
        master,
        stdin,
        _raw: raw,
    })
}

/// Polls; returns which of signalfd, stdin and master are ready.
fn wait_for_events(signals: &SignalFd, terminal: Option<&Terminal>) -> Result<(bool, bool, bool)> {
    let readable = PollFlags::POLLIN;
    let mut fds = vec![PollFd::new(signals.as_fd(), readable)];
    if let Some(term) = terminal {
        fds.push(PollFd::new(term.master.as_fd(), readable));
        if let Some(stdin) = term.stdin {
            fds.push(PollFd::new(stdin, readable));
        }
    }
    match poll(&mut fds, PollTimeout::NONE) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok((false, false, false)),
        Err(e) => return Err(Error::sys("wait for the container (poll)")(e)),
    }
    let ready = |fd: &PollFd| fd.any().unwrap_or(false);
    Ok((
        ready(&fds[0]),
        fds.get(2).is_some_and(ready),
        fds.get(1).is_some_and(ready),
    ))
}

fn relay_stdin(term: &mut Terminal) {
    if let Some(stdin) = term.stdin
        && !copy(stdin, term.master.as_fd())
    {
        // End of the user's input: stop reading it, as `docker run -i` does.
        term.stdin = None;
    }
}

fn stdout() -> BorrowedFd<'static> {
    // SAFETY: fd 1 stays open for the life of the engine.
    unsafe { BorrowedFd::borrow_raw(1) }
}

/// Copies one read's worth from `from` to `to`; `false` at end-of-file or when the terminal is
/// gone (EIO is how a master reports that every slave descriptor was closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; BUFFER];
    let n = match read(from, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    write_all(to, &buf[..n])
}

fn write_all(to: BorrowedFd<'_>, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        match write(to, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
    true
}

/// After the container ended: copy out what it wrote that is still buffered in the terminal.
fn drain(master: &OwnedFd) {
    let nonblocking = nix::fcntl::OFlag::O_NONBLOCK;
    if nix::fcntl::fcntl(master, nix::fcntl::FcntlArg::F_SETFL(nonblocking)).is_err() {
        return;
    }
    while copy(master.as_fd(), stdout()) {}
}
