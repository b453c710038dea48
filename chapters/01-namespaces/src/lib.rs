//! # Chapter 01: an isolated process
//!
//! A container is not a virtual machine: it is an ordinary Linux process that the kernel shows
//! a different world. *Namespaces* give it its own view of one kind of resource each: process
//! ids (PID), mount points (mount), hostname (UTS), System V IPC (IPC), network interfaces
//! (net) and its cgroup (cgroup). A new root filesystem, swapped in with `pivot_root`, gives it
//! its own files.
//!
//! This crate starts such a process. [`Container::run`] clones a child into new namespaces,
//! lets the [`Step`]s later chapters add run while the child waits (chapter 02 puts it into a
//! cgroup), releases it to build its root filesystem and become the command, then waits for it
//! while forwarding signals.
//!
//! ```no_run
//! use ch01_namespaces::{Container, ContainerSpec};
//!
//! let mut spec = ContainerSpec::new("rootfs", vec!["/bin/hostname".into()])?;
//! spec.hostname = "box".into();
//! let status = Container::new(spec).run()?; // prints "box"
//! std::process::exit(status.code());
//! # Ok::<(), ch01_namespaces::Error>(())
//! ```

//! ## The modules
//!
//! The run, in the order it happens:
//!
//! - [`ContainerSpec`] and [`ProcessOptions`] (`spec`, `options`): what to run and how, plain
//!   data; [`cli`] turns the command line into them;
//! - `spawn`: the engine's side: clone the child, run the [`Step`]s (`steps`: the extension
//!   points later chapters implement), release it, supervise, tear down;
//! - `child`: the container's side, from `clone` to `execve`: `rootfs` (pivot_root and the
//!   pseudo-filesystems), `mounts` (the spec's [`Mount`]s, made before the pivot and attached
//!   inside the new root), [`security`] (capabilities, seccomp, masked paths), `net` (`lo`),
//!   `tty` (the terminal), `exec` (user, environment, the command itself), `init` (`--init`,
//!   which executes the sealed copy of `dockyard-init` that `init_program` makes);
//! - `sync` (the pipes between the two sides), `signals` and `relay` (forwarding signals and
//!   the terminal while the container runs), `fds` (what the container inherits), `status`
//!   (how it ended);
//! - [`Narrator`] (`explain`): `--explain`'s narration of every step; [`Error`]: what can go
//!   wrong, with its kind;
//! - [`Exec`] (`join`): a new process in a container that already runs (`docker exec`): it
//!   joins the container's namespaces and cgroups, then goes through the child's last steps
//!   above (`exec`, [`security`], `tty`) as the container's command did.

mod child;
pub mod cli;
mod error;
mod exec;
mod explain;
mod fds;
mod init;
mod init_program;
mod join;
mod mounts;
mod net;
mod options;
mod relay;
mod rootfs;
pub mod security;
mod signals;
mod spawn;
mod spec;
mod status;
mod steps;
mod sync;
mod tty;

pub use error::{Error, Result};
pub use explain::{Actor, Narrator};
pub use join::{CgroupJoin, Exec, ExecSpec, Joined};
pub use mounts::{Mount, MountKind, mount_inside};
pub use options::{ProcessOptions, resolve_env};
pub use spawn::Container;
pub use spec::{ContainerId, ContainerSpec, User};
pub use status::ExitStatus;
pub use steps::{RootfsMount, Step, StepError};
/// The user's terminal, for a later chapter's client attaching to a container's: raw mode.
pub use tty::{RawMode, stdin_terminal};
