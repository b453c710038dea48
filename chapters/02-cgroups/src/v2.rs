//! Cgroup v2: one tree, where each group enables the controllers its children may use.

use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::fs;
use crate::limits::{CPU_PERIOD_US, Limits, shares_to_weight};
use crate::stats::{Stats, Usage};

/// The controllers a container's group uses.
const CONTROLLERS: [&str; 4] = ["memory", "pids", "cpu", "cpuset"];

/// How long freezing may take before it is reported as stuck.
const FREEZE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// A container's group in the unified hierarchy.
#[derive(Debug)]
pub struct V2 {
    dir: PathBuf,
}

impl V2 {
    // ANCHOR: v2_create
    /// Creates the group, makes sure every level above it hands the controllers down, writes
    /// the limits.
    pub fn create(root: &Path, relative: &Path, limits: &Limits, n: &Narrator) -> Result<Self> {
        let dir = root.join(relative);
        fs::create_dirs(root, &dir, n)?;
        let group = V2 { dir };
        let ready = group
            .delegate_controllers(root, n)
            .and_then(|()| group.write_limits(limits, n));
        if let Err(error) = ready {
            // Best effort: the directory is empty, the first error is the one to report.
            let _cleanup = group.remove(n);
            return Err(error);
        }
        Ok(group)
    }

    /// A group's `cgroup.controllers` lists what its parent hands down, so one read tells
    /// whether the controllers are there (every run after the first). If not, each level from
    /// the root down to the parent enables them for its children.
    fn delegate_controllers(&self, root: &Path, n: &Narrator) -> Result<()> {
        let offered = fs::read(&self.dir.join("cgroup.controllers"))?;
        if has_all(&offered) {
            return Ok(());
        }
        let available = fs::read(&root.join("cgroup.controllers"))?;
        for controller in CONTROLLERS {
            if !available.split_whitespace().any(|c| c == controller) {
                return Err(Error::MissingController {
                    version: "v2",
                    controller,
                });
            }
        }
        let parent = self.dir.parent().expect("a container's group has a parent");
        let levels: Vec<&Path> = parent
            .ancestors()
            .take_while(|p| p.starts_with(root))
            .collect();
        for level in levels.into_iter().rev() {
            enable_controllers(level, n)?;
        }
        Ok(())
    }
    // ANCHOR_END: v2_create

    /// The existing group `relative`, or `None` if it does not exist.
    pub fn open(root: &Path, relative: &Path) -> Option<Self> {
        let dir = root.join(relative);
        dir.is_dir().then_some(V2 { dir })
    }

    fn write_limits(&self, limits: &Limits, n: &Narrator) -> Result<()> {
        let file = |name: &str| self.dir.join(name);
        if let Some(memory) = limits.memory {
            fs::write(&file("memory.max"), &memory.to_string(), n)?;
        }
        if let (Some(memory), Some(total)) = (limits.memory, limits.memory_swap) {
            // v1 limits memory+swap together; v2 limits swap alone.
            let swap = if total < 0 {
                "max".to_string()
            } else {
                (total as u64 - memory).to_string()
            };
            fs::write(&file("memory.swap.max"), &swap, n)?;
        }
        if let Some(quota) = limits.cpu_quota_us() {
            fs::write(&file("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"), n)?;
        }
        if let Some(shares) = limits.cpu_shares {
            fs::write(
                &file("cpu.weight"),
                &shares_to_weight(shares).to_string(),
                n,
            )?;
        }
        if let Some(cpus) = &limits.cpuset_cpus {
            fs::write(&file("cpuset.cpus"), cpus, n)?;
        }
        if let Some(pids) = limits.pids {
            fs::write(&file("pids.max"), &pids.to_string(), n)?;
        }
        Ok(())
    }
}

/// Whether a `cgroup.controllers` or `cgroup.subtree_control` text lists every controller.
fn has_all(listed: &str) -> bool {
    CONTROLLERS
        .iter()
        .all(|c| listed.split_whitespace().any(|l| l == *c))
}

/// Writes `+memory +pids +cpu +cpuset` to a level's `cgroup.subtree_control` unless they are
/// enabled there already.
fn enable_controllers(level: &Path, n: &Narrator) -> Result<()> {
    let control = level.join("cgroup.subtree_control");
    let enabled = fs::read(&control)?;
    let missing: Vec<String> = CONTROLLERS
        .iter()
        .filter(|c| !enabled.split_whitespace().any(|e| e == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    fs::write(&control, &missing.join(" "), n)
}

/// Bytes read and written, from `io.stat`: a line per device, `8:0 rbytes=4096 wbytes=512 …`.
fn block_io_v2(text: &str) -> (u64, u64) {
    let mut read_write = (0, 0);
    for field in text.split_whitespace() {
        match field.split_once('=') {
            Some(("rbytes", bytes)) => read_write.0 += bytes.parse().unwrap_or(0),
            Some(("wbytes", bytes)) => read_write.1 += bytes.parse().unwrap_or(0),
            _ => {}
        }
    }
    read_write
}

/// Reads an optional counter file (newer kernels add files such as `memory.peak`).
fn optional_number(path: &Path) -> Option<u64> {
    fs::read_number(path).ok()
}

impl Backend for V2 {
    fn attach(&self, pid: i32, n: &Narrator) -> Result<()> {
        fs::write(&self.dir.join("cgroup.procs"), &pid.to_string(), n)
    }

    fn oom_kills(&self) -> Result<u64> {
        fs::read_key(&self.dir.join("memory.events"), "oom_kill")
    }

    fn stats(&self) -> Result<Stats> {
        let cpu_stat = fs::read(&self.dir.join("cpu.stat"))?;
        let pids_peak = optional_number(&self.dir.join("pids.peak"))
            .map_or_else(|| fs::read_number(&self.dir.join("pids.current")), Ok)?;
        Ok(Stats {
            memory_peak: optional_number(&self.dir.join("memory.peak")),
            memory_limit_hits: fs::read_key(&self.dir.join("memory.events"), "max")?,
            user_usec: fs::key(&cpu_stat, "user_usec"),
            system_usec: fs::key(&cpu_stat, "system_usec"),
            pids_peak,
            throttled_periods: fs::key(&cpu_stat, "nr_throttled"),
            throttled_usec: fs::key(&cpu_stat, "throttled_usec"),
        })
    }

    fn usage(&self) -> Result<Usage> {
        let file = |name: &str| self.dir.join(name);
        let used = fs::read_number(&file("memory.current"))?;
        let cache = fs::read_key(&file("memory.stat"), "inactive_file")?;
        let limit = fs::read(&file("memory.max"))?;
        let cpu_usec = fs::read_key(&file("cpu.stat"), "usage_usec")?;
        // io.stat exists where the parent hands the io controller down.
        let block_io = fs::read(&file("io.stat"))
            .ok()
            .map(|text| block_io_v2(&text));
        Ok(Usage {
            memory: used.saturating_sub(cache),
            memory_limit: limit.trim().parse().ok(),
            cpu_ns: Some(cpu_usec * 1000),
            pids: optional_number(&file("pids.current")),
            block_io,
        })
    }

    fn frozen(&self) -> Result<bool> {
        Ok(fs::read_key(&self.dir.join("cgroup.events"), "frozen")? == 1)
    }

    fn set_frozen(&self, frozen: bool, n: &Narrator) -> Result<()> {
        fs::write(
            &self.dir.join("cgroup.freeze"),
            if frozen { "1" } else { "0" },
            n,
        )?;
        // cgroup.events says `frozen 1` once every task has stopped.
        let events = self.dir.join("cgroup.events");
        let deadline = std::time::Instant::now() + FREEZE_PATIENCE;
        while fs::read_key(&events, "frozen")? != u64::from(frozen) {
            if std::time::Instant::now() >= deadline {
                return Err(Error::Invalid(
                    "the group did not freeze or thaw in time".into(),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(())
    }

    fn pids(&self) -> Result<Vec<i32>> {
        let procs = fs::read(&self.dir.join("cgroup.procs"))?;
        Ok(procs
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect())
    }

    fn remove(&self, n: &Narrator) -> Result<()> {
        fs::remove_dir(&self.dir, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_io_adds_up_every_device() {
        let text = "8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n\
                    8:16 rbytes=10 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
        assert_eq!(block_io_v2(text), (4106, 512));
    }
}
