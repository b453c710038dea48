//! What can go wrong reading a Dockerfile (and, in part two, building it), and what kind of
//! failure each cause is.

mod copy;
mod download;

pub use copy::CopyError;
pub use download::{DownloadError, UrlError};

use dockyard_support::{EngineError, ErrorKind, IoError};

/// A chapter 05 failure, one line naming the cause; [`EngineError::hint`] says what to do
/// about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Dockerfile (or a `.dockerignore`) that cannot be read as one: where, and why.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file, as the user named it (`Dockerfile`).
        file: String,
        /// The line the problem is on, from 1.
        line: usize,
        /// What is wrong.
        message: String,
        /// The offending line as written, for the user to see.
        source_line: Option<String>,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A Dockerfile with no instruction at all: empty, or only comments and blank lines.
    #[error("{file}: file with no instructions")]
    NoInstructions {
        /// The file, as the user named it.
        file: String,
    },
    /// A Dockerfile with instructions but no `FROM`: only `ARG`s.
    #[error("{file}: dockerfile contains no stages to build")]
    NoStages {
        /// The file, as the user named it.
        file: String,
    },
    /// A build could not go on: why, and what to do about it.
    #[error("{message}")]
    Build {
        /// What went wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A `RUN` step's command failed, in docker's words.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    RunFailed {
        /// The command as the container ran it.
        command: String,
        /// Its exit status (128+N if signal N killed it).
        code: i32,
    },
    /// The build context's `.dockerignore` cannot be read.
    #[error("the build context's .dockerignore: {0}")]
    IgnoreFile(#[from] crate::dockerignore::ReadError),
    /// A pattern of the build context's `.dockerignore` is not one.
    #[error("the build context's .dockerignore: {0}")]
    IgnorePattern(#[from] crate::dockerignore::PatternError),
    /// A `COPY` or `ADD` that cannot be done (docker's messages).
    #[error(transparent)]
    Copy(#[from] CopyError),
    /// An `ADD` of a URL that cannot be done: the download, or `--checksum`.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// An archive (a build context sent as a tar, a tar `ADD` extracts) that cannot be
    /// unpacked, or unpacked safely (chapter 03).
    #[error(transparent)]
    Archive(#[from] ch03_union_fs::Error),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The images part (chapter 04) failed.
    #[error(transparent)]
    Images(#[from] ch04_images::Error),
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Syntax { .. } | Error::NoInstructions { .. } | Error::NoStages { .. } => {
                ErrorKind::InvalidInput
            }
            Error::Build { .. } | Error::RunFailed { .. } => ErrorKind::InvalidInput,
            Error::IgnoreFile(inner) => inner.kind(),
            Error::IgnorePattern(inner) => inner.kind(),
            Error::Copy(inner) => inner.kind(),
            Error::Url(inner) => inner.kind(),
            Error::Archive(inner) => inner.kind(),
            Error::Io(io) => io.kind(),
            Error::Images(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Syntax { hint, .. } => hint.clone(),
            Error::NoInstructions { .. } => {
                Some("a Dockerfile needs at least one instruction, starting with FROM".to_owned())
            }
            Error::NoStages { .. } => {
                Some("start a stage with FROM after the ARGs that come before it".to_owned())
            }
            Error::Build { hint, .. } => hint.clone(),
            Error::RunFailed { .. } => Some(
                "the step's output above says why; fix the command, or run the image built so far to try it"
                    .to_owned(),
            ),
            Error::IgnoreFile(inner) => inner.hint(),
            Error::IgnorePattern(inner) => inner.hint(),
            Error::Copy(inner) => inner.hint(),
            Error::Url(inner) => inner.hint(),
            Error::Archive(inner) => inner.hint(),
            Error::Images(inner) => inner.hint(),
            _ => None,
        }
    }

    fn start_failure(&self) -> Option<dockyard_support::error::StartFailure> {
        match self {
            Error::Images(inner) => inner.start_failure(),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
