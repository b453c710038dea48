//! What can go wrong in a `COPY` or an `ADD`, with the legacy builder's messages (BuildKit's
//! differ, and are noted where they do).

use dockyard_support::{EngineError, ErrorKind, IoError};

/// A `COPY` or `ADD` that cannot be done. `instruction` is `COPY` or `ADD`, as docker names it
/// in its messages.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// A source that climbs out of the context with `..`. (BuildKit clamps `..` at the
    /// context root and then fails to find the file: `failed to compute cache key: "/x": not
    /// found`.)
    #[error("{instruction} failed: forbidden path outside the build context: {path} ()")]
    OutsideContext {
        /// `COPY` or `ADD`.
        instruction: &'static str,
        /// The source as written.
        path: String,
    },
    /// A source that is not there, or that `.dockerignore` leaves out.
    #[error(
        "{instruction} failed: file not found in build context or excluded by .dockerignore: stat {path}: file does not exist"
    )]
    NotFound {
        /// `COPY` or `ADD`.
        instruction: &'static str,
        /// The source as written.
        path: String,
    },
    /// Wildcards that match nothing (or a malformed wildcard pattern).
    #[error("{instruction} failed: no source files were specified")]
    NoSourceFiles {
        /// `COPY` or `ADD`.
        instruction: &'static str,
    },
    /// Several sources, and a destination that does not end with `/`.
    #[error(
        "When using {instruction} with more than one source file, the destination must be a directory and end with a /"
    )]
    DestinationNotDirectory {
        /// `COPY` or `ADD`.
        instruction: &'static str,
    },
    /// A `--chown` user or group the image's `/etc/passwd` or `/etc/group` does not name.
    #[error(
        "unable to convert uid/gid chown string to host mapping: can't find {id} for {what} {name}: {reason}"
    )]
    UnknownOwner {
        /// `uid` or `gid`.
        id: &'static str,
        /// `user` or `group`.
        what: &'static str,
        /// The name looked up.
        name: String,
        /// Why it was not found: `no such user: x`, or the file that could not be read.
        reason: String,
    },
    /// `ADD https://…` whose file the builder did not download first (a bug of the caller).
    #[error("ADD failed: {url} was not downloaded before the copy")]
    RemoteSource {
        /// The URL.
        url: String,
    },
    /// A destination that cannot be made a directory: a non-directory is in the way on the
    /// path to it, or a symbolic link that leads nowhere.
    #[error("{instruction} failed: mkdir {path}: not a directory")]
    DestinationBlocked {
        /// `COPY` or `ADD`.
        instruction: &'static str,
        /// The path inside the image.
        path: String,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl EngineError for CopyError {
    fn kind(&self) -> ErrorKind {
        match self {
            CopyError::Io(io) => io.kind(),
            CopyError::NotFound { .. } | CopyError::NoSourceFiles { .. } => ErrorKind::NotFound,
            CopyError::RemoteSource { .. } => ErrorKind::Internal,
            _ => ErrorKind::InvalidInput,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            CopyError::OutsideContext { .. } => {
                "a build reads only its context: move the file into the context directory".into()
            }
            CopyError::NotFound { .. } => {
                "check the path (relative to the context root) and the context's .dockerignore"
                    .into()
            }
            CopyError::NoSourceFiles { .. } => {
                "no file of the context matches the pattern (or .dockerignore leaves them out)"
                    .into()
            }
            CopyError::DestinationNotDirectory { instruction } => {
                format!("end the destination of {instruction} with a /")
            }
            CopyError::UnknownOwner { .. } => {
                "use numeric ids, or create the user and group in the image first".into()
            }
            CopyError::RemoteSource { .. } => {
                "download the file with build::copy::url::fetch before copying".into()
            }
            CopyError::DestinationBlocked { .. } => {
                "a file (or a dangling symbolic link) is where a directory is needed".into()
            }
            CopyError::Io(_) => return None,
        })
    }
}
