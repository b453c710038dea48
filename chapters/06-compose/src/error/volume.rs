//! What can go wrong with volumes, and what kind of failure each cause is. The messages are
//! docker's (`get data: no such volume`, `remove data: volume is in use - [id]`), so that a
//! script written against docker reads the same lines here.

use std::path::PathBuf;

use dockyard_support::{EngineError, ErrorKind, IoError};

/// A volume failure, one line naming the cause; [`EngineError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No volume has this name.
    #[error("get {0}: no such volume")]
    NoSuchVolume(String),
    /// Containers use the volume, so it cannot be removed.
    #[error("remove {name}: volume is in use - [{}]", containers.join(", "))]
    InUse {
        /// The volume.
        name: String,
        /// The ids of the containers that use it.
        containers: Vec<String>,
    },
    /// A name, an option or a mount specification that cannot work as given.
    #[error("{message}")]
    Invalid {
        /// What is wrong, in docker's words where docker has some.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// A volume's `volume.json` that cannot be read as one.
    #[error("corrupt volume metadata {}: {message}", path.display())]
    CorruptMetadata {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file operation or a system call failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Chapter 01 failed (a random name).
    #[error(transparent)]
    Process(#[from] ch01_namespaces::Error),
    /// Chapter 03 failed: the container store, or copying an image's files into a volume.
    #[error(transparent)]
    Layers(#[from] ch03_union_fs::Error),
    /// A container's own files (its `hostconfig.json`) could not be read.
    #[error(transparent)]
    Container(Box<crate::Error>),
}

impl Error {
    /// A request that cannot work, with docker's message and a hint.
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A closure for `map_err` from a `rustix` errno, naming the action and the path.
    pub(crate) fn errno(
        action: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(rustix::io::Errno) -> Error {
        let (action, path) = (action.into(), path.into());
        move |errno| {
            Error::Io(IoError {
                action,
                path: Some(path),
                source: errno.into(),
            })
        }
    }
}

impl From<crate::Error> for Error {
    fn from(error: crate::Error) -> Self {
        Error::Container(Box::new(error))
    }
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchVolume(_) => ErrorKind::NotFound,
            Error::InUse { .. } => ErrorKind::Conflict,
            Error::Invalid { .. } => ErrorKind::InvalidInput,
            Error::CorruptMetadata { .. } => ErrorKind::Internal,
            Error::Io(io) => io.kind(),
            Error::Process(inner) => inner.kind(),
            Error::Layers(inner) => inner.kind(),
            Error::Container(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoSuchVolume(_) => Some("list the volumes with `volume ls`".to_owned()),
            Error::InUse { .. } => {
                Some("remove those containers first (`rm`), then the volume".to_owned())
            }
            Error::Invalid { hint, .. } => Some(hint.clone()),
            Error::CorruptMetadata { .. } => Some(
                "the volume's data is still in its _data directory; remove the volume to clear it"
                    .to_owned(),
            ),
            Error::Io(_) => None,
            Error::Process(inner) => inner.hint(),
            Error::Layers(inner) => inner.hint(),
            Error::Container(inner) => inner.hint(),
        }
    }
}

/// The volume module's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
