//! The OCI image format: the documents an image is made of, checked as they are read.
//!
//! An image is a small graph of JSON documents and blobs, each named by its
//! [`Digest`](crate::digest::Digest) and pointed at by a [`Descriptor`] (media type, digest,
//! size):
//!
//! ```text
//! ImageIndex ──► Manifest ──► ImageConfig       (what to run; the layers' diff IDs)
//!  (one per         │
//!  platform)        └──────► layer, layer, ...  (tar archives, usually gzip-compressed)
//! ```
//!
//! - An [`ImageIndex`] lists manifests, one per platform (Docker calls it a manifest list).
//! - A [`Manifest`] is one image: a descriptor of its config and one of each layer.
//! - An [`ImageConfig`] says how to run the image and lists the digests of its unpacked layers.
//! - A [`Layout`] is the `oci-layout` file that marks a directory holding images as files.
//!
//! Docker's "image manifest v2, schema 2" is the format OCI grew out of: the same documents
//! under other [`media_type`]s, which every parser here accepts as they are.
//!
//! Every document type has `parse`, which checks the rules of the OCI image spec's JSON
//! schemas and the few more of its reference validator, and `to_json`, which writes
//! compact JSON that leaves out absent fields. Nothing past a successful `parse` needs to
//! check the document's shape again. The error, [`InvalidDocument`], names the document kind,
//! the field and the problem in one line.
//!
//! A document's digest is over its exact bytes, so keep the bytes that were fetched or
//! written: `to_json` of a parsed document is the same document, but rarely the same bytes
//! (field order, spacing and the fields we ignore all change).

mod config;
mod descriptor;
mod document;
mod error;
mod index;
mod layout;
mod manifest;
pub mod media_type;
mod validate;

pub use config::{ContainerConfig, EmptyObject, Healthcheck, History, ImageConfig, RootFs};
pub use descriptor::{Descriptor, Platform};
pub use error::{DocumentKind, InvalidDocument};
pub use index::ImageIndex;
pub use layout::Layout;
pub use manifest::Manifest;
pub use media_type::Compression;
