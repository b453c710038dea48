//! What can go wrong with layers, archives and containers' writable layers, and what kind of
//! failure each cause is.

use std::path::PathBuf;

use dockyard_support::error::StartFailure;
use dockyard_support::{EngineError, ErrorKind, FromIo, IoError};

/// A chapter 03 failure, one line naming the cause; [`EngineError::hint`] says what to do
/// about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option or argument that cannot work.
    #[error("{0}")]
    Invalid(String),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A layer given with `--layer` does not exist or is not a directory.
    #[error("layer {} is not a directory", .0.display())]
    LayerNotDirectory(PathBuf),
    /// An archive entry that would reach outside the target directory, or is not allowed.
    #[error("refused archive entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The entry's name as written in the archive.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// An archive that cannot be read (truncated, corrupt compression, bad header).
    #[error("corrupt layer archive: {0}")]
    CorruptArchive(String),
    /// No container with this name or id.
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    /// A prefix that matches more than one container id.
    #[error("{0:?} matches more than one container")]
    AmbiguousContainer(String),
    /// `--name` already taken.
    #[error("the container name {0:?} is already in use")]
    NameInUse(String),
    /// `rm` of a container that is still running.
    #[error("container {0} is running")]
    ContainerRunning(String),
    /// Saved container state that cannot be parsed.
    #[error("corrupt container state {}: {message}", path.display())]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The limits part (chapter 02) failed.
    #[error(transparent)]
    Cgroup(#[from] ch02_cgroups::Error),
    /// The container part (chapter 01) failed.
    #[error(transparent)]
    Container(#[from] ch01_namespaces::Error),
}

impl Error {
    /// A closure for `map_err` from a `rustix` errno, naming the action and the path.
    pub fn errno(
        action: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(rustix::io::Errno) -> Error {
        let io = Error::io(action, path);
        move |errno| io(errno.into())
    }
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_)
            | Error::LayerNotDirectory(_)
            | Error::UnsafeEntry { .. }
            | Error::CorruptArchive(_) => ErrorKind::InvalidInput,
            Error::Io(io) => io.kind(),
            Error::NoSuchContainer(_) => ErrorKind::NotFound,
            // Several containers match: as docker, the request names no single one.
            Error::AmbiguousContainer(_) | Error::NameInUse(_) | Error::ContainerRunning(_) => {
                ErrorKind::Conflict
            }
            Error::CorruptState { .. } => ErrorKind::Internal,
            Error::Cgroup(inner) => inner.kind(),
            Error::Container(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NameInUse(name) => Some(format!(
                "remove it first (rm {name}) or choose another --name"
            )),
            Error::ContainerRunning(_) => Some("wait for it to exit, then remove it".into()),
            Error::NoSuchContainer(_) => Some("list containers with: ps -a".into()),
            Error::UnsafeEntry { .. } => Some(
                "the archive is unsafe to unpack; nothing outside the target was written".into(),
            ),
            Error::LayerNotDirectory(_) => {
                Some("give each --layer as an existing directory (bottom layer first)".into())
            }
            Error::Container(inner) => inner.hint(),
            Error::Cgroup(inner) => inner.hint(),
            _ => None,
        }
    }

    fn start_failure(&self) -> Option<StartFailure> {
        match self {
            Error::Container(inner) => inner.start_failure(),
            Error::Cgroup(inner) => inner.start_failure(),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
