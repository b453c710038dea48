//! What can go wrong with cgroups.

use std::path::PathBuf;

/// A cgroup failure, one line naming the cause; [`Error::hint`] says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A limit or option that cannot work.
    #[error("{0}")]
    Invalid(String),
    /// No cgroup filesystem where one is expected.
    #[error("no cgroup filesystem found at {}", .0.display())]
    NoCgroupFs(PathBuf),
    /// A controller the limits need is not available.
    #[error("cgroup {version} controller {controller:?} is not available")]
    MissingController {
        /// `v1` or `v2`.
        version: &'static str,
        /// The controller, e.g. `memory`.
        controller: &'static str,
    },
    /// A file operation on the cgroup filesystem failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being attempted, e.g. `write`.
        action: &'static str,
        /// The cgroup file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The container part (chapter 01) failed.
    #[error(transparent)]
    Container(#[from] ch01_namespaces::Error),
}

impl Error {
    /// The exit status `docker run` would use.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Container(inner) => inner.exit_code(),
            _ => ch01_namespaces::exit_code::ENGINE_FAILURE,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
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
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl ch01_namespaces::cli::Reportable for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
    fn hint(&self) -> Option<String> {
        Error::hint(self)
    }
}
