//! Copying files with everything that makes them the same file: type, content, mode, owner,
//! times, extended attributes, hard links. The vfs driver builds a container's root filesystem
//! this way, one layer after another.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, Narrator};
use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps, XattrFlags};

use crate::whiteout::OVERLAY_XATTR_PREFIX;
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::tree;

// ANCHOR: flatten
/// Lays `layers` (bottom first) one over the other into `dest` as real copies, interpreting
/// the overlay whiteouts and opaque directories the layers may hold: the vfs driver.
pub fn flatten(layers: &[PathBuf], dest: &Path, n: &Narrator) -> Result<()> {
    let mut dirs: HashMap<PathBuf, Metadata> = HashMap::new();
    for layer in layers {
        n.say(
            Actor::Engine,
            format!("copy layer {} into {}", layer.display(), dest.display()),
        );
        let mut links = HashMap::new();
        for entry in tree::walk(layer) {
            let (path, meta) = entry?;
            let (from, to) = (layer.join(&path), dest.join(&path));
            if tree::is_whiteout(&meta) {
                n.say(
                    Actor::Engine,
                    format!("whiteout /{}: remove it", path.display()),
                );
                remove_any(&to)?;
            } else if meta.is_dir() {
                if !fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir()) {
                    remove_any(&to)?;
                    fs::create_dir(&to).map_err(Error::io("create", &to))?;
                } else if tree::is_opaque(&from) {
                    n.say(
                        Actor::Engine,
                        format!("opaque directory /{}: empty it", path.display()),
                    );
                    clear_dir(&to)?;
                }
                copy_metadata(&from, &meta, &to)?;
                dirs.insert(path, meta);
            } else {
                remove_any(&to)?;
                copy_file(&from, &meta, &to, &mut links)?;
            }
        }
    }
    // Creating entries changed the directories' times: restore them last, deepest first.
    let mut dirs: Vec<(PathBuf, Metadata)> = dirs.into_iter().collect();
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    for (path, meta) in dirs {
        set_times(&dest.join(&path), &meta)?;
    }
    Ok(())
}
// ANCHOR_END: flatten

/// Copies one non-directory (file, link, device, FIFO) with its metadata. A file seen before
/// under another name in the same source (same inode) becomes a hard link to its first copy.
pub fn copy_file(
    from: &Path,
    meta: &Metadata,
    to: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let kind = meta.file_type();
    if meta.nlink() > 1 && !kind.is_dir() {
        let key = (meta.dev(), meta.ino());
        if let Some(first) = links.get(&key) {
            return fs::hard_link(first, to).map_err(Error::io("hard-link", to));
        }
        links.insert(key, to.to_path_buf());
    }
    if kind.is_symlink() {
        let target = fs::read_link(from).map_err(Error::io("read the link", from))?;
        std::os::unix::fs::symlink(&target, to).map_err(Error::io("create the link", to))?;
    } else if kind.is_file() {
        // std's copy uses copy_file_range, which lets the filesystem share or clone blocks.
        fs::copy(from, to).map_err(Error::io("copy", from))?;
    } else {
        let file_type = FileType::from_raw_mode(meta.mode());
        rustix::fs::mknodat(
            CWD,
            to,
            file_type,
            Mode::from_raw_mode(meta.mode()),
            meta.rdev(),
        )
        .map_err(Error::errno("create the special file", to))?;
    }
    copy_metadata(from, meta, to)?;
    set_times(to, meta)
}

/// Owner, mode and extended attributes (not overlayfs's own), never following a link.
fn copy_metadata(from: &Path, meta: &Metadata, to: &Path) -> Result<()> {
    let owner = (
        Some(rustix::fs::Uid::from_raw(meta.uid())),
        Some(rustix::fs::Gid::from_raw(meta.gid())),
    );
    rustix::fs::chownat(CWD, to, owner.0, owner.1, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(Error::errno("set the owner of", to))?;
    if !meta.file_type().is_symlink() {
        // After chown, which clears set-user-id and set-group-id bits.
        rustix::fs::chmod(to, Mode::from_raw_mode(meta.mode() & 0o7777))
            .map_err(Error::errno("set the mode of", to))?;
    }
    copy_xattrs(from, to)
}

fn copy_xattrs(from: &Path, to: &Path) -> Result<()> {
    let mut names = vec![0u8; 4096];
    let len = match rustix::fs::llistxattr(from, &mut names[..]) {
        Ok(len) => len,
        Err(rustix::io::Errno::NOTSUP) => return Ok(()),
        Err(e) => return Err(Error::errno("list the extended attributes of", from)(e)),
    };
    for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
            continue;
        }
        let mut value = vec![0u8; 65536];
        let size = rustix::fs::lgetxattr(from, name, &mut value[..])
            .map_err(Error::errno("read an extended attribute of", from))?;
        rustix::fs::lsetxattr(to, name, &value[..size], XattrFlags::empty())
            .map_err(Error::errno("set an extended attribute of", to))?;
    }
    Ok(())
}

/// Access and modification times, to the nanosecond, on the path itself (not a link's target).
pub fn set_times(path: &Path, meta: &Metadata) -> Result<()> {
    rustix::fs::utimensat(CWD, path, &timestamps(meta), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(Error::errno("set the times of", path))
}

/// The access and modification times of `meta`, as `utimensat` and `futimens` take them.
pub fn timestamps(meta: &Metadata) -> Timestamps {
    Timestamps {
        last_access: Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec() as _,
        },
        last_modification: Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec() as _,
        },
    }
}

/// Removes whatever is at `path` (a directory with its contents), if anything.
pub fn remove_any(path: &Path) -> Result<()> {
    let result = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    result.map_err(Error::io("remove", path))
}

/// Removes everything inside the directory `dir`.
fn clear_dir(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(Error::io("list", dir))? {
        let entry = entry.map_err(Error::io("list", dir))?;
        remove_any(&entry.path())?;
    }
    Ok(())
}

/// Whether a file type is one only root may create (device nodes).
pub fn is_device(kind: std::fs::FileType) -> bool {
    kind.is_char_device() || kind.is_block_device()
}
