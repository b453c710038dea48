//! Why a download for `ADD <url>` failed, and why a URL source cannot be added.

use dockyard_support::{EngineError, ErrorKind, IoError};

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The request failed before an answer: no connection, a timeout, a TLS failure.
    #[error("ADD failed: failed to GET {url}: {cause}")]
    Request {
        /// The URL.
        url: String,
        /// ureq's description.
        cause: String,
    },
    /// The server answered with something else than `200`.
    #[error("ADD failed: failed to GET {url} with status {status}: {body}")]
    Status {
        /// The URL.
        url: String,
        /// `404 Not Found`.
        status: String,
        /// The start of the answer's body, on one line.
        body: String,
    },
    /// The body could not be read to its end.
    #[error("ADD failed: failed to read {url}: {cause}")]
    Body {
        /// The URL.
        url: String,
        /// What went wrong.
        cause: String,
    },
    /// The temporary file could not be written.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl EngineError for DownloadError {
    fn kind(&self) -> ErrorKind {
        match self {
            DownloadError::Status { status, .. } if status.starts_with("404") => {
                ErrorKind::NotFound
            }
            DownloadError::Io(io) => io.kind(),
            _ => ErrorKind::Unavailable,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            DownloadError::Io(_) => None,
            DownloadError::Status { .. } => Some("check the URL in the Dockerfile".into()),
            _ => Some("check that the server answers from this machine (proxy, firewall)".into()),
        }
    }
}

/// Why a URL source cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// The download's digest is not `--checksum`'s.
    #[error(
        "ADD failed: digest mismatch for {url}: downloaded {actual}, --checksum says {expected}"
    )]
    ChecksumMismatch {
        /// The URL.
        url: String,
        /// `sha256:<hex>` of what arrived.
        actual: String,
        /// `--checksum`'s.
        expected: String,
    },
    /// `--checksum` that is not `sha256:` and 64 hex digits.
    #[error("invalid checksum {0:?}: expected sha256:<64 hex digits>")]
    BadChecksum(String),
    /// `--checksum` on a source that is no URL (BuildKit's message).
    #[error("checksum can't be specified for non-HTTP(S) sources")]
    ChecksumWithoutUrl,
    /// `--checksum` with several sources (BuildKit's message).
    #[error("checksum can't be specified for multiple sources")]
    ChecksumMultipleSources,
    /// A URL whose path names no file, into a directory (docker's message).
    #[error("ADD failed: cannot determine filename for source {0}")]
    NoFileName(String),
    /// The download failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The downloaded file's time could not be set.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl EngineError for UrlError {
    fn kind(&self) -> ErrorKind {
        match self {
            UrlError::Download(inner) => inner.kind(),
            UrlError::Io(inner) => inner.kind(),
            _ => ErrorKind::InvalidInput,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            UrlError::ChecksumMismatch { .. } => {
                "the file at the URL changed: check it, then update --checksum".into()
            }
            UrlError::BadChecksum(_) => "write --checksum=sha256:<the file's sha256sum>".into(),
            UrlError::ChecksumWithoutUrl | UrlError::ChecksumMultipleSources => {
                "use --checksum with one http(s) source".into()
            }
            UrlError::NoFileName(_) => {
                "name the file in the destination (ADD URL /dir/name), or use a URL ending with its name".into()
            }
            UrlError::Download(inner) => return inner.hint(),
            UrlError::Io(_) => return None,
        })
    }
}
