//! The limits `docker run` takes, parsed and checked the way Docker checks them.

use crate::error::{Error, Result};

/// The CFS period Docker uses for `--cpus` (100 ms, in microseconds): `--cpus 0.5` becomes a
/// quota of 50 ms of CPU time per 100 ms.
pub const CPU_PERIOD_US: u64 = 100_000;

/// Docker refuses memory limits below 6 MiB: a smaller container cannot even start a shell.
pub const MIN_MEMORY: u64 = 6 * 1024 * 1024;

// ANCHOR: limits
/// What the container may use. `None` leaves a resource unlimited.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// `--memory`: bytes of memory.
    pub memory: Option<u64>,
    /// `--memory-swap`: bytes of memory *plus* swap; -1 for unlimited swap.
    pub memory_swap: Option<i64>,
    /// `--cpus`: how many CPUs' worth of time per period.
    pub cpus: Option<f64>,
    /// `--cpu-shares`: relative weight under contention (1024 is the default).
    pub cpu_shares: Option<u64>,
    /// `--cpuset-cpus`: which CPUs, as a list such as `0-1` or `0,2`.
    pub cpuset_cpus: Option<String>,
    /// `--pids-limit`: how many processes and threads at once.
    pub pids: Option<u64>,
}
// ANCHOR_END: limits

// ANCHOR: features
/// What a group offers beyond its limits. On cgroup v1 each is a hierarchy more to create, join
/// and remove on every run, so they are off unless asked for; on v2 the one directory has them
/// all anyway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Features {
    /// Every counter of [`crate::Stats`] (v1: joins `cpuacct`, `cpu` and `pids` even without limits).
    pub stats: bool,
    /// [`crate::Cgroup::freeze`] and [`crate::Cgroup::thaw`] (v1: joins `freezer`).
    pub freezer: bool,
}
// ANCHOR_END: features

/// The parent group of containers' groups, as Docker's is `docker`.
pub const DEFAULT_PARENT: &str = "dockyard";

/// Where a container's cgroup goes and what it may use: what a caller of chapter 02 decides.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CgroupOptions {
    /// The parent group (`--cgroup-parent`), relative to the cgroup root.
    pub parent: String,
    /// What the container may use.
    pub limits: Limits,
    /// What the group must offer beyond the limits (counters, freezing).
    pub features: Features,
}

impl Default for CgroupOptions {
    fn default() -> Self {
        CgroupOptions {
            parent: DEFAULT_PARENT.to_string(),
            limits: Limits::default(),
            features: Features::default(),
        }
    }
}

impl Limits {
    /// Checks the combination, as `docker run` does before creating anything.
    pub fn validate(&self) -> Result<()> {
        if let Some(memory) = self.memory
            && memory < MIN_MEMORY
        {
            return Err(Error::Invalid(format!(
                "--memory {memory} is below the minimum of 6 MiB"
            )));
        }
        match (self.memory, self.memory_swap) {
            (None, Some(_)) => {
                return Err(Error::Invalid(
                    "--memory-swap needs --memory: it is the total of memory and swap".into(),
                ));
            }
            (Some(memory), Some(swap)) if swap >= 0 && (swap as u64) < memory => {
                return Err(Error::Invalid(format!(
                    "--memory-swap {swap} is smaller than --memory {memory}: it counts memory plus swap"
                )));
            }
            _ => {}
        }
        if let Some(cpus) = self.cpus {
            let online = usable_cpus() as f64;
            if !(cpus > 0.0 && cpus <= online) {
                return Err(Error::Invalid(format!(
                    "--cpus {cpus} is out of range: this machine has {online} CPUs"
                )));
            }
        }
        if let Some(shares) = self.cpu_shares
            && !(2..=262_144).contains(&shares)
        {
            return Err(Error::Invalid(format!(
                "--cpu-shares {shares} is out of range (2 to 262144)"
            )));
        }
        if let Some(list) = &self.cpuset_cpus {
            parse_cpu_list(list)?;
        }
        Ok(())
    }

    /// The CFS quota for `--cpus`, in microseconds per [`CPU_PERIOD_US`].
    pub fn cpu_quota_us(&self) -> Option<u64> {
        self.cpus
            .map(|cpus| (cpus * CPU_PERIOD_US as f64).round() as u64)
    }
}

/// How many CPUs this process may run on, as Docker counts them for `--cpus` (Go's
/// `runtime.NumCPU`): the CPUs in its affinity mask, one `sched_getaffinity` call.
/// (`std::thread::available_parallelism` would also read the engine's own cgroup quota, a dozen
/// system calls more, and a quota on the engine says nothing about what a container may get.)
fn usable_cpus() -> usize {
    use nix::sched::{CpuSet, sched_getaffinity};
    sched_getaffinity(nix::unistd::Pid::from_raw(0)).map_or(1, |set| {
        (0..CpuSet::count())
            .filter(|cpu| set.is_set(*cpu).unwrap_or(false))
            .count()
            .max(1)
    })
}

/// Parses a size as `docker run` does: a number with an optional `b`, `k`, `m` or `g` suffix
/// (binary units, case-insensitive).
pub fn parse_size(text: &str) -> Result<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => lower.split_at(at),
        None => (lower.as_str(), ""),
    };
    let multiplier: u64 = match unit.trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => {
            return Err(Error::Invalid(format!(
                "invalid size {text:?}: use a number with b, k, m or g, e.g. 64m"
            )));
        }
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| Error::Invalid(format!("invalid size {text:?}: use a number, e.g. 64m")))?;
    Ok((value * multiplier as f64) as u64)
}

/// Parses `--memory-swap`: a size, or -1 for unlimited swap.
pub fn parse_swap(text: &str) -> Result<i64> {
    if text.trim() == "-1" {
        return Ok(-1);
    }
    Ok(parse_size(text)? as i64)
}

/// Checks a CPU list such as `0-3,5` and returns the CPUs it names.
pub fn parse_cpu_list(list: &str) -> Result<Vec<u32>> {
    let bad = || Error::Invalid(format!("invalid CPU list {list:?}: use e.g. 0-1 or 0,2"));
    let mut cpus = Vec::new();
    for part in list.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(cpus)
}

// ANCHOR: weight
/// Maps `--cpu-shares` (v1's `cpu.shares`, 2 to 262144, default 1024) onto v2's `cpu.weight`
/// (1 to 10000, default 100) the way runc does: a linear map of one range onto the other.
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142
}
// ANCHOR_END: weight

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_dockers_suffixes() {
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("100b").unwrap(), 100);
        assert_eq!(parse_size("64k").unwrap(), 64 << 10);
        assert_eq!(parse_size("32m").unwrap(), 32 << 20);
        assert_eq!(parse_size("32MB").unwrap(), 32 << 20);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("1.5g").unwrap(), 3 << 29);
        assert!(parse_size("12q").is_err());
        assert!(parse_size("m").is_err());
        assert_eq!(parse_swap("-1").unwrap(), -1);
    }

    #[test]
    fn shares_map_onto_weights_like_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn cpu_lists_parse_and_reject_nonsense() {
        assert_eq!(parse_cpu_list("0-2,5").unwrap(), [0, 1, 2, 5]);
        assert!(parse_cpu_list("2-1").is_err());
        assert!(parse_cpu_list("a").is_err());
    }

    #[test]
    fn combinations_are_checked() {
        let limits = |memory, memory_swap| Limits {
            memory,
            memory_swap,
            ..Limits::default()
        };
        assert!(limits(Some(MIN_MEMORY - 1), None).validate().is_err());
        assert!(limits(None, Some(1 << 30)).validate().is_err());
        assert!(limits(Some(64 << 20), Some(32 << 20)).validate().is_err());
        assert!(limits(Some(64 << 20), Some(-1)).validate().is_ok());
        let half = Limits {
            cpus: Some(0.5),
            ..Limits::default()
        };
        assert_eq!(half.cpu_quota_us(), Some(50_000));
    }
}
