//! What can go wrong with networks, and what kind of failure each cause is. The messages are
//! docker's where docker has one (`network with name X already exists`, `network X not found`,
//! `Bind for 0.0.0.0:8080 failed: port is already allocated`), so a script written against
//! docker reads the same lines here.

use std::path::PathBuf;

use dockyard_support::{EngineError, ErrorKind, IoError};

/// A network failure, one line naming the cause; [`EngineError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No network has this name or id.
    #[error("network {0} not found")]
    NotFound(String),
    /// A network of this name exists already.
    #[error("network with name {0} already exists")]
    Exists(String),
    /// Running containers are attached, so the network cannot be removed.
    #[error("error while removing network: network {name} id {id} has active endpoints")]
    InUse {
        /// The network's name.
        name: String,
        /// Its id.
        id: String,
        /// The containers attached.
        containers: Vec<String>,
    },
    /// A request that cannot work as given: a name, a subnet, an address, a port.
    #[error("{message}")]
    Invalid {
        /// What is wrong, in docker's words where docker has some.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// Something else holds what the request needs: an address, a port, a subnet.
    #[error("{message}")]
    Conflict {
        /// What is in the way.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// A netlink request the kernel refused.
    #[error("netlink: {operation}: {source}")]
    Netlink {
        /// What was asked, e.g. `create bridge dy-0123456789ab`.
        operation: String,
        /// The kernel's answer.
        source: std::io::Error,
    },
    /// `nft` refused the engine's rules.
    #[error("nftables: {operation}: {message}")]
    Firewall {
        /// What the rules were for.
        operation: String,
        /// What `nft` said.
        message: String,
    },
    /// A network's file in the store that cannot be read as one.
    #[error("corrupt network file {}: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file operation or a system call failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Chapter 01 failed (a random id).
    #[error(transparent)]
    Process(#[from] ch01_namespaces::Error),
}

impl Error {
    /// A request that cannot work, with docker's message and a hint.
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A conflict with what exists, with a hint.
    pub fn conflict(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A failed netlink request, for `map_err`.
    pub fn netlink(operation: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let operation = operation.into();
        move |source| Error::Netlink { operation, source }
    }
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Exists(_) | Error::InUse { .. } | Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Invalid { .. } => ErrorKind::InvalidInput,
            Error::Netlink { .. } | Error::Firewall { .. } | Error::Corrupt { .. } => {
                ErrorKind::Internal
            }
            Error::Io(io) => io.kind(),
            Error::Process(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NotFound(_) => Some("list networks with `network ls`".to_owned()),
            Error::Exists(_) => Some("choose another name, or remove it with `network rm`".into()),
            Error::InUse { containers, .. } => Some(format!(
                "stop or disconnect its containers first: {}",
                containers.join(", ")
            )),
            Error::Invalid { hint, .. } | Error::Conflict { hint, .. } => Some(hint.clone()),
            Error::Netlink { .. } => {
                Some("the engine needs root (CAP_NET_ADMIN); see `ip link` for what exists".into())
            }
            Error::Firewall { .. } => {
                Some("check that `nft` is installed and works as root".into())
            }
            Error::Corrupt { .. } => Some("remove the network with `network rm`".into()),
            Error::Io(_) => None,
            Error::Process(inner) => inner.hint(),
        }
    }
}

/// A network operation's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
