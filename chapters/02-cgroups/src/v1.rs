//! Cgroup v1: one hierarchy per controller, so one directory per hierarchy per container.
//!
//! A hierarchy may carry several controllers: many distributions mount `cpu` and `cpuacct`
//! together at `cpu,cpuacct`, with `cpu` and `cpuacct` as symbolic links to it. The group then
//! has one directory there, created, joined and removed once.

use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;
use dockyard_support::FromIo;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::fs;
use crate::limits::Features;
use crate::limits::Limits;
use crate::stats::{Stats, Usage};
use crate::version::detect;

/// How long freezing may take before it is reported as stuck.
const FREEZE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// One hierarchy the group joined: its controllers, where it is mounted, and the group's
/// directory in it.
#[derive(Debug)]
struct Hierarchy {
    controllers: Vec<&'static str>,
    mount: PathBuf,
    dir: PathBuf,
}

/// A container's group in each v1 hierarchy it joined.
#[derive(Debug)]
pub struct V1 {
    hierarchies: Vec<Hierarchy>,
}

// ANCHOR: v1_controllers
/// The controllers a group joins: memory always, since its counter is how an OOM kill is
/// recognised; the others only for a limit that needs them or a feature asked for. A process
/// stays in its parent's group in every other hierarchy, which limits nothing.
fn controllers(limits: &Limits, features: Features) -> Vec<&'static str> {
    let mut wanted = vec!["memory"];
    if limits.pids.is_some() || features.stats {
        wanted.push("pids");
    }
    if limits.cpus.is_some() || limits.cpu_shares.is_some() || features.stats {
        wanted.push("cpu");
    }
    if features.stats {
        wanted.push("cpuacct");
    }
    if limits.cpuset_cpus.is_some() {
        wanted.push("cpuset");
    }
    if features.freezer {
        wanted.push("freezer");
    }
    wanted
}
// ANCHOR_END: v1_controllers

/// The controllers an existing group may have joined: those [`controllers`] chooses from, and
/// `blkio`, whose counters `docker stats` shows when a group has it.
const KNOWN_CONTROLLERS: [&str; 7] = [
    "memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "blkio",
];

/// What the kernel reports as the memory limit of a group without one: the largest page
/// count, in bytes (`PAGE_COUNTER_MAX`, rounded down to a page). Anything this large is no
/// limit.
const UNLIMITED_MEMORY: u64 = 1 << 62;

/// Where `controller`'s hierarchy is mounted: `root/controller`, or what that names when it is
/// a symbolic link to a co-mounted hierarchy such as `cpu,cpuacct`. One `readlink` each.
fn mount_of(root: &Path, controller: &'static str) -> Result<PathBuf> {
    let path = root.join(controller);
    match std::fs::read_link(&path) {
        Ok(target) => Ok(root.join(target)),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Tell "no cgroup filesystem at all" from "this controller is not mounted".
            detect(root)?;
            Err(Error::MissingController {
                version: "v1",
                controller,
            })
        }
        Err(source) => Err(Error::io("inspect", path)(source)),
    }
}

impl V1 {
    /// The group's directory in `controller`'s hierarchy, if it joined it.
    fn dir(&self, controller: &str) -> Option<&Path> {
        self.hierarchies
            .iter()
            .find(|h| h.controllers.contains(&controller))
            .map(|h| h.dir.as_path())
    }

    /// Like [`V1::dir`], for a controller a feature needs: not joined is an error naming it.
    fn needed(&self, controller: &str, feature: &str) -> Result<&Path> {
        self.dir(controller).ok_or_else(|| {
            Error::Invalid(format!(
                "the cgroup was created without the {controller} controller: \
                 create it with Features {{ {feature}: true, .. }}"
            ))
        })
    }

    /// The memory hierarchy's directory, which every group has.
    fn memory(&self) -> &Path {
        self.dir("memory").expect("every group joins memory")
    }

    // ANCHOR: v1_create
    /// Creates `relative` in the hierarchy of every controller it needs and writes the limits.
    /// On failure, what was created is removed again.
    pub fn create(
        root: &Path,
        relative: &Path,
        limits: &Limits,
        features: Features,
        n: &Narrator,
    ) -> Result<Self> {
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for controller in controllers(limits, features) {
            let mount = mount_of(root, controller)?;
            match hierarchies.iter_mut().find(|h| h.mount == mount) {
                Some(shared) => shared.controllers.push(controller),
                None => hierarchies.push(Hierarchy {
                    controllers: vec![controller],
                    dir: mount.join(relative),
                    mount,
                }),
            }
        }
        let group = V1 { hierarchies };
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

    /// The existing group `relative` in every hierarchy where its directory exists, or
    /// `None` if it has none in the memory hierarchy, which every group joins.
    pub fn open(root: &Path, relative: &Path) -> Result<Option<Self>> {
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for controller in KNOWN_CONTROLLERS {
            let mount = match mount_of(root, controller) {
                Ok(mount) => mount,
                // A hierarchy that is not mounted has no directory of the group.
                Err(Error::MissingController { .. } | Error::NoCgroupFs(_)) => continue,
                Err(error) => return Err(error),
            };
            let dir = mount.join(relative);
            match hierarchies.iter_mut().find(|h| h.mount == mount) {
                Some(shared) => shared.controllers.push(controller),
                None if dir.is_dir() => hierarchies.push(Hierarchy {
                    controllers: vec![controller],
                    dir,
                    mount,
                }),
                None => {}
            }
        }
        let group = V1 { hierarchies };
        Ok(group.dir("memory").is_some().then_some(group))
    }

    fn create_dirs(&self, n: &Narrator) -> Result<()> {
        for hierarchy in &self.hierarchies {
            let created = fs::create_dirs(&hierarchy.mount, &hierarchy.dir, n)?;
            if hierarchy.controllers.contains(&"cpuset") {
                for level in &created {
                    prepare_cpuset(level, level != &hierarchy.dir, n)?;
                }
            }
        }
        Ok(())
    }

    fn write_limits(&self, limits: &Limits, n: &Narrator) -> Result<()> {
        if let Some(memory) = limits.memory {
            let file = self.memory().join("memory.limit_in_bytes");
            fs::write(&file, &memory.to_string(), n)?;
        }
        if let Some(total) = limits.memory_swap {
            let file = self.memory().join("memory.memsw.limit_in_bytes");
            match fs::write(&file, &total.to_string(), n) {
                Err(Error::Io(io)) if io.source.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::Invalid(
                        "--memory-swap needs swap accounting (boot the kernel with swapaccount=1)"
                            .into(),
                    ));
                }
                written => written?,
            }
        }
        if let Some((cpu, quota)) = self.dir("cpu").zip(limits.cpu_quota_us()) {
            // Only the quota: a new group's period is already the kernel's default of 100 ms,
            // which is CPU_PERIOD_US.
            fs::write(&cpu.join("cpu.cfs_quota_us"), &quota.to_string(), n)?;
        }
        if let Some((cpu, shares)) = self.dir("cpu").zip(limits.cpu_shares) {
            fs::write(&cpu.join("cpu.shares"), &shares.to_string(), n)?;
        }
        if let Some((cpuset, cpus)) = self.dir("cpuset").zip(limits.cpuset_cpus.as_ref()) {
            fs::write(&cpuset.join("cpuset.cpus"), cpus, n)?;
        }
        if let Some((pids, max)) = self.dir("pids").zip(limits.pids) {
            fs::write(&pids.join("pids.max"), &max.to_string(), n)?;
        }
        Ok(())
    }
}

// ANCHOR: cpuset
/// Readies a cpuset group created by this run. A new cpuset group starts with no CPUs and no
/// memory nodes, and attaching a process to it fails with ENOSPC, unless its parent has
/// `cgroup.clone_children` set: then the kernel copies the parent's into it. So a level with no
/// memory nodes copies its parent's `cpuset.cpus` and `cpuset.mems` once, and a level that gets
/// children (`has_children`: the parent groups such as `dockyard`) sets `clone_children`, so
/// that the container groups created below it later start ready, without a read or a write.
fn prepare_cpuset(dir: &Path, has_children: bool, n: &Narrator) -> Result<()> {
    if fs::read(&dir.join("cpuset.mems"))?.trim().is_empty() {
        let parent = dir.parent().expect("a created cgroup has a parent");
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let value = fs::read(&parent.join(file))?;
            fs::write(&dir.join(file), value.trim(), n)?;
        }
    }
    if has_children {
        fs::write(&dir.join("cgroup.clone_children"), "1", n)?;
    }
    Ok(())
}
// ANCHOR_END: cpuset

impl Backend for V1 {
    // ANCHOR: v1_attach
    fn attach(&self, pid: i32, n: &Narrator) -> Result<()> {
        let pid = pid.to_string();
        for hierarchy in &self.hierarchies {
            fs::write(&hierarchy.dir.join("cgroup.procs"), &pid, n)?;
        }
        Ok(())
    }
    // ANCHOR_END: v1_attach

    fn self_join_files(&self) -> Option<Vec<PathBuf>> {
        Some(
            self.hierarchies
                .iter()
                .map(|h| h.dir.join("tasks"))
                .collect(),
        )
    }

    fn oom_kills(&self) -> Result<u64> {
        fs::read_key(&self.memory().join("memory.oom_control"), "oom_kill")
    }

    fn stats(&self) -> Result<Stats> {
        let memory = self.memory();
        let cpuacct = self.needed("cpuacct", "stats")?;
        let pids = self.needed("pids", "stats")?;
        let cpu_stat = fs::read(&self.needed("cpu", "stats")?.join("cpu.stat"))?;
        let peak_pids = fs::read_number(&pids.join("pids.peak"))
            .or_else(|_| fs::read_number(&pids.join("pids.current")))?;
        Ok(Stats {
            memory_peak: Some(fs::read_number(&memory.join("memory.max_usage_in_bytes"))?),
            memory_limit_hits: fs::read_number(&memory.join("memory.failcnt"))?,
            user_usec: fs::read_number(&cpuacct.join("cpuacct.usage_user"))? / 1000,
            system_usec: fs::read_number(&cpuacct.join("cpuacct.usage_sys"))? / 1000,
            pids_peak: peak_pids,
            throttled_periods: fs::key(&cpu_stat, "nr_throttled"),
            throttled_usec: fs::key(&cpu_stat, "throttled_time") / 1000,
        })
    }

    fn usage(&self) -> Result<Usage> {
        let memory = self.memory();
        let used = fs::read_number(&memory.join("memory.usage_in_bytes"))?;
        let cache = fs::read_key(&memory.join("memory.stat"), "total_inactive_file")?;
        let limit = fs::read_number(&memory.join("memory.limit_in_bytes"))?;
        let cpu_ns = match self.dir("cpuacct") {
            Some(cpuacct) => Some(fs::read_number(&cpuacct.join("cpuacct.usage"))?),
            None => None,
        };
        // Without the pids hierarchy, the memory one still lists the group's threads.
        let pids = match self.dir("pids") {
            Some(pids) => fs::read_number(&pids.join("pids.current"))?,
            None => fs::read(&memory.join("tasks"))?.lines().count() as u64,
        };
        let block_io = match self.dir("blkio") {
            Some(blkio) => Some(block_io_v1(&fs::read(
                &blkio.join("blkio.throttle.io_service_bytes_recursive"),
            )?)),
            None => None,
        };
        Ok(Usage {
            memory: used.saturating_sub(cache),
            memory_limit: (limit < UNLIMITED_MEMORY).then_some(limit),
            cpu_ns,
            pids: Some(pids),
            block_io,
        })
    }

    fn frozen(&self) -> Result<bool> {
        match self.dir("freezer") {
            Some(freezer) => Ok(fs::read(&freezer.join("freezer.state"))?.trim() == "FROZEN"),
            None => Ok(false),
        }
    }

    fn set_frozen(&self, frozen: bool, n: &Narrator) -> Result<()> {
        let state = self.needed("freezer", "freezer")?.join("freezer.state");
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
        let procs = fs::read(&self.memory().join("cgroup.procs"))?;
        Ok(procs
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect())
    }

    fn remove(&self, n: &Narrator) -> Result<()> {
        let mut first_error = None;
        for hierarchy in &self.hierarchies {
            if let Err(e) = fs::remove_dir(&hierarchy.dir, n) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Bytes read and written, from `blkio.throttle.io_service_bytes_recursive`: a line per
/// device and operation (`8:0 Read 4096`), and a `Total` line.
fn block_io_v1(text: &str) -> (u64, u64) {
    let mut read_write = (0, 0);
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [_device, op, bytes] = fields[..] {
            let bytes: u64 = bytes.parse().unwrap_or(0);
            match op {
                "Read" => read_write.0 += bytes,
                "Write" => read_write.1 += bytes,
                _ => {}
            }
        }
    }
    read_write
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_joins_only_what_its_limits_and_features_need() {
        let memory = Limits {
            memory: Some(64 << 20),
            ..Limits::default()
        };
        assert_eq!(controllers(&memory, Features::default()), ["memory"]);
        let all_limits = Limits {
            pids: Some(100),
            cpus: Some(1.0),
            ..memory.clone()
        };
        assert_eq!(
            controllers(&all_limits, Features::default()),
            ["memory", "pids", "cpu"]
        );
        let stats = Features {
            stats: true,
            ..Features::default()
        };
        assert_eq!(
            controllers(&Limits::default(), stats),
            ["memory", "pids", "cpu", "cpuacct"]
        );
        let pinned = Limits {
            cpuset_cpus: Some("0".into()),
            ..Limits::default()
        };
        let freezer = Features {
            freezer: true,
            ..Features::default()
        };
        assert_eq!(
            controllers(&pinned, freezer),
            ["memory", "cpuset", "freezer"]
        );
    }

    #[test]
    fn block_io_adds_up_reads_and_writes_of_every_device() {
        let text = "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:16 Read 10\nTotal 4618\n";
        assert_eq!(block_io_v1(text), (4106, 512));
    }

    #[test]
    fn co_mounted_controllers_share_one_directory() {
        // A stand-in for /sys/fs/cgroup: plain directories and the links distributions make.
        let root = std::env::temp_dir().join(format!("dockyard-v1-{}", std::process::id()));
        for mount in ["memory", "pids", "cpu,cpuacct"] {
            std::fs::create_dir_all(root.join(mount)).unwrap();
        }
        for link in ["cpu", "cpuacct"] {
            std::os::unix::fs::symlink("cpu,cpuacct", root.join(link)).unwrap();
        }
        let stats = Features {
            stats: true,
            ..Features::default()
        };
        let n = Narrator::silent();
        let group = V1::create(
            &root,
            Path::new("parent/box"),
            &Limits::default(),
            stats,
            &n,
        );
        let group = group.unwrap();
        let joined: Vec<(&[&str], &Path)> = group
            .hierarchies
            .iter()
            .map(|h| (h.controllers.as_slice(), h.dir.as_path()))
            .collect();
        let memory = root.join("memory/parent/box");
        let pids = root.join("pids/parent/box");
        let cpu = root.join("cpu,cpuacct/parent/box");
        assert_eq!(
            joined,
            [
                (&["memory"][..], memory.as_path()),
                (&["pids"][..], pids.as_path()),
                (&["cpu", "cpuacct"][..], cpu.as_path()),
            ]
        );
        assert!(cpu.is_dir());
        let opened = V1::open(&root, Path::new("parent/box")).unwrap().unwrap();
        let reopened: Vec<&[&str]> = opened
            .hierarchies
            .iter()
            .map(|h| h.controllers.as_slice())
            .collect();
        assert_eq!(reopened, [&["memory"][..], &["pids"], &["cpu", "cpuacct"]]);
        assert!(
            V1::open(&root, Path::new("parent/other"))
                .unwrap()
                .is_none()
        );
        group.remove(&n).unwrap();
        assert!(!cpu.exists() && root.join("cpu,cpuacct/parent").is_dir());
        assert!(matches!(
            mount_of(&root, "freezer"),
            Err(Error::NoCgroupFs(_) | Error::MissingController { .. })
        ));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
