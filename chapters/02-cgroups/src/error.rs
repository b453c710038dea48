//! What can go wrong with cgroups, and what kind of failure each cause is.

use dockyard_support::{EngineError, ErrorKind, IoError};

/// A cgroup failure, one line naming the cause; [`EngineError::hint`] says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A limit or option that cannot work.
    #[error("{0}")]
    Invalid(String),
    /// No cgroup filesystem where one is expected.
    #[error("no cgroup filesystem found at {}", .0.display())]
    NoCgroupFs(std::path::PathBuf),
    /// A controller the limits need is not available.
    #[error("cgroup {version} controller {controller:?} is not available")]
    MissingController {
        /// `v1` or `v2`.
        version: &'static str,
        /// The controller, e.g. `memory`.
        controller: &'static str,
    },
    /// A file operation on the cgroup filesystem failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The container part (chapter 01) failed.
    #[error(transparent)]
    Container(#[from] ch01_namespaces::Error),
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) => ErrorKind::InvalidInput,
            Error::NoCgroupFs(_) | Error::MissingController { .. } => ErrorKind::Unavailable,
            Error::Io(io) => io.kind(),
            Error::Container(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::MissingController {
                version: "v2",
                controller,
            } => Some(format!(
                "enable it for child cgroups: echo +{controller} > /sys/fs/cgroup/cgroup.subtree_control"
            )),
            Error::MissingController {
                version: "v1",
                controller,
            } => Some(format!(
                "mount it: mkdir -p /sys/fs/cgroup/{controller} && mount -t cgroup -o {controller} cgroup /sys/fs/cgroup/{controller}"
            )),
            Error::Container(inner) => inner.hint(),
            _ => None,
        }
    }

    fn start_failure(&self) -> Option<dockyard_support::error::StartFailure> {
        match self {
            Error::Container(inner) => inner.start_failure(),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
