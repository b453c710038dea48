//! `top`: the processes of a running container, as `ps -ef` shows them.
//!
//! The container's processes are exactly those in its cgroup (chapter 02): its first process
//! and everything it started, however deep, since a child starts in its parent's group and
//! nothing in the container may leave it. docker asks its runtime for that list, runs the
//! host's `ps -ef` and keeps the rows of those pids. This module reads `/proc` itself instead:
//! a library that returns data needs no `ps` on the host (minimal hosts have none) and no
//! parsing of another program's text, and the columns are a few fields of
//! `/proc/PID/stat`, computed as procps computes them:
//!
//! - `UID`: the effective user, named from the host's `/etc/passwd` (the host's names: a
//!   container's root is root here too, since there are no user namespaces yet);
//! - `PID`, `PPID`: as the host sees them (the container numbers its own from 1);
//! - `C`: CPU use over the process's life, in percent, at most 99;
//! - `STIME`: when it started, `HH:MM` today, `MonDD` this year, else the year;
//! - `TTY`: its terminal (`pts/0`), `?` without one;
//! - `TIME`: CPU time used, `[DD-]HH:MM:SS`;
//! - `CMD`: its arguments, or its name in brackets for a process that has none (a zombie).

use std::path::Path;

use ch02_cgroups::{CGROUP_ROOT, Cgroup};
use dockyard_support::FromIo;

use super::view::ContainerView;
use crate::error::{Error, Result};

/// docker's `top` result (the Engine API's `ContainerTop`): column titles and a row of
/// texts per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    /// `UID PID PPID C STIME TTY TIME CMD`.
    pub titles: Vec<String>,
    /// One row per process, ordered by pid.
    pub processes: Vec<Vec<String>>,
}

/// The columns of `ps -ef`.
const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

/// A process, as `/proc` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its pid, as the host sees it.
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its effective user id.
    pub uid: u32,
    /// Its controlling terminal, as the kernel encodes a device number (0: none).
    pub tty: u32,
    /// When it started, in clock ticks after boot.
    pub start_ticks: u64,
    /// CPU time it used, user and system, in clock ticks.
    pub cpu_ticks: u64,
    /// Its name (`comm`), at most 15 bytes.
    pub name: String,
    /// Its arguments, empty for a zombie or a kernel thread.
    pub args: Vec<String>,
}

/// The machine's clock: what `ps` needs to turn tick counts into times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
    pub ticks_per_second: u64,
    /// When the machine booted, seconds since the epoch (`btime` of `/proc/stat`).
    pub boot_time: u64,
    /// Seconds since boot (`/proc/uptime`).
    pub uptime: u64,
    /// Now, seconds since the epoch.
    pub now: u64,
}

/// The processes of a running container, as `docker top` shows them.
pub fn top(view: &ContainerView) -> Result<Top> {
    if !view.is_running() {
        return Err(Error::NotRunning(view.known_as().to_string()));
    }
    let group = Cgroup::open(Path::new(CGROUP_ROOT), &view.host.cgroup.parent, view.id())?
        .ok_or_else(|| Error::NotRunning(view.known_as().to_string()))?;
    let mut pids = group.pids()?;
    pids.sort_unstable();
    let clock = Clock::now()?;
    let users = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let processes = pids
        .into_iter()
        // A process may end between the listing and the reading: it is then not shown.
        .filter_map(|pid| read_process(pid as u32).ok())
        .map(|process| ps_ef_row(&process, &clock, &users))
        .collect();
    Ok(Top {
        titles: TITLES.iter().map(|t| t.to_string()).collect(),
        processes,
    })
}

impl Clock {
    /// The clock now.
    pub fn now() -> Result<Clock> {
        let stat = read("/proc/stat")?;
        let boot_time = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| unreadable("/proc/stat", "no btime line"))?;
        let uptime = read("/proc/uptime")?
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| unreadable("/proc/uptime", "not seconds"))?;
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|t| *t > 0)
            .map_or(100, |t| t as u64);
        Ok(Clock {
            ticks_per_second: ticks,
            boot_time,
            uptime,
            now: dockyard_support::clock::now(),
        })
    }
}

fn read(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(Error::io("read", path))
}

fn unreadable(path: &str, why: &str) -> Error {
    Error::CorruptState {
        path: path.into(),
        message: why.into(),
    }
}

/// Reads what `ps` shows of process `pid` from `/proc/PID/stat`, `status` and `cmdline`.
pub fn read_process(pid: u32) -> Result<Process> {
    let dir = format!("/proc/{pid}");
    let stat = read(&format!("{dir}/stat"))?;
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so it ends at the
    // last `)`.
    let bad = || unreadable(&format!("{dir}/stat"), "not in proc(5)'s format");
    let open = stat.find('(').ok_or_else(bad)?;
    let close = stat.rfind(')').ok_or_else(bad)?;
    let name = stat[open + 1..close].to_string();
    // Fields from the third (`state`) on; proc(5) numbers them from 1.
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let field = |number: usize| -> Result<u64> {
        fields
            .get(number - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(bad)
    };
    let status = read(&format!("{dir}/status"))?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .ok_or_else(|| unreadable(&format!("{dir}/status"), "no Uid line"))?;
    let cmdline = std::fs::read(format!("{dir}/cmdline")).unwrap_or_default();
    let args = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    Ok(Process {
        pid,
        ppid: field(4)? as u32,
        uid,
        tty: field(7)? as u32,
        start_ticks: field(22)?,
        cpu_ticks: field(14)? + field(15)?,
        name,
        args,
    })
}

/// A process as a row of `ps -ef`; `passwd` is the host's `/etc/passwd`, for user names.
pub fn ps_ef_row(process: &Process, clock: &Clock, passwd: &str) -> Vec<String> {
    let hz = clock.ticks_per_second;
    let started_after_boot = process.start_ticks / hz;
    let cpu_seconds = process.cpu_ticks / hz;
    // procps's `C`: CPU seconds per second alive, in percent, capped at 99.
    let alive = clock.uptime.saturating_sub(started_after_boot);
    let c = (process.cpu_ticks * 100 / hz)
        .checked_div(alive)
        .map_or(0, |percent| percent.min(99));
    let cmd = if process.args.is_empty() {
        format!("[{}]", process.name)
    } else {
        process.args.join(" ")
    };
    vec![
        user_name(process.uid, passwd),
        process.pid.to_string(),
        process.ppid.to_string(),
        c.to_string(),
        start_time(clock.boot_time + started_after_boot, clock.now),
        tty_name(process.tty),
        cpu_time(cpu_seconds),
        cmd,
    ]
}

/// The name of `uid` in a passwd file's text, or the number where it has none.
fn user_name(uid: u32, passwd: &str) -> String {
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
        .unwrap_or_else(|| uid.to_string())
}

/// A terminal's name from its device number (`tty_nr` of proc(5): major in bits 8–15,
/// minor in bits 0–7 and 20–31), as `ps` names the common ones.
fn tty_name(device: u32) -> String {
    let major = (device >> 8) & 0xfff;
    let minor = (device & 0xff) | ((device >> 12) & 0xfff00);
    match major {
        0 => "?".to_string(),
        // Unix98 pseudo-terminals: majors 136 to 143, 256 minors each (devices.txt).
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("{major}:{minor}"),
    }
}

/// CPU time as `ps` writes it: `HH:MM:SS`, with `D-` in front past a day.
fn cpu_time(seconds: u64) -> String {
    let (days, hours) = (seconds / 86_400, seconds / 3600 % 24);
    let (minutes, seconds) = (seconds / 60 % 60, seconds % 60);
    if days > 0 {
        format!("{days}-{hours:02}:{minutes:02}:{seconds:02}")
    } else {
        format!("{hours:02}:{minutes:02}:{seconds:02}")
    }
}

/// A start time as `ps` writes `STIME`, in the machine's time zone: `HH:MM` if it is the same
/// day as `now`, `MonDD` if the same year, else the year.
fn start_time(started: u64, now: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (then, today) = (local_time(started), local_time(now));
    if then.tm_year != today.tm_year {
        format!("{}", then.tm_year + 1900)
    } else if then.tm_yday != today.tm_yday {
        format!("{}{:02}", MONTHS[then.tm_mon as usize % 12], then.tm_mday)
    } else {
        format!("{:02}:{:02}", then.tm_hour, then.tm_min)
    }
}

/// The broken-down local time of `seconds` since the epoch. The time zone is the C library's
/// (`TZ`, `/etc/localtime`): Rust's standard library has no time zones.
fn local_time(seconds: u64) -> libc::tm {
    let time = seconds as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value of this plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers point at live values of the right types for the call's duration;
    // localtime_r keeps neither.
    unsafe { libc::localtime_r(&time, &mut tm) };
    tm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_as_procps_writes_them() {
        assert_eq!(cpu_time(0), "00:00:00");
        assert_eq!(cpu_time(3725), "01:02:05");
        assert_eq!(cpu_time(2 * 86_400 + 61), "2-00:01:01");
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name(136 << 8 | 3), "pts/3");
        assert_eq!(tty_name(4 << 8 | 1), "tty1");
        let passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(user_name(0, passwd), "root");
        assert_eq!(user_name(65534, passwd), "nobody");
        assert_eq!(user_name(1234, passwd), "1234");
    }

    #[test]
    fn this_process_reads_as_ps_shows_it() {
        let me = read_process(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert_eq!(me.ppid, std::os::unix::process::parent_id());
        assert!(!me.args.is_empty());
        let clock = Clock::now().unwrap();
        let row = ps_ef_row(&me, &clock, "");
        assert_eq!(row.len(), TITLES.len());
        assert_eq!(row[7], me.args.join(" "));
    }
}
