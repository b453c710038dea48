//! The engine's state on disk: one directory per container under `<root>/containers`, and the
//! names that point at them.
//!
//! ```text
//! <root>/
//!   containers/<id>/config.json   what the container is and how it ended
//!   containers/<id>/upper/        its writable layer (overlay driver)
//!   containers/<id>/work/         overlayfs's scratch directory, same filesystem as upper/
//!   containers/<id>/merged/       where the overlay is mounted, inside the container only
//!   containers/<id>/rootfs/       its full private copy (vfs driver)
//!   names/<name> -> <id>          taken atomically: two runs cannot both get a name
//!   l/<short> -> <layer dir>      short names for long lowerdir lists (see overlay.rs)
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::driver::Driver;
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// `--root`'s default, as dockerd's `/var/lib/docker`.
pub const DEFAULT_ROOT: &str = "/var/lib/dockyard";

/// What a container is, saved as `config.json` in its directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// The 64-hex-digit id.
    pub id: String,
    /// The name given with `--name`, if any.
    pub name: Option<String>,
    /// Creation time, nanoseconds since the epoch (containers created within one second
    /// still list in order).
    pub created_ns: u64,
    /// The command, as given.
    pub command: Vec<String>,
    /// The read-only layers, bottom first, as absolute paths.
    pub layers: Vec<PathBuf>,
    /// The image the layers come from, as the user named it (chapter 04 on; `ps` shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// What the container runs with, as the image config's `config` section (chapter 04 on:
    /// its `commit` makes it the new image's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// How the layers are stacked.
    pub driver: Driver,
    /// Where the container is in its life.
    pub state: State,
}

/// A container's life: created, running (with the engine's pid), exited.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum State {
    /// Its layer exists; its command never started (or could not).
    Created,
    /// An engine process is running it.
    Running {
        /// The engine process supervising it: if that is gone, so is the container.
        engine_pid: u32,
        /// Start time, seconds since the epoch.
        started: u64,
    },
    /// It ran and ended.
    Exited {
        /// Its exit status.
        code: i32,
        /// End time, seconds since the epoch.
        finished: u64,
    },
}

impl Record {
    /// The first 12 hex digits, as `docker ps` shows ids.
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }
}

/// A `--root` directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the state directory at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        for dir in ["containers", "names", "l"] {
            let path = root.join(dir);
            fs::create_dir_all(&path).map_err(Error::io("create the state directory", &path))?;
        }
        let root = root
            .canonicalize()
            .map_err(Error::io("resolve the state directory", &root))?;
        Ok(Store { root })
    }

    /// The `--root` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A container's directory.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }

    /// The directory the container's processes see as `/`: the overlay's mount point, or the
    /// vfs copy.
    pub fn rootfs_dir(&self, record: &Record) -> PathBuf {
        let dir = self.container_dir(&record.id);
        match record.driver {
            Driver::Overlay => dir.join("merged"),
            Driver::Vfs => dir.join("rootfs"),
        }
    }

    /// The overlay driver's writable layer.
    pub fn upper_dir(&self, id: &str) -> PathBuf {
        self.container_dir(id).join("upper")
    }

    /// The overlay driver's work directory.
    pub fn work_dir(&self, id: &str) -> PathBuf {
        self.container_dir(id).join("work")
    }

    /// Where short names of layer directories live (see [`crate::overlay`]).
    pub fn links_dir(&self) -> PathBuf {
        self.root.join("l")
    }

    /// Creates the container's directory and record; takes `record.name` first, so a name
    /// in use fails before anything is written.
    pub fn create(&self, record: &Record) -> Result<()> {
        if let Some(name) = &record.name {
            validate_name(name)?;
            let link = self.root.join("names").join(name);
            if let Err(e) = std::os::unix::fs::symlink(&record.id, &link) {
                return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::NameInUse(name.clone())
                } else {
                    Error::io("take the container name", &link)(e)
                });
            }
        }
        let dir = self.container_dir(&record.id);
        let created = (|| {
            fs::create_dir(&dir).map_err(Error::io("create the container directory", &dir))?;
            match record.driver {
                Driver::Overlay => {
                    for sub in ["upper", "work", "merged"] {
                        let path = dir.join(sub);
                        fs::create_dir(&path).map_err(Error::io("create", &path))?;
                    }
                }
                Driver::Vfs => {
                    let path = dir.join("rootfs");
                    fs::create_dir(&path).map_err(Error::io("create", &path))?;
                }
            }
            self.save(record)
        })();
        if created.is_err() {
            let _best_effort = self.remove(record);
        }
        created
    }

    /// Saves the record, atomically: a reader sees the old or the new one, never half.
    pub fn save(&self, record: &Record) -> Result<()> {
        let path = self.container_dir(&record.id).join("config.json");
        let temp = path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(record).expect("a record always serializes");
        fs::write(&temp, json).map_err(Error::io("write the container state", &temp))?;
        fs::rename(&temp, &path).map_err(Error::io("replace the container state", &path))
    }

    /// The record of container `id` (its full id).
    pub fn load(&self, id: &str) -> Result<Record> {
        let path = self.container_dir(id).join("config.json");
        match fs::read(&path) {
            Ok(json) => serde_json::from_slice(&json).map_err(|e| Error::CorruptState {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::NoSuchContainer(id.into()))
            }
            Err(e) => Err(Error::io("read", &path)(e)),
        }
    }

    /// Gives the container another name (`docker rename`): the new name is taken first
    /// (atomically, so two renames or a rename and a `create` cannot both take it), then the
    /// record says it, then the old name is released. Whatever step fails, the container keeps
    /// one name that works; a crash between the last two leaves the old name's link behind,
    /// still taken, until it is deleted by hand.
    pub fn rename(&self, record: &mut Record, name: &str) -> Result<()> {
        if record.name.as_deref() == Some(name) {
            return Err(Error::Invalid(format!(
                "the container is already named {name:?}: give another name"
            )));
        }
        validate_name(name)?;
        let link = self.root.join("names").join(name);
        if let Err(e) = std::os::unix::fs::symlink(&record.id, &link) {
            return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::NameInUse(name.into())
            } else {
                Error::io("take the container name", &link)(e)
            });
        }
        let old = record.name.replace(name.to_string());
        if let Err(error) = self.save(record) {
            record.name = old;
            let _best_effort = fs::remove_file(&link);
            return Err(error);
        }
        if let Some(old) = old {
            self.release_name(&old, &record.id)?;
        }
        Ok(())
    }

    /// Every container, oldest first.
    pub fn list(&self) -> Result<Vec<Record>> {
        let dir = self.root.join("containers");
        let mut records = Vec::new();
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            let path = entry.path().join("config.json");
            match fs::read(&path) {
                Ok(json) => records.push(serde_json::from_slice(&json).map_err(|e| {
                    Error::CorruptState {
                        path: path.clone(),
                        message: e.to_string(),
                    }
                })?),
                // A directory without a record is a container still being created, or
                // removed: not one to show.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("read", &path)(e)),
            }
        }
        records.sort_by(|a: &Record, b: &Record| (a.created_ns, &a.id).cmp(&(b.created_ns, &b.id)));
        Ok(records)
    }

    /// The container named `reference`: a name, a full id, or an unambiguous id prefix, as
    /// docker accepts.
    pub fn find(&self, reference: &str) -> Result<Record> {
        let records = self.list()?;
        if let Some(record) = records
            .iter()
            .find(|r| r.name.as_deref() == Some(reference))
        {
            return Ok(record.clone());
        }
        let mut matching = records
            .into_iter()
            .filter(|r| !reference.is_empty() && r.id.starts_with(reference));
        match (matching.next(), matching.next()) {
            (Some(record), None) => Ok(record),
            (Some(_), Some(_)) => Err(Error::AmbiguousContainer(reference.into())),
            (None, _) => Err(Error::NoSuchContainer(reference.into())),
        }
    }

    /// Removes the container's directory (its writable layer) and its name.
    pub fn remove(&self, record: &Record) -> Result<()> {
        let dir = self.container_dir(&record.id);
        // The record goes first: from then on the container is not listed, even if removing
        // a large layer is interrupted; what remains has no config.json and is skipped.
        let config = dir.join("config.json");
        match fs::remove_file(&config) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &config)(e)),
        }
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove the container directory", &dir)(e)),
        }
        if let Some(name) = &record.name {
            self.release_name(name, &record.id)?;
        }
        Ok(())
    }

    /// Removes the link `name` if it still names container `id`: a name freed and taken by
    /// another container stays.
    fn release_name(&self, name: &str, id: &str) -> Result<()> {
        let link = self.root.join("names").join(name);
        if fs::read_link(&link).is_ok_and(|target| target == Path::new(id)) {
            fs::remove_file(&link).map_err(Error::io("release the container name", &link))?;
        }
        Ok(())
    }
}

/// Docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if first_ok && rest_ok && name.len() >= 2 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least two characters"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(store: &Store, id: char, name: Option<&str>) -> Record {
        let record = Record {
            id: id.to_string().repeat(64),
            name: name.map(str::to_string),
            created_ns: 0,
            command: vec!["/bin/true".into()],
            layers: Vec::new(),
            image: None,
            config: None,
            driver: Driver::Vfs,
            state: State::Created,
        };
        store.create(&record).unwrap();
        record
    }

    #[test]
    fn a_rename_moves_the_name_and_frees_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut web = record(&store, 'a', Some("web"));
        let db = record(&store, 'b', Some("db"));
        store.rename(&mut web, "front").unwrap();
        assert_eq!(store.find("front").unwrap().id, web.id);
        assert_eq!(store.load(&web.id).unwrap().name.as_deref(), Some("front"));
        assert!(matches!(store.find("web"), Err(Error::NoSuchContainer(_))));
        // The old name is free again; a taken one, or the same, is refused.
        record(&store, 'c', Some("web"));
        assert!(matches!(
            store.rename(&mut web, "db"),
            Err(Error::NameInUse(_))
        ));
        assert!(matches!(
            store.rename(&mut web, "front"),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            store.rename(&mut web, "-x"),
            Err(Error::Invalid(_))
        ));
        assert_eq!(web.name.as_deref(), Some("front"));
        assert_eq!(store.find("db").unwrap().id, db.id);
        // A container without a name gets one.
        let mut anonymous = record(&store, 'd', None);
        store.rename(&mut anonymous, "named").unwrap();
        assert_eq!(store.find("named").unwrap().id, anonymous.id);
        assert!(matches!(
            store.load(&"e".repeat(64)),
            Err(Error::NoSuchContainer(_))
        ));
    }
}
