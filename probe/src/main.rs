//! `probe`: reports what a process inside a container sees, in a stable, line-oriented format.
//!
//! Tests put this statically linked binary into their root filesystems and compare its report
//! instead of parsing a shell's output (the approach of crun's `tests/init.c`). Everything it
//! reports comes from `/proc` and `/sys`, so it needs no libc calls beyond what `std` makes.
//!
//! ```text
//! probe                 the full report
//! probe report SECTION  only some sections (hostname, ids, cwd, interfaces, cgroup, mounts, fds,
//!                       env, caps)
//! probe exit N          exit with status N
//! probe sleep SECS      sleep, then exit 0 (a stand-in for a long-running service)
//! probe orphan          make an orphaned child and say whether PID 1 reaped it
//! ```

use std::fs;
use std::io::{self, Write};
use std::process::{Command, ExitCode};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The sections of a full report, in the order they are printed.
const SECTIONS: &[&str] = &[
    "hostname",
    "ids",
    "cwd",
    "interfaces",
    "cgroup",
    "mounts",
    "fds",
    "env",
];

/// How long `probe orphan` waits for PID 1 to reap the orphan before calling it a zombie.
const REAP_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => report(SECTIONS),
        ["report", sections @ ..] if !sections.is_empty() => report(sections),
        ["exit", code] => ExitCode::from(code.parse::<u8>().unwrap_or(255)),
        ["sleep", secs] => {
            sleep(Duration::from_secs_f64(secs.parse().unwrap_or(1.0)));
            ExitCode::SUCCESS
        }
        ["orphan"] => orphan(),
        ["spawn-and-exit"] => spawn_and_exit(),
        _ => {
            eprintln!("probe: unknown arguments {args:?}; see the module documentation");
            ExitCode::from(2)
        }
    }
}

fn report(sections: &[&str]) -> ExitCode {
    let mut out = String::new();
    for section in sections {
        let text = match *section {
            "hostname" => hostname(),
            "ids" => ids(),
            "cwd" => cwd(),
            "interfaces" => interfaces(),
            "cgroup" => cgroup(),
            "mounts" => mounts(),
            "fds" => fds(),
            "caps" => caps(),
            "env" => env(),
            other => format!("{other}: unknown section\n"),
        };
        out.push_str(&text);
    }
    print!("{out}");
    ExitCode::SUCCESS
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| format!("<{path}: {e}>"))
}

fn hostname() -> String {
    format!("hostname: {}\n", read("/proc/sys/kernel/hostname").trim())
}

/// Fields of `/proc/self/status` whose name is `key`, e.g. `Uid:` → `0 0 0 0`.
fn status_field(key: &str) -> String {
    read("/proc/self/status")
        .lines()
        .find_map(|line| line.strip_prefix(key).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

/// `Uid:` and `Gid:` list real, effective, saved and filesystem ids; the effective one decides access.
fn effective(ids: &str) -> String {
    ids.split_whitespace().nth(1).unwrap_or("?").to_string()
}

fn ids() -> String {
    // Field 4 of /proc/self/stat is the parent pid; the command name before it may hold spaces,
    // so count from the closing parenthesis.
    let stat = read("/proc/self/stat");
    let ppid = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .unwrap_or("?")
        .to_string();
    format!(
        "pid: {}\nppid: {ppid}\nuid: {}\ngid: {}\ngroups: {}\n",
        std::process::id(),
        effective(&status_field("Uid:")),
        effective(&status_field("Gid:")),
        status_field("Groups:"),
    )
}

fn cwd() -> String {
    match std::env::current_dir() {
        Ok(dir) => format!("cwd: {}\n", dir.display()),
        Err(e) => format!("cwd: <{e}>\n"),
    }
}

/// Interfaces and whether each is up (bit 0 of `flags`, IFF_UP in <linux/if.h>).
fn interfaces() -> String {
    let mut names: Vec<String> = fs::read_dir("/sys/class/net")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let described: Vec<String> = names
        .iter()
        .map(|name| {
            let flags = read(&format!("/sys/class/net/{name}/flags"));
            let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap_or(0);
            let state = if flags & 1 == 1 { "up" } else { "down" };
            format!("{name}({state})")
        })
        .collect();
    format!("interfaces: {}\n", described.join(" "))
}

fn cgroup() -> String {
    let mut lines: Vec<String> = read("/proc/self/cgroup")
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    lines.sort();
    format!("cgroup:\n{}", lines.concat())
}

/// Mount points with their filesystem type and per-mount flags, from `/proc/self/mountinfo`
/// (proc(5): field 5 is the mount point, 6 the mount options, and the type follows the `-`).
fn mounts() -> String {
    let mut out = String::from("mounts:\n");
    for line in read("/proc/self/mountinfo").lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(point), Some(opts), Some(fstype)) =
            (fields.get(4), fields.get(5), fields.get(dash + 1))
        else {
            continue;
        };
        out.push_str(&format!("  {point} {fstype} {opts}\n"));
    }
    out
}

/// Open file descriptors, leaving out the one `read_dir` itself holds on `/proc/self/fd`.
fn fds() -> String {
    let mut fds: Vec<u32> = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc/self/fd") {
        for entry in dir.filter_map(Result::ok) {
            let Ok(fd) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let target = fs::read_link(entry.path()).unwrap_or_default();
            if target.to_string_lossy().ends_with("/fd") {
                continue;
            }
            fds.push(fd);
        }
    }
    fds.sort_unstable();
    let list: Vec<String> = fds.iter().map(u32::to_string).collect();
    format!("fds: {}\n", list.join(" "))
}

/// The environment in the order the process received it (Docker's order is part of the contract).
fn env() -> String {
    let vars: Vec<String> = std::env::vars_os()
        .map(|(k, v)| format!("  {}={}\n", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    format!("env:\n{}", vars.concat())
}

fn caps() -> String {
    let mut out = String::new();
    for key in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        out.push_str(&format!("{key} {}\n", status_field(key)));
    }
    out.push_str(&format!("NoNewPrivs: {}\n", status_field("NoNewPrivs:")));
    out.push_str(&format!("Seccomp: {}\n", status_field("Seccomp:")));
    out
}

/// Makes an orphan: a child that starts a grandchild and exits at once, so the grandchild is
/// re-parented to PID 1. A PID 1 that reaps (an init) makes it vanish; one that does not
/// (a plain program as PID 1) leaves a zombie.
fn orphan() -> ExitCode {
    let me = std::env::current_exe().unwrap_or_else(|_| "/probe".into());
    let output = match Command::new(&me).arg("spawn-and-exit").output() {
        Ok(output) => output,
        Err(e) => {
            eprintln!("probe: cannot start {}: {e}", me.display());
            return ExitCode::from(1);
        }
    };
    let grandchild = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let deadline = Instant::now() + REAP_TIMEOUT;
    let verdict = loop {
        match fs::read_to_string(format!("/proc/{grandchild}/stat")) {
            Err(_) => break "reaped",
            Ok(stat) if Instant::now() >= deadline => {
                let state = stat.rsplit_once(')').map(|(_, r)| r.trim_start());
                break if state.is_some_and(|s| s.starts_with('Z')) {
                    "zombie"
                } else {
                    "still running"
                };
            }
            Ok(_) => sleep(Duration::from_millis(10)),
        }
    };
    println!("orphan: {verdict}");
    ExitCode::SUCCESS
}

fn spawn_and_exit() -> ExitCode {
    let me = std::env::current_exe().unwrap_or_else(|_| "/probe".into());
    match Command::new(me).args(["exit", "0"]).spawn() {
        Ok(child) => {
            // Exiting without waiting is the point: the grandchild becomes an orphan.
            match writeln!(io::stdout().lock(), "{}", child.id()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(1),
            }
        }
        Err(e) => {
            eprintln!("probe: cannot spawn: {e}");
            ExitCode::from(1)
        }
    }
}
