//! What kind of failure an error is, so that every caller can act on it without parsing text.
//!
//! Each chapter's error type names its causes precisely (`no such image: busybox`, `cgroup v1
//! controller "pids" is not available`). Callers need something coarser to act on: did the
//! thing named not exist, was it in the way, was the request itself wrong? Docker's engine
//! answers with a *kind* (moby's `errdefs`): its HTTP router turns the kind into a status (404,
//! 409, 400, ...), and the `docker` command line turns the daemon's answer into an exit status.
//! Dockyard does the same: every library error implements [`EngineError`], whose
//! [`ErrorKind`] the tools turn into Docker's exit status (see [`crate::cli::status_of`]) and the
//! final daemon into an HTTP status ([`ErrorKind::http_status`]).

use std::fmt;
use std::path::PathBuf;

// ANCHOR: exit_codes
/// Exit statuses of the `docker` command line (docker-run(1), "Exit Status").
pub mod exit_code {
    /// The engine refused a request for what it names (no such image, an image in use): the
    /// status of `docker rmi`, `docker pull` and the others when the daemon answers an error.
    pub const REFUSED: i32 = 1;
    /// The engine failed before or around the command (bad option, missing rootfs, a syscall).
    pub const ENGINE_FAILURE: i32 = 125;
    /// The command exists but cannot be executed (not executable, wrong format, a directory).
    pub const CANNOT_EXECUTE: i32 = 126;
    /// The command does not exist in the container's root filesystem.
    pub const NOT_FOUND: i32 = 127;
    /// Added to the signal number when the command was killed by a signal.
    pub const SIGNAL_BASE: i32 = 128;
}
// ANCHOR_END: exit_codes

// ANCHOR: error_kind
/// What kind of failure an error is: what a caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// What the request names does not exist: an image, a container, a registry's tag.
    NotFound,
    /// It exists, but its state is in the way: a name taken, a container running, an image in
    /// use.
    Conflict,
    /// The request itself cannot work: an option, a reference, a limit, an archive, a document.
    InvalidInput,
    /// The caller may not do it: not root, credentials refused.
    Permission,
    /// Something the engine needs is missing or out of reach: a kernel feature, a cgroup
    /// controller, a registry.
    Unavailable,
    /// The engine itself failed: a system call or a file operation that should have worked.
    Internal,
}
// ANCHOR_END: error_kind

impl ErrorKind {
    /// The HTTP status a daemon answers with, as Docker's Engine API does.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::InvalidInput => 400,
            ErrorKind::Permission => 403,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The kind of a failed file operation: a refusal is the caller's lack of permission;
    /// anything else is the engine failing at something that should have worked.
    pub fn of_io(error: &std::io::Error) -> ErrorKind {
        match error.kind() {
            std::io::ErrorKind::PermissionDenied => ErrorKind::Permission,
            _ => ErrorKind::Internal,
        }
    }
}

/// Why a container's command did not start, where `docker run` has a status of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFailure {
    /// The command is not in the container (127).
    NotFound,
    /// The command is there but the kernel refused to execute it (126).
    CannotExecute,
}

// ANCHOR: engine_error
/// An error of a Dockyard library: a message (its `Display`), a kind, and a hint.
pub trait EngineError: std::error::Error + Send + Sync + 'static {
    /// What kind of failure it is.
    fn kind(&self) -> ErrorKind;

    /// What the user can do about it, where there is something useful to say.
    fn hint(&self) -> Option<String> {
        None
    }

    /// Set when the container's command could not be started (`docker run` exits 126 or 127).
    fn start_failure(&self) -> Option<StartFailure> {
        None
    }
}
// ANCHOR_END: engine_error

/// A file operation that failed: what was being attempted, on which path, and why.
#[derive(Debug)]
pub struct IoError {
    /// What was being attempted, e.g. `create the upper directory`.
    pub action: String,
    /// The file or directory, where there is one.
    pub path: Option<PathBuf>,
    /// The underlying error.
    pub source: std::io::Error,
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} {}: {}", self.action, path.display(), self.source),
            None => write!(f, "{}: {}", self.action, self.source),
        }
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl EngineError for IoError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::of_io(&self.source)
    }
}

/// `map_err` closures that turn an `std::io::Error` into a chapter's error with its context.
/// Every error type that has a `From<IoError>` gets them:
///
/// ```
/// use dockyard_support::{FromIo, IoError};
///
/// #[derive(Debug)]
/// enum Error { Io(IoError) }
/// impl From<IoError> for Error {
///     fn from(error: IoError) -> Error { Error::Io(error) }
/// }
///
/// let failed: Result<Vec<u8>, Error> =
///     std::fs::read("/no/such/file").map_err(Error::io("read", "/no/such/file"));
/// assert!(failed.is_err());
/// ```
pub trait FromIo: From<IoError> + Sized {
    /// Names what was being attempted on which path.
    fn io(
        action: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let (action, path) = (action.into(), path.into());
        move |source| {
            Self::from(IoError {
                action,
                path: Some(path),
                source,
            })
        }
    }

    /// Names what was being attempted, for an operation on no particular path.
    fn io_op(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.into();
        move |source| {
            Self::from(IoError {
                action,
                path: None,
                source,
            })
        }
    }
}

impl<E: From<IoError>> FromIo for E {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_the_action_and_the_path_where_there_is_one() {
        let gone = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let with_path = IoError::io("read", "/x")(gone());
        assert!(with_path.to_string().starts_with("read /x: "));
        let without = IoError::io_op("duplicate stderr")(gone());
        assert!(without.to_string().starts_with("duplicate stderr: "));
        assert_eq!(without.kind(), ErrorKind::Internal);
        let denied = IoError::io_op("open")(std::io::ErrorKind::PermissionDenied.into());
        assert_eq!(denied.kind(), ErrorKind::Permission);
    }
}
