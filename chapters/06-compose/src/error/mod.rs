//! What can go wrong with a container that keeps running, and what kind of failure each cause
//! is.

use dockyard_support::{EngineError, ErrorKind, IoError};

pub mod copy;
pub mod network;
pub mod volume;

/// A chapter 06 failure, one line naming the cause; [`EngineError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The container is not running, and the operation needs it to be (`exec`, `kill`…).
    #[error("container {0} is not running")]
    NotRunning(String),
    /// `inspect` of a name that is neither a container nor an image.
    #[error("no such object: {0}")]
    NoSuchObject(String),
    /// A request that cannot work as given: an option, a name, a value.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The thing named exists but its state is in the way (a running container, a volume in
    /// use).
    #[error("{message}")]
    Conflict {
        /// What is in the way.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The container's command could not start; its monitor said why.
    #[error("{message}")]
    Start {
        /// The monitor's error line.
        message: String,
        /// Its hint.
        hint: Option<String>,
        /// The status `docker run` exits with for it: 125, 126 or 127.
        status: i32,
    },
    /// A state file of the store that cannot be read as one.
    #[error("corrupt state {path}: {message}")]
    CorruptState {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A volume, or a `-v`/`--mount`/`--tmpfs`, that cannot be used.
    #[error(transparent)]
    Volume(#[from] volume::Error),
    /// A `cp` that cannot be made as asked.
    #[error(transparent)]
    Copy(#[from] copy::Error),
    /// A network, an address or a published port that cannot be used.
    #[error(transparent)]
    Network(#[from] network::Error),
    /// A file operation or a system call failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Chapter 01 (a container's process) failed.
    #[error(transparent)]
    Process(#[from] ch01_namespaces::Error),
    /// Chapter 02 (a container's cgroup) failed.
    #[error(transparent)]
    Cgroup(#[from] ch02_cgroups::Error),
    /// Chapter 03 (a container's layers and record) failed.
    #[error(transparent)]
    Layers(#[from] ch03_union_fs::Error),
    /// Chapter 04 (images) failed.
    #[error(transparent)]
    Images(#[from] ch04_images::Error),
    /// Chapter 05 (Dockerfiles) failed.
    #[error(transparent)]
    Build(#[from] ch05_dockerfile::Error),
    /// A model that cannot be loaded (a compose file: `crate::compose::ComposeError`, which
    /// converts itself, so that this module needs nothing of the loader's).
    #[error("{0}")]
    Model(Box<dyn EngineError>),
}

impl Error {
    /// An invalid request, with a hint.
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A conflict with the state of things, with a hint.
    pub fn conflict(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NotRunning(_) | Error::Conflict { .. } => ErrorKind::Conflict,
            Error::NoSuchObject(_) => ErrorKind::NotFound,
            Error::Invalid { .. } => ErrorKind::InvalidInput,
            Error::Start { .. } => ErrorKind::Internal,
            Error::CorruptState { .. } => ErrorKind::Internal,
            Error::Volume(inner) => inner.kind(),
            Error::Copy(inner) => inner.kind(),
            Error::Network(inner) => inner.kind(),
            Error::Io(io) => io.kind(),
            Error::Process(inner) => inner.kind(),
            Error::Cgroup(inner) => inner.kind(),
            Error::Layers(inner) => inner.kind(),
            Error::Images(inner) => inner.kind(),
            Error::Build(inner) => inner.kind(),
            Error::Model(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NotRunning(_) => Some("start it first with `start`".to_owned()),
            Error::NoSuchObject(_) => {
                Some("list containers with `ps -a` and images with `images`".to_owned())
            }
            Error::Invalid { hint, .. }
            | Error::Conflict { hint, .. }
            | Error::Start { hint, .. } => hint.clone(),
            Error::CorruptState { .. } => {
                Some("remove the container with `rm -f`; its state cannot be trusted".to_owned())
            }
            Error::Volume(inner) => inner.hint(),
            Error::Copy(inner) => inner.hint(),
            Error::Network(inner) => inner.hint(),
            Error::Io(_) => None,
            Error::Process(inner) => inner.hint(),
            Error::Cgroup(inner) => inner.hint(),
            Error::Layers(inner) => inner.hint(),
            Error::Images(inner) => inner.hint(),
            Error::Build(inner) => inner.hint(),
            Error::Model(inner) => inner.hint(),
        }
    }

    fn start_failure(&self) -> Option<dockyard_support::error::StartFailure> {
        use dockyard_support::error::{StartFailure, exit_code};
        match self {
            Error::Start { status, .. } if *status == exit_code::NOT_FOUND => {
                Some(StartFailure::NotFound)
            }
            Error::Start { status, .. } if *status == exit_code::CANNOT_EXECUTE => {
                Some(StartFailure::CannotExecute)
            }
            Error::Process(inner) => inner.start_failure(),
            Error::Layers(inner) => inner.start_failure(),
            Error::Images(inner) => inner.start_failure(),
            Error::Build(inner) => inner.start_failure(),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
