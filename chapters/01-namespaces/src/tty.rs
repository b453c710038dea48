//! `-t`: a terminal for the container, taken from the container's own devpts instance.
//!
//! A pseudo-terminal is a pair: the *master*, which a terminal emulator (here, the engine) reads
//! and writes, and the *slave* (`/dev/pts/N`), which the program uses as its terminal. The
//! child opens `/dev/ptmx` *after* `pivot_root`, so the pair comes from the container's private
//! devpts (the slave is `/dev/pts/0` inside, invisible on the host), and hands the master to the
//! engine over a UNIX socket as an `SCM_RIGHTS` message, the way runc's `--console-socket` does.
//! The command then makes the slave its controlling terminal, so the line discipline turns a
//! typed Ctrl-C into SIGINT for the container's foreground job, not for the engine.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use dockyard_support::FromIo;
use nix::fcntl::{OFlag, open};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, UnixAddr,
    recvmsg, sendmsg, socketpair,
};
use nix::sys::stat::Mode;
use nix::sys::termios::{SetArg, Termios, cfmakeraw, tcgetattr, tcsetattr};
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, isatty, setsid};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

/// The socket pair the master travels over: the engine keeps one end, the child the other.
pub(crate) fn console_socket() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(Error::sys("create the console socket"))
}

// ANCHOR: create_console
/// Child side: opens a terminal pair in the container's devpts, sends the master to the engine
/// and returns the slave's path for the command to attach to.
pub(crate) fn create_console(socket: &OwnedFd, n: &Narrator) -> Result<PathBuf> {
    n.say(Actor::Child, "open /dev/ptmx (the container's devpts)");
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(Error::sys("open /dev/ptmx"))?;
    unlockpt(&master).map_err(Error::sys("unlock the terminal (unlockpt)"))?;
    let slave = ptsname_r(&master).map_err(Error::sys("name the terminal (ptsname)"))?;
    n.say(
        Actor::Child,
        format!("send the master of {slave} to the engine (SCM_RIGHTS)"),
    );
    let fds = [master.as_raw_fd()];
    sendmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &[IoSlice::new(b"m")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(Error::sys("send the terminal to the engine"))?;
    Ok(PathBuf::from(slave))
}
// ANCHOR_END: create_console

// ANCHOR: attach
/// Child side, in the process that becomes the command: a new session whose controlling
/// terminal is the slave, which also becomes stdin, stdout and stderr.
pub(crate) fn attach(slave: &Path, n: &Narrator) -> Result<()> {
    n.say(
        Actor::Child,
        format!(
            "setsid ; ioctl TIOCSCTTY {} ; dup2 onto 0 1 2",
            slave.display()
        ),
    );
    setsid().map_err(Error::sys("start a session (setsid)"))?;
    let fd = open(slave, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(Error::sys(format!("open {}", slave.display())))?;
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal from another session).
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(Error::io_op("make the terminal the controlling terminal")(
            std::io::Error::last_os_error(),
        ));
    }
    dup2_stdin(&fd).map_err(Error::sys("attach stdin to the terminal"))?;
    dup2_stdout(&fd).map_err(Error::sys("attach stdout to the terminal"))?;
    dup2_stderr(&fd).map_err(Error::sys("attach stderr to the terminal"))?;
    Ok(())
}
// ANCHOR_END: attach

/// Engine side: receives the master, or `None` if the child failed before sending it.
pub(crate) fn receive_master(socket: &OwnedFd) -> Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(Error::sys("receive the terminal from the container"))?;
    for cmsg in msg
        .cmsgs()
        .map_err(Error::sys("read the terminal message"))?
    {
        if let ControlMessageOwned::ScmRights(fds) = cmsg
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just installed this descriptor in our table for us alone.
            return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    Ok(None)
}

/// The engine's stdin, if it is a terminal.
pub fn stdin_terminal() -> Option<BorrowedFd<'static>> {
    // SAFETY: fd 0 stays open for the life of the engine.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    isatty(stdin).unwrap_or(false).then_some(stdin)
}

/// Copies the window size of the user's terminal onto the container's (TIOCGWINSZ, TIOCSWINSZ
/// in tty_ioctl(4)); the kernel then sends SIGWINCH to the container's foreground job.
pub(crate) fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    // SAFETY: winsize is plain old data.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: both ioctls read or write one winsize we own; failure leaves the size as it was,
    // which is harmless (the terminal keeps its previous size).
    unsafe {
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}

/// The user's terminal in raw mode for as long as this guard lives: keys go to the container
/// unprocessed (Ctrl-C is a byte, not a SIGINT for the engine), and the old mode comes back on drop.
#[derive(Debug)]
pub struct RawMode {
    fd: BorrowedFd<'static>,
    saved: Termios,
}

impl RawMode {
    /// Puts the terminal `fd` in raw mode until the guard is dropped.
    pub fn enter(fd: BorrowedFd<'static>) -> Result<Self> {
        let saved = tcgetattr(fd).map_err(Error::sys("read the terminal's mode"))?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(fd, SetArg::TCSANOW, &raw).map_err(Error::sys("put the terminal in raw mode"))?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Nothing sensible to do if restoring fails; the user's shell will reset it (`reset`).
        let _restore_failed = tcsetattr(self.fd.as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}
