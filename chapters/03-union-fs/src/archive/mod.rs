//! The OCI layer archive format: a tar of the files a layer adds or changes, with deletions
//! written as whiteout entries.
//!
//! - [`apply`] unpacks an archive (plain, gzip or zstd) onto a directory, safely.
//! - [`write_layer`] writes a container's changes as an archive.
//!
//! Both use the whiteout conventions named in the crate's `whiteout` module.

pub mod apply;
pub mod compression;
pub mod write;

pub use apply::{Applied, ApplyFailure, ApplyOptions, Whiteouts, apply, apply_file, apply_to_end};
pub use compression::Compression;
pub use write::{Written, write_layer};
