//! What `cp` refuses, in docker's words: the messages are those of moby's daemon
//! (`Could not find the file /x in container y`) and of its archive package (`cannot copy
//! directory`), so that a script written against `docker cp` reads the same lines here.

use dockyard_support::{EngineError, ErrorKind};

/// A copy that cannot be made as asked, one line naming the cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The container path does not exist (or a directory on the way is not one).
    #[error("Could not find the file {path} in container {container}")]
    NotFound {
        /// The path, as the user wrote it.
        path: String,
        /// The container, as the user named it.
        container: String,
    },
    /// The source on this machine does not exist.
    #[error("lstat {0}: no such file or directory")]
    LocalNotFound(String),
    /// The source ends with `/` or `/.` but is not a directory.
    #[error("lstat {path}: not a directory")]
    SourceNotDirectory {
        /// The path, as the user wrote it.
        path: String,
    },
    /// A directory cannot replace a file that is already there.
    #[error("cannot copy directory")]
    CannotCopyDirectory,
    /// The destination ends with `/` (it names a directory) but does not exist, and the source
    /// is a file: docker creates no directory for it.
    #[error("no such directory")]
    NoSuchDirectory,
    /// The directory the copy goes into is something else.
    #[error("extraction point is not a directory")]
    ExtractionPointNotDirectory,
    /// A tar read from stdin is unpacked into a directory, and the destination is not one.
    #[error("destination \"{container}:{path}\" must be a directory")]
    DestinationNotDirectory {
        /// The container, as the user named it.
        container: String,
        /// The path, as the user wrote it.
        path: String,
    },
    /// The destination in the container is a device.
    #[error(
        "destination \"{container}:{path}\" must be a directory or a regular file: got a device"
    )]
    DestinationIsDevice {
        /// The container, as the user named it.
        container: String,
        /// The path, as the user wrote it.
        path: String,
    },
    /// The directory a copy out would go into does not exist on this machine.
    #[error("invalid output path: directory \"{0}\" does not exist")]
    OutputDirectoryMissing(String),
    /// The destination on this machine is a device.
    #[error("invalid output path: \"{0}\" must be a directory or a regular file: got a device")]
    OutputIsDevice(String),
    /// A file of the copy would replace a directory that is there.
    #[error("cannot overwrite directory \"{entry}\" with non-directory \"{into}\"")]
    WouldReplaceDirectory {
        /// The entry, relative to the directory unpacked into.
        entry: String,
        /// The directory unpacked into.
        into: String,
    },
    /// A directory of the copy would replace a file that is there.
    #[error("cannot overwrite non-directory \"{entry}\" with directory \"{into}\"")]
    WouldReplaceFile {
        /// The entry, relative to the directory unpacked into.
        entry: String,
        /// The directory unpacked into.
        into: String,
    },
    /// The copy would write on a volume mounted read-only.
    #[error("mounted volume is marked read-only")]
    ReadOnlyVolume,
    /// The copy would write on a container root filesystem that is read-only.
    #[error("container rootfs is marked read-only")]
    ReadOnlyRootfs,
    /// The container is between two runs, restarting: neither running nor left alone.
    #[error("container {0} is restarting")]
    Restarting(String),
}

impl EngineError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. }
            | Error::LocalNotFound(_)
            | Error::NoSuchDirectory
            | Error::OutputDirectoryMissing(_) => ErrorKind::NotFound,
            _ => ErrorKind::Conflict,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Error::NotFound { .. } => {
                "a container path is read from the container's root, with its own links"
            }
            Error::LocalNotFound(_) => "a path on this machine is read from the working directory",
            Error::SourceNotDirectory { .. } => "drop the trailing `/` to copy a file",
            Error::CannotCopyDirectory => "give a directory, or a path that does not exist yet",
            Error::NoSuchDirectory => "create the directory first, or drop the trailing `/`",
            Error::ExtractionPointNotDirectory | Error::DestinationNotDirectory { .. } => {
                "give the directory to copy into"
            }
            Error::DestinationIsDevice { .. } | Error::OutputIsDevice(_) => {
                "copy to a directory, or to a file's path"
            }
            Error::OutputDirectoryMissing(_) => "create it first: cp creates no parent directory",
            Error::WouldReplaceDirectory { .. } | Error::WouldReplaceFile { .. } => {
                "remove what is in the way first, or copy somewhere else"
            }
            Error::ReadOnlyVolume | Error::ReadOnlyRootfs => "copy to a writable path",
            Error::Restarting(_) => "wait until it runs, or stop it, and copy again",
        };
        Some(hint.to_owned())
    }
}
