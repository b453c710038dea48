//! The volumes on disk, one directory per volume beside the containers:
//!
//! ```text
//! <root>/volumes/
//!   <name>/volume.json         when it was made, its labels, options, whether it is anonymous
//!   <name>/_data/              what containers see: bound on the volume's target
//!   .creating-<pid>-<n>/       a volume being made, renamed to <name> once whole
//!   .removing-<pid>-<n>/       a volume being deleted, renamed away from <name> first
//!   .filling-<pid>-<n>/        an image's files being copied, before they move into _data
//! ```
//!
//! **A volume appears whole or not at all.** It is built under a temporary name, its metadata
//! written and flushed, then renamed to its name with `renameat2(RENAME_NOREPLACE)`: one system
//! call that either gives the complete directory its name or fails because the name is taken.
//! That failure is how two commands creating the same volume at once agree: the first rename
//! wins, the other one drops its copy and returns the winner's volume, as docker's `volume
//! create` of an existing name succeeds. Removal is the same move backwards: the directory is
//! renamed away (the volume is gone at that instant), then deleted at leisure.
//!
//! **Changes to an existing volume are serialized** by `flock(2)` on its directory: removal
//! (which first checks that no container uses it) and filling it with an image's files. A
//! lock taken on a directory that was meanwhile renamed away is detected (its inode is no
//! longer the one under the name) and taken again.
//!
//! Temporary names start with a dot, which no volume name can, and carry the process id: what
//! an interrupted command left is swept away by the next one once that process is gone.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dockyard_support::FromIo;
use dockyard_support::clock::now_ns;
use nix::fcntl::{Flock, FlockArg};
use rustix::fs::{CWD, RenameFlags};
use rustix::io::Errno;

use super::driver;
use super::error::{Error, Result};
use super::name;
use super::record::{DATA, LOCAL_DRIVER, METADATA, Metadata, Volume};
use super::usage;

/// How `volume create` (or a container's first use) makes a volume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// `-d`: only `local` exists (the default).
    pub driver: Option<String>,
    /// `--label K=V`.
    pub labels: BTreeMap<String, String>,
    /// `-o K=V`: `type`, `device` and `o`, as `mount -t TYPE -o O DEVICE`.
    pub options: BTreeMap<String, String>,
    /// Made for a container alone.
    pub anonymous: bool,
}

/// The volumes of a `--root`, beside its containers.
#[derive(Debug, Clone)]
pub struct Volumes {
    dir: PathBuf,
    containers: ch03_union_fs::Store,
}

impl Volumes {
    /// The volumes of the store whose containers are `containers` (same `--root`); creates
    /// the directory if needed and sweeps away what interrupted commands left.
    pub fn open(containers: &ch03_union_fs::Store) -> Result<Volumes> {
        let dir = containers.root().join("volumes");
        fs::create_dir_all(&dir).map_err(Error::io("create the volumes directory", &dir))?;
        let volumes = Volumes {
            dir,
            containers: containers.clone(),
        };
        volumes.sweep()?;
        Ok(volumes)
    }

    /// `<root>/volumes`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The containers of the same store.
    pub fn containers(&self) -> &ch03_union_fs::Store {
        &self.containers
    }

    /// Creates the volume `name` (a random name when `None`), or returns it as it is if it
    /// exists; the flag says whether this call made it.
    pub fn create(&self, name: Option<&str>, options: &CreateOptions) -> Result<(Volume, bool)> {
        let name = match name {
            Some(name) => {
                name::validate(name)?;
                name.to_owned()
            }
            None => name::random()?,
        };
        match options.driver.as_deref() {
            None | Some(LOCAL_DRIVER) => {}
            Some(other) => {
                return Err(Error::invalid(
                    format!(
                        "create {name}: error looking up volume plugin {other}: plugin \"{other}\" not found"
                    ),
                    "only the local driver exists here: -d local",
                ));
            }
        }
        loop {
            // As docker's: an existing volume is returned as it is, whatever the options say.
            if let Some(volume) = self.read(&name)? {
                return Ok((volume, false));
            }
            driver::validate_options(&name, &options.options)?;
            let metadata = Metadata {
                created_ns: now_ns(),
                driver: LOCAL_DRIVER.to_owned(),
                labels: options.labels.clone(),
                options: options.options.clone(),
                anonymous: options.anonymous,
            };
            if self.publish(&name, &metadata)? {
                return Ok((self.volume(&name, metadata), true));
            }
            // Another command made it first: the loop returns theirs (or, if it was removed
            // in between, tries again).
        }
    }

    /// Builds the volume under a temporary name and renames it to `name`; `false` if the
    /// name was taken meanwhile.
    fn publish(&self, name: &str, metadata: &Metadata) -> Result<bool> {
        let temp = self.temp_path("creating");
        let built = (|| {
            // 0701: only root lists the volume's directory; what containers see is _data.
            fs::DirBuilder::new()
                .mode(0o701)
                .create(&temp)
                .map_err(Error::io("create", &temp))?;
            let data = temp.join(DATA);
            fs::DirBuilder::new()
                .mode(0o755)
                .create(&data)
                .map_err(Error::io("create", &data))?;
            set_mode(&temp, 0o701)?;
            set_mode(&data, 0o755)?;
            let path = temp.join(METADATA);
            let json = serde_json::to_vec_pretty(metadata).expect("metadata serializes");
            let mut file = File::create(&path).map_err(Error::io("create", &path))?;
            file.write_all(&json).map_err(Error::io("write", &path))?;
            // On disk before the name: after a crash, a volume never has a name and no content.
            file.sync_all().map_err(Error::io("flush", &path))
        })();
        let target = self.dir.join(name);
        let renamed = built.and_then(|()| {
            match rustix::fs::renameat_with(CWD, &temp, CWD, &target, RenameFlags::NOREPLACE) {
                Ok(()) => Ok(true),
                Err(Errno::EXIST | Errno::NOTEMPTY) => Ok(false),
                Err(e) => Err(Error::errno("name the volume", &target)(e)),
            }
        });
        match renamed {
            Ok(true) => sync_dir(&self.dir)?,
            _ => remove_tree(&temp)?,
        }
        renamed
    }

    /// The volume `name`.
    pub fn get(&self, name: &str) -> Result<Volume> {
        self.read(name)?
            .ok_or_else(|| Error::NoSuchVolume(name.to_owned()))
    }

    /// Every volume, in docker's order (names compared with their numbers as numbers).
    pub fn list(&self) -> Result<Vec<Volume>> {
        let mut volumes = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(Error::io("list", &self.dir))? {
            let entry = entry.map_err(Error::io("list", &self.dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name::validate(&name).is_err() {
                continue; // a temporary directory, or nothing of ours
            }
            match self.read_metadata(&name) {
                Ok(metadata) => volumes.push(self.volume(&name, metadata)),
                // Removed since the listing, or a directory that is no volume.
                Err(Error::NoSuchVolume(_)) => {}
                Err(e) => return Err(e),
            }
        }
        volumes.sort_by(|a, b| natural_order(&a.name, &b.name));
        Ok(volumes)
    }

    /// Removes the volume `name`, unless a container uses it (docker's `volume rm`, with or
    /// without `-f`: force only forgives a missing volume, which the caller decides).
    pub fn remove(&self, name: &str) -> Result<()> {
        let Some(lock) = self.lock(name)? else {
            return Err(Error::NoSuchVolume(name.to_owned()));
        };
        let users = usage::users_of(&self.containers, name)?;
        if !users.is_empty() {
            return Err(Error::InUse {
                name: name.to_owned(),
                containers: users,
            });
        }
        self.discard(name, lock)
    }

    /// Deletes the locked volume `name`: renamed away first, so that it is gone at once even
    /// if deleting a large `_data` is interrupted.
    pub(super) fn discard(&self, name: &str, lock: Flock<File>) -> Result<()> {
        let trash = self.temp_path("removing");
        let path = self.dir.join(name);
        fs::rename(&path, &trash).map_err(Error::io("remove the volume", &path))?;
        drop(lock);
        remove_tree(&trash)
    }

    /// Takes the volume's lock, or `None` if there is no such volume. The lock is released
    /// when the returned guard is dropped.
    pub(super) fn lock(&self, name: &str) -> Result<Option<Flock<File>>> {
        if name::validate(name).is_err() {
            return Ok(None);
        }
        let path = self.dir.join(name);
        loop {
            let dir = match File::open(&path) {
                Ok(dir) => dir,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io("open the volume", &path)(e)),
            };
            let lock = Flock::lock(dir, FlockArg::LockExclusive)
                .map_err(|(_, errno)| Error::io("lock the volume", &path)(errno.into()))?;
            let held = lock
                .metadata()
                .map_err(Error::io("inspect the volume", &path))?;
            match fs::symlink_metadata(&path) {
                Ok(now) if (now.dev(), now.ino()) == (held.dev(), held.ino()) => {
                    return Ok(Some(lock));
                }
                // Removed (or removed and made again) while we waited: look again.
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("inspect the volume", &path)(e)),
            }
        }
    }

    /// The volume `name` if it exists.
    fn read(&self, name: &str) -> Result<Option<Volume>> {
        if name::validate(name).is_err() {
            return Ok(None);
        }
        match self.read_metadata(name) {
            Ok(metadata) => Ok(Some(self.volume(name, metadata))),
            Err(Error::NoSuchVolume(_)) if !self.dir.join(name).exists() => Ok(None),
            Err(Error::NoSuchVolume(_)) => Err(Error::CorruptMetadata {
                path: self.dir.join(name).join(METADATA),
                message: "missing: the directory is not a volume".into(),
            }),
            Err(e) => Err(e),
        }
    }

    /// `volume.json` of `name`; [`Error::NoSuchVolume`] when there is none.
    fn read_metadata(&self, name: &str) -> Result<Metadata> {
        let path = self.dir.join(name).join(METADATA);
        let json = match fs::read(&path) {
            Ok(json) => json,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoSuchVolume(name.to_owned()));
            }
            Err(e) => return Err(Error::io("read", &path)(e)),
        };
        serde_json::from_slice(&json).map_err(|e| Error::CorruptMetadata {
            path,
            message: e.to_string(),
        })
    }

    fn volume(&self, name: &str, metadata: Metadata) -> Volume {
        Volume {
            name: name.to_owned(),
            mountpoint: self.dir.join(name).join(DATA),
            metadata,
        }
    }

    /// A fresh temporary path in the volumes directory (same filesystem: renames work), named
    /// for what it is and for this process.
    pub(super) fn temp_path(&self, what: &str) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!(".{what}-{}-{n}", std::process::id()))
    }

    /// Removes the temporary directories of processes that are gone.
    fn sweep(&self) -> Result<()> {
        for entry in fs::read_dir(&self.dir).map_err(Error::io("list", &self.dir))? {
            let entry = entry.map_err(Error::io("list", &self.dir))?;
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix('.')) else {
                continue;
            };
            let owner = rest
                .split('-')
                .nth(1)
                .and_then(|pid| pid.parse::<u32>().ok());
            if owner.is_some_and(|pid| !dockyard_support::process::alive(pid)) {
                remove_tree(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Deletes a directory and what it holds, if it is there.
pub(super) fn remove_tree(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path)(e)),
    }
}

/// Gives a directory its mode whatever the umask took away.
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(Error::io("set the mode of", path))
}

/// Flushes a directory's entries, so that a rename into it survives a crash.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("flush the directory", dir))
}

/// The order docker lists volumes in (Go's `sortorder.NaturalLess`): runs of digits compare
/// as numbers, so `v2` comes before `v10`.
pub fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (digits(a), digits(b));
                let trim = |s: &[u8]| {
                    let zeros = s.iter().take_while(|c| **c == b'0').count();
                    s[zeros..].to_vec()
                };
                let (da, db) = (trim(&a[..na]), trim(&b[..nb]));
                let order = da.len().cmp(&db.len()).then(da.cmp(&db)).then(na.cmp(&nb));
                if order.is_ne() {
                    return order;
                }
                (a, b) = (&a[na..], &b[nb..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volumes() -> (tempfile::TempDir, Volumes) {
        let dir = tempfile::tempdir().unwrap();
        let store = ch03_union_fs::Store::open(dir.path().join("root")).unwrap();
        let volumes = Volumes::open(&store).unwrap();
        (dir, volumes)
    }

    #[test]
    fn a_volume_is_made_whole_and_made_once() {
        let (_dir, volumes) = volumes();
        let labels = BTreeMap::from([("a".to_owned(), "b".to_owned())]);
        let options = CreateOptions {
            labels,
            ..CreateOptions::default()
        };
        let (made, created) = volumes.create(Some("data"), &options).unwrap();
        assert!(created);
        assert!(made.mountpoint.is_dir());
        assert_eq!(made.mountpoint, volumes.dir().join("data/_data"));
        // Again, with other labels: docker keeps the first.
        let (again, created) = volumes
            .create(Some("data"), &CreateOptions::default())
            .unwrap();
        assert!(!created);
        assert_eq!(again, made);
        assert_eq!(volumes.get("data").unwrap(), made);
        // Nothing temporary is left.
        let names: Vec<_> = fs::read_dir(volumes.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["data"]);
    }

    #[test]
    fn racing_creators_all_get_the_one_volume() {
        let (_dir, volumes) = volumes();
        let made: Vec<(Volume, bool)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        volumes
                            .create(Some("shared"), &CreateOptions::default())
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(made.iter().filter(|(_, created)| *created).count(), 1);
        assert!(made.iter().all(|(v, _)| *v == made[0].0));
        assert_eq!(volumes.list().unwrap().len(), 1);
        assert_eq!(fs::read_dir(volumes.dir()).unwrap().count(), 1);
    }

    #[test]
    fn removal_is_gone_at_once_and_missing_volumes_are_named() {
        let (_dir, volumes) = volumes();
        volumes
            .create(Some("gone"), &CreateOptions::default())
            .unwrap();
        fs::write(volumes.dir().join("gone/_data/file"), "x").unwrap();
        volumes.remove("gone").unwrap();
        assert!(volumes.list().unwrap().is_empty());
        assert_eq!(fs::read_dir(volumes.dir()).unwrap().count(), 0);
        let missing = volumes.remove("gone").unwrap_err();
        assert_eq!(missing.to_string(), "get gone: no such volume");
        assert!(matches!(
            volumes.get("../containers"),
            Err(Error::NoSuchVolume(_))
        ));
    }

    #[test]
    fn leftovers_of_dead_processes_are_swept() {
        let (_dir, volumes) = volumes();
        // No process has pid 0x7fffffff (above the kernel's pid_max limit).
        let dead = volumes.dir().join(".creating-2147483647-0");
        fs::create_dir_all(dead.join("_data")).unwrap();
        let mine = volumes.temp_path("filling");
        fs::create_dir(&mine).unwrap();
        Volumes::open(&volumes.containers).unwrap();
        assert!(!dead.exists());
        assert!(mine.exists(), "a live process's work is left alone");
    }

    #[test]
    fn names_sort_as_docker_lists_them() {
        let mut names = vec!["v10", "v2", "b", "a", "v1", "v02x"];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(names, ["a", "b", "v1", "v2", "v02x", "v10"]);
    }
}
