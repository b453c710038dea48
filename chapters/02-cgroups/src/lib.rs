//! # Chapter 02: resource limits with cgroups
//!
//! Namespaces decide what a container sees; nothing so far stops it from using all the memory,
//! all the CPU time or all the process slots of its host. *Control groups* do: the kernel counts
//! what every process in a group uses and enforces the group's limits: the OOM killer for
//! memory, the scheduler's quota for CPU, a refused `fork` for pids.
//!
//! This crate adds a cgroup to chapter 01's run as a [`ch01_namespaces::Step`]: the engine
//! creates the group while the child waits to be released, and the child is in it before its
//! command starts (moved there by the engine, or, on v1, moving itself as its first act once
//! released), so the command never runs a single instruction unlimited, and the child's cgroup
//! namespace, entered right after, shows that group as its root.
//!
//! ```no_run
//! use ch01_namespaces::{Container, ContainerSpec};
//! use ch02_cgroups::{CgroupStep, Limits, CGROUP_ROOT};
//!
//! let spec = ContainerSpec::new("rootfs", vec!["/bin/sh".into()])?;
//! let limits = Limits { memory: Some(64 << 20), ..Limits::default() };
//! let mut cgroup = CgroupStep::new(CGROUP_ROOT, "dockyard", spec.id.as_str(), limits);
//! let status = Container::new(spec).step(&mut cgroup).run()?;
//! println!("{:?}", cgroup.outcome());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//! ## The modules
//!
//! - [`CgroupOptions`] and [`Limits`] (`limits`): what the container may use, checked as
//!   `docker run` checks it; [`cli`] turns the command line into them;
//! - [`CgroupStep`] (`step`): the cgroup as a step of chapter 01's run, and the [`Outcome`]
//!   it saw;
//! - [`Cgroup`] (`cgroup`): one group on either hierarchy, behind the `backend` trait that
//!   `v1` (a directory per controller) and `v2` (one tree) implement, over `fs` (cgroups are
//!   files);
//! - [`Stats`] (`stats`): what a group used, and [`Usage`]: what it uses now; [`Error`]: what
//!   can go wrong, with its kind.

mod backend;
mod cgroup;
pub mod cli;
mod error;
mod fs;
mod limits;
mod stats;
mod step;
mod v1;
mod v2;
mod version;

pub use cgroup::{CGROUP_ROOT, Cgroup, remove_leftover};
pub use error::{Error, Result};
pub use limits::{CgroupOptions, DEFAULT_PARENT, Features, Limits, parse_size};
pub use stats::{Stats, Usage};
pub use step::{CgroupStep, Outcome};
pub use version::{Version, detect};
