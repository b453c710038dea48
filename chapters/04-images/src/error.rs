//! What can go wrong with images, the image store and registries, and what kind of failure
//! each cause is.

use std::path::PathBuf;

use dockyard_support::error::StartFailure;
use dockyard_support::{EngineError, ErrorKind, IoError};

use crate::digest::{Digest, InvalidDigest};
use crate::oci::InvalidDocument;

/// A chapter 04 failure, one line naming the cause; [`EngineError::hint`] says what to do
/// about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option or argument that cannot work.
    #[error("{0}")]
    Invalid(String),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// An image reference that cannot be parsed.
    #[error("invalid reference format {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No image by that name or id.
    #[error("no such image: {0}")]
    NoSuchImage(String),
    /// An image id prefix that matches more than one image.
    #[error("{0:?} matches more than one image")]
    AmbiguousImage(String),
    /// An image document (manifest, index, config, layout) that is not valid.
    #[error(transparent)]
    Document(#[from] InvalidDocument),
    /// A malformed digest.
    #[error(transparent)]
    Digest(#[from] InvalidDigest),
    /// Content whose hash is not the digest it was named by.
    #[error("{what} has digest {actual}, expected {expected}")]
    DigestMismatch {
        /// What was checked, e.g. `layer 2 of busybox:latest`.
        what: String,
        /// The digest it was named by.
        expected: Digest,
        /// The digest of its bytes.
        actual: Digest,
    },
    /// A layer blob whose bytes are not the digest its manifest names (docker: "filesystem
    /// layer verification failed").
    #[error("layer {expected} from {from} does not match its digest (got {actual})")]
    LayerDigestMismatch {
        /// The digest the manifest names.
        expected: Digest,
        /// Where it was read from: a registry's repository, an archive.
        from: String,
        /// The digest of its bytes.
        actual: Digest,
    },
    /// Content whose size is not the size it was declared with.
    #[error("{what} is {actual} bytes, expected {expected}")]
    SizeMismatch {
        /// What was checked.
        what: String,
        /// The declared size.
        expected: u64,
        /// The size read.
        actual: u64,
    },
    /// An archive or layout that lacks a file it names.
    #[error("{archive}: missing {entry}")]
    Missing {
        /// The archive or directory.
        archive: String,
        /// The entry it lacks.
        entry: String,
    },
    /// An archive that is neither of the formats `load` reads.
    #[error("{0}: not an image archive (no manifest.json, no oci-layout)")]
    UnknownFormat(String),
    /// A layer compressed or typed in a way this engine does not read.
    #[error("unsupported layer media type {0:?}")]
    UnsupportedLayer(String),
    /// No manifest in an index for the platform wanted.
    #[error("no image for platform {wanted} (the index has: {available})")]
    NoMatchingPlatform {
        /// The platform wanted, e.g. `linux/amd64`.
        wanted: String,
        /// The platforms the index lists.
        available: String,
    },
    /// `rmi` of an image that containers use.
    #[error(
        "unable to remove {reference} ({}): container {container} is using its image {image}",
        if *.running { "cannot be forced: it is running" } else { "must force" }
    )]
    ImageInUse {
        /// The reference given.
        reference: String,
        /// A container using it.
        container: String,
        /// The image's short id.
        image: String,
        /// Whether that container is running (then not even `-f` removes the image).
        running: bool,
    },
    /// `rmi` by id of an image that has several names.
    #[error("unable to delete {image} (must be forced): the image has {names} names")]
    ImageHasNames {
        /// The image's short id.
        image: String,
        /// How many names it has.
        names: usize,
    },
    /// The image's config gives nothing to run, and neither does the command line.
    #[error("no command specified")]
    NoCommand,
    /// Saved store state that cannot be parsed.
    #[error("corrupt image store {}: {message}", path.display())]
    CorruptStore {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A registry that cannot be reached, or whose connection kept failing.
    #[error("cannot reach the registry {registry}: {cause}")]
    Unreachable {
        /// The registry.
        registry: String,
        /// What failed.
        cause: String,
    },
    /// A registry that refused the credentials, or asks for some.
    #[error("{registry}: unauthorized: {message}")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// What it said.
        message: String,
    },
    /// A registry that has no such tag or digest.
    #[error("manifest for {repository}:{tag} not found: manifest unknown")]
    ManifestUnknown {
        /// The registry and repository.
        repository: String,
        /// The tag or digest asked for.
        tag: String,
    },
    /// A registry that answered what it should not have.
    #[error("{0}")]
    Registry(String),
    /// The layers part (chapter 03) failed.
    #[error(transparent)]
    Layers(#[from] ch03_union_fs::Error),
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchImage(_) | Error::ManifestUnknown { .. } => ErrorKind::NotFound,
            // Several images match a prefix: the request names no single one.
            Error::AmbiguousImage(_) | Error::ImageInUse { .. } | Error::ImageHasNames { .. } => {
                ErrorKind::Conflict
            }
            Error::Invalid(_)
            | Error::InvalidReference { .. }
            | Error::Document(_)
            | Error::Digest(_)
            | Error::DigestMismatch { .. }
            | Error::LayerDigestMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::Missing { .. }
            | Error::UnknownFormat(_)
            | Error::UnsupportedLayer(_)
            | Error::NoMatchingPlatform { .. }
            | Error::NoCommand => ErrorKind::InvalidInput,
            Error::Unauthorized { .. } => ErrorKind::Permission,
            Error::Unreachable { .. } | Error::Registry(_) => ErrorKind::Unavailable,
            Error::CorruptStore { .. } => ErrorKind::Internal,
            Error::Io(io) => io.kind(),
            Error::Layers(inner) => inner.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoSuchImage(_) => {
                Some("list images with: images; load one with: load -i FILE".into())
            }
            Error::ImageInUse { running: false, .. } => {
                Some("remove the container first (rm), or force with rmi -f".into())
            }
            Error::ImageInUse { running: true, .. } => {
                Some("stop the container first; its image stays while it runs".into())
            }
            Error::ImageHasNames { .. } => {
                Some("remove it by name (rmi NAME), or force with rmi -f".into())
            }
            Error::InvalidReference { .. } => {
                Some("references look like NAME[:TAG] or NAME@sha256:DIGEST, lowercase".into())
            }
            Error::DigestMismatch { .. }
            | Error::LayerDigestMismatch { .. }
            | Error::SizeMismatch { .. } => {
                Some("the content was damaged or changed, in the archive or the registry; nothing of it was stored".into())
            }
            Error::NoCommand => Some("give one after the image, or --entrypoint".into()),
            Error::ManifestUnknown { .. } => {
                Some("check the name and the tag; the registry lists none by that name".into())
            }
            Error::Unreachable { .. } => Some(
                "is the registry running, and its name right? the store is as it was; pull again to finish".into(),
            ),
            Error::Unauthorized { registry, .. } => Some(format!("log in with: login {registry}")),
            Error::UnknownFormat(_) => Some(
                "load reads `docker save` archives and OCI image layouts (a directory or a tar)"
                    .into(),
            ),
            Error::Layers(inner) => inner.hint(),
            _ => None,
        }
    }

    fn start_failure(&self) -> Option<StartFailure> {
        match self {
            Error::Layers(inner) => inner.start_failure(),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ch01_namespaces::Error> for Error {
    fn from(error: ch01_namespaces::Error) -> Error {
        Error::Layers(error.into())
    }
}

impl From<ch02_cgroups::Error> for Error {
    fn from(error: ch02_cgroups::Error) -> Error {
        Error::Layers(error.into())
    }
}
