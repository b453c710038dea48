//! Whiteouts: how a layer says "this file from a lower layer is gone".
//!
//! In an OCI layer archive a deletion is an empty entry named `.wh.NAME` beside the deleted
//! `NAME`, and a directory whose lower contents are all hidden holds an entry `.wh..wh..opq`.
//! overlayfs has its own spelling on disk: a character device 0/0 named `NAME`, and the extended
//! attribute `trusted.overlay.opaque="y"` on the directory.

/// The prefix of a whiteout entry's file name in a layer archive.
pub const PREFIX: &str = ".wh.";
/// The name of the opaque-directory marker entry in a layer archive.
pub const OPAQUE: &str = ".wh..wh..opq";
/// The extended attribute overlayfs reads to treat a directory as opaque.
pub const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// The prefix of every extended attribute overlayfs owns: never taken from an archive.
pub const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";
