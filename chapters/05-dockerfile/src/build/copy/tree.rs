//! Writing copied entries into the image: files with their content, directories with what is
//! in them, symbolic links as links, FIFOs and devices as nodes.
//!
//! What is kept: the mode (unless `--chmod`), the modification time (and access time), the
//! type; a link's target, as written (`abs -> /etc/passwd` stays that, to be read inside the
//! image later). What is not: the owner (`--chown`'s, or `0:0`), hard links between files
//! (each is copied as a file of its own), sockets (they mean nothing outside a running
//! program; docker's tar leaves them out too).
//!
//! Every entry is created relative to the descriptor of the directory it goes in, never
//! following a link at its own name: a file is created with `O_EXCL | O_NOFOLLOW` (whatever
//! was there is removed first), so an image's `/app/config -> /etc/shadow` is replaced, not
//! written through.

use ch03_union_fs::copy::timestamps;
use std::fs::{File, Metadata, OpenOptions};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use dockyard_support::IoError;
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Uid};
use rustix::io::Errno;

use super::owner::{Owner, apply_chmod, legacy_mode};
use super::rootfs::io_error;
use crate::context::{Context, Presence};
use crate::instructions::Chmod;

/// How entries are written: their owner and mode, and what the context hides.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// The owner of everything written.
    pub owner: Owner,
    /// Keep each copied entry's own owner instead (`COPY --from` without `--chown`: the
    /// other stage's owners mean something in this image too, as docker's builder keeps them).
    pub keep_owners: bool,
    /// `--chmod`, applied to each file and directory written.
    pub chmod: Option<&'a Chmod>,
    /// The context, whose `.dockerignore` hides entries of copied directories.
    pub context: Option<&'a Context>,
    /// Whether files lose their set-user-id bit (and set-group-id when group-executable), as
    /// docker's legacy builder's copies do: see [`owner::legacy_mode`](super::owner::legacy_mode).
    pub drop_set_id: bool,
}

impl Writer<'_> {
    /// The owner a copy of an entry with `metadata` gets.
    fn owner_of(&self, metadata: &Metadata) -> Owner {
        if self.keep_owners {
            Owner {
                uid: metadata.uid(),
                gid: metadata.gid(),
            }
        } else {
            self.owner
        }
    }

    /// The mode an entry of mode `mode` is given.
    fn mode(&self, mode: u32, is_dir: bool) -> u32 {
        match self.chmod {
            Some(chmod) => apply_chmod(chmod, mode & 0o7777, is_dir),
            None if self.drop_set_id => legacy_mode(mode & 0o7777, is_dir),
            None => mode & 0o7777,
        }
    }

    /// Copies what the directory `source` holds (not the directory itself) into `dir`. `real`
    /// is `source`'s path relative to the context root, for `.dockerignore`. Entries are
    /// taken in name order, so that two copies of one tree do the same thing.
    pub fn copy_dir_contents(
        &self,
        source: &Path,
        real: &str,
        dir: BorrowedFd<'_>,
    ) -> Result<(), IoError> {
        let entries = std::fs::read_dir(source).map_err(|e| read_error(source, e))?;
        let mut names: Vec<_> = entries
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()
            .map_err(|e| read_error(source, e))?;
        names.sort();
        for name in names {
            let path = source.join(&name);
            let name = name.to_string_lossy().into_owned();
            let relative = if real.is_empty() {
                name.clone()
            } else {
                format!("{real}/{name}")
            };
            let metadata = std::fs::symlink_metadata(&path).map_err(|e| read_error(&path, e))?;
            let presence = match self.context {
                Some(context) => context.presence(Path::new(&relative), metadata.is_dir()),
                None => Presence::Sent,
            };
            if presence == Presence::Absent {
                continue;
            }
            if metadata.is_dir() {
                let sub = make_dir(dir, &name, &path)?;
                self.copy_dir_contents(&path, &relative, sub.as_fd())?;
                if presence == Presence::Implied {
                    // Made to hold what an exception took back: `0755`, nothing of the
                    // ignored directory's own metadata (its times are the copy's).
                    set_owner_mode(&sub, self.owner, self.mode(0o755, true), &path)?;
                } else {
                    // Last: creating the entries inside changed its times.
                    self.finish(&sub, &metadata, true, &path)?;
                }
            } else {
                self.copy_entry(&path, &metadata, dir, &name)?;
            }
        }
        Ok(())
    }

    /// Copies the directory `source` itself, with everything in it, to `name` in `dir`: a
    /// directory already there is kept and filled, anything else in the way is replaced, and
    /// the copy takes `source`'s mode, times and (with `keep_owners`) owner. Chapter 06's `cp`
    /// copies a directory into a container this way.
    pub fn copy_dir(
        &self,
        source: &Path,
        metadata: &Metadata,
        dir: BorrowedFd<'_>,
        name: &str,
    ) -> Result<(), IoError> {
        let copy = make_dir(dir, name, source)?;
        self.copy_dir_contents(source, "", copy.as_fd())?;
        // Last: creating the entries inside changed its times.
        self.finish(&copy, metadata, true, source)
    }

    /// Copies the entry at `source` (not a directory; nothing on its path is a link) to
    /// `name` in `dir`.
    pub fn copy_entry(
        &self,
        source: &Path,
        metadata: &Metadata,
        dir: BorrowedFd<'_>,
        name: &str,
    ) -> Result<(), IoError> {
        let kind = metadata.file_type();
        if kind.is_file() {
            let mut from = OpenOptions::new()
                .read(true)
                .custom_flags(libc_nofollow())
                .open(source)
                .map_err(|e| read_error(source, e))?;
            let mut file = create_file(dir, name, source)?;
            std::io::copy(&mut from, &mut file).map_err(|e| IoError {
                action: "copy".into(),
                path: Some(source.into()),
                source: e,
            })?;
            self.finish(&file, metadata, false, source)
        } else if kind.is_symlink() {
            let target = std::fs::read_link(source).map_err(|e| read_error(source, e))?;
            replace_with(dir, name, source, |dir, name| {
                rustix::fs::symlinkat(&target, dir, name)
            })?;
            let owner = self.owner_of(metadata);
            rustix::fs::chownat(
                dir,
                name,
                Some(Uid::from_raw(owner.uid)),
                Some(Gid::from_raw(owner.gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| io_error("set the owner of the copy of", source, e))?;
            rustix::fs::utimensat(dir, name, &timestamps(metadata), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| io_error("set the times of the copy of", source, e))
        } else if kind.is_fifo() || kind.is_char_device() || kind.is_block_device() {
            let file_type = if kind.is_fifo() {
                FileType::Fifo
            } else if kind.is_char_device() {
                FileType::CharacterDevice
            } else {
                FileType::BlockDevice
            };
            replace_with(dir, name, source, |dir, name| {
                rustix::fs::mknodat(dir, name, file_type, Mode::empty(), metadata.rdev())
            })?;
            let node = rustix::fs::openat(
                dir,
                name,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io_error("open the copy of", source, e))?;
            // An `O_PATH` descriptor takes no fchown or fchmod: through /proc, which is
            // the node itself.
            let shown = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&node));
            let owner = self.owner_of(metadata);
            rustix::fs::chown(
                &shown,
                Some(Uid::from_raw(owner.uid)),
                Some(Gid::from_raw(owner.gid)),
            )
            .map_err(|e| io_error("set the owner of the copy of", source, e))?;
            rustix::fs::chmod(
                &shown,
                Mode::from_raw_mode(self.mode(metadata.mode(), false)),
            )
            .map_err(|e| io_error("set the mode of the copy of", source, e))?;
            rustix::fs::utimensat(dir, name, &timestamps(metadata), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| io_error("set the times of the copy of", source, e))
        } else {
            Ok(()) // a socket
        }
    }

    /// Writes a file of `content` as `name` in `dir`, mode `0644` (or `--chmod`'s): a heredoc
    /// of `COPY <<EOF /dst`.
    pub fn write_inline(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        content: &[u8],
    ) -> Result<(), IoError> {
        let shown = Path::new(name);
        let mut file = create_file(dir, name, shown)?;
        std::io::Write::write_all(&mut file, content).map_err(|e| IoError {
            action: "write".into(),
            path: Some(shown.into()),
            source: e,
        })?;
        set_owner_mode(&file, self.owner, self.mode(0o644, false), shown)
    }

    /// Gives a written file or directory its owner, mode and times.
    fn finish(
        &self,
        fd: &impl AsFd,
        metadata: &Metadata,
        is_dir: bool,
        source: &Path,
    ) -> Result<(), IoError> {
        let owner = self.owner_of(metadata);
        set_owner_mode(fd, owner, self.mode(metadata.mode(), is_dir), source)?;
        rustix::fs::futimens(fd, &timestamps(metadata))
            .map_err(|e| io_error("set the times of the copy of", source, e))
    }
}

/// Owner first, then mode (`chown` clears the set-id bits).
fn set_owner_mode(fd: &impl AsFd, owner: Owner, mode: u32, source: &Path) -> Result<(), IoError> {
    rustix::fs::fchown(
        fd,
        Some(Uid::from_raw(owner.uid)),
        Some(Gid::from_raw(owner.gid)),
    )
    .map_err(|e| io_error("set the owner of the copy of", source, e))?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))
        .map_err(|e| io_error("set the mode of the copy of", source, e))
}

fn libc_nofollow() -> i32 {
    OFlags::NOFOLLOW.bits() as i32
}

fn read_error(path: &Path, source: std::io::Error) -> IoError {
    IoError {
        action: "read".into(),
        path: Some(path.into()),
        source,
    }
}

/// Creates the regular file `name` in `dir`, removing whatever was there: `O_EXCL` with
/// `O_NOFOLLOW` makes sure the content goes to a new file, never through a link.
fn create_file(dir: BorrowedFd<'_>, name: &str, source: &Path) -> Result<File, IoError> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let open = || rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600));
    let fd = match open() {
        Err(Errno::EXIST) => {
            remove_all_at(dir, name).map_err(|e| io_error("replace", name, e))?;
            open()
        }
        other => other,
    }
    .map_err(|e| io_error("create the copy of", source, e))?;
    Ok(File::from(fd))
}

/// Creates (or keeps) the directory `name` in `dir` and opens it, never through a link:
/// something else in the way (a file, a link) is removed first.
pub fn make_dir(dir: BorrowedFd<'_>, name: &str, source: &Path) -> Result<OwnedFd, IoError> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let failed = |e| io_error("create the copy of", source, e);
    match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700)) {
        Ok(()) => {}
        Err(Errno::EXIST) => {
            if let Ok(existing) = rustix::fs::openat(dir, name, flags, Mode::empty()) {
                return Ok(existing);
            }
            remove_all_at(dir, name).map_err(failed)?;
            rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700)).map_err(failed)?;
        }
        Err(e) => return Err(failed(e)),
    }
    rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(failed)
}

/// Runs `create`, removing what is in the way first if it fails with `EEXIST`.
fn replace_with(
    dir: BorrowedFd<'_>,
    name: &str,
    source: &Path,
    create: impl Fn(BorrowedFd<'_>, &str) -> rustix::io::Result<()>,
) -> Result<(), IoError> {
    match create(dir, name) {
        Err(Errno::EXIST) => {
            remove_all_at(dir, name).map_err(|e| io_error("replace", name, e))?;
            create(dir, name)
        }
        other => other,
    }
    .map_err(|e| io_error("create the copy of", source, e))
}

/// Removes `name` in `dir`, a directory with everything in it; never follows a link.
pub fn remove_all_at(dir: BorrowedFd<'_>, name: &str) -> rustix::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Err(Errno::ISDIR) | Err(Errno::PERM) => {}
        other => return other,
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let sub = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(&sub)? {
        let entry = entry?;
        let child = entry.file_name().to_string_lossy().into_owned();
        if child != "." && child != ".." {
            names.push(child);
        }
    }
    for child in names {
        remove_all_at(sub.as_fd(), &child)?;
    }
    rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)
}
