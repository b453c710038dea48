//! The two pipes between the engine and the container's first process.
//!
//! * **release**: the child blocks reading it until the engine has done its setup steps (later
//!   chapters put the child into a cgroup or give it a network interface here) and writes one
//!   byte. If the engine dies instead, the read sees end-of-file and the child gives up.
//! * **report**: close-on-exec, so a successful `execve` closes it and the engine reads
//!   end-of-file, which means "the command is running". A child that fails first writes one
//!   record naming the failure, so the engine can print it and pick the right exit status.

use std::os::fd::{AsFd, OwnedFd};

use dockyard_support::{EngineError, ErrorKind};
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

// ANCHOR: failure_record
// A failure record: one byte saying what failed, then two text fields separated by a NUL.
// The command's own start failures (`docker run`'s 127 and 126) carry the command and the
// reason; any other failure carries its message and its hint, and its byte is its kind, so
// that the engine reports it exactly as the child would have.
const NOT_FOUND: u8 = b'N';
const CANNOT_EXECUTE: u8 = b'X';
const ENGINE_BINARY: u8 = b'B';
const KINDS: [(ErrorKind, u8); 6] = [
    (ErrorKind::NotFound, b'n'),
    (ErrorKind::Conflict, b'c'),
    (ErrorKind::InvalidInput, b'i'),
    (ErrorKind::Permission, b'p'),
    (ErrorKind::Unavailable, b'u'),
    (ErrorKind::Internal, b'e'),
];

/// Child side: sends one failure record.
pub(crate) fn send_failure(report: impl AsFd, error: &Error) {
    let (tag, first, second) = match error {
        Error::CommandNotFound { command, reason } => (NOT_FOUND, command.clone(), reason.clone()),
        Error::CannotExecute { command, reason } => {
            (CANNOT_EXECUTE, command.clone(), reason.clone())
        }
        Error::EngineBinary { command } => (ENGINE_BINARY, command.clone(), String::new()),
        other => {
            let kind = other.kind();
            let tag = KINDS
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(b'e', |(_, t)| *t);
            (tag, other.to_string(), other.hint().unwrap_or_default())
        }
    };
    let record = [&[tag][..], first.as_bytes(), b"\0", second.as_bytes()].concat();
    // If the engine is gone there is nobody left to tell; the exit status still says it.
    let _unreported = write(report, &record);
}
// ANCHOR_END: failure_record

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
    let Some((&tag, rest)) = record.split_first() else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(rest);
    let (first, second) = text.split_once('\0').unwrap_or((&text, ""));
    let (first, second) = (first.to_string(), second.to_string());
    Ok(Some(match tag {
        NOT_FOUND => Error::CommandNotFound {
            command: first,
            reason: second,
        },
        CANNOT_EXECUTE => Error::CannotExecute {
            command: first,
            reason: second,
        },
        ENGINE_BINARY => Error::EngineBinary { command: first },
        tag => Error::InContainer {
            message: first,
            kind: KINDS
                .iter()
                .find(|(_, t)| *t == tag)
                .map_or(ErrorKind::Internal, |(k, _)| *k),
            hint: Some(second).filter(|h| !h.is_empty()),
        },
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
        assert_eq!(got.status(), 127);

        let engine = Error::EngineBinary {
            command: "/proc/self/exe".into(),
        };
        let got = round_trip(engine).unwrap();
        assert!(matches!(&got, Error::EngineBinary { command } if command == "/proc/self/exe"));
        assert_eq!(got.status(), 126);

        let other = Error::InvalidSpec("bad".into());
        let got = round_trip(other).unwrap();
        assert_eq!(got.to_string(), "bad");
        assert_eq!(got.kind(), ErrorKind::InvalidInput);
        assert_eq!(got.status(), 125);

        let hinted = Error::RootfsMissing("/nowhere".into());
        let got = round_trip(hinted).unwrap();
        assert_eq!(got.to_string(), "rootfs /nowhere does not exist");
        assert_eq!(got.kind(), ErrorKind::NotFound);
        assert_eq!(got.hint(), Error::RootfsMissing("/".into()).hint());
    }

    #[test]
    fn end_of_file_without_a_record_means_started() {
        let pipes = SyncPipes::new().unwrap();
        drop(pipes.report_write);
        assert!(receive_failure(&pipes.report_read).unwrap().is_none());
    }
}
