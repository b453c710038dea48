//! What a container used, from its cgroup's own counters.

use std::fmt;

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

/// Bytes in binary units, as Docker prints them.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_docker_prints_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(32 << 20), "32 MiB");
        assert_eq!(human_bytes(1536 << 10), "1.5 MiB");
        assert_eq!(human_bytes(3 << 30), "3 GiB");
    }
}
