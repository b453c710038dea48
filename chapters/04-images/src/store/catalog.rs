//! The catalog, `images.json`: which images the store holds, and their names.
//!
//! An image's id is the digest of its config, as docker's is: the config names every layer
//! by its diff id, so the id covers the whole image, however its layers were compressed. The
//! catalog maps each id to the manifest the store keeps for it, and each name
//! (`docker.io/library/busybox:latest`) to an id. Changes are made under a lock, on a copy
//! that replaces the file in one rename (a change that changes nothing writes nothing).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::{ImageStore, sync_dir};
use crate::digest::Digest;
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// The content of `images.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Catalog {
    /// Every image, by id (its config's digest).
    pub images: BTreeMap<Digest, ImageEntry>,
    /// Names, fully qualified (`docker.io/library/busybox:latest`), to image ids.
    pub tags: BTreeMap<String, Digest>,
}

/// What the store keeps about one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageEntry {
    /// The digest of its manifest blob.
    pub manifest: Digest,
    /// Bytes of uncompressed layers, as `images` shows the size.
    pub size: u64,
    /// `name@digest` of the manifest in a registry it was pulled from (chapter 04, part two).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
}

impl Catalog {
    /// The names of an image, sorted.
    pub fn tags_of(&self, id: &Digest) -> Vec<&str> {
        self.tags
            .iter()
            .filter(|(_, image)| *image == id)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

impl ImageStore {
    /// Reads the catalog (an empty one if the store has none yet).
    pub fn catalog(&self) -> Result<Catalog> {
        let path = self.root().join("images.json");
        match fs::read(&path) {
            Ok(json) => serde_json::from_slice(&json).map_err(|e| Error::CorruptStore {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog::default()),
            Err(e) => Err(Error::io("read", &path)(e)),
        }
    }

    // ANCHOR: update_catalog
    /// Changes the catalog with `change`, under a lock so that two commands changing it at
    /// once both have their way, and replaces the file atomically.
    pub fn update_catalog<T>(&self, change: impl FnOnce(&mut Catalog) -> Result<T>) -> Result<T> {
        let lock_path = self.root().join("images.lock");
        let lock = File::create(&lock_path).map_err(Error::io("create", &lock_path))?;
        let _locked = Flock::lock(lock, FlockArg::LockExclusive)
            .map_err(|(_, errno)| Error::io("lock", &lock_path)(errno.into()))?;
        let mut catalog = self.catalog()?;
        let before = catalog.clone();
        let result = change(&mut catalog)?;
        // Nothing changed (a rebuild that names the same image again): the file stays as it
        // is, and the two flushes to disk, the slowest part of a cached build, are not made.
        if catalog == before {
            return Ok(result);
        }
        let path = self.root().join("images.json");
        let temp = self.temp_path("images.json");
        let mut json = serde_json::to_vec_pretty(&catalog).expect("a catalog always serializes");
        json.push(b'\n');
        File::create(&temp)
            .and_then(|mut file| {
                file.write_all(&json)?;
                file.sync_all()
            })
            .map_err(Error::io("write", &temp))?;
        fs::rename(&temp, &path).map_err(Error::io("replace", &path))?;
        sync_dir(self.root())?;
        Ok(result)
    }
    // ANCHOR_END: update_catalog
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn an_update_that_changes_nothing_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let id = Digest::sha256_of(b"config");
        let entry = ImageEntry {
            manifest: Digest::sha256_of(b"manifest"),
            size: 1,
            repo_digests: Vec::new(),
        };
        let tag = |catalog: &mut Catalog| {
            catalog.images.insert(id.clone(), entry.clone());
            catalog
                .tags
                .insert("docker.io/library/a:latest".into(), id.clone());
            Ok(())
        };
        store.update_catalog(tag).unwrap();
        let path = dir.path().join("images.json");
        let written = fs::metadata(&path).unwrap().ino();
        store.update_catalog(tag).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().ino(), written, "not replaced");
        store
            .update_catalog(|catalog| {
                catalog
                    .tags
                    .insert("docker.io/library/b:latest".into(), id.clone());
                Ok(())
            })
            .unwrap();
        assert_ne!(fs::metadata(&path).unwrap().ino(), written, "replaced");
        assert_eq!(store.catalog().unwrap().tags_of(&id).len(), 2);
    }
}
