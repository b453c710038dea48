//! The command line of chapter 02: the options it adds to `run`, as a piece later chapters
//! flatten into their own, and how a tool reports what the cgroup saw. The library takes the
//! plain [`CgroupOptions`] they become.

use std::fmt::Write;

use clap::Args;
use dockyard_support::format::human_bytes;

use crate::error::Result;
use crate::limits::Features;
use crate::limits::{CgroupOptions, DEFAULT_PARENT, Limits, parse_size, parse_swap};
use crate::step::Outcome;

// ANCHOR: limit_args
/// Resource limits, as `docker run` spells them.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Memory limit (b, k, m or g), e.g. 64m
    #[arg(short = 'm', long, value_name = "SIZE")]
    pub memory: Option<String>,

    /// Memory plus swap limit; -1 for unlimited swap
    #[arg(long = "memory-swap", value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,

    /// CPUs' worth of time, e.g. 0.5
    #[arg(long, value_name = "N.N")]
    pub cpus: Option<f64>,

    /// Relative CPU weight under contention (default 1024)
    #[arg(short = 'c', long = "cpu-shares", value_name = "N")]
    pub cpu_shares: Option<u64>,

    /// CPUs the container may run on, e.g. 0-1 or 0,2
    #[arg(long = "cpuset-cpus", value_name = "LIST")]
    pub cpuset_cpus: Option<String>,

    /// Most processes and threads at once (0 or -1: unlimited)
    #[arg(long = "pids-limit", value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,

    /// Parent cgroup of the container's cgroup
    #[arg(
        long = "cgroup-parent",
        value_name = "PATH",
        default_value = DEFAULT_PARENT
    )]
    pub cgroup_parent: String,

    /// Print what the container used when it ends
    #[arg(long)]
    pub stats: bool,
}
// ANCHOR_END: limit_args

impl LimitArgs {
    /// The library's options: the limits, parsed and checked, the parent group, and the
    /// counters with `--stats`.
    pub fn options(&self) -> Result<CgroupOptions> {
        let limits = Limits {
            memory: self.memory.as_deref().map(parse_size).transpose()?,
            memory_swap: self.memory_swap.as_deref().map(parse_swap).transpose()?,
            cpus: self.cpus,
            cpu_shares: self.cpu_shares,
            cpuset_cpus: self.cpuset_cpus.clone(),
            pids: self.pids_limit.filter(|n| *n > 0).map(|n| n as u64),
        };
        limits.validate()?;
        Ok(CgroupOptions {
            parent: self.cgroup_parent.clone(),
            limits,
            features: Features {
                stats: self.stats,
                ..Features::default()
            },
        })
    }
}

// ANCHOR: oom_message
/// The line explaining an out-of-memory kill, from the cgroup's own OOM counter rather than a
/// guess from the exit signal (a SIGKILL can come from anywhere).
pub fn oom_message(outcome: &Outcome, limits: &Limits, status: i32) -> Option<String> {
    if outcome.oom_kills == 0 {
        return None;
    }
    let limit = limits.memory.map_or_else(|| "none".into(), human_bytes);
    Some(if status == 137 {
        format!("container killed: out of memory (limit {limit})")
    } else {
        format!(
            "out of memory: the kernel killed {} process(es) in the container (limit {limit})",
            outcome.oom_kills
        )
    })
}
// ANCHOR_END: oom_message

/// What a tool prints on stderr once the container ended: the OOM line, prefixed with the
/// tool's name, and the counters where they were asked for (`--stats`).
pub fn outcome_report(program: &str, outcome: &Outcome, limits: &Limits, status: i32) -> String {
    let mut report = String::new();
    if let Some(message) = oom_message(outcome, limits, status) {
        let _infallible = writeln!(report, "{program}: {message}");
    }
    if let Some(stats) = &outcome.stats {
        let _infallible = write!(report, "{stats}");
    }
    report
}
