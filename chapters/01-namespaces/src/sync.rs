//! The two pipes between the engine and the container's first process.
//!
//! * **release**: the child blocks reading it until the engine has done its setup steps (later
//!   chapters put the child into a cgroup or give it a network interface here) and writes one
//!   byte, followed by the writes the steps left to the child itself ([`StepWrites`]), then
//!   closes it. If the engine dies instead, the read sees end-of-file and the child gives up.
//! * **report**: close-on-exec, so a successful `execve` closes it and the engine reads
//!   end-of-file, which means "the command is running". A child that fails first writes one
//!   record naming the failure, so the engine can print it and pick the right exit status.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

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

/// Writes the setup steps leave to the child, as `(file, value)`: see [`crate::Step::child_writes`].
pub(crate) type StepWrites = Vec<(PathBuf, String)>;

/// The release message's first byte: "go on".
const GO: u8 = b'1';

/// Engine side: lets the child go on, handing it the writes it makes first. The message is the
/// go byte, then `file\0value\0` for each write; closing the pipe ends it.
pub(crate) fn release(release_write: OwnedFd, writes: &StepWrites) -> Result<()> {
    let mut message = vec![GO];
    for (file, value) in writes {
        message.extend_from_slice(file.as_os_str().as_bytes());
        message.push(0);
        message.extend_from_slice(value.as_bytes());
        message.push(0);
    }
    let mut rest = &message[..];
    while !rest.is_empty() {
        match write(&release_write, rest) {
            Ok(written) => rest = &rest[written..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::sys("release the container's process")(e)),
        }
    }
    Ok(())
}

/// Child side: waits for the engine and returns the writes it hands over. `None` means the
/// engine is gone and the child should exit.
pub(crate) fn wait_for_release(release_read: &OwnedFd) -> Option<StepWrites> {
    let mut message = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match read(release_read, &mut chunk) {
            Ok(0) => break,
            Ok(len) => message.extend_from_slice(&chunk[..len]),
            Err(Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
    let fields = message.strip_prefix(&[GO])?;
    let mut fields = fields.split(|b| *b == 0);
    let mut writes = Vec::new();
    while let (Some(file), Some(value)) = (fields.next(), fields.next()) {
        let file = PathBuf::from(OsStr::from_bytes(file));
        writes.push((file, String::from_utf8_lossy(value).into_owned()));
    }
    Some(writes)
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
    fn the_release_carries_the_steps_writes() {
        let pipes = SyncPipes::new().unwrap();
        let writes = vec![
            (
                PathBuf::from("/sys/fs/cgroup/memory/a/tasks"),
                "0".to_string(),
            ),
            (
                PathBuf::from("/sys/fs/cgroup/pids/a/tasks"),
                "0".to_string(),
            ),
        ];
        release(pipes.release_write, &writes).unwrap();
        assert_eq!(wait_for_release(&pipes.release_read), Some(writes));

        let pipes = SyncPipes::new().unwrap();
        release(pipes.release_write, &Vec::new()).unwrap();
        assert_eq!(wait_for_release(&pipes.release_read), Some(Vec::new()));

        // The engine died before releasing: end-of-file alone.
        let pipes = SyncPipes::new().unwrap();
        drop(pipes.release_write);
        assert_eq!(wait_for_release(&pipes.release_read), None);
    }

    #[test]
    fn end_of_file_without_a_record_means_started() {
        let pipes = SyncPipes::new().unwrap();
        drop(pipes.report_write);
        assert!(receive_failure(&pipes.report_read).unwrap().is_none());
    }
}
