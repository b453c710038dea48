//! # `cp`: files between a container and this machine
//!
//! `docker cp c:/etc/nginx/nginx.conf .` and `docker cp site/. c:/usr/share/nginx/html`
//! work on a running container and on a stopped one, with a plain path or a tar (`-`). They
//! look like a file copy; they are a copy between two filesystems, one of which belongs to
//! someone who may be hostile. Docker learned it twice:
//!
//! - **CVE-2018-15664**: the daemon resolved a container path to a host path
//!   (`/var/lib/docker/overlay2/…/merged/x/y`), checked that it stayed inside, then used the
//!   *string*. In between, a process in the container swapped `x` for a symbolic link to `/`,
//!   the kernel walked the string again, and the copy read or wrote the host's files. Here no
//!   container path is ever turned into a string the host walks: the container's root is a
//!   descriptor ([`ContainerFs`]), every path is resolved inside it by the kernel with
//!   `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, and everything after works on the
//!   descriptors found: [`tarball`] reads, chapter 03's safe unpacking ([`extract`]) and
//!   chapter 05's copier write, each entry relative to its directory's descriptor and never
//!   through a link.
//! - **CVE-2019-14271**: `docker cp` ran a helper, `docker-tar`, chrooted into the container,
//!   and Go's user lookups made it load the *container's* `libnss_*.so`: the container's code
//!   ran as root on the host. Here nothing of the container is ever executed or loaded: the
//!   copy is this process's own code, and owners are numbers, never names looked up in the
//!   container's `/etc/passwd`.
//!
//! Where the copy lands follows docker's rules ([`rules`]), on paths read as docker reads
//! them ([`path`]); this machine's side is looked up as docker's client does ([`host`]). A
//! stopped container's files are mounted by `cp` itself, under a lock that keeps its monitor
//! from mounting them too meanwhile ([`lock`]).
//!
//! **Owners.** Docker's documentation says: copied into a container, files belong to root;
//! copied out, to the user running `cp`; with `-a`, they keep their owners. That is what
//! this module does. (Docker's daemon does otherwise since 17.06: without `-a` it keeps the
//! tar's owners, and `-a` gives everything to the container's configured user; moby issues
//! 34096 and 45793 track the difference.)

pub mod container;
/// Its errors live with the crate's, which wraps them.
use crate::error::copy as error;
pub mod extract;
pub mod host;
pub mod lock;
pub mod path;
pub mod rules;
pub mod tarball;

use std::io::{BufWriter, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ch01_namespaces::Narrator;
use ch03_union_fs::{StorageOptions, Store};
use ch05_dockerfile::build::copy::owner::Owner;
use ch05_dockerfile::build::copy::tree::Writer;
use dockyard_support::FromIo;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, StatVfsMountFlags, StatxFlags};
use rustix::io::Errno;

pub use crate::error::copy::Error;
pub use container::ContainerFs;
use path::{CpPath, absolute, link_target};
use rules::{Destination, Name, Source};

use crate::error::Result;

/// What `cp` is asked besides its two paths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// `-a`: copies keep their owners (uid and gid) instead of taking the destination's user.
    pub archive: bool,
    /// `-L`: a symbolic link at the source path is followed; its target is copied, under the
    /// link's name.
    pub follow_link: bool,
}

/// Where a copy out of a container goes.
pub enum Output<'a> {
    /// A path on this machine.
    Host(CpPath),
    /// A tar written here (`-`: standard output).
    Tar(&'a mut dyn Write),
}

/// What a copy into a container comes from.
pub enum Input<'a> {
    /// A path on this machine.
    Host(CpPath),
    /// A tar (plain, gzip or zstd) read from here (`-`: standard input).
    Tar(&'a mut dyn Read),
}

impl std::fmt::Debug for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Host(path) => f.debug_tuple("Host").field(path).finish(),
            Output::Tar(_) => f.write_str("Tar"),
        }
    }
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Host(path) => f.debug_tuple("Host").field(path).finish(),
            Input::Tar(_) => f.write_str("Tar"),
        }
    }
}

/// Copies `path` out of the container `container` names (running or not) to `output`.
pub fn copy_from(
    store: &Store,
    storage: &StorageOptions,
    container: &str,
    path: &str,
    output: Output<'_>,
    options: &CopyOptions,
    n: &Narrator,
) -> Result<()> {
    let fs = ContainerFs::open(store, container, storage, n)?;
    let (entry, source) = find_source(&fs, &CpPath::in_container(path), options.follow_link)?;
    match output {
        Output::Tar(out) => {
            let name = if source.contents { "." } else { &source.name };
            let mut tar = tarball::Tarball::new(BufWriter::new(out));
            tar.append(&entry, Path::new(name))?;
            tar.finish().map(drop)
        }
        Output::Host(dest) => {
            let placement = rules::place(&source, &host::destination(&dest)?)?;
            let dir = absolute(&placement.dir);
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let dir_fd = rustix::fs::open(&dir, flags, Mode::empty())
                .map_err(|e| crate::Error::io("open", &dir)(e.into()))?;
            let name = match placement.name {
                Name::Entry(name) => name,
                Name::Contents => ".".to_owned(),
            };
            let into = dir.display().to_string();
            let unpacking = extract::options(options.archive);
            // The container's side writes a tar, this machine's side unpacks it: the same
            // two halves as `docker cp`'s daemon and client, on two threads and a pipe.
            let (reader, writer) = std::io::pipe().map_err(crate::Error::io_op("make a pipe"))?;
            std::thread::scope(|scope| {
                let producer = scope.spawn(move || {
                    let mut tar = tarball::Tarball::new(BufWriter::new(writer));
                    tar.append(&entry, Path::new(&name))?;
                    tar.finish().map(drop)
                });
                let unpacked = extract::unpack(reader, dir_fd.as_fd(), &into, &unpacking);
                let produced = producer
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                first_cause(produced, unpacked)
            })
        }
    }
}

/// Copies `input` into the container `container` names (running or not) at `path`.
pub fn copy_to(
    store: &Store,
    storage: &StorageOptions,
    container: &str,
    input: Input<'_>,
    path: &str,
    options: &CopyOptions,
    n: &Narrator,
) -> Result<()> {
    let fs = ContainerFs::open(store, container, storage, n)?;
    let path = CpPath::in_container(path);
    let dest = find_destination(&fs, &path)?;
    match input {
        Input::Tar(tar) => {
            if !(dest.exists && dest.is_dir) {
                return Err(Error::DestinationNotDirectory {
                    container: fs.name().to_owned(),
                    path: path.shown,
                }
                .into());
            }
            let dir = extraction_dir(&fs, &dest.parts)?;
            let into = absolute(&dest.parts).display().to_string();
            extract::unpack(tar, dir.as_fd(), &into, &extract::options(options.archive))
        }
        Input::Host(source) => {
            let source = host::source(&source, options.follow_link)?;
            let placement = rules::place(&source.source, &dest)?;
            let dir = extraction_dir(&fs, &placement.dir)?;
            let into = absolute(&placement.dir).display().to_string();
            write_in(&source, &placement.name, dir.as_fd(), &into, options)
        }
    }
}

/// Finds the source of a copy out: links on the way followed inside the container, the last
/// one only with `-L` or a trailing `/`.
fn find_source(fs: &ContainerFs, path: &CpPath, follow: bool) -> Result<(OwnedFd, Source)> {
    let entry = fs
        .lookup(&path.parts, follow || path.asserts_dir)
        .map_err(|e| missing(fs, &path.shown, e))?;
    let stat = rustix::fs::fstat(&entry).map_err(|e| missing(fs, &path.shown, e))?;
    let is_dir = FileType::from_raw_mode(stat.st_mode) == FileType::Directory;
    if path.asserts_dir && !is_dir {
        return Err(Error::SourceNotDirectory {
            path: path.shown.clone(),
        }
        .into());
    }
    let source = Source {
        is_dir,
        contents: path.contents || path.parts.is_empty(),
        name: path.base().unwrap_or(".").to_owned(),
    };
    Ok((entry, source))
}

/// What is at the destination of a copy in, as docker's client asks the daemon (`stat`):
/// a symbolic link there is followed once, inside the container.
fn find_destination(fs: &ContainerFs, path: &CpPath) -> Result<Destination> {
    let mut parts = path.parts.clone();
    let mut found = fs.lookup(&parts, false);
    if let Ok(link) = &found
        && is_symlink(link)
    {
        let target = rustix::fs::readlinkat(link, "", Vec::new())
            .map_err(|e| crate::Error::io("read the link", absolute(&parts))(e.into()))?;
        parts = link_target(path.parent(), &target.to_string_lossy());
        found = fs.lookup(&parts, false);
    }
    let Ok(entry) = found else {
        return Ok(Destination {
            parts,
            exists: false,
            is_dir: false,
            asserts_dir: path.asserts_dir,
        });
    };
    let stat = rustix::fs::fstat(&entry).map_err(|e| missing(fs, &path.shown, e))?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if matches!(kind, FileType::CharacterDevice | FileType::BlockDevice) {
        return Err(Error::DestinationIsDevice {
            container: fs.name().to_owned(),
            path: path.shown.clone(),
        }
        .into());
    }
    Ok(Destination {
        parts,
        exists: true,
        is_dir: kind == FileType::Directory,
        asserts_dir: path.asserts_dir,
    })
}

/// The directory a copy in goes into, every link followed inside the container; it must be
/// a directory, and writable.
fn extraction_dir(fs: &ContainerFs, parts: &[String]) -> Result<OwnedFd> {
    let shown = absolute(parts).display().to_string();
    let dir = fs.lookup(parts, true).map_err(|e| missing(fs, &shown, e))?;
    let stat = rustix::fs::fstat(&dir).map_err(|e| missing(fs, &shown, e))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
        return Err(Error::ExtractionPointNotDirectory.into());
    }
    refuse_read_only(fs, &dir)?;
    Ok(dir)
}

/// Refuses a directory on a read-only mount, naming which: a volume, or the root filesystem.
fn refuse_read_only(fs: &ContainerFs, dir: &OwnedFd) -> Result<()> {
    let failed = |e: Errno| crate::Error::io_op("look at the destination's mount")(e.into());
    let flags = rustix::fs::fstatvfs(dir).map_err(failed)?.f_flag;
    if !flags.contains(StatVfsMountFlags::RDONLY) {
        return Ok(());
    }
    let mount_of = |fd: BorrowedFd<'_>| {
        rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)
            .map(|statx| statx.stx_mnt_id)
            .map_err(failed)
    };
    if mount_of(dir.as_fd())? == mount_of(fs.root())? {
        Err(Error::ReadOnlyRootfs.into())
    } else {
        Err(Error::ReadOnlyVolume.into())
    }
}

/// Writes a file or directory of this machine into the container's directory `dir` as
/// `name`, with chapter 05's copier: each entry created in its directory's descriptor,
/// never through a link. Owned by root (the copier's owner), or by their own owners with `-a`.
fn write_in(
    source: &host::HostSource,
    name: &Name,
    dir: BorrowedFd<'_>,
    into: &str,
    options: &CopyOptions,
) -> Result<()> {
    let writer = Writer {
        owner: Owner::ROOT,
        keep_owners: options.archive,
        chmod: None,
        context: None,
        drop_set_id: false,
    };
    let (path, metadata) = (&source.path, &source.metadata);
    match name {
        Name::Contents => {
            refuse_kind_changes_inside(path, dir, "", into)?;
            writer.copy_dir_contents(path, "", dir)?;
        }
        Name::Entry(name) => {
            refuse_kind_change(path, metadata.is_dir(), dir, name, name, into)?;
            if metadata.is_dir() {
                writer.copy_dir(path, metadata, dir, name)?;
            } else {
                writer.copy_entry(path, metadata, dir, name)?;
            }
        }
    }
    Ok(())
}

/// Docker's `NoOverwriteDirNonDir` for a copy from this machine, checked before anything is
/// written: no file of the source may land where the container has a directory, nor a
/// directory where it has something else. Only directories both sides have are walked.
fn refuse_kind_change(
    source: &Path,
    is_dir: bool,
    dir: BorrowedFd<'_>,
    name: &str,
    entry: &str,
    into: &str,
) -> Result<()> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let Ok(existing) = rustix::fs::openat(dir, name, flags, Mode::empty()) else {
        return Ok(()); // nothing there: nothing replaced
    };
    let stat =
        rustix::fs::fstat(&existing).map_err(|e| crate::Error::io("look at", entry)(e.into()))?;
    let was_dir = FileType::from_raw_mode(stat.st_mode) == FileType::Directory;
    let (entry, into) = (entry.to_owned(), into.to_owned());
    match (was_dir, is_dir) {
        (true, false) => Err(Error::WouldReplaceDirectory { entry, into }.into()),
        (false, true) => Err(Error::WouldReplaceFile { entry, into }.into()),
        (true, true) => refuse_kind_changes_inside(source, existing.as_fd(), &entry, &into),
        (false, false) => Ok(()),
    }
}

/// [`refuse_kind_change`] for each entry of the directory `source`, against `dir`.
fn refuse_kind_changes_inside(
    source: &Path,
    dir: BorrowedFd<'_>,
    entry: &str,
    into: &str,
) -> Result<()> {
    let listing = std::fs::read_dir(source).map_err(crate::Error::io("read", source))?;
    for child in listing {
        let child = child.map_err(crate::Error::io("read", source))?;
        let is_dir = child
            .file_type()
            .map_err(crate::Error::io("read", child.path()))?
            .is_dir();
        let name = child.file_name().to_string_lossy().into_owned();
        let relative = if entry.is_empty() {
            name.clone()
        } else {
            format!("{entry}/{name}")
        };
        refuse_kind_change(&child.path(), is_dir, dir, &name, &relative, into)?;
    }
    Ok(())
}

/// A lookup's failure: the path is not there (docker's "Could not find the file"), or
/// something else went wrong.
fn missing(fs: &ContainerFs, shown: &str, errno: Errno) -> crate::Error {
    match errno {
        Errno::NOENT | Errno::NOTDIR => Error::NotFound {
            path: shown.to_owned(),
            container: fs.name().to_owned(),
        }
        .into(),
        other => crate::Error::io("look up", shown)(other.into()),
    }
}

fn is_symlink(fd: &OwnedFd) -> bool {
    rustix::fs::fstat(fd)
        .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Symlink)
}

/// The error that explains a failed copy out: the reading side's, unless it only failed
/// because the unpacking side stopped reading (a broken pipe).
fn first_cause(produced: Result<()>, unpacked: Result<()>) -> Result<()> {
    match (produced, unpacked) {
        (Ok(()), unpacked) => unpacked,
        (Err(produced), Ok(())) => Err(produced),
        (Err(crate::Error::Io(io)), Err(unpacked))
            if io.source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Err(unpacked)
        }
        (Err(produced), Err(_)) => Err(produced),
    }
}
