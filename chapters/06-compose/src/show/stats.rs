//! `stats`: what running containers use, from their cgroups' counters (chapter 02's
//! [`Usage`]), worked out as `docker stats` works them out.
//!
//! Memory and processes are read once: bytes in use (page cache the kernel can drop at once
//! not counted) against the limit, or against the machine's memory when there is none. CPU
//! is a rate, so it takes two samples: the CPU time the container used between them, over
//! the CPU time the whole machine had (`/proc/stat`), times the number of CPUs, so that one
//! busy CPU of a two-CPU machine reads 100%, as in docker.

use std::path::Path;

use ch02_cgroups::{CGROUP_ROOT, Cgroup, Usage};
use dockyard_support::FromIo;

use super::view::ContainerView;
use crate::error::{Error, Result};

/// What one container uses, worked out from two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    /// CPU use between the samples, in percent of one CPU (`None`: the group's CPU time
    /// cannot be read, see [`Usage`]).
    pub cpu_percent: Option<f64>,
    /// Memory in use, in bytes.
    pub memory: u64,
    /// The memory it may use: its limit, or the machine's memory.
    pub memory_limit: u64,
    /// `memory` over `memory_limit`, in percent.
    pub memory_percent: f64,
    /// Bytes received and sent on its networks.
    pub network_io: (u64, u64),
    /// Bytes read from and written to block devices, where the group counts them.
    pub block_io: Option<(u64, u64)>,
    /// Processes and threads.
    pub pids: Option<u64>,
}

/// A sample of the machine: CPU time it had, in nanoseconds of all its CPUs together, and
/// how many CPUs are online.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// CPU time since boot, all CPUs, in nanoseconds.
    pub cpu_ns: u64,
    /// Online CPUs.
    pub cpus: u64,
    /// Memory, in bytes.
    pub memory: u64,
}

impl Machine {
    /// The machine now, from `/proc/stat` and `/proc/meminfo`.
    pub fn sample() -> Result<Machine> {
        let stat = read("/proc/stat")?;
        let meminfo = read("/proc/meminfo")?;
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|t| *t > 0)
            .map_or(100, |t| t as u64);
        Ok(Machine {
            cpu_ns: cpu_ticks(&stat) * 1_000_000_000 / ticks,
            cpus: stat
                .lines()
                .filter(|l| {
                    l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit)
                })
                .count()
                .max(1) as u64,
            memory: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
        })
    }
}

fn read(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(Error::io("read", path))
}

/// The machine's CPU time in clock ticks: the first seven counters of the `cpu` line (user,
/// nice, system, idle, iowait, irq, softirq), as docker adds them up.
fn cpu_ticks(stat: &str) -> u64 {
    stat.lines()
        .find_map(|l| l.strip_prefix("cpu "))
        .map_or(0, |counters| {
            counters
                .split_whitespace()
                .take(7)
                .filter_map(|n| n.parse::<u64>().ok())
                .sum()
        })
}

/// What the container's cgroup counts now; `None` for a container that does not run (or
/// whose group is gone: it just ended).
pub fn sample(view: &ContainerView) -> Result<Option<Usage>> {
    if !view.is_running() {
        return Ok(None);
    }
    let root = Path::new(CGROUP_ROOT);
    match Cgroup::open(root, &view.host.cgroup.parent, view.id())? {
        // The group goes with the container's end, possibly between the two calls.
        Some(group) => Ok(group.usage().ok()),
        None => Ok(None),
    }
}

/// Bytes the container received and sent on its networks: the counters of the host's end
/// of each of its veth pairs, seen from the other side (what the host end sent, the container
/// received).
pub fn network_io(view: &ContainerView) -> (u64, u64) {
    let counter = |veth: &str, name: &str| -> u64 {
        std::fs::read_to_string(format!("/sys/class/net/{veth}/statistics/{name}"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    };
    view.endpoints
        .iter()
        .map(|(_, endpoint)| {
            (
                counter(&endpoint.host_veth, "tx_bytes"),
                counter(&endpoint.host_veth, "rx_bytes"),
            )
        })
        .fold((0, 0), |(rx, tx), (r, t)| (rx + r, tx + t))
}

/// docker's figures from a sample `before` and one `after`, each of the container and of the
/// machine.
pub fn figures(before: (&Usage, &Machine), after: (&Usage, &Machine)) -> Figures {
    let (usage, machine) = after;
    let cpu_percent = match (before.0.cpu_ns, usage.cpu_ns) {
        (Some(start), Some(end)) => {
            let used = end.saturating_sub(start) as f64;
            let had = machine.cpu_ns.saturating_sub(before.1.cpu_ns) as f64;
            Some(if had > 0.0 && used > 0.0 {
                used / had * machine.cpus as f64 * 100.0
            } else {
                0.0
            })
        }
        _ => None,
    };
    let memory_limit = usage
        .memory_limit
        .filter(|limit| *limit < machine.memory || machine.memory == 0)
        .unwrap_or(machine.memory);
    let memory_percent = if memory_limit > 0 {
        usage.memory as f64 / memory_limit as f64 * 100.0
    } else {
        0.0
    };
    Figures {
        cpu_percent,
        memory: usage.memory,
        memory_limit,
        memory_percent,
        network_io: (0, 0),
        block_io: usage.block_io,
        pids: usage.pids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_cpu_time_adds_up_seven_counters() {
        let stat = "cpu  10 1 5 100 2 0 1 7 0 0\ncpu0 5 0 2 50 1 0 0 0 0 0\n";
        assert_eq!(cpu_ticks(stat), 119);
    }

    #[test]
    fn figures_as_docker_works_them_out() {
        let machine = |cpu_ns| Machine {
            cpu_ns,
            cpus: 2,
            memory: 8 << 30,
        };
        let usage = |cpu_ns, limit| Usage {
            memory: 1 << 30,
            memory_limit: limit,
            cpu_ns: Some(cpu_ns),
            pids: Some(3),
            block_io: None,
        };
        // Half a second of CPU while the machine's two CPUs had two seconds: 50% of one CPU.
        let busy = figures(
            (&usage(0, None), &machine(0)),
            (&usage(500_000_000, None), &machine(2_000_000_000)),
        );
        assert_eq!(busy.cpu_percent, Some(50.0));
        assert_eq!(busy.memory_limit, 8 << 30, "no limit: the machine's memory");
        assert_eq!(busy.memory_percent, 12.5);
        let limited = figures(
            (&usage(0, Some(2 << 30)), &machine(0)),
            (&usage(0, Some(2 << 30)), &machine(1_000)),
        );
        assert_eq!(limited.cpu_percent, Some(0.0));
        assert_eq!(limited.memory_percent, 50.0);
        let unknown = Usage {
            cpu_ns: None,
            ..usage(0, None)
        };
        let blind = figures((&unknown, &machine(0)), (&unknown, &machine(1)));
        assert_eq!(blind.cpu_percent, None);
    }
}
