//! # Chapter 04: OCI images, the local image store, and registries
//!
//! An image is a content-addressed bundle: a *manifest* names a *config* (what to run, and
//! how) and an ordered list of *layers* (chapter 03's archives), each by the sha256 digest of
//! its bytes. Because every piece is named by its hash, an image can be checked after it
//! travelled, and two images that share a layer share it on disk.
//!
//! - [`oci`] and [`digest`]: the documents, validated on the way in; [`reference`] and
//!   [`platform`]: what names an image, and which of a multi-platform image's;
//! - [`store`]: blobs, unpacked layers by chain id, the catalog of names; crash-safe;
//!   [`image`]: one image of it;
//! - [`load`]: `docker save` archives and OCI layouts into the store;
//! - [`run`]: an image's config applied to chapter 03's container;
//! - [`create`] and [`save`]: `import`, `commit`, and images back out as archives;
//! - [`list`], [`tag`], [`remove`] and [`inspect`]: `images`, `tag`, `rmi`, `inspect`,
//!   `history`, as data;
//! - [`registry`] and [`credentials`]: `pull`, `push`, `login` in the OCI distribution
//!   protocol;
//! - [`cli`]: the command line, one module per subcommand, which prints what the rest
//!   returns; [`Error`]: what can go wrong, with its kind.

pub mod cli;
pub mod create;
pub mod credentials;
pub mod digest;
mod error;
pub mod image;
pub mod inspect;
pub mod list;
pub mod load;
pub mod oci;
pub mod platform;
pub mod reference;
pub mod registry;
pub mod remove;
pub mod run;
pub mod save;
pub mod store;
pub mod tag;

pub use digest::Digest;
pub use error::{Error, Result};
pub use image::Image;
pub use reference::Reference;
pub use store::ImageStore;
