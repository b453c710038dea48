//! `ADD archive.tar /dir/`: a local tar is unpacked, not copied.
//!
//! `ADD` looks inside each local file it is given: one that reads as a tar (plain, gzip or
//! zstd: chapter 03's `Compression::detect`, then one tar header) is unpacked into the
//! destination, which is then always a directory; anything else is copied as `COPY` would.
//! The archive's owners, modes and times are kept (`--chown` does not apply to them, and the
//! directory it is unpacked into is `root`'s: docker 20.10 does both). Its `.wh.` entries are
//! ordinary files: this is not an image layer.
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
use ch03_union_fs::archive::{ApplyOptions, Compression, Whiteouts};
use dockyard_support::FromIo;

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
    }
    target.finish()?;
    Ok(())
}
