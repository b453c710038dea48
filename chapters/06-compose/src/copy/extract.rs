//! Unpacking a tar into a directory: a tar read from stdin into a container (`cp - c:/dir`),
//! and a container's files onto this machine.
//!
//! The unpacking itself is chapter 03's, the one that applies image layers, and meets the
//! same hostile input: names with `..` are refused, absolute names are read relative to the
//! directory, each entry is created relative to its parent's descriptor found with
//! `RESOLVE_IN_ROOT` (a link planted by an earlier entry, `evil -> /`, leads to the
//! directory's own root, never out), files are created with `O_EXCL | O_NOFOLLOW`, and a hard
//! link's target is looked up inside the directory too. What `cp` adds is docker's
//! `NoOverwriteDirNonDir`: a file of the archive never replaces a directory that is there,
//! and a directory never replaces a file; the copy stops instead.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use ch01_namespaces::Narrator;
use ch03_union_fs::archive::apply::entry::{Target, apply_entry};
use ch03_union_fs::archive::apply::path::{self as entry_path, IN_ROOT};
use ch03_union_fs::archive::{ApplyOptions, Compression, Whiteouts};
use rustix::fs::{FileType, Mode, OFlags};
use tar::EntryType;

use super::error::Error as CopyError;
use crate::error::Result;

/// How entries are unpacked: whether they keep the owners their headers give.
pub fn options(keep_owners: bool) -> ApplyOptions {
    let root = rustix::process::geteuid().is_root();
    ApplyOptions {
        // A tar given to `cp` is not a layer: `.wh.` files are plain files.
        whiteouts: Whiteouts::Plain,
        special_files: root,
        same_owner: keep_owners && root,
    }
}

/// Unpacks the tar read from `input` (plain, gzip or zstd) into the directory `dir`, which
/// every entry stays inside; `shown` names it in messages.
pub fn unpack(
    input: impl Read,
    dir: BorrowedFd<'_>,
    shown: &str,
    options: &ApplyOptions,
) -> Result<()> {
    let corrupt = |e: std::io::Error| ch03_union_fs::Error::CorruptArchive(e.to_string());
    let mut input = BufReader::with_capacity(1 << 16, input);
    let compression = Compression::detect(&mut input).map_err(corrupt)?;
    // Chapter 03 opens its target by path: this one names exactly the directory `dir` is.
    let target = format!("/proc/self/fd/{}", dir.as_raw_fd());
    let mut target = Target::open(Path::new(&target))?;
    let n = Narrator::silent();
    {
        let decoded = compression.decoder(&mut input).map_err(corrupt)?;
        let mut archive = tar::Archive::new(decoded);
        for entry in archive.entries().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            refuse_kind_change(dir, &entry, shown)?;
            apply_entry(&mut target, &mut entry, options, &n)?;
        }
    }
    target.finish()?;
    drain(&mut input);
    Ok(())
}

/// Refuses an entry that would replace a directory with something else, or something else
/// with a directory (docker's `NoOverwriteDirNonDir`).
fn refuse_kind_change<R: Read>(
    dir: BorrowedFd<'_>,
    entry: &tar::Entry<'_, R>,
    shown: &str,
) -> Result<()> {
    let path = entry_path::check(&entry.path_bytes())?;
    if path.name().is_none() {
        return Ok(()); // the directory itself
    }
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let Ok(existing) = rustix::fs::openat2(dir, path.relative(), flags, Mode::empty(), IN_ROOT)
    else {
        return Ok(()); // nothing there (or not reachable): nothing replaced
    };
    let Ok(stat) = rustix::fs::fstat(&existing) else {
        return Ok(());
    };
    let was_dir = FileType::from_raw_mode(stat.st_mode) == FileType::Directory;
    let is_dir = entry.header().entry_type() == EntryType::Directory;
    let relative = path.relative().to_string_lossy().into_owned();
    match (was_dir, is_dir) {
        (true, false) => Err(CopyError::WouldReplaceDirectory {
            entry: relative,
            into: shown.to_owned(),
        }
        .into()),
        (false, true) => Err(CopyError::WouldReplaceFile {
            entry: relative,
            into: shown.to_owned(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Reads what follows the archive's end (its zero blocks, padding): a writer piping a tar in
/// must not see the pipe closed before it wrote everything.
fn drain(input: &mut impl BufRead) {
    let mut rest = [0u8; 1 << 16];
    while matches!(input.read(&mut rest), Ok(n) if n > 0) {}
}
