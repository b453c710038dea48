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

mod child;
pub mod cli;
pub mod error;
pub mod exec;
pub mod explain;
pub mod fds;
mod init;
mod init_program;
pub mod net;
mod relay;
pub mod rootfs;
pub mod security;
pub mod signals;
pub mod spawn;
pub mod spec;
mod sync;
mod tty;

pub use error::{Error, Result, exit_code};
pub use explain::{Actor, Narrator};
pub use spawn::{Container, ExitStatus, RootfsMount, Step, StepError};
pub use spec::{ContainerId, ContainerSpec, User};
