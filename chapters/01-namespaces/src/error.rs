//! What can go wrong when starting a container, and what kind of failure each cause is.
//!
//! `docker run` reserves three statuses for its own failures so that a script can tell them from
//! the command's: 125 when the engine itself fails, 126 when the command cannot be executed, 127
//! when it does not exist. A command killed by signal N ends with 128 + N, as in a shell. Every
//! error here says what [`ErrorKind`] it is, and the tools turn that into the status (see
//! `dockyard_support::cli::status_of`).

use std::path::PathBuf;

use dockyard_support::error::StartFailure;
use dockyard_support::{EngineError, ErrorKind, IoError};

use crate::steps::StepError;

/// A failure of the engine or of the command's start. Each variant reads as one line naming the
/// cause; [`EngineError::hint`] adds what to do about it where that helps.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Namespaces and mounts need CAP_SYS_ADMIN in the initial user namespace.
    #[error("must run as root: creating namespaces and mounting need CAP_SYS_ADMIN")]
    NotRoot,
    /// `--rootfs` names nothing.
    #[error("rootfs {} does not exist", .0.display())]
    RootfsMissing(PathBuf),
    /// `--rootfs` names a file, not a directory.
    #[error("rootfs {} is not a directory", .0.display())]
    RootfsNotDirectory(PathBuf),
    /// A mount point the engine needs inside the rootfs is a symbolic link, which could point
    /// the mount anywhere on the host.
    #[error("{} in the rootfs is a symbolic link; refusing to mount over it", .0.display())]
    MountpointIsSymlink(PathBuf),
    /// The kernel was built without one of the namespaces a container needs.
    #[error("this kernel has no {0} namespace")]
    NamespaceUnsupported(&'static str),
    /// The options contradict each other or name something impossible.
    #[error("{0}")]
    InvalidSpec(String),
    /// A system call failed; `action` says what the engine was doing.
    #[error("{action}: {source}")]
    Sys {
        /// What the engine was attempting, e.g. `pivot_root into /tmp/rootfs`.
        action: String,
        /// The errno the kernel returned.
        source: nix::Error,
    },
    /// Reading or changing capability sets failed.
    #[error("{action}: {source}")]
    Capabilities {
        /// What the engine was attempting, e.g. `drop from the bounding set`.
        action: String,
        /// What the capability calls returned.
        source: caps::errors::CapsError,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A setup or teardown step added by a later chapter failed, with that chapter's error.
    #[error("{step}: {source}")]
    Step {
        /// The step's name, e.g. `cgroup`.
        step: String,
        /// The step's own error, kind and hint included.
        source: StepError,
    },
    /// The container's first process failed before it could run the command. A value cannot
    /// cross from one process to another, so what crosses the report pipe is its message, its
    /// kind and its hint.
    #[error("{message}")]
    InContainer {
        /// The failure, as it reads.
        message: String,
        /// What kind of failure it was.
        kind: ErrorKind,
        /// What to do about it, if the failure had a hint.
        hint: Option<String>,
    },
    /// The command is not in the rootfs (or not on the container's `PATH`).
    #[error("exec {command:?}: {reason}")]
    CommandNotFound {
        /// The command as given.
        command: String,
        /// Why it was not found.
        reason: String,
    },
    /// The command is the engine's own binary, directly or as a script's interpreter, which
    /// must never run inside a container (see `exec::refuse_engine_binary`).
    #[error("exec {command:?}: refusing to run the engine's own binary inside the container")]
    EngineBinary {
        /// The command as given.
        command: String,
    },
    /// The command exists but the kernel refused to execute it.
    #[error("exec {command:?}: {reason}")]
    CannotExecute {
        /// The command as given.
        command: String,
        /// Why it could not be executed.
        reason: String,
    },
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NotRoot => ErrorKind::Permission,
            Error::RootfsMissing(_) | Error::CommandNotFound { .. } => ErrorKind::NotFound,
            Error::RootfsNotDirectory(_)
            | Error::MountpointIsSymlink(_)
            | Error::InvalidSpec(_)
            | Error::CannotExecute { .. } => ErrorKind::InvalidInput,
            Error::EngineBinary { .. } => ErrorKind::Permission,
            Error::NamespaceUnsupported(_) => ErrorKind::Unavailable,
            Error::Sys { .. } | Error::Capabilities { .. } => ErrorKind::Internal,
            Error::Io(io) => io.kind(),
            Error::Step { source, .. } => source.kind(),
            Error::InContainer { kind, .. } => *kind,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NotRoot => Some("run it as root, e.g. with sudo".into()),
            Error::RootfsMissing(_) | Error::RootfsNotDirectory(_) => Some(
                "--rootfs takes a directory holding a root filesystem (bin/, etc/, ...)".into(),
            ),
            Error::NamespaceUnsupported(ns) => Some(format!(
                "rebuild the kernel with the {ns} namespace (CONFIG_{}_NS=y)",
                ns.to_uppercase()
            )),
            Error::CommandNotFound { .. } => {
                Some("check that the path exists inside the rootfs, not on the host".into())
            }
            Error::CannotExecute { .. } => Some(
                "the file must be executable and a binary or script this kernel can run".into(),
            ),
            Error::EngineBinary { .. } => Some(
                "until the command starts, /proc/self/exe names the engine, in a #! line too; name the program itself".into(),
            ),
            Error::Step { source, .. } => source.hint(),
            Error::InContainer { hint, .. } => hint.clone(),
            _ => None,
        }
    }

    fn start_failure(&self) -> Option<StartFailure> {
        match self {
            Error::CommandNotFound { .. } => Some(StartFailure::NotFound),
            Error::CannotExecute { .. } | Error::EngineBinary { .. } => {
                Some(StartFailure::CannotExecute)
            }
            _ => None,
        }
    }
}

impl Error {
    /// A closure for `map_err` that names what the engine was attempting.
    pub(crate) fn sys(action: impl Into<String>) -> impl FnOnce(nix::Error) -> Error {
        let action = action.into();
        move |source| Error::Sys { action, source }
    }

    /// The status the container's own process exits with when it fails before the command
    /// runs (the engine reports the failure itself; this is what is left if it cannot).
    pub(crate) fn status(&self) -> i32 {
        dockyard_support::cli::status_of(self, dockyard_support::cli::Invocation::Run)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
