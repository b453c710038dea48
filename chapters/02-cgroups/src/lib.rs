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

pub mod cgroup;
pub mod cli;
pub mod error;
mod fs;
pub mod limits;
pub mod stats;
pub mod step;
mod v1;
mod v2;

pub use cgroup::{Backend, CGROUP_ROOT, Cgroup, Features, Version, detect};
pub use error::{Error, Result};
pub use limits::Limits;
pub use stats::Stats;
pub use step::{CgroupStep, Outcome};
