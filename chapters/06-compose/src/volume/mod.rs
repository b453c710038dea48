//! # Volumes: data that outlives its container
//!
//! A container's writable layer goes when the container goes, and is buried under the image's
//! files besides. Data meant to last (a database's files, uploads) lives instead in a
//! *volume*: a directory the engine keeps under its own root, `<root>/volumes/<name>/_data`,
//! bound on a path of each container that uses it. Removing the container leaves the volume;
//! another container can mount it next. The same mechanism, given a host path instead of a
//! name, is a *bind* (`-v /srv/site:/usr/share/nginx/html`); given nothing, a *tmpfs*.
//!
//! The pieces, in the order a container meets them:
//!
//! 1. [`plan`] reads `-v`, `--mount` and `--tmpfs` as docker does ([`spec`]) when a container is
//!    created, and adds an *anonymous* volume (a random 64-hex-digit name) for each path the
//!    image declares with `VOLUME` and the command line leaves alone. The result,
//!    [`VolumePlan`], goes into the container's `hostconfig.json`.
//! 2. [`mounts_for`], each time the container starts, creates the volumes that do not exist
//!    yet, fills an empty one with the image's files at its target ([`copy_up`], docker's
//!    "copy-up"), and hands everything to chapter 01 as binds and tmpfs mounts, whose targets
//!    chapter 01 resolves inside the container's root.
//! 3. [`remove_anonymous`], when the container is removed with `rm -v` (or `--rm`), removes
//!    the anonymous volumes it had; named ones stay until `volume rm` or `volume prune -a`.
//!
//! The volumes themselves are a small store ([`Volumes`]): made whole or not at all, removed
//! only while no container names them ([`usage`]), listed and inspected as docker shows them
//! ([`view`]), pruned ([`prune`]).

pub mod copy_up;
pub mod driver;
/// Its errors live with the crate's (each wraps the other).
use crate::error::volume as error;
pub mod name;
pub mod plan;
pub mod prune;
pub mod record;
pub mod resolve;
pub mod spec;
pub mod store;
pub mod usage;
pub mod view;

pub use crate::error::volume::{Error, Result};
pub use plan::{MountRequest, VolumePlan, plan};
pub use prune::Pruned;
pub use record::{Metadata, Volume};
pub use resolve::{mounts_for, remove_anonymous};
pub use store::{CreateOptions, Volumes};
pub use view::{Document, Filters};
