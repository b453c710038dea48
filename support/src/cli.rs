//! How every chapter's tool ends: one line naming the cause, with a hint where one helps, and
//! the exit status `docker` would use.

use std::process::ExitCode;

use crate::error::{EngineError, ErrorKind, StartFailure, exit_code};

/// Which kind of command failed, because `docker` gives them different statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `run` (and later `create`, `start`, `exec`): any failure of the engine is 125, so that a
    /// script can tell it from the command's own status; 126 and 127 when the command could
    /// not be started.
    Run,
    /// Every other command: 1 when the engine refused the request for what it names (not
    /// found, in the way, not allowed), 125 when it could not do its own work.
    Other,
    /// `build` (and reading a Dockerfile): 1 for every failure, as `docker build` exits.
    Build,
}

// ANCHOR: status_of
/// The exit status `docker` ends with after `error` in a command of kind `invocation`.
pub fn status_of(error: &dyn EngineError, invocation: Invocation) -> i32 {
    match error.start_failure() {
        Some(StartFailure::NotFound) => return exit_code::NOT_FOUND,
        Some(StartFailure::CannotExecute) => return exit_code::CANNOT_EXECUTE,
        None => {}
    }
    match (invocation, error.kind()) {
        (Invocation::Build, _) => exit_code::REFUSED,
        (Invocation::Other, ErrorKind::NotFound | ErrorKind::Conflict | ErrorKind::Permission) => {
            exit_code::REFUSED
        }
        _ => exit_code::ENGINE_FAILURE,
    }
}
// ANCHOR_END: status_of

/// Prints `program: cause (hint: ...)` on stderr.
pub fn print_error(program: &str, error: &dyn EngineError) {
    match error.hint() {
        Some(hint) => eprintln!("{program}: {error} (hint: {hint})"),
        None => eprintln!("{program}: {error}"),
    }
}

/// Prints the error as [`print_error`] does and returns the exit status for it.
pub fn report(program: &str, error: &dyn EngineError, invocation: Invocation) -> ExitCode {
    print_error(program, error);
    exit_code(status_of(error, invocation))
}

/// An `ExitCode` from a Docker-style status (0 to 255).
pub fn exit_code(status: i32) -> ExitCode {
    ExitCode::from(u8::try_from(status).unwrap_or(exit_code::ENGINE_FAILURE as u8))
}

/// Parses the command line, exiting as `docker` does on a usage error: the message, then
/// status 125 (help and version still exit 0).
pub fn parse_or_exit<T: clap::Parser>() -> T {
    T::try_parse().unwrap_or_else(|error| {
        let code = if error.use_stderr() {
            exit_code::ENGINE_FAILURE
        } else {
            0
        };
        // Printing can only fail if stderr is closed; the status still tells.
        let _unprinted = error.print();
        std::process::exit(code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IoError;

    #[derive(Debug, thiserror::Error)]
    #[error("test")]
    struct Failure(ErrorKind, Option<StartFailure>);

    impl EngineError for Failure {
        fn kind(&self) -> ErrorKind {
            self.0
        }
        fn start_failure(&self) -> Option<StartFailure> {
            self.1
        }
    }

    #[test]
    fn statuses_follow_docker() {
        let status = |kind, start, invocation| status_of(&Failure(kind, start), invocation);
        use Invocation::{Other, Run};
        assert_eq!(status(ErrorKind::NotFound, None, Run), 125);
        assert_eq!(status(ErrorKind::NotFound, None, Other), 1);
        assert_eq!(status(ErrorKind::Conflict, None, Other), 1);
        assert_eq!(status(ErrorKind::InvalidInput, None, Other), 125);
        assert_eq!(status(ErrorKind::Unavailable, None, Other), 125);
        assert_eq!(status(ErrorKind::InvalidInput, None, Invocation::Build), 1);
        assert_eq!(status(ErrorKind::Internal, None, Invocation::Build), 1);
        let not_found = Some(StartFailure::NotFound);
        assert_eq!(status(ErrorKind::NotFound, not_found, Run), 127);
        let refused = Some(StartFailure::CannotExecute);
        assert_eq!(status(ErrorKind::InvalidInput, refused, Run), 126);
        let io = IoError {
            action: "read".into(),
            path: None,
            source: std::io::ErrorKind::Other.into(),
        };
        assert_eq!(status_of(&io, Other), 125);
    }
}
