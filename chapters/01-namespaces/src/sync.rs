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

// The record's first byte says which kind of failure follows; the rest is text.
const NOT_FOUND: u8 = b'N';
const CANNOT_EXECUTE: u8 = b'X';
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

        let other = Error::InvalidSpec("bad".into());
        let got = round_trip(other).unwrap();
        assert_eq!(got.to_string(), "bad");
        assert_eq!(got.exit_code(), 125);
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
