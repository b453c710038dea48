//! `volume prune`: removing the volumes no container uses. Since docker 23 it removes only
//! anonymous volumes unless asked for all (`--all`): a named volume is usually data someone
//! meant to keep, an anonymous one a leftover of a container removed without `-v`.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use dockyard_support::FromIo;

use super::error::{Error, Result};
use super::store::Volumes;
use super::usage;

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// The volumes removed, in listing order.
    pub volumes: Vec<String>,
    /// The bytes their files held.
    pub reclaimed: u64,
}

impl Volumes {
    /// Removes the unused volumes: anonymous ones, or all of them with `all`.
    pub fn prune(&self, all: bool) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        for volume in self.list()? {
            if !(all || volume.metadata.anonymous) {
                continue;
            }
            let Some(lock) = self.lock(&volume.name)? else {
                continue; // removed meanwhile
            };
            // Checked under the lock: a container created since the listing counts.
            if !usage::users_of(self.containers(), &volume.name)?.is_empty() {
                continue;
            }
            let size = disk_usage(&volume.mountpoint)?;
            self.discard(&volume.name, lock)?;
            pruned.volumes.push(volume.name);
            pruned.reclaimed += size;
        }
        Ok(pruned)
    }
}

/// The bytes the files under `dir` hold, each hard-linked file once (what deleting them frees,
/// as docker counts it: apparent sizes, directories not counted).
pub fn disk_usage(dir: &Path) -> Result<u64> {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("list", &dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let meta = entry
                .metadata()
                .map_err(Error::io("inspect", entry.path()))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else if seen.insert((meta.dev(), meta.ino())) {
                total += meta.size();
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::CreateOptions;

    #[test]
    fn usage_counts_files_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/a"), [0u8; 1000]).unwrap();
        fs::hard_link(dir.path().join("sub/a"), dir.path().join("b")).unwrap();
        fs::write(dir.path().join("c"), "12345").unwrap();
        assert_eq!(disk_usage(dir.path()).unwrap(), 1005);
    }

    #[test]
    fn prune_takes_anonymous_volumes_unless_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = ch03_union_fs::Store::open(dir.path()).unwrap();
        let volumes = Volumes::open(&store).unwrap();
        let anonymous = CreateOptions {
            anonymous: true,
            ..CreateOptions::default()
        };
        let (leftover, _) = volumes.create(None, &anonymous).unwrap();
        fs::write(leftover.mountpoint.join("f"), "abc").unwrap();
        volumes
            .create(Some("kept"), &CreateOptions::default())
            .unwrap();
        let pruned = volumes.prune(false).unwrap();
        assert_eq!(pruned.volumes, [leftover.name]);
        assert_eq!(pruned.reclaimed, 3);
        assert_eq!(volumes.prune(true).unwrap().volumes, ["kept"]);
        assert!(volumes.list().unwrap().is_empty());
    }
}
