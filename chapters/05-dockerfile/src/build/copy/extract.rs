//! `ADD archive.tar /dir/`: a local tar is unpacked, not copied.
//!
//! `ADD` looks inside each local file it is given: one that reads as a tar (plain, gzip or
//! zstd: chapter 03's `Compression::detect`, then one tar header) is unpacked into the
//! destination, which is then always a directory; anything else is copied as `COPY` would.
//! The archive's owners, modes and times are kept (`--chown` does not apply to them, and the
//! directory it is unpacked into is `root`'s: docker 20.10 does both), set-id bits included;
//! a hard link's header has the last word on the file it shares with its target
//! ([`hard_link_metadata`]). Its `.wh.` entries are ordinary files: this is not an image
//! layer.
//!
//! A tar is a list of names chosen by whoever made it: `../../etc/cron.d/x`, or `evil -> /`
//! followed by `evil/etc/passwd`. The entries are created by chapter 03's `apply_entry`,
//! with the destination directory as the root of every lookup (`RESOLVE_IN_ROOT`): a name
//! with `..` is refused (docker's legacy builder, which unpacks inside a `chroot`, puts it at
//! the root of the destination instead), and a link in the archive leads inside the
//! destination only, as it does in docker's `chroot`.
//!
//! Docker 20.10 also unpacks bzip2 and xz tars, and copies zstd ones as files; newer docker
//! and BuildKit unpack zstd. Here: plain, gzip and zstd.

use std::fs::File;
use std::io::BufReader;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use ch01_namespaces::Narrator;
use ch03_union_fs::archive::apply::entry::{Target, apply_entry};
use ch03_union_fs::archive::apply::path::IN_ROOT;
use ch03_union_fs::archive::{ApplyOptions, Compression, Whiteouts};
use dockyard_support::FromIo;
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid};
use tar::EntryType;

use crate::error::{Error, Result};

/// Whether the file at `path` reads as a tar (after decompression): its first header is one.
pub fn is_archive(path: &Path) -> Result<bool> {
    let failed = Error::io("read", path);
    let mut input = BufReader::with_capacity(1 << 16, File::open(path).map_err(failed)?);
    let Ok(compression) = Compression::detect(&mut input) else {
        return Ok(false);
    };
    let Ok(decoded) = compression.decoder(&mut input) else {
        return Ok(false);
    };
    let mut archive = tar::Archive::new(decoded);
    let Ok(mut entries) = archive.entries() else {
        return Ok(false);
    };
    Ok(matches!(entries.next(), Some(Ok(_))))
}

/// Unpacks the archive at `path` into the directory `dir` (a descriptor found inside the
/// image's root filesystem), which is the root of every lookup the entries make.
pub fn extract(path: &Path, dir: BorrowedFd<'_>) -> Result<()> {
    let failed = |e| Error::io("read", path)(e);
    let mut input = BufReader::with_capacity(1 << 16, File::open(path).map_err(failed)?);
    let compression = Compression::detect(&mut input).map_err(failed)?;
    let decoded = compression.decoder(&mut input).map_err(failed)?;
    // The directory was found inside the image; chapter 03 opens its target by path, and
    // this one names exactly the directory the descriptor holds.
    let target_path = format!("/proc/self/fd/{}", dir.as_raw_fd());
    let mut target = Target::open(Path::new(&target_path))?;
    let options = ApplyOptions::for_this_process(Whiteouts::Plain);
    let n = Narrator::silent();
    let corrupt = |e: std::io::Error| {
        ch03_union_fs::Error::CorruptArchive(format!("{}: {e}", path.display()))
    };
    let mut archive = tar::Archive::new(decoded);
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        apply_entry(&mut target, &mut entry, &options, &n)?;
        if entry.header().entry_type() == EntryType::Link {
            hard_link_metadata(dir, &entry, &options)?;
        }
    }
    target.finish()?;
    Ok(())
}

/// Gives the file a hard-link entry just linked the owner, mode and time written in *that
/// entry's* header, as docker does.
///
/// A hard link is a second name for the same inode, so it has no metadata of its own. But
/// docker unpacks every entry the same way: create it, then `chown` and `chmod` the path it
/// created to what the header says. For a link entry that path is the shared inode, so the
/// link's header overwrites what its target's said: in a tar holding `top/file` (`0640`,
/// `1000:100`) then `top/hard` linked to it (`0644`, `0:0`), both names end up `0644` and
/// root's. Not a rule anyone chose, a consequence of applying metadata per header to a
/// shared inode; reproduced so that an `ADD` gives the image docker gives. (As docker, a
/// link to a symbolic link only takes the owner: a link's mode means nothing.)
fn hard_link_metadata<R: std::io::Read>(
    dir: BorrowedFd<'_>,
    entry: &tar::Entry<'_, R>,
    options: &ApplyOptions,
) -> Result<()> {
    let header = entry.header();
    let path = ch03_union_fs::archive::apply::path::check(&entry.path_bytes())?;
    let relative = path.relative();
    let bad = |what: &str, e: std::io::Error| {
        ch03_union_fs::Error::CorruptArchive(format!("{path}: bad {what} in a header: {e}"))
    };
    let mode = header.mode().map_err(|e| bad("mode", e))? & 0o7777;
    let uid = header.uid().map_err(|e| bad("uid", e))? as u32;
    let gid = header.gid().map_err(|e| bad("gid", e))? as u32;
    let mtime = header.mtime().map_err(|e| bad("mtime", e))? as i64;
    // Found as the entry was created: inside the destination, its own name not followed.
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let failed = |action: &'static str| {
        let relative = relative.clone();
        move |e: rustix::io::Errno| Error::io(action, relative)(e.into())
    };
    let fd = rustix::fs::openat2(dir, &relative, flags, Mode::empty(), IN_ROOT)
        .map_err(failed("open the hard link"))?;
    if options.same_owner {
        rustix::fs::chownat(
            &fd,
            "",
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(failed("set the owner of"))?;
    }
    let stat = rustix::fs::fstat(&fd).map_err(failed("look at"))?;
    if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
        return Ok(());
    }
    // After the owner, which clears set-id bits. An `O_PATH` descriptor takes no `fchmod`:
    // through /proc, which names the inode itself.
    let shown = format!("/proc/self/fd/{}", fd.as_raw_fd());
    rustix::fs::chmod(&shown, Mode::from_raw_mode(mode)).map_err(failed("set the mode of"))?;
    let time = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: time,
        last_modification: time,
    };
    rustix::fs::utimensat(rustix::fs::CWD, &shown, &times, AtFlags::empty())
        .map_err(failed("set the times of"))
}
