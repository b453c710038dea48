//! The image store: content-addressed blobs, unpacked layers shared by every image that uses
//! them, and the names of images. It lives beside chapter 03's containers, under `--root`:
//!
//! ```text
//! <root>/
//!   blobs/sha256/<hex>        manifests, configs and layer archives, named by their digest
//!   layers/<chain-id hex>/    one unpacked layer, an overlay lower directory
//!   images.json               the catalog: image ids -> manifests; names -> image ids
//!   tmp/                      partial blobs and layers: a crash leaves them here, never
//!                             under a final name, and the next open sweeps them away
//!   containers/ names/ l/     chapter 03's containers
//! ```
//!
//! Every write lands under its final name by one `rename`, after its content was checked and
//! flushed to disk, so a crash at any instant leaves a store that the next command can use.

pub mod blobs;
pub mod catalog;
pub mod layers;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dockyard_support::FromIo;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

pub use blobs::BlobWriter;
pub use catalog::{Catalog, ImageEntry};
pub use layers::chain_ids;

/// The `--root` directory, with chapter 03's container store inside.
#[derive(Debug, Clone)]
pub struct ImageStore {
    containers: ch03_union_fs::Store,
    root: PathBuf,
}

impl ImageStore {
    /// Opens (creating if needed) the store at `root`, and sweeps away what an interrupted
    /// command of an earlier process left in `tmp/`.
    pub fn open(root: impl Into<PathBuf>) -> Result<ImageStore> {
        let containers = ch03_union_fs::Store::open(root.into())?;
        let root = containers.root().to_path_buf();
        for dir in ["blobs/sha256", "layers", "tmp"] {
            let path = root.join(dir);
            fs::create_dir_all(&path).map_err(Error::io("create the image store", &path))?;
        }
        layers::spread_layers_out(&root.join("tmp"));
        let store = ImageStore { containers, root };
        store.sweep_tmp()?;
        Ok(store)
    }

    /// Chapter 03's containers.
    pub fn containers(&self) -> &ch03_union_fs::Store {
        &self.containers
    }

    /// The `--root` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh path in `tmp/` for something being written: it carries this process's id, so
    /// a later sweep can tell it from the work of a process still running.
    pub fn temp_path(&self, what: &str) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{}-{n}-{what}", std::process::id()))
    }

    /// Removes what processes that are gone left in `tmp/`.
    fn sweep_tmp(&self) -> Result<()> {
        let tmp = self.root.join("tmp");
        for entry in fs::read_dir(&tmp).map_err(Error::io("list", &tmp))? {
            let entry = entry.map_err(Error::io("list", &tmp))?;
            let name = entry.file_name();
            let owner = name
                .to_str()
                .and_then(|n| n.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok());
            if owner.is_some_and(dockyard_support::process::alive) {
                continue;
            }
            let path = entry.path();
            let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove the leftover", &path)(e)),
            }
        }
        Ok(())
    }
}

/// Who may change what is under final names at the same time: commands adding an image
/// (any number at once) or the collector of unused blobs and layers (alone), so that it never
/// deletes what an image being added has stored but not yet named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Adding blobs, layers and names: shared with other adders.
    Add,
    /// Collecting garbage: alone.
    Collect,
}

impl ImageStore {
    /// Takes the store's lock for `access`; it is held until the guard is dropped.
    pub fn lock(&self, access: Access) -> Result<Flock<fs::File>> {
        let path = self.root.join("gc.lock");
        let file = fs::File::create(&path).map_err(Error::io("create", &path))?;
        let arg = match access {
            Access::Add => FlockArg::LockShared,
            Access::Collect => FlockArg::LockExclusive,
        };
        Flock::lock(file, arg).map_err(|(_, errno)| Error::io("lock", &path)(errno.into()))
    }
}

/// Flushes a directory's entries to disk, so a rename into it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("flush the directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_waits_for_images_being_added() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let adding = store.lock(Access::Add).unwrap();
        let also_adding = store.lock(Access::Add).unwrap();
        let try_collect = || {
            let file = fs::File::create(store.root().join("gc.lock")).unwrap();
            Flock::lock(file, FlockArg::LockExclusiveNonblock).is_ok()
        };
        assert!(!try_collect(), "adders share the lock; the collector waits");
        drop((adding, also_adding));
        assert!(try_collect(), "and goes once they are done");
    }
}
