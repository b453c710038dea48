//! What a container used, and what it uses now, from its cgroup's own counters.

use std::fmt;

use dockyard_support::format::human_bytes;

/// A cgroup's counters at one instant (or at the container's end, for `--stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// The most memory the group used at once, in bytes (v2 needs Linux 5.19 for `memory.peak`).
    pub memory_peak: Option<u64>,
    /// How often the group hit its memory limit.
    pub memory_limit_hits: u64,
    /// CPU time in user mode, microseconds.
    pub user_usec: u64,
    /// CPU time in the kernel on the group's behalf, microseconds.
    pub system_usec: u64,
    /// The most processes (and threads) the group held at once, where the kernel counts it
    /// (`pids.peak`); otherwise the count at the end.
    pub pids_peak: u64,
    /// Scheduler periods in which the group ran out of CPU quota.
    pub throttled_periods: u64,
    /// Time the group spent throttled, microseconds.
    pub throttled_usec: u64,
}

/// What a group uses at this instant, as `docker stats` shows it. A counter whose controller
/// the group did not join (a v1 hierarchy; see [`crate::Features`]) is `None`: its processes
/// are counted with their parent group's there, so the group's own share is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of memory in use, less the page cache the kernel may drop at once (inactive
    /// file pages), as docker counts it.
    pub memory: u64,
    /// The group's memory limit; `None` when it has none.
    pub memory_limit: Option<u64>,
    /// CPU time used since the group was made, in nanoseconds.
    pub cpu_ns: Option<u64>,
    /// Processes and threads in the group.
    pub pids: Option<u64>,
    /// Bytes read from and written to block devices.
    pub block_io: Option<(u64, u64)>,
}

fn seconds(usec: u64) -> String {
    format!("{:.2}s", usec as f64 / 1e6)
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peak = self
            .memory_peak
            .map_or_else(|| "unknown".to_string(), human_bytes);
        writeln!(
            f,
            "memory peak:  {peak} (limit reached {} times)",
            self.memory_limit_hits
        )?;
        writeln!(
            f,
            "cpu time:     {} user, {} system",
            seconds(self.user_usec),
            seconds(self.system_usec)
        )?;
        writeln!(f, "pids peak:    {}", self.pids_peak)?;
        writeln!(
            f,
            "throttled:    {} in {} periods",
            seconds(self.throttled_usec),
            self.throttled_periods
        )
    }
}
