//! Cgroups are a filesystem: a directory is a group, its files are the knobs and counters.
//! These helpers read and write those files, narrating every write.

use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, Narrator};
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// Writes `value` to a cgroup file, as `echo value > path` would.
pub fn write(path: &Path, value: &str, n: &Narrator) -> Result<()> {
    n.say(
        Actor::Engine,
        format!("write {value:?} > {}", path.display()),
    );
    std::fs::write(path, value).map_err(Error::io("write", path))
}

/// Reads a whole cgroup file.
pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(Error::io("read", path))
}

/// Reads a file holding one number.
pub fn read_number(path: &Path) -> Result<u64> {
    let text = read(path)?;
    text.trim().parse().map_err(|_| {
        let bad = std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{text:?}"));
        Error::io("parse", path)(bad)
    })
}

/// Reads the value of `key` in a flat-keyed file (`key value` per line, like `memory.events`
/// or `cpu.stat`); a missing key reads as 0, as the kernel omits zero counters in some files.
pub fn read_key(path: &Path, key: &str) -> Result<u64> {
    let text = read(path)?;
    Ok(text
        .lines()
        .find_map(|line| {
            let (k, v) = line.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok()).flatten()
        })
        .unwrap_or(0))
}

/// Creates a cgroup directory and its missing parents; returns the directories it created,
/// deepest last, so that removal can undo exactly that.
pub fn create_dirs(path: &Path, n: &Narrator) -> Result<Vec<PathBuf>> {
    let mut missing: Vec<PathBuf> = path
        .ancestors()
        .take_while(|p| !p.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    for dir in &missing {
        n.say(Actor::Engine, format!("mkdir {}", dir.display()));
        std::fs::create_dir(dir).map_err(Error::io("create", dir))?;
    }
    Ok(missing)
}

/// How long removal waits for the kernel to finish emptying a cgroup.
const REMOVE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Removes an empty cgroup directory. `rmdir` is the only way, and it fails with EBUSY while a
/// process (even a zombie being reaped) is still in the group, so it is retried for a while.
pub fn remove_dir(path: &Path, n: &Narrator) -> Result<()> {
    n.say(Actor::Engine, format!("rmdir {}", path.display()));
    let deadline = std::time::Instant::now() + REMOVE_PATIENCE;
    loop {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(source) => return Err(Error::io("remove", path)(source)),
        }
    }
}
