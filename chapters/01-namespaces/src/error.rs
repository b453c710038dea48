//! What can go wrong when starting a container, and the exit status each failure maps to.
//!
//! `docker run` reserves three statuses for its own failures so that a script can tell them from
//! the command's: 125 when the engine itself fails, 126 when the command cannot be executed, 127
//! when it does not exist. A command killed by signal N ends with 128 + N, as in a shell.

use std::path::PathBuf;

// ANCHOR: exit_codes
/// Exit statuses of `docker run` (docker-run(1), "Exit Status").
pub mod exit_code {
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

/// A failure of the engine or of the command's start. Each variant reads as one line naming the
/// cause; [`Error::hint`] adds what to do about it where that helps.
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
    /// A file operation failed; `action` says what the engine was doing.
    #[error("{action}: {source}")]
    Io {
        /// What the engine was attempting.
        action: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A setup or teardown step added by a later chapter failed.
    #[error("{step}: {message}")]
    Step {
        /// The step's name, e.g. `cgroup`.
        step: String,
        /// What went wrong, as the step reported it.
        message: String,
    },
    /// The container's process reported a failure before it could run the command.
    #[error("{0}")]
    ContainerSetup(String),
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

impl Error {
    /// The exit status `docker run` would use for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::CommandNotFound { .. } => exit_code::NOT_FOUND,
            Error::CannotExecute { .. } | Error::EngineBinary { .. } => exit_code::CANNOT_EXECUTE,
            _ => exit_code::ENGINE_FAILURE,
        }
    }

    /// What the user can do about it, where there is something useful to say.
    pub fn hint(&self) -> Option<String> {
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
            _ => None,
        }
    }

    /// A closure for `map_err` that names what the engine was attempting.
    pub(crate) fn sys(action: impl Into<String>) -> impl FnOnce(nix::Error) -> Error {
        let action = action.into();
        move |source| Error::Sys { action, source }
    }

    /// Like [`Error::sys`] for `std::io` errors.
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let action = action.into();
        move |source| Error::Io { action, source }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
