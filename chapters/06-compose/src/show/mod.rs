//! # Showing containers: `ps`, `inspect`, `top`, `stats`
//!
//! A container of this chapter is three files (chapter 03's record, `hostconfig.json`,
//! `state.json`) and, while it runs, a cgroup full of processes. Showing it means reading
//! the files and checking them against what exists now: a monitor killed with SIGKILL leaves
//! a `state.json` that says "running" forever, and only the processes can say whether that
//! is still true. [`ContainerView`] does that once, for every command here:
//!
//! - [`view`]: a container's files read together, with its *effective* status (a stale
//!   "running" becomes dead or exited) and whether its cgroup is frozen (paused);
//! - `status`: docker's words for it: `Up 2 hours (healthy)`, `Exited (137) 2 seconds ago`,
//!   `paused`, `health: starting`;
//! - [`filter`]: which containers `ps` lists (`-a`, `-n`, `--filter`);
//! - [`inspect`]: docker's JSON document of a container, and [`template`]: `inspect -f`'s
//!   `{{.State.Status}}` over it;
//! - [`top`]: the processes in its cgroup, as `ps -ef` shows them;
//! - [`stats`]: what its cgroup counts, as `docker stats` works it out.

pub mod filter;
pub mod inspect;
pub mod network;
pub mod stats;
mod status;
pub mod template;
pub mod top;
pub mod view;

pub use filter::{Selection, select};
pub use status::{health_word, status_word};
pub use view::{ContainerView, find, list};
