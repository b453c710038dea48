//! Unpacking a layer archive onto a directory (placeholder API, being written).

use std::io::Read;
use std::path::Path;

use ch01_namespaces::Narrator;

use crate::error::Result;

/// What to do with the archive's whiteout entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whiteouts {
    /// Write overlayfs whiteouts (a 0/0 character device, the opaque xattr): the target is an
    /// overlay lower layer.
    Overlay,
    /// Delete the named files: the target is a flat copy of everything below.
    Delete,
}

/// How to apply an archive.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How whiteouts are applied.
    pub whiteouts: Whiteouts,
    /// Whether device nodes and FIFOs may be created (root only); if not, such entries are
    /// refused.
    pub special_files: bool,
    /// Whether owners are restored (root only).
    pub same_owner: bool,
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
}

/// Applies the archive read from `reader` onto `target`.
pub fn apply(
    _reader: impl Read + Send + 'static,
    _target: &Path,
    _options: &ApplyOptions,
    _n: &Narrator,
) -> Result<Applied> {
    unimplemented!("being written")
}

/// Applies the archive file at `archive` onto `target`.
pub fn apply_file(
    _archive: &Path,
    _target: &Path,
    _options: &ApplyOptions,
    _n: &Narrator,
) -> Result<Applied> {
    unimplemented!("being written")
}
