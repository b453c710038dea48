//! A tar of files inside a container, read only through descriptors.
//!
//! Copying out of a container is reading files whose names its processes choose and can
//! change while the copy runs. So nothing here is ever looked up by a path from the host's
//! root: each entry is opened inside its directory's descriptor with `O_PATH | O_NOFOLLOW`,
//! which opens the name itself, whatever it is, without following it and without the side
//! effects a real open has on a device. What it is comes from that descriptor (`fstat`), not
//! from an earlier look at the name that a swap could have made stale:
//!
//! - a directory is read through `openat(fd, ".")`, which is that very directory;
//! - a regular file is opened for reading through `/proc/self/fd/N`, which names exactly the
//!   inode the descriptor holds (were the name replaced by a FIFO or a device in between, it
//!   is still the file that was looked at);
//! - a symbolic link is read, never followed (`readlinkat(fd, "")`);
//! - devices and FIFOs are written as nodes, never opened; sockets are left out.
//!
//! The headers carry numeric owners only: no name is looked up in any `/etc/passwd`. Hard
//! links stay links. `/proc` and `/sys` (a running container's own) are written as empty
//! directories: reading the kernel's files as the host's root is not a copy of the
//! container's files, and some never end (`/proc/kcore`).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Dir, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use tar::{EntryType, Header};

use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// `statfs` magic numbers of the filesystems whose contents are not copied (`statfs(2)`).
const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// A tar being written.
pub struct Tarball<W: Write> {
    builder: tar::Builder<W>,
    /// The name each inode with several links was first written under: its next names are
    /// hard links to it.
    links: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> std::fmt::Debug for Tarball<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tarball")
            .field("hard_linked", &self.links.len())
            .finish()
    }
}

impl<W: Write> Tarball<W> {
    /// A tar written to `out`.
    pub fn new(out: W) -> Self {
        Tarball {
            builder: tar::Builder::new(out),
            links: HashMap::new(),
        }
    }

    /// Appends the entry `entry` holds (an `O_PATH` descriptor opened without following it)
    /// as `name`; a directory with everything in it.
    pub fn append(&mut self, entry: &OwnedFd, name: &Path) -> Result<()> {
        let failed = |action: &'static str| {
            let name = name.to_path_buf();
            move |e: Errno| Error::io(action, name)(e.into())
        };
        let stat = rustix::fs::fstat(entry).map_err(failed("look at"))?;
        let kind = FileType::from_raw_mode(stat.st_mode);
        let mut header = header_of(&stat);
        if kind != FileType::Directory && stat.st_nlink > 1 {
            let inode = (stat.st_dev, stat.st_ino);
            if let Some(first) = self.links.get(&inode) {
                header.set_entry_type(EntryType::Link);
                let first = first.clone();
                return self.write(|b| b.append_link(&mut header, name, first), name);
            }
            self.links.insert(inode, name.to_path_buf());
        }
        match kind {
            FileType::Directory => {
                header.set_entry_type(EntryType::Directory);
                self.write(|b| b.append_data(&mut header, name, std::io::empty()), name)?;
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                let dir = rustix::fs::openat(entry, ".", flags, Mode::empty())
                    .map_err(failed("open the directory"))?;
                if !is_pseudo_filesystem(&dir).map_err(failed("look at"))? {
                    self.append_children(dir, name)?;
                }
                Ok(())
            }
            FileType::RegularFile => {
                // The very inode looked at, opened for reading through its descriptor.
                let shown = format!("/proc/self/fd/{}", entry.as_raw_fd());
                let file =
                    rustix::fs::open(&shown, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                        .map_err(failed("open"))?;
                let size = stat.st_size as u64;
                header.set_entry_type(EntryType::Regular);
                header.set_size(size);
                // Exactly `size` bytes, as the header says, even if the file changes meanwhile.
                let content = File::from(file)
                    .take(size)
                    .chain(std::io::repeat(0))
                    .take(size);
                self.write(|b| b.append_data(&mut header, name, content), name)
            }
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(entry, "", Vec::new())
                    .map_err(failed("read the link"))?;
                header.set_entry_type(EntryType::Symlink);
                let target = Path::new(std::ffi::OsStr::from_bytes(target.as_bytes()));
                self.write(|b| b.append_link(&mut header, name, target), name)
            }
            FileType::Fifo | FileType::CharacterDevice | FileType::BlockDevice => {
                header.set_entry_type(match kind {
                    FileType::Fifo => EntryType::Fifo,
                    FileType::CharacterDevice => EntryType::Char,
                    _ => EntryType::Block,
                });
                let device = stat.st_rdev;
                let numbers = header
                    .set_device_major(rustix::fs::major(device))
                    .and_then(|()| header.set_device_minor(rustix::fs::minor(device)));
                numbers.map_err(Error::io("write the archive entry for", name))?;
                self.write(|b| b.append_data(&mut header, name, std::io::empty()), name)
            }
            // A socket means nothing outside the process that listens on it.
            _ => Ok(()),
        }
    }

    /// Appends what the directory `dir` holds, in name order, each under `name`.
    fn append_children(&mut self, dir: OwnedFd, name: &Path) -> Result<()> {
        let mut children: Vec<OsString> = Vec::new();
        let listing = Dir::new(dir.try_clone().map_err(Error::io("list", name))?)
            .map_err(|e| Error::io("list", name)(e.into()))?;
        for child in listing {
            let child = child.map_err(|e| Error::io("list", name)(e.into()))?;
            let bytes = child.file_name().to_bytes();
            if bytes != b"." && bytes != b".." {
                children.push(std::ffi::OsStr::from_bytes(bytes).to_owned());
            }
        }
        children.sort();
        for child in children {
            let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let path = name.join(&child);
            match rustix::fs::openat(&dir, &child, flags, Mode::empty()) {
                Ok(entry) => self.append(&entry, &path)?,
                // Removed since the listing: as if it had been removed before.
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(Error::io("open", path)(e.into())),
            }
        }
        Ok(())
    }

    fn write(
        &mut self,
        append: impl FnOnce(&mut tar::Builder<W>) -> std::io::Result<()>,
        name: &Path,
    ) -> Result<()> {
        append(&mut self.builder).map_err(Error::io("write the archive entry for", name))
    }

    /// Ends the archive; returns where it was written.
    pub fn finish(self) -> Result<W> {
        self.builder
            .into_inner()
            .and_then(|mut out| out.flush().map(|()| out))
            .map_err(Error::io_op("finish the archive"))
    }
}

/// A header with what every entry carries: mode, numeric owner, modification time.
fn header_of(stat: &Stat) -> Header {
    let mut header = Header::new_gnu();
    header.set_mode(stat.st_mode & 0o7777);
    header.set_uid(stat.st_uid.into());
    header.set_gid(stat.st_gid.into());
    header.set_mtime(stat.st_mtime.max(0) as u64);
    header.set_size(0);
    header
}

/// Whether the directory is on `/proc` or `/sys`, the kernel's files rather than the
/// container's.
fn is_pseudo_filesystem(dir: &impl AsFd) -> rustix::io::Result<bool> {
    let kind = rustix::fs::fstatfs(dir)?.f_type as i64;
    Ok(kind == PROC_SUPER_MAGIC || kind == SYSFS_MAGIC)
}
