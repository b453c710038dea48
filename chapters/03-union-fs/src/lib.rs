//! # Chapter 03: layer stacking with a union filesystem
//!
//! An image is a stack of read-only layers, shared by every container made from it; each
//! container writes to a thin layer of its own on top. overlayfs does the stacking in the
//! kernel: it shows the *lower* directories (the layers) and the *upper* directory (the
//! container's) as one *merged* tree. Reading finds a file in the topmost layer that has it;
//! the first write to a lower file copies it up into the upper directory; a deletion leaves a
//! *whiteout* there that hides the lower file.
//!
//! This crate runs chapter 02's container on such a stack ([`overlay::OverlayMount`], mounted
//! inside the container through [`ch01_namespaces::RootfsMount`]), keeps each container's
//! writable layer under a state directory ([`store`]), shows what a container changed
//! ([`diff`]), and reads and writes the OCI layer archive format that chapter 04's images are
//! made of ([`archive`]). Where overlayfs cannot be used, the vfs driver copies the layers
//! instead ([`copy::flatten`]).

//! ## The modules
//!
//! - [`run`]: a container on layers, from start to end; [`lifecycle`]: its life on disk
//!   (create, record, list, diff, commit, remove) over the [`store`] (`--root`);
//! - [`driver`] chooses how layers are stacked: [`overlay`] (mounted inside the container) or
//!   the vfs driver's [`copy`];
//! - [`diff`] reads what a container changed, from the layer views of `tree`; [`archive`]
//!   unpacks and writes layer archives safely; `whiteout` names how both say "deleted";
//! - [`cli`]: the command line, which later chapters' tools reuse; [`Error`]: what can go
//!   wrong, with its kind.

pub mod archive;
pub mod cli;
pub mod copy;
pub mod diff;
pub mod driver;
mod error;
pub mod lifecycle;
pub mod overlay;
pub mod run;
pub mod store;
mod tree;
mod whiteout;

pub use driver::Driver;
pub use error::{Error, Result};
pub use overlay::{MountApi, OverlayMount};
pub use run::{RunEnd, RunEvent, RunRequest, StorageOptions};
pub use store::{DEFAULT_ROOT, Record, State, Store};
