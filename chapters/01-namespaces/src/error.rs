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
    /// A bind mount's source is not on the host.
    #[error("bind mount source {} does not exist", .0.display())]
    MountSourceMissing(PathBuf),
    /// Making or attaching one of the spec's mounts failed, in the container's first process.
    #[error("cannot mount {what} on {}: {action}: {errno}", .target.display())]
    Mount {
        /// What was being mounted: the source's path, or `tmpfs`.
        what: String,
        /// The target inside the container, as the spec gives it.
        target: PathBuf,
        /// The step that failed, e.g. `resolve the target`.
        action: String,
        /// The errno the kernel returned.
        errno: nix::Error,
    },
    /// A mount's target resolves to the container's root directory (it is a symbolic link to
    /// `/`, or to `..` enough times), and a mount there would hide the whole root filesystem.
    #[error("cannot mount {what} on {}: it resolves to the container's root directory", .target.display())]
    MountOverRoot {
        /// What was being mounted.
        what: String,
        /// The target, as the spec gives it.
        target: PathBuf,
    },
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
            Error::RootfsMissing(_)
            | Error::MountSourceMissing(_)
            | Error::CommandNotFound { .. } => ErrorKind::NotFound,
            Error::Mount { errno, .. } => mount_failure_kind(*errno),
            Error::RootfsNotDirectory(_)
            | Error::MountpointIsSymlink(_)
            | Error::MountOverRoot { .. }
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
            Error::MountSourceMissing(_) => Some(
                "a bind mount's source is a path on the host and must exist; create it first".into(),
            ),
            Error::Mount { errno, .. } => mount_failure_hint(*errno).map(Into::into),
            Error::MountOverRoot { .. } => Some(
                "the target is a symbolic link that leads to / in the rootfs; mount on a directory below /".into(),
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

/// What kind of failure a mount's errno is: the user's to fix (a missing or wrongly typed
/// path, a link into `/proc`), or the engine's.
fn mount_failure_kind(errno: nix::Error) -> ErrorKind {
    use nix::Error as E;
    match errno {
        E::ENOENT => ErrorKind::NotFound,
        E::ENOTDIR | E::EISDIR | E::ELOOP | E::EINVAL | E::EROFS | E::ENAMETOOLONG => {
            ErrorKind::InvalidInput
        }
        E::EPERM | E::EACCES => ErrorKind::Permission,
        _ => ErrorKind::Internal,
    }
}

/// What to do about a mount's errno, where the errno alone says it.
fn mount_failure_hint(errno: nix::Error) -> Option<&'static str> {
    use nix::Error as E;
    Some(match errno {
        E::ELOOP => {
            "the target, or a directory on the way to it, is a link into /proc; mount targets must be plain paths inside the container"
        }
        E::ENOTDIR | E::EISDIR => {
            "a directory mounts on a directory and a file on a file; the target, or a directory on the way to it, exists with the other type"
        }
        E::EROFS => {
            "the target is missing and the root filesystem is read-only there; create it in the image"
        }
        E::ENOENT => "the source must exist on the host until the container has started",
        E::EINVAL => "check the mount's options (tmpfs-size, tmpfs-mode)",
        _ => return None,
    })
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
