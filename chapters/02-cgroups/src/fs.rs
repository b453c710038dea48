//! Cgroups are a filesystem: a directory is a group, its files are the knobs and counters.
//! These helpers read and write those files, narrating every write.
//!
//! They sit on every container's start and end, so each costs as few system calls as it can:
//! a write is `open`, `write`, `close`; a read is `open`, `read` until end of file, `close`
//! (no `stat` for a size hint: cgroup files report a size of 0); `mkdir` is tried first and
//! missing parents are looked at only when it fails. Narration is formatted only when on.

use std::io::Read;
use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, Narrator};
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// Cgroup files hold a few numbers or lines: one read of this size usually takes all of it.
const READ_BUFFER: usize = 4096;

/// Writes `value` to a cgroup file, as `echo value > path` would.
pub fn write(path: &Path, value: &str, n: &Narrator) -> Result<()> {
    n.say(
        Actor::Engine,
        format_args!("write {value:?} > {}", path.display()),
    );
    std::fs::write(path, value).map_err(Error::io("write", path))
}

/// Reads a whole cgroup file.
pub fn read(path: &Path) -> Result<String> {
    let io_error = |source| Error::io("read", path)(source);
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::with_capacity(READ_BUFFER);
    // `Read::read_to_end` on a `File` would first ask `statx` and `lseek` for a size hint.
    let mut chunk = [0u8; READ_BUFFER];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(len) => bytes.extend_from_slice(&chunk[..len]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    String::from_utf8(bytes).map_err(|e| {
        io_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.to_string(),
        ))
    })
}

/// Reads a file holding one number.
pub fn read_number(path: &Path) -> Result<u64> {
    let text = read(path)?;
    text.trim().parse().map_err(|_| {
        let bad = std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{text:?}"));
        Error::io("parse", path)(bad)
    })
}

/// The value of `key` in the text of a flat-keyed file (`key value` per line, like
/// `memory.events` or `cpu.stat`); a missing key reads as 0, as the kernel omits zero counters
/// in some files. Read the file once with [`read`], then take every key it holds from the text.
pub fn key(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            let (k, v) = line.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok()).flatten()
        })
        .unwrap_or(0)
}

/// Reads the value of `key` in a flat-keyed file (see [`key`]).
pub fn read_key(path: &Path, name: &str) -> Result<u64> {
    Ok(key(&read(path)?, name))
}

/// Creates the cgroup directory `path` and its missing parents below `root` (the hierarchy's
/// mount, which is never created here); returns the directories it created, shallowest first,
/// so that setup and removal can treat exactly those. An existing `path` is not an error.
pub fn create_dirs(root: &Path, path: &Path, n: &Narrator) -> Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    match std::fs::create_dir(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(created),
        // A parent is missing: the first run under a new cgroup parent.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path != root => {
            let parent = path.parent().unwrap_or(root);
            if parent == root || !parent.starts_with(root) {
                return Err(create_error(path, e));
            }
            created = create_dirs(root, parent, n)?;
            std::fs::create_dir(path).map_err(|e| create_error(path, e))?;
        }
        Err(e) => return Err(create_error(path, e)),
    }
    n.say(Actor::Engine, format_args!("mkdir {}", path.display()));
    created.push(path.to_path_buf());
    Ok(created)
}

fn create_error(path: &Path, source: std::io::Error) -> Error {
    Error::io("create", path)(source)
}

/// Removes an empty cgroup directory; one that is already gone counts as removed. `rmdir` is
/// the only way, and it fails with EBUSY while a process is still in the group: the caller
/// decides what to do then (see [`crate::Cgroup::remove`]).
pub fn remove_dir(path: &Path, n: &Narrator) -> Result<()> {
    n.say(Actor::Engine, format_args!("rmdir {}", path.display()));
    match std::fs::remove_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::io("remove", path)(source)),
    }
}

/// Whether an error is `rmdir`'s EBUSY: processes are still in the group.
pub fn is_busy(error: &Error) -> bool {
    matches!(error, Error::Io(io) if io.source.raw_os_error() == Some(libc::EBUSY))
}
