//! Cgroup v1: one hierarchy per controller, so one directory per controller per container.

use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::fs;
use crate::limits::{CPU_PERIOD_US, Limits};
use crate::stats::Stats;

/// The controllers a container's group joins.
const CONTROLLERS: [&str; 6] = ["memory", "pids", "cpu", "cpuacct", "cpuset", "freezer"];

/// How long freezing may take before it is reported as stuck.
const FREEZE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// A container's group in each v1 hierarchy.
#[derive(Debug)]
pub struct V1 {
    dirs: Vec<(&'static str, PathBuf)>,
}

impl V1 {
    fn dir(&self, controller: &str) -> &Path {
        self.dirs
            .iter()
            .find(|(c, _)| *c == controller)
            .map(|(_, d)| d.as_path())
            .expect("every controller of CONTROLLERS has a directory")
    }

    // ANCHOR: v1_create
    /// Creates `relative` in every controller's hierarchy and writes the limits. On failure,
    /// what was created is removed again.
    pub fn create(root: &Path, relative: &Path, limits: &Limits, n: &Narrator) -> Result<Self> {
        for controller in CONTROLLERS {
            if !root.join(controller).join("cgroup.procs").exists() {
                return Err(Error::MissingController {
                    version: "v1",
                    controller,
                });
            }
        }
        let dirs = CONTROLLERS
            .iter()
            .map(|c| (*c, root.join(c).join(relative)))
            .collect();
        let group = V1 { dirs };
        let created = group
            .create_dirs(n)
            .and_then(|()| group.write_limits(limits, n));
        if let Err(error) = created {
            // Best effort: the directories are empty, the first error is the one to report.
            let _cleanup = group.remove(n);
            return Err(error);
        }
        Ok(group)
    }
    // ANCHOR_END: v1_create

    fn create_dirs(&self, n: &Narrator) -> Result<()> {
        for (controller, dir) in &self.dirs {
            let created = fs::create_dirs(dir, n)?;
            if *controller == "cpuset" {
                // A new cpuset group starts with no CPUs and no memory nodes, and attaching a
                // process to it fails with ENOSPC: each new level inherits its parent's.
                for level in created {
                    inherit_cpuset(&level, n)?;
                }
            }
        }
        Ok(())
    }

    fn write_limits(&self, limits: &Limits, n: &Narrator) -> Result<()> {
        if let Some(memory) = limits.memory {
            fs::write(
                &self.dir("memory").join("memory.limit_in_bytes"),
                &memory.to_string(),
                n,
            )?;
        }
        if let Some(total) = limits.memory_swap {
            let file = self.dir("memory").join("memory.memsw.limit_in_bytes");
            if !file.exists() {
                return Err(Error::Invalid(
                    "--memory-swap needs swap accounting (boot the kernel with swapaccount=1)"
                        .into(),
                ));
            }
            fs::write(&file, &total.to_string(), n)?;
        }
        if let Some(quota) = limits.cpu_quota_us() {
            let cpu = self.dir("cpu");
            fs::write(
                &cpu.join("cpu.cfs_period_us"),
                &CPU_PERIOD_US.to_string(),
                n,
            )?;
            fs::write(&cpu.join("cpu.cfs_quota_us"), &quota.to_string(), n)?;
        }
        if let Some(shares) = limits.cpu_shares {
            fs::write(&self.dir("cpu").join("cpu.shares"), &shares.to_string(), n)?;
        }
        if let Some(cpus) = &limits.cpuset_cpus {
            fs::write(&self.dir("cpuset").join("cpuset.cpus"), cpus, n)?;
        }
        if let Some(pids) = limits.pids {
            fs::write(&self.dir("pids").join("pids.max"), &pids.to_string(), n)?;
        }
        Ok(())
    }
}

/// Copies `cpuset.cpus` and `cpuset.mems` from the parent group.
fn inherit_cpuset(dir: &Path, n: &Narrator) -> Result<()> {
    let parent = dir.parent().expect("a created cgroup has a parent");
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let value = fs::read(&parent.join(file))?;
        fs::write(&dir.join(file), value.trim(), n)?;
    }
    Ok(())
}

impl Backend for V1 {
    // ANCHOR: v1_attach
    fn attach(&self, pid: i32, n: &Narrator) -> Result<()> {
        for (_, dir) in &self.dirs {
            fs::write(&dir.join("cgroup.procs"), &pid.to_string(), n)?;
        }
        Ok(())
    }
    // ANCHOR_END: v1_attach

    fn oom_kills(&self) -> Result<u64> {
        fs::read_key(&self.dir("memory").join("memory.oom_control"), "oom_kill")
    }

    fn stats(&self) -> Result<Stats> {
        let memory = self.dir("memory");
        let cpuacct = self.dir("cpuacct");
        let pids = self.dir("pids");
        let peak_pids = fs::read_number(&pids.join("pids.peak"))
            .or_else(|_| fs::read_number(&pids.join("pids.current")))?;
        Ok(Stats {
            memory_peak: Some(fs::read_number(&memory.join("memory.max_usage_in_bytes"))?),
            memory_limit_hits: fs::read_number(&memory.join("memory.failcnt"))?,
            user_usec: fs::read_number(&cpuacct.join("cpuacct.usage_user"))? / 1000,
            system_usec: fs::read_number(&cpuacct.join("cpuacct.usage_sys"))? / 1000,
            pids_peak: peak_pids,
            throttled_periods: fs::read_key(&self.dir("cpu").join("cpu.stat"), "nr_throttled")?,
            throttled_usec: fs::read_key(&self.dir("cpu").join("cpu.stat"), "throttled_time")?
                / 1000,
        })
    }

    fn set_frozen(&self, frozen: bool, n: &Narrator) -> Result<()> {
        let state = self.dir("freezer").join("freezer.state");
        let wanted = if frozen { "FROZEN" } else { "THAWED" };
        fs::write(&state, wanted, n)?;
        // Freezing is asynchronous: the state reads FREEZING until every task has stopped.
        let deadline = std::time::Instant::now() + FREEZE_PATIENCE;
        while fs::read(&state)?.trim() != wanted {
            if std::time::Instant::now() >= deadline {
                return Err(Error::Invalid(format!(
                    "the group did not reach {wanted} in time"
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(())
    }

    fn pids(&self) -> Result<Vec<i32>> {
        let procs = fs::read(&self.dir("pids").join("cgroup.procs"))?;
        Ok(procs
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect())
    }

    fn remove(&self, n: &Narrator) -> Result<()> {
        let mut first_error = None;
        for (_, dir) in &self.dirs {
            if let Err(e) = fs::remove_dir(dir, n) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
