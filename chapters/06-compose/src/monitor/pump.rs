//! The container's output, from its pipes to its log: a thread of the monitor that lives while
//! the container runs.
//!
//! The monitor's own standard output and error *are* the write ends of two pipes; the
//! container inherits them. The pump reads the other ends as data comes and hands every chunk
//! to the log (and, for an attached `run`, to the terminal too). When the container ended, the
//! monitor closes the pump's stop pipe: the pump reads what is left in the pipes, flushes a
//! last line without a newline, and hands everything back for the next run.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::thread::JoinHandle;

use dockyard_support::FromIo;
use dockyard_support::clock::now_ns;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::attach::AttachPoint;
use crate::error::{Error, Result};
use crate::log::{LogWriter, Stream};

/// The read ends of the container's output pipes, and where to copy the output besides the
/// log.
#[derive(Debug)]
pub struct Output {
    stdout: OwnedFd,
    stderr: OwnedFd,
    tee: Option<(OwnedFd, OwnedFd)>,
    attach: Option<AttachPoint>,
}

impl Output {
    /// Makes this process's standard output and error two pipes, whose read ends it keeps:
    /// from now on what this process (and a container it starts) writes there is the
    /// container's output. `tee` receives a copy (the terminal, when attached).
    pub fn capture(tee: Option<(OwnedFd, OwnedFd)>) -> Result<Output> {
        let stdout = redirect(1)?;
        let stderr = redirect(2)?;
        Ok(Output {
            stdout,
            stderr,
            tee,
            attach: None,
        })
    }

    /// Also sends the output to the clients of `attach`, and their input to the container.
    pub fn attach(mut self, point: AttachPoint) -> Output {
        self.attach = Some(point);
        self
    }
}

impl Drop for Output {
    /// Gives an attached command its terminal back: its error line, if any, is printed after
    /// the container ended, and must not go into a pipe nobody reads any more.
    fn drop(&mut self) {
        if let Some((stdout, stderr)) = &self.tee {
            // SAFETY: dup2 onto this process's own standard descriptors.
            unsafe {
                libc::dup2(stdout.as_raw_fd(), 1);
                libc::dup2(stderr.as_raw_fd(), 2);
            }
        }
    }
}

// ANCHOR: redirect
/// Replaces descriptor `target` with a new pipe's write end; returns the read end,
/// non-blocking (the pump reads until a pipe is empty) and closed on exec.
fn redirect(target: i32) -> Result<OwnedFd> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .map_err(|e| Error::io_op("make an output pipe")(e.into()))?;
    // The write end the container inherits must block like any pipe: only the read end is
    // non-blocking.
    nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()))
        .map_err(|e| Error::io_op("make an output pipe blocking")(e.into()))?;
    // SAFETY: dup2 onto a standard descriptor this process owns; the new one is not
    // close-on-exec, so the container's command inherits it.
    if unsafe { libc::dup2(write.as_raw_fd(), target) } < 0 {
        return Err(Error::io_op("redirect the container's output")(
            std::io::Error::last_os_error(),
        ));
    }
    Ok(read)
}
// ANCHOR_END: redirect

/// The running pump: its thread and the pipe whose closing stops it.
pub struct Pump {
    stop: OwnedFd,
    thread: JoinHandle<(Output, LogWriter)>,
}

impl Pump {
    /// Starts the pump's thread (the container runs: the monitor clones nothing until
    /// [`Pump::finish`]).
    pub fn start(output: Output, log: LogWriter) -> Pump {
        let (stop_read, stop) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
            .expect("a pipe for the pump's stop (descriptors exhausted)");
        let thread = std::thread::spawn(move || {
            let (mut output, mut log) = (output, log);
            pump(&mut output, &mut log, &stop_read);
            (output, log)
        });
        Pump { stop, thread }
    }

    /// Stops the pump once the container ended; it drains the pipes first. Returns the pipes
    /// and the log for the next run.
    pub fn finish(self) -> (Output, LogWriter) {
        drop(self.stop);
        self.thread.join().expect("the pump thread does not panic")
    }
}

/// What a read of a pipe gets at most: the pipe's default capacity.
const CHUNK: usize = 64 * 1024;

// ANCHOR: pump
fn pump(output: &mut Output, log: &mut LogWriter, stop: &OwnedFd) {
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let (ready, attach_ready) = {
            let mut fds = vec![
                PollFd::new(output.stdout.as_fd(), PollFlags::POLLIN),
                PollFd::new(output.stderr.as_fd(), PollFlags::POLLIN),
                PollFd::new(stop.as_fd(), PollFlags::POLLIN),
            ];
            if let Some(point) = &output.attach {
                fds.extend(
                    point
                        .fds()
                        .into_iter()
                        .map(|fd| PollFd::new(fd, PollFlags::POLLIN)),
                );
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return,
            }
            let ready: Vec<bool> = fds.iter().map(|fd| fd.any().unwrap_or(true)).collect();
            (ready[..3].to_vec(), ready[3..].to_vec())
        };
        if let Some(point) = &mut output.attach {
            point.serve(&attach_ready);
        }
        let stopping = ready[2];
        if ready[0] {
            copy(output, Stream::Stdout, log, &mut buffer);
        }
        if ready[1] {
            copy(output, Stream::Stderr, log, &mut buffer);
        }
        if stopping {
            copy(output, Stream::Stdout, log, &mut buffer);
            copy(output, Stream::Stderr, log, &mut buffer);
            let _best_effort = log.flush_partial(Stream::Stdout, now_ns());
            let _best_effort = log.flush_partial(Stream::Stderr, now_ns());
            if let Some(point) = &mut output.attach {
                point.release_clients();
            }
            return;
        }
    }
}
// ANCHOR_END: pump

/// Copies what `stream`'s pipe holds now to the log (and the tee), until it is empty.
fn copy(output: &mut Output, stream: Stream, log: &mut LogWriter, buffer: &mut [u8]) {
    let (pipe, tee) = match stream {
        Stream::Stdout => (&output.stdout, output.tee.as_ref().map(|t| &t.0)),
        Stream::Stderr => (&output.stderr, output.tee.as_ref().map(|t| &t.1)),
    };
    loop {
        match nix::unistd::read(pipe, buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let chunk = &buffer[..n];
                // A full disk or a closed terminal must not stop the container: its output
                // is lost, not its run.
                let _best_effort = log.write(stream, chunk, now_ns());
                if let Some(tee) = tee {
                    let _best_effort = write_all(tee, chunk);
                }
                if let Some(point) = &mut output.attach {
                    point.broadcast(stream, chunk);
                }
            }
        }
    }
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        let n = nix::unistd::write(fd, bytes)?;
        bytes = &bytes[n..];
    }
    Ok(())
}
