//! Attaching to a detached container: a UNIX socket its monitor listens on
//! (`attach.sock` in the container's directory), through which `attach` receives the
//! container's output as it is written and sends what the user types to the container's
//! standard input.
//!
//! The container's input is a pipe the monitor holds the write end of, so it stays open
//! whoever attaches and leaves: a shell started with `run -dit` waits for its next line. Its
//! output comes as the pump reads it. Without a terminal, stdout and stderr travel in one
//! stream, each chunk behind docker's 8-byte header (stream 1 or 2, then the length, as the
//! Engine API frames them); with a terminal there is one stream, and it is sent as it is.
//!
//! A socket's path is limited to 108 bytes and a store's may be longer, so both ends name the
//! directory through a descriptor: `/proc/self/fd/N/attach.sock`.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};

use dockyard_support::FromIo;

use crate::container::Paths;
use crate::error::{Error, Result};
use crate::log::Stream;

/// The longest a client may keep the pump waiting on one write before it is dropped: a
/// stuck terminal must not stop the container's output from reaching the log.
const CLIENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// The monitor's end: the listening socket, the clients attached, the container's input.
#[derive(Debug)]
pub struct AttachPoint {
    listener: UnixListener,
    clients: Vec<UnixStream>,
    tty: bool,
    stdin: Option<OwnedFd>,
}

impl AttachPoint {
    /// Listens on the container's `attach.sock`; `stdin` is the write end of the container's
    /// input pipe, when it has one (`-i`).
    pub fn listen(paths: &Paths, tty: bool, stdin: Option<OwnedFd>) -> Result<AttachPoint> {
        let path = paths.attach_socket();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &path)(e)),
        }
        let listener = via_directory(paths, |short| UnixListener::bind(short))
            .map_err(Error::io("listen on", &path))?;
        listener
            .set_nonblocking(true)
            .map_err(Error::io("listen on", &path))?;
        Ok(AttachPoint {
            listener,
            clients: Vec::new(),
            tty,
            stdin,
        })
    }

    /// The descriptors the pump waits on: the listener, then each client.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        std::iter::once(self.listener.as_fd())
            .chain(self.clients.iter().map(|c| c.as_fd()))
            .collect()
    }

    /// Takes new clients and what attached clients typed; `ready` says which of
    /// [`AttachPoint::fds`] were readable.
    pub fn serve(&mut self, ready: &[bool]) {
        let mut gone = Vec::new();
        for (i, client) in self.clients.iter_mut().enumerate() {
            if !ready.get(i + 1).copied().unwrap_or(false) {
                continue;
            }
            let mut buffer = [0u8; 4096];
            match client.read(&mut buffer) {
                Ok(0) | Err(_) => gone.push(i),
                Ok(n) => {
                    if let Some(stdin) = &self.stdin {
                        // Input the container does not read yet waits in the pipe; beyond
                        // what the pipe holds it is lost rather than stall the output.
                        let _lost = nix::unistd::write(stdin, &buffer[..n]);
                    }
                }
            }
        }
        for i in gone.into_iter().rev() {
            self.clients.remove(i);
        }
        if ready.first().copied().unwrap_or(false) {
            while let Ok((client, _)) = self.listener.accept() {
                if client.set_write_timeout(Some(CLIENT_PATIENCE)).is_ok() {
                    self.clients.push(client);
                }
            }
        }
    }

    // ANCHOR: broadcast
    /// Sends a chunk of the container's output to every client.
    pub fn broadcast(&mut self, stream: Stream, bytes: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        let mut frame = Vec::with_capacity(bytes.len() + 8);
        if !self.tty {
            frame.extend_from_slice(&frame_header(stream, bytes.len()));
        }
        frame.extend_from_slice(bytes);
        self.clients
            .retain_mut(|client| client.write_all(&frame).is_ok());
    }
    // ANCHOR_END: broadcast

    /// The container ended: every client is let go (their `attach` then reports its status).
    pub fn release_clients(&mut self) {
        self.clients.clear();
    }
}

/// Docker's frame header: the stream (1 stdout, 2 stderr), three zero bytes, the length.
fn frame_header(stream: Stream, length: usize) -> [u8; 8] {
    let kind = match stream {
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    };
    let length = u32::try_from(length).unwrap_or(u32::MAX).to_be_bytes();
    [kind, 0, 0, 0, length[0], length[1], length[2], length[3]]
}

/// Connects to the monitor of the container `paths` names.
pub fn connect(paths: &Paths) -> Result<UnixStream> {
    via_directory(paths, |short| UnixStream::connect(short))
        .map_err(Error::io("connect to", paths.attach_socket()))
}

/// Runs `act` on a short name of the attach socket: the container's directory through a
/// descriptor of this process.
fn via_directory<T>(
    paths: &Paths,
    act: impl FnOnce(&str) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let dir = std::fs::File::open(paths.dir())?;
    let short = format!(
        "/proc/self/fd/{}/attach.sock",
        std::os::fd::AsRawFd::as_raw_fd(&dir)
    );
    act(&short)
}

/// Reads docker's framed stream back into its chunks.
#[derive(Debug, Default)]
pub struct Demux {
    pending: Vec<u8>,
}

impl Demux {
    /// Adds bytes read from the socket; returns the whole chunks they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(Stream, Vec<u8>)> {
        self.pending.extend_from_slice(bytes);
        let mut chunks = Vec::new();
        loop {
            if self.pending.len() < 8 {
                return chunks;
            }
            let length = u32::from_be_bytes([
                self.pending[4],
                self.pending[5],
                self.pending[6],
                self.pending[7],
            ]) as usize;
            if self.pending.len() < 8 + length {
                return chunks;
            }
            let stream = if self.pending[0] == 2 {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            let chunk = self.pending[8..8 + length].to_vec();
            self.pending.drain(..8 + length);
            chunks.push((stream, chunk));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_as_written_whatever_the_reads() {
        let mut wire = Vec::new();
        for (stream, text) in [(Stream::Stdout, "out\n"), (Stream::Stderr, "err\n")] {
            wire.extend_from_slice(&frame_header(stream, text.len()));
            wire.extend_from_slice(text.as_bytes());
        }
        let mut demux = Demux::default();
        let mut chunks = Vec::new();
        for byte in wire.chunks(3) {
            chunks.extend(demux.feed(byte));
        }
        assert_eq!(
            chunks,
            [
                (Stream::Stdout, b"out\n".to_vec()),
                (Stream::Stderr, b"err\n".to_vec())
            ]
        );
    }
}
