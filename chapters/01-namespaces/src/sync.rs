//! The two pipes between the engine and the container's first process.
//!
//! * **release**: the child blocks reading it until the engine has done its setup steps (later
//!   chapters put the child into a cgroup or give it a network interface here) and writes one
//!   byte. If the engine dies instead, the read sees end-of-file and the child gives up.
//! * **report**: close-on-exec, so a successful `execve` closes it and the engine reads
//!   end-of-file, which means "the command is running". A child that fails first writes one
//!   record naming the failure, so the engine can print it and pick the right exit status.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::{pipe2, read, write};

use crate::error::{Error, Result};

/// The ends of both pipes; each side drops the ends it does not use right after `clone`.
#[derive(Debug)]
pub(crate) struct SyncPipes {
    pub release_read: OwnedFd,
    pub release_write: OwnedFd,
    pub report_read: OwnedFd,
    pub report_write: OwnedFd,
}

impl SyncPipes {
    pub(crate) fn new() -> Result<Self> {
        let (release_read, release_write) =
            pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("create the release pipe"))?;
        let (report_read, report_write) =
            pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("create the report pipe"))?;
        Ok(SyncPipes {
            release_read,
            release_write,
            report_read,
            report_write,
        })
    }
}

/// Engine side: lets the child go on.
pub(crate) fn release(release_write: OwnedFd) -> Result<()> {
    write(&release_write, b"1").map_err(Error::sys("release the container's process"))?;
    Ok(())
}

/// Child side: waits for the engine. `false` means the engine is gone and the child should exit.
pub(crate) fn wait_for_release(release_read: &OwnedFd) -> bool {
    let mut byte = [0u8; 1];
    loop {
        match read(release_read, &mut byte) {
            Ok(1) => return true,
            Err(Errno::EINTR) => continue,
            _ => return false,
        }
    }
}

// The record's first byte says which kind of failure follows; the rest is text.
const NOT_FOUND: u8 = b'N';
const CANNOT_EXECUTE: u8 = b'X';
const ENGINE_BINARY: u8 = b'B';
const OTHER: u8 = b'E';

/// Child side: sends one failure record.
pub(crate) fn send_failure(report: impl AsFd, error: &Error) {
    let record = match error {
        Error::CommandNotFound { command, reason } => [
            &[NOT_FOUND][..],
            command.as_bytes(),
            b"\0",
            reason.as_bytes(),
        ]
        .concat(),
        Error::CannotExecute { command, reason } => [
            &[CANNOT_EXECUTE][..],
            command.as_bytes(),
            b"\0",
            reason.as_bytes(),
        ]
        .concat(),
        Error::EngineBinary { command } => [&[ENGINE_BINARY][..], command.as_bytes()].concat(),
        other => [&[OTHER][..], other.to_string().as_bytes()].concat(),
    };
    // If the engine is gone there is nobody left to tell; the exit status still says it.
    let _unreported = write(report, &record);
}

/// Engine side: reads until end-of-file; `None` means the command was executed.
pub(crate) fn receive_failure(report: &OwnedFd) -> Result<Option<Error>> {
    let mut record = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match read(report, &mut buf) {
            Ok(0) => break,
            Ok(n) => record.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("read the container's start report")(e)),
        }
    }
    let Some((&kind, rest)) = record.split_first() else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(rest);
    let (command, reason) = text.split_once('\0').unwrap_or(("", &text));
    let (command, reason) = (command.to_string(), reason.to_string());
    Ok(Some(match kind {
        NOT_FOUND => Error::CommandNotFound { command, reason },
        CANNOT_EXECUTE => Error::CannotExecute { command, reason },
        ENGINE_BINARY => Error::EngineBinary {
            command: text.into_owned(),
        },
        _ => Error::ContainerSetup(text.into_owned()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(error: Error) -> Option<Error> {
        let pipes = SyncPipes::new().unwrap();
        send_failure(&pipes.report_write, &error);
        drop(pipes.report_write);
        receive_failure(&pipes.report_read).unwrap()
    }

    #[test]
    fn failures_keep_their_kind_across_the_pipe() {
        let not_found = Error::CommandNotFound {
            command: "x".into(),
            reason: "gone".into(),
        };
        let got = round_trip(not_found).unwrap();
        assert!(
            matches!(&got, Error::CommandNotFound { command, reason } if command == "x" && reason == "gone")
        );
        assert_eq!(got.exit_code(), 127);

        let engine = Error::EngineBinary {
            command: "/proc/self/exe".into(),
        };
        let got = round_trip(engine).unwrap();
        assert!(matches!(&got, Error::EngineBinary { command } if command == "/proc/self/exe"));
        assert_eq!(got.exit_code(), 126);

        let other = Error::InvalidSpec("bad".into());
        let got = round_trip(other).unwrap();
        assert_eq!(got.to_string(), "bad");
        assert_eq!(got.exit_code(), 125);
    }

    #[test]
    fn end_of_file_without_a_record_means_started() {
        let pipes = SyncPipes::new().unwrap();
        drop(pipes.report_write);
        assert!(receive_failure(&pipes.report_read).unwrap().is_none());
    }
}
