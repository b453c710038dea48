//! # Chapter 06: containers that keep running
//!
//! Until this chapter a container lived exactly as long as the command that started it: the
//! engine process cloned it, relayed its output to the terminal and waited for it. A service
//! runs in the background while you do other things, so something else must wait for it, hold
//! its output and decide what happens when it ends. Docker gives that job to a small process
//! per container (containerd's shim; Podman's conmon); so does this chapter: the *monitor*.
//!
//! ## The modules
//!
//! - [`container`]: a container of this chapter on disk: chapter 03's record, the options it
//!   runs with ([`container::HostConfig`]) and the state its monitor keeps
//!   ([`container::RunState`]);
//! - [`lifecycle`]: create, start (a monitor spawned), stop, kill, wait, remove;
//! - [`exec`]: a process started in a running container (chapter 01's `Exec`), with the
//!   container's environment, user and confinement; and the health checks' captured runs;
//! - [`monitor`]: the process that keeps a detached container: its output to the log, its
//!   exit status, its restart policy;
//! - [`show`]: containers as `ps`, `inspect`, `top` and `stats` show them: the files read
//!   together and checked against the processes that exist; [`rename`]: another name;
//! - [`volume`]: named and anonymous volumes, `-v`/`--mount`/`--tmpfs`, and what a container's
//!   mounts become when it starts;
//! - [`copy`]: `cp`, files between a container and this machine, never read or written
//!   outside the container whatever it does meanwhile;
//! - [`log`]: its output, as docker's `json-file` log: written line by line from the
//!   container's pipes, rotated, read back with `--tail`, `--since`, `--until`, followed;
//! - [`cli`]: the command line (and chapter 05's commands carried over);
//! - [`Error`]: what can go wrong, with its kind.

pub mod cli;
pub mod compose;
pub mod container;
pub mod copy;
mod error;
pub mod exec;
pub mod lifecycle;
pub mod log;
pub mod monitor;
pub mod network;
pub mod rename;
pub mod show;
pub mod volume;

pub use error::{Error, Result};
