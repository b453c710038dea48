//! Creating one archive entry in the target: a file, directory, link, device, or a whiteout.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, Narrator};
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid, XattrFlags};
use rustix::io::Errno;
use tar::EntryType;

use super::path::{self, EntryPath, IN_ROOT};
use super::{ApplyOptions, Whiteouts};
use crate::whiteout::{OPAQUE, OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, PREFIX};
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// The directory being unpacked into, and what unpacking it needs to remember.
pub struct Target {
    root: OwnedFd,
    /// The last parent directory opened: consecutive entries usually share it.
    parent: Option<(PathBuf, OwnedFd)>,
    /// Directories whose times are set at the end (creating entries in them changes them).
    dir_times: Vec<(PathBuf, i64)>,
    /// Paths this archive created, for opaque markers in `Delete` mode.
    created: HashSet<PathBuf>,
    buffer: Vec<u8>,
    euid: u32,
    egid: u32,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("root", &self.root).finish()
    }
}

/// The metadata an entry carries, read from its header and PAX records.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Target {
    /// Opens `dir`, which must exist.
    pub fn open(dir: &Path) -> Result<Target> {
        let root = rustix::fs::open(
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(Error::errno("open the target directory", dir))?;
        Ok(Target {
            root,
            parent: None,
            dir_times: Vec::new(),
            created: HashSet::new(),
            buffer: vec![0; 1 << 20],
            euid: rustix::process::geteuid().as_raw(),
            egid: rustix::process::getegid().as_raw(),
        })
    }

    /// The directory `parent` under the target, reusing the last one opened when it is the same.
    fn parent_fd(&mut self, parent: &Path) -> Result<BorrowedFd<'_>> {
        let cached = self.parent.as_ref().is_some_and(|(p, _)| p == parent);
        if !cached {
            let fd = path::resolve_parent(self.root.as_fd(), parent)?;
            self.parent = Some((parent.to_path_buf(), fd));
        }
        Ok(self.parent.as_ref().expect("just set").1.as_fd())
    }

    /// Sets the directories' modification times, deepest first, once nothing more is created.
    pub fn finish(&mut self) -> Result<()> {
        self.parent = None;
        let mut dirs = std::mem::take(&mut self.dir_times);
        dirs.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.components().count()));
        for (dir, mtime) in dirs {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat2(self.root.as_fd(), &dir, flags, Mode::empty(), IN_ROOT)
                .map_err(Error::errno("open the directory", &dir))?;
            rustix::fs::futimens(&fd, &times(mtime))
                .map_err(Error::errno("set the times of", &dir))?;
        }
        Ok(())
    }
}

// ANCHOR: apply_entry
/// Applies one entry: checks its name, handles whiteouts, replaces what is in the way, creates
/// the entry relative to its parent's descriptor, and gives it its owner, mode, attributes and
/// times.
pub fn apply_entry<R: Read>(
    target: &mut Target,
    entry: &mut tar::Entry<'_, R>,
    options: &ApplyOptions,
    n: &Narrator,
) -> Result<()> {
    let path = path::check(&entry.path_bytes())?;
    let kind = entry.header().entry_type();
    let Some(name) = path.name().map(str::to_owned) else {
        return Ok(()); // `./`: the target itself keeps its own metadata
    };
    if let Some(hidden) = name.strip_prefix(PREFIX)
        && options.whiteouts != Whiteouts::Plain
    {
        return whiteout(target, &path, hidden, options, n);
    }
    let meta = read_meta(entry, n)?;
    let relative = path.relative();
    if options.whiteouts == Whiteouts::Delete {
        target.created.insert(relative.clone());
    }
    let (euid, egid, same_owner) = (target.euid, target.egid, options.same_owner);
    let owner =
        (same_owner && (meta.uid, meta.gid) != (euid, egid)).then_some((meta.uid, meta.gid));
    // ANCHOR_END: apply_entry
    // ANCHOR: create_entry
    match kind {
        EntryType::Directory => {
            let parent = target.parent_fd(&path.parent())?;
            let dir = make_dir(parent, &name, &relative)?;
            finish_fd(&dir, &meta, owner, &relative, false)?;
            target.dir_times.push((relative, meta.mtime));
        }
        EntryType::Regular | EntryType::Continuous => {
            let mut buffer = std::mem::take(&mut target.buffer);
            let parent = target.parent_fd(&path.parent())?;
            let file = create_file(parent, &name, &relative)?;
            let written = copy_content(entry, &file, &mut buffer);
            target.buffer = buffer;
            written.map_err(|e| Error::CorruptArchive(format!("{path}: {e}")))?;
            finish_fd(&file, &meta, owner, &relative, true)?;
            start_writeback(&file);
        }
        EntryType::Symlink => {
            let link = entry
                .link_name_bytes()
                .ok_or_else(|| {
                    Error::CorruptArchive(format!("{path}: a symbolic link without a target"))
                })?
                .into_owned();
            let parent = target.parent_fd(&path.parent())?;
            make_symlink(parent, &name, &relative, &link, owner, meta.mtime)?;
        }
        EntryType::Link => {
            let source = entry.link_name_bytes().ok_or_else(|| {
                Error::CorruptArchive(format!("{path}: a hard link without a target"))
            })?;
            let source = path::check(&source)?;
            make_hard_link(target, &source, &path, &name, &relative)?;
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let node = node_type(entry, &path, options)?;
            let parent = target.parent_fd(&path.parent())?;
            make_node(parent, &name, &relative, node, &meta, owner)?;
        }
        other => n.say(
            Actor::Engine,
            format!("skip {path}: entry type {other:?} is not unpacked"),
        ),
    }
    Ok(())
}
// ANCHOR_END: create_entry

/// A symbolic link, with its owner and time (never followed: its target may lead anywhere).
fn make_symlink(
    parent: BorrowedFd<'_>,
    name: &str,
    relative: &Path,
    link: &[u8],
    owner: Option<(u32, u32)>,
    mtime: i64,
) -> Result<()> {
    replace_with(parent, name, relative, |p, name| {
        rustix::fs::symlinkat(link, p, name)
    })?;
    if let Some((uid, gid)) = owner {
        rustix::fs::chownat(
            parent,
            name,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(Error::errno("set the owner of", relative))?;
    }
    rustix::fs::utimensat(parent, name, &times(mtime), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(Error::errno("set the times of", relative))
}

/// A hard link to an entry already unpacked, found inside the target only (`RESOLVE_IN_ROOT`).
fn make_hard_link(
    target: &mut Target,
    source: &EntryPath,
    path: &EntryPath,
    name: &str,
    relative: &Path,
) -> Result<()> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let from = rustix::fs::openat2(
        target.root.as_fd(),
        source.relative(),
        flags,
        Mode::empty(),
        IN_ROOT,
    )
    .map_err(Error::errno(
        "find the hard link's target",
        source.relative(),
    ))?;
    let parent = target.parent_fd(&path.parent())?;
    replace_with(parent, name, relative, |p, name| {
        rustix::fs::linkat(&from, "", p, name, AtFlags::EMPTY_PATH)
    })
}

/// The type and device number of a node entry; a device only where `options` allow devices.
fn node_type<R: Read>(
    entry: &tar::Entry<'_, R>,
    path: &EntryPath,
    options: &ApplyOptions,
) -> Result<(FileType, u64)> {
    let kind = entry.header().entry_type();
    if !options.special_files && kind != EntryType::Fifo {
        return Err(Error::UnsafeEntry {
            entry: path.to_string(),
            reason: "device nodes are not allowed here (only root may create them)".into(),
        });
    }
    Ok(match kind {
        EntryType::Char => (FileType::CharacterDevice, device(entry)?),
        EntryType::Block => (FileType::BlockDevice, device(entry)?),
        _ => (FileType::Fifo, 0),
    })
}

/// A device node or a FIFO, with its owner, mode and time.
fn make_node(
    parent: BorrowedFd<'_>,
    name: &str,
    relative: &Path,
    (file_type, dev): (FileType, u64),
    meta: &Meta,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    replace_with(parent, name, relative, |p, name| {
        rustix::fs::mknodat(
            p,
            name,
            file_type,
            Mode::from_raw_mode(meta.mode & 0o777),
            dev,
        )
    })?;
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let node = rustix::fs::openat(parent, name, flags, Mode::empty())
        .map_err(Error::errno("open", relative))?;
    if let Some((uid, gid)) = owner {
        rustix::fs::chownat(
            &node,
            "",
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::EMPTY_PATH,
        )
        .map_err(Error::errno("set the owner of", relative))?;
    }
    rustix::fs::chmodat(
        parent,
        name,
        Mode::from_raw_mode(meta.mode & 0o7777),
        AtFlags::empty(),
    )
    .map_err(Error::errno("set the mode of", relative))?;
    rustix::fs::utimensat(parent, name, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(Error::errno("set the times of", relative))
}

// ANCHOR: whiteout
/// A whiteout entry, `.wh.NAME` or the opaque marker `.wh..wh..opq`, applied as the target
/// needs it: overlayfs's own whiteouts for a layer directory, deletions for a flat one.
fn whiteout(
    target: &mut Target,
    path: &EntryPath,
    hidden: &str,
    options: &ApplyOptions,
    n: &Narrator,
) -> Result<()> {
    let dir = path.parent();
    if path.name() == Some(OPAQUE) {
        return opaque(target, &dir, options, n);
    }
    if hidden.is_empty() || hidden == "." || hidden == ".." || hidden.contains('/') {
        return Err(Error::UnsafeEntry {
            entry: path.to_string(),
            reason: "a whiteout must name a file in its directory".into(),
        });
    }
    let fd = target.parent_fd(&dir)?;
    let relative = dir.join(hidden);
    remove_at(fd, hidden, &relative)?;
    match options.whiteouts {
        Whiteouts::Overlay => {
            n.say(
                Actor::Engine,
                format!("whiteout /{} (overlay: char 0/0)", relative.display()),
            );
            rustix::fs::mknodat(fd, hidden, FileType::CharacterDevice, Mode::empty(), 0)
                .map_err(Error::errno("create the whiteout", &relative))
        }
        Whiteouts::Delete | Whiteouts::Plain => {
            n.say(
                Actor::Engine,
                format!("whiteout /{} (deleted)", relative.display()),
            );
            Ok(())
        }
    }
}
// ANCHOR_END: whiteout

/// The opaque marker `.wh..wh..opq`: everything lower layers put in `dir` is hidden.
fn opaque(target: &mut Target, dir: &Path, options: &ApplyOptions, n: &Narrator) -> Result<()> {
    let shown = Path::new("/").join(dir);
    let fd = target.parent_fd(dir)?;
    match options.whiteouts {
        Whiteouts::Overlay => {
            n.say(
                Actor::Engine,
                format!(
                    "opaque directory {} ({OVERLAY_OPAQUE_XATTR}=y)",
                    shown.display()
                ),
            );
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let dir_fd = rustix::fs::openat(fd, ".", flags, Mode::empty())
                .map_err(Error::errno("open", dir))?;
            rustix::fs::fsetxattr(&dir_fd, OVERLAY_OPAQUE_XATTR, b"y", XattrFlags::empty())
                .map_err(Error::errno("mark opaque", dir))
        }
        Whiteouts::Delete | Whiteouts::Plain => {
            n.say(
                Actor::Engine,
                format!(
                    "opaque directory {}: remove what lower layers put there",
                    shown.display()
                ),
            );
            let created = &target.created;
            let fd = target
                .parent
                .as_ref()
                .expect("just opened")
                .1
                .try_clone()
                .map_err(|e| Error::io("open", dir)(e))?;
            remove_children_except(fd.as_fd(), dir, created)
        }
    }
}

/// Owner, mode, extended attributes and (except for directories) times, through the entry's
/// own descriptor: nothing is looked up by path again.
fn finish_fd(
    fd: &impl AsFd,
    meta: &Meta,
    owner: Option<(u32, u32)>,
    relative: &Path,
    times_now: bool,
) -> Result<()> {
    if let Some((uid, gid)) = owner {
        rustix::fs::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
            .map_err(Error::errno("set the owner of", relative))?;
    }
    // After chown, which clears the set-user-id and set-group-id bits.
    rustix::fs::fchmod(fd, Mode::from_raw_mode(meta.mode & 0o7777))
        .map_err(Error::errno("set the mode of", relative))?;
    for (name, value) in &meta.xattrs {
        rustix::fs::fsetxattr(fd, &name[..], value, XattrFlags::empty())
            .map_err(Error::errno("set an extended attribute of", relative))?;
    }
    if times_now {
        rustix::fs::futimens(fd, &times(meta.mtime))
            .map_err(Error::errno("set the times of", relative))?;
    }
    Ok(())
}

/// Creates (or keeps) the directory `name` in `parent` and opens it, without following a link.
fn make_dir(parent: BorrowedFd<'_>, name: &str, relative: &Path) -> Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
        Ok(()) => {}
        Err(Errno::EXIST) => {
            if rustix::fs::openat(parent, name, flags, Mode::empty()).is_err() {
                // Something else is in the way (a file, a link): a directory replaces it.
                remove_at(parent, name, relative)?;
                rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700))
                    .map_err(Error::errno("create the directory", relative))?;
            }
        }
        Err(e) => return Err(Error::errno("create the directory", relative)(e)),
    }
    rustix::fs::openat(parent, name, flags, Mode::empty())
        .map_err(Error::errno("open the directory", relative))
}

/// Creates the regular file `name` in `parent`, replacing whatever is there; `O_EXCL` with
/// `O_NOFOLLOW` guarantees the write goes to a new file, never through a link.
fn create_file(parent: BorrowedFd<'_>, name: &str, relative: &Path) -> Result<File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let open = || rustix::fs::openat(parent, name, flags, Mode::from_raw_mode(0o600));
    let fd = match open() {
        Err(Errno::EXIST) => {
            remove_at(parent, name, relative)?;
            open()
        }
        other => other,
    }
    .map_err(Error::errno("create", relative))?;
    Ok(File::from(fd))
}

/// Runs `create` for `name`, removing what is in the way first if it fails with EEXIST.
fn replace_with(
    parent: BorrowedFd<'_>,
    name: &str,
    relative: &Path,
    create: impl Fn(BorrowedFd<'_>, &str) -> rustix::io::Result<()>,
) -> Result<()> {
    match create(parent, name) {
        Err(Errno::EXIST) => {
            remove_at(parent, name, relative)?;
            create(parent, name)
        }
        other => other,
    }
    .map_err(Error::errno("create", relative))
}

fn copy_content(entry: &mut impl Read, mut file: &File, buffer: &mut [u8]) -> std::io::Result<()> {
    loop {
        match entry.read(buffer)? {
            0 => return Ok(()),
            n => file.write_all(&buffer[..n])?,
        }
    }
}

/// Asks the kernel to start writing the file's content to disk now, without waiting for it
/// (`sync_file_range(2)` with `SYNC_FILE_RANGE_WRITE`). A store flushes a layer before naming
/// it; written back as it is unpacked, the layer's data is mostly on disk by then, and the
/// flush waits for little. It is only a hint: a failure changes nothing, the flush still
/// comes.
pub fn start_writeback(file: &impl AsFd) {
    // SAFETY: sync_file_range takes a descriptor (borrowed, open for the whole call) and
    // plain integers; no memory is shared with the kernel.
    let _only_a_hint = unsafe {
        libc::sync_file_range(file.as_fd().as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE)
    };
}

/// Removes `name` in `dir` (a directory with everything in it), never following a link.
fn remove_at(dir: BorrowedFd<'_>, name: &str, relative: &Path) -> Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(Errno::ISDIR) | Err(Errno::PERM) => {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let inner = rustix::fs::openat(dir, name, flags, Mode::empty())
                .map_err(Error::errno("open", relative))?;
            remove_children_except(inner.as_fd(), relative, &HashSet::new())?;
            rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)
                .map_err(Error::errno("remove", relative))
        }
        Err(e) => Err(Error::errno("remove", relative)(e)),
    }
}

/// Removes every child of `dir` whose path is not in `keep`.
fn remove_children_except(
    dir: BorrowedFd<'_>,
    relative: &Path,
    keep: &HashSet<PathBuf>,
) -> Result<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let listing = rustix::fs::openat(dir, ".", flags, Mode::empty())
        .map_err(Error::errno("open", relative))?;
    let names: Vec<String> = rustix::fs::Dir::read_from(&listing)
        .map_err(Error::errno("list", relative))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "." && name != "..")
        .collect();
    for name in names {
        let child = relative.join(&name);
        if !keep.contains(&child) {
            remove_at(dir, &name, &child)?;
        }
    }
    Ok(())
}

/// The entry's mode, owner, time and extended attributes (never overlayfs's own).
fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>, n: &Narrator) -> Result<Meta> {
    let header = entry.header();
    let bad = |what: &str, e: std::io::Error| {
        Error::CorruptArchive(format!("bad {what} in a header: {e}"))
    };
    let mut meta = Meta {
        mode: header.mode().map_err(|e| bad("mode", e))?,
        uid: header.uid().map_err(|e| bad("uid", e))? as u32,
        gid: header.gid().map_err(|e| bad("gid", e))? as u32,
        mtime: header.mtime().map_err(|e| bad("mtime", e))? as i64,
        xattrs: Vec::new(),
    };
    let shown = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    if let Some(extensions) = entry.pax_extensions().map_err(|e| bad("PAX record", e))? {
        for extension in extensions {
            let extension = extension.map_err(|e| bad("PAX record", e))?;
            let Some(name) = extension.key_bytes().strip_prefix(b"SCHILY.xattr.") else {
                continue;
            };
            if name.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
                // An archive must not steer overlayfs (redirects, opaque marks): skip it.
                n.say(
                    Actor::Engine,
                    format!(
                        "skip {shown}: attribute {} belongs to overlayfs",
                        String::from_utf8_lossy(name)
                    ),
                );
                continue;
            }
            meta.xattrs
                .push((name.to_vec(), extension.value_bytes().to_vec()));
        }
    }
    Ok(meta)
}

fn device<R: Read>(entry: &tar::Entry<'_, R>) -> Result<u64> {
    let header = entry.header();
    let number = |v: std::io::Result<Option<u32>>| {
        v.map_err(|e| Error::CorruptArchive(format!("bad device number: {e}")))
            .map(Option::unwrap_or_default)
    };
    Ok(rustix::fs::makedev(
        number(header.device_major())?,
        number(header.device_minor())?,
    ))
}

fn times(mtime: i64) -> Timestamps {
    let at = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: at,
        last_modification: at,
    }
}
