//! Where `load` reads an image from: a directory (an OCI layout), or a tar archive of one (a
//! `docker save` archive, an `oci-archive`), read in place.
//!
//! A tar has no table of contents, and `docker save` puts `manifest.json` at the end. Rather
//! than unpacking the archive to find it, [`TarSource`] reads the tar's headers once, noting
//! where each file's bytes start; a file is then read straight from the archive at that offset,
//! and several layers can be read at once, each through its own file handle.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// Files by their path inside an image archive or layout.
pub trait Source: Send + Sync {
    /// What to call it in messages.
    fn describe(&self) -> String;

    /// The size of the file at `path`, or `None` if there is none.
    fn size(&self, path: &str) -> Option<u64>;

    /// A reader of the file at `path`.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send>>;

    /// The whole file at `path`, which must be at most `limit` bytes (documents are small; a
    /// hostile archive must not make the engine read gigabytes into memory).
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        let size = self.size(path).ok_or_else(|| self.missing(path))?;
        if size > limit {
            return Err(Error::Invalid(format!(
                "{}: {path} is {size} bytes, more than the {limit} a document may have",
                self.describe()
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        self.open(path)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Invalid(format!("{}: read {path}: {e}", self.describe())))?;
        Ok(bytes)
    }

    /// The error for a file that is not there.
    fn missing(&self, path: &str) -> Error {
        Error::Missing {
            archive: self.describe(),
            entry: path.to_string(),
        }
    }
}

/// Opens `path` as a directory source or a tar source, whichever it is.
pub fn open(path: &Path) -> Result<Box<dyn Source>> {
    let meta = std::fs::metadata(path).map_err(Error::io("open", path))?;
    if meta.is_dir() {
        Ok(Box::new(DirSource {
            dir: path.to_path_buf(),
        }))
    } else {
        Ok(Box::new(TarSource::index(path)?))
    }
}

/// A path inside the source, made relative and checked: no `..`, nothing absolute.
fn clean(path: &str) -> Option<PathBuf> {
    let mut clean = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!clean.as_os_str().is_empty()).then_some(clean)
}

/// An image layout in a directory.
#[derive(Debug)]
pub struct DirSource {
    dir: PathBuf,
}

impl DirSource {
    /// The file `path` names, if it is a plain relative path to a regular file. A symbolic
    /// link is not followed: a layout's files are regular files, and a link could lead out.
    fn file(&self, path: &str) -> Option<PathBuf> {
        let full = self.dir.join(clean(path)?);
        let meta = std::fs::symlink_metadata(&full).ok()?;
        meta.is_file().then_some(full)
    }
}

impl Source for DirSource {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.file(path)
            .and_then(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send>> {
        let file = self.file(path).ok_or_else(|| self.missing(path))?;
        Ok(Box::new(
            File::open(&file).map_err(Error::io("open", &file))?,
        ))
    }
}

/// A tar archive, read in place.
#[derive(Debug)]
pub struct TarSource {
    archive: PathBuf,
    /// Each regular file's data offset and size, by cleaned path.
    files: HashMap<PathBuf, (u64, u64)>,
}

impl TarSource {
    // ANCHOR: tar_index
    /// Reads the archive's headers (not its files' contents) to find where each file is.
    /// Symbolic and hard links to files in the archive (older `docker save` links a layer
    /// that two images share) are resolved to their targets' bytes.
    pub fn index(archive: &Path) -> Result<TarSource> {
        let corrupt = |e: std::io::Error| {
            Error::Invalid(format!(
                "{}: not a readable tar archive: {e}",
                archive.display()
            ))
        };
        let file = File::open(archive).map_err(Error::io("open", archive))?;
        let mut tar = tar::Archive::new(file);
        let mut files = HashMap::new();
        let mut links = Vec::new();
        for entry in tar.entries_with_seek().map_err(corrupt)? {
            let entry = entry.map_err(corrupt)?;
            let path = entry.path().map_err(corrupt)?;
            let Some(path) = clean(&path.to_string_lossy()) else {
                continue; // a name that climbs out of the archive cannot be one we look up
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    files.insert(path, (entry.raw_file_position(), entry.size()));
                }
                kind @ (tar::EntryType::Symlink | tar::EntryType::Link) => {
                    if let Some(target) = entry.link_name().map_err(corrupt)? {
                        let target = if kind == tar::EntryType::Symlink {
                            path.parent().unwrap_or(Path::new("")).join(target)
                        } else {
                            target.into_owned()
                        };
                        links.push((path, target));
                    }
                }
                _ => {}
            }
        }
        for (link, target) in links {
            let resolved = clean(&target.to_string_lossy()).and_then(|t| files.get(&t).copied());
            if let Some(location) = resolved {
                files.insert(link, location);
            }
        }
        Ok(TarSource {
            archive: archive.to_path_buf(),
            files,
        })
    }
    // ANCHOR_END: tar_index

    fn location(&self, path: &str) -> Option<(u64, u64)> {
        self.files.get(&clean(path)?).copied()
    }
}

impl Source for TarSource {
    fn describe(&self) -> String {
        self.archive.display().to_string()
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.location(path).map(|(_, size)| size)
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send>> {
        let (offset, size) = self.location(path).ok_or_else(|| self.missing(path))?;
        let mut file = File::open(&self.archive).map_err(Error::io("open", &self.archive))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(Error::io("read", &self.archive))?;
        Ok(Box::new(file.take(size)))
    }
}

#[cfg(test)]
mod tests {
    use super::clean;
    use std::path::PathBuf;

    #[test]
    fn paths_stay_inside() {
        assert_eq!(
            clean("./blobs/sha256/ab"),
            Some(PathBuf::from("blobs/sha256/ab"))
        );
        assert_eq!(clean("../x"), None);
        assert_eq!(clean("/etc/passwd"), None);
        assert_eq!(clean("a/../../b"), None);
        assert_eq!(clean("."), None);
    }
}
