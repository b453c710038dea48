//! `attach`'s side of the monitor's socket: the terminal in raw mode (with a terminal), what
//! the user types sent to the container, its output shown as it comes, until the container
//! ends (the monitor lets go) or the user detaches with Ctrl-P Ctrl-Q, docker's keys.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use ch01_namespaces::{RawMode, stdin_terminal};
use dockyard_support::FromIo;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::{Error, Result};
use crate::log::Stream;
use crate::monitor::attach::Demux;

/// Docker's detach keys: Ctrl-P, then Ctrl-Q.
const DETACH: [u8; 2] = [0x10, 0x11];

/// How an attached session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The container ended (its monitor closed the connection).
    Container,
    /// The user detached; the container runs on.
    Detached,
}

/// Relays between this terminal and the container until one of them ends the session.
pub fn session(mut stream: UnixStream, tty: bool, interactive: bool) -> Result<Ended> {
    let _raw = match stdin_terminal() {
        Some(stdin) if tty && interactive => Some(RawMode::enter(stdin)?),
        _ => None,
    };
    let failed = |e: std::io::Error| Error::io_op("relay the container's streams")(e);
    // SAFETY: fd 0 stays open for the life of this process.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    let mut reading_stdin = interactive;
    let mut demux = Demux::default();
    let mut held_ctrl_p = false;
    let mut buffer = [0u8; 8192];
    loop {
        let mut fds = vec![PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
        if reading_stdin {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(failed(e.into())),
        }
        let from_container = fds[0].any().unwrap_or(true);
        let from_user = fds.get(1).is_some_and(|fd| fd.any().unwrap_or(true));
        if from_container {
            let n = stream.read(&mut buffer).map_err(failed)?;
            if n == 0 {
                return Ok(Ended::Container);
            }
            show(tty, &mut demux, &buffer[..n]).map_err(failed)?;
        }
        if from_user {
            let n = nix::unistd::read(stdin, &mut buffer).unwrap_or(0);
            if n == 0 {
                // The user's input ended; the container's stays open for the next attach.
                reading_stdin = false;
                continue;
            }
            let mut typed = Vec::with_capacity(n + 1);
            for &byte in &buffer[..n] {
                if held_ctrl_p {
                    held_ctrl_p = false;
                    if byte == DETACH[1] {
                        return Ok(Ended::Detached);
                    }
                    typed.push(DETACH[0]);
                }
                if byte == DETACH[0] {
                    held_ctrl_p = true;
                } else {
                    typed.push(byte);
                }
            }
            stream.write_all(&typed).map_err(failed)?;
        }
    }
}

/// Shows what came from the container: as it is with a terminal, else each framed chunk on
/// the stream it was written to.
fn show(tty: bool, demux: &mut Demux, bytes: &[u8]) -> std::io::Result<()> {
    if tty {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(bytes)?;
        return stdout.flush();
    }
    for (stream, chunk) in demux.feed(bytes) {
        match stream {
            Stream::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&chunk)?;
                stdout.flush()?;
            }
            Stream::Stderr => std::io::stderr().lock().write_all(&chunk)?,
        }
    }
    Ok(())
}
