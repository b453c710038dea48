//! What a container's monitor knows: where the container is in its life, its pid, how it
//! ended, how healthy it is. Times are nanoseconds since the epoch (docker's `inspect` shows
//! them in RFC 3339 with nanoseconds).

use serde::{Deserialize, Serialize};

/// The monitor's record, `state.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// Where the container is in its life.
    pub status: Status,
    /// The monitor's pid while it runs.
    pub monitor_pid: Option<u32>,
    /// The container's first process, as the host sees its pid, while it runs.
    pub pid: Option<u32>,
    /// When its command last started.
    pub started_ns: Option<u64>,
    /// When its command last ended.
    pub finished_ns: Option<u64>,
    /// How its command last ended (128+N for signal N).
    pub exit_code: Option<i32>,
    /// Whether the kernel's OOM killer ended it.
    pub oom_killed: bool,
    /// How many times the monitor restarted it.
    pub restart_count: u32,
    /// Why it could not start, when it could not.
    pub error: Option<String>,
    /// Its health, when it has a health check.
    pub health: Option<Health>,
}

/// Where a container is in its life, as docker's `State.Status` names it. `paused` is not
/// here: the cgroup's freezer says it, read when asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Made, never started (or its command could not start).
    #[default]
    Created,
    /// Its command runs.
    Running,
    /// It ended and its monitor waits to start it again (a restart policy).
    Restarting,
    /// It ended.
    Exited,
    /// Its monitor is gone while it claimed to run: what became of it is unknown.
    Dead,
}

/// A health check's verdict so far, as docker's `State.Health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `starting` until the first verdict, then `healthy` or `unhealthy`.
    pub status: HealthStatus,
    /// How many checks in a row failed.
    pub failing_streak: u32,
    /// The last five checks, oldest first.
    pub log: Vec<HealthResult>,
}

/// A health status, as docker names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// No verdict yet.
    #[default]
    Starting,
    /// The last check passed.
    Healthy,
    /// `retries` checks in a row failed.
    Unhealthy,
}

/// One health check: when it ran, how it ended, what it printed (the first 4 KiB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResult {
    /// When it started.
    pub start_ns: u64,
    /// When it ended.
    pub end_ns: u64,
    /// Its exit code: 0 healthy, anything else a failure (-1 for a timeout, as docker).
    pub exit_code: i32,
    /// What it printed.
    pub output: String,
}
