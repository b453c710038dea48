//! This machine's side of a copy, as docker's client sees it: a source to copy in, or a
//! destination to copy out to. These paths are the user's own, on the user's own machine,
//! so they are looked up as any program looks up a path; only the container's side needs
//! descriptors and `RESOLVE_IN_ROOT`.

use std::fs::Metadata;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use dockyard_support::FromIo;

use super::error::Error as CopyError;
use super::path::{CpPath, absolute, link_target};
use super::rules::{Destination, Source};
use crate::error::{Error, Result};

/// How many symbolic links a destination may go through (docker's `maxSymlinkIter`).
const MAX_LINKS: usize = 10;

/// A file or directory to copy into a container.
#[derive(Debug)]
pub struct HostSource {
    /// Where it really is, links on the way resolved.
    pub path: PathBuf,
    /// What it is.
    pub metadata: Metadata,
    /// What the copy rules need to know of it.
    pub source: Source,
}

/// The source `path` of a copy in, as docker's `CopyInfoSourcePath` finds it: links before
/// its last element are followed; the last one too with `follow` (`-L`) or a trailing `/`.
/// Its copy takes the name the user wrote.
pub fn source(path: &CpPath, follow: bool) -> Result<HostSource> {
    let shown = path.absolute();
    let lstat = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => {
            CopyError::LocalNotFound(shown.display().to_string()).into()
        }
        _ => Error::io("lstat", &shown)(e),
    };
    let (real, metadata) = if follow || path.asserts_dir {
        let real = std::fs::canonicalize(&shown).map_err(lstat)?;
        let metadata = std::fs::metadata(&real).map_err(lstat)?;
        (real, metadata)
    } else {
        let parent = std::fs::canonicalize(absolute(path.parent())).map_err(lstat)?;
        let real = match path.base() {
            Some(base) => parent.join(base),
            None => parent,
        };
        let metadata = std::fs::symlink_metadata(&real).map_err(lstat)?;
        (real, metadata)
    };
    if path.asserts_dir && !metadata.is_dir() {
        return Err(lstat(std::io::Error::from_raw_os_error(libc::ENOTDIR)));
    }
    Ok(HostSource {
        path: real,
        source: Source {
            is_dir: metadata.is_dir(),
            contents: path.contents || path.parts.is_empty(),
            name: path.base().unwrap_or(".").to_owned(),
        },
        metadata,
    })
}

/// The destination `path` of a copy out, as docker's client checks it
/// (`ValidateOutputPath`) and reads it (`CopyInfoDestinationPath`): symbolic links at it
/// are followed, up to ten; a missing path is fine if the directory it would be in exists.
pub fn destination(path: &CpPath) -> Result<Destination> {
    validate_output(path)?;
    let mut parts = path.parts.clone();
    for _ in 0..=MAX_LINKS {
        let at = absolute(&parts);
        match std::fs::symlink_metadata(&at) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&at).map_err(Error::io("read the link", &at))?;
                let dir = &parts[..parts.len() - 1];
                parts = link_target(dir, &target.to_string_lossy());
            }
            Ok(metadata) => {
                return Ok(Destination {
                    parts,
                    exists: true,
                    is_dir: metadata.is_dir(),
                    asserts_dir: path.asserts_dir,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = absolute(&parts[..parts.len().saturating_sub(1)]);
                let metadata = std::fs::metadata(&parent).map_err(Error::io("stat", &parent))?;
                if !metadata.is_dir() {
                    return Err(Error::io("stat", &parent)(not_a_directory()));
                }
                return Ok(Destination {
                    parts,
                    exists: false,
                    is_dir: false,
                    asserts_dir: path.asserts_dir,
                });
            }
            Err(e) => return Err(Error::io("lstat", at)(e)),
        }
    }
    Err(Error::io("follow", path.absolute())(
        std::io::Error::from_raw_os_error(libc::ELOOP),
    ))
}

/// Docker's `ValidateOutputPath`: the directory the path is in must exist, and what is at
/// the path, if anything, must not be a device.
fn validate_output(path: &CpPath) -> Result<()> {
    let parent = absolute(path.parent());
    if !path.parts.is_empty() && !exists(&parent) {
        return Err(CopyError::OutputDirectoryMissing(parent.display().to_string()).into());
    }
    if let Ok(metadata) = std::fs::metadata(path.absolute()) {
        let kind = metadata.file_type();
        if kind.is_block_device() || kind.is_char_device() {
            return Err(CopyError::OutputIsDevice(path.absolute().display().to_string()).into());
        }
    }
    Ok(())
}

fn exists(path: &Path) -> bool {
    std::fs::metadata(path).is_ok()
}

fn not_a_directory() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::ENOTDIR)
}
