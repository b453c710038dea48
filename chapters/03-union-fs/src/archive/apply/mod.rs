//! Unpacking a layer archive onto a directory.
//!
//! - [`path`] keeps every entry inside the target;
//! - [`entry`] creates one entry (or applies one whiteout);
//! - [`pipeline`] reads, decompresses and hashes on a thread of its own.

pub mod entry;
pub mod path;
pub mod pipeline;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ch01_namespaces::{Actor, Narrator};
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use entry::Target;
use pipeline::{AfterFailure, TarStream};

/// What to do with the archive's whiteout entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whiteouts {
    /// Write overlayfs whiteouts (a 0/0 character device, the opaque xattr): the target is an
    /// overlay lower layer.
    Overlay,
    /// Delete the named files: the target is a flat copy of everything below.
    Delete,
    /// No whiteouts at all: `.wh.` entries are ordinary files. The archive is not a layer but
    /// a plain tar unpacked somewhere (a Dockerfile's `ADD x.tar /dir/`, a build context).
    Plain,
}

/// How to apply an archive.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How whiteouts are applied.
    pub whiteouts: Whiteouts,
    /// Whether device nodes may be created (root only); if not, such entries are refused.
    pub special_files: bool,
    /// Whether owners are restored (root only).
    pub same_owner: bool,
}

impl ApplyOptions {
    /// Everything this process may do: devices and owners when running as root.
    pub fn for_this_process(whiteouts: Whiteouts) -> ApplyOptions {
        let root = rustix::process::geteuid().is_root();
        ApplyOptions {
            whiteouts,
            special_files: root,
            same_owner: root,
        }
    }
}

/// What applying an archive found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `sha256:<hex>` of the uncompressed tar (the OCI "diff id").
    pub diff_id: String,
    /// `sha256:<hex>` of the bytes as read (the blob digest when compressed).
    pub digest: String,
    /// Bytes read.
    pub compressed_size: u64,
    /// Bytes of uncompressed tar.
    pub size: u64,
    /// Entries applied.
    pub entries: u64,
    /// The compression the archive came in.
    pub compression: crate::archive::Compression,
}

/// Applies the archive read from `reader` (plain, gzip or zstd tar) onto the directory
/// `target`. On error the target may hold part of the archive, never anything outside it.
pub fn apply(
    reader: impl Read + Send + 'static,
    target: &Path,
    options: &ApplyOptions,
    n: &Narrator,
) -> Result<Applied> {
    unpack(reader, target, options, AfterFailure::Stop, n).map_err(|failure| failure.error)
}

/// An archive that could not be applied.
#[derive(Debug)]
pub struct ApplyFailure {
    /// What went wrong.
    pub error: Error,
    /// `sha256:<hex>` of all the bytes of the input, when they could be read to the end.
    pub digest: Option<String>,
}

/// As [`apply`], but when the archive cannot be applied the rest of the input is still read
/// and hashed (not decompressed): the failure carries the digest of the whole input, so the
/// caller can tell bytes that are not the blob it asked for (a damaged download) from a blob
/// that is itself a broken archive.
pub fn apply_to_end(
    reader: impl Read + Send + 'static,
    target: &Path,
    options: &ApplyOptions,
    n: &Narrator,
) -> std::result::Result<Applied, ApplyFailure> {
    unpack(reader, target, options, AfterFailure::ReadToEnd, n)
}

fn unpack(
    reader: impl Read + Send + 'static,
    target: &Path,
    options: &ApplyOptions,
    after_failure: AfterFailure,
    n: &Narrator,
) -> std::result::Result<Applied, ApplyFailure> {
    let corrupt = |e: std::io::Error| Error::CorruptArchive(e.to_string());
    let unread = |error| ApplyFailure {
        error,
        digest: None,
    };
    let mut dir = Target::open(target).map_err(unread)?;
    let stream = TarStream::start(reader, after_failure)
        .map_err(|e| unread(Error::io("start reading the archive for", target)(e)))?;
    let mut archive = tar::Archive::new(stream);
    let unpacked = apply_entries(&mut archive, &mut dir, options, n);
    let stream = archive.into_inner();
    let entries = match unpacked {
        Ok(entries) => entries,
        Err(error) => {
            let whole = stream.abandon();
            return Err(ApplyFailure {
                error,
                digest: whole.map(|(digest, _)| digest),
            });
        }
    };
    let digests = stream.finish().map_err(|failure| ApplyFailure {
        error: corrupt(failure.error),
        digest: failure.whole.map(|(digest, _)| digest),
    })?;
    n.say(
        Actor::Engine,
        format!(
            "applied {entries} entries ({:?}, {} bytes of tar): diff id {}",
            digests.compression, digests.size, digests.diff_id
        ),
    );
    Ok(Applied {
        diff_id: digests.diff_id,
        digest: digests.digest,
        compressed_size: digests.compressed_size,
        size: digests.size,
        entries,
        compression: digests.compression,
    })
}

/// Creates every entry of the archive in `dir`; returns how many there were.
fn apply_entries(
    archive: &mut tar::Archive<TarStream>,
    dir: &mut Target,
    options: &ApplyOptions,
    n: &Narrator,
) -> Result<u64> {
    let corrupt = |e: std::io::Error| Error::CorruptArchive(e.to_string());
    let mut entries = 0;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        entry::apply_entry(dir, &mut entry, options, n)?;
        entries += 1;
    }
    dir.finish()?;
    Ok(entries)
}

/// Applies the archive file at `archive` onto `target`.
pub fn apply_file(
    archive: &Path,
    target: &Path,
    options: &ApplyOptions,
    n: &Narrator,
) -> Result<Applied> {
    let file = File::open(archive).map_err(Error::io("open the archive", archive))?;
    apply(file, target, options, n)
}
