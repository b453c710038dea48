//! Health checks: a command run inside the container every so often, whose exit status says
//! whether the service is healthy (0) or not. The rules are docker's:
//!
//! - the check comes from the image's `HEALTHCHECK`, with `run --health-*` options replacing
//!   what they give (`--no-healthcheck`, or `HEALTHCHECK NONE`, turns it off); unset durations
//!   are docker's defaults: every 30 s, 30 s at most, 3 retries;
//! - the status is `starting` until the first check passes; a check that passes makes it
//!   `healthy` and resets the failing streak; `retries` failures in a row make it
//!   `unhealthy`; failures within the start period do not count while it is still starting,
//!   and then the checks run every start interval (5 s) instead;
//! - a check that runs out of time is killed and counts as a failure (exit -1); the last five
//!   results are kept, each with the first 4 KiB of its output.
//!
//! The checks run in a thread of the monitor, beside the pump. A check is an `exec` into the
//! container, which forks: a multi-threaded monitor must not, so each check is a process of
//! its own ([`Prober`]): `ch06-monitor health-check`.

use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ch04_images::oci::Healthcheck;
use dockyard_support::clock::now_ns;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde::{Deserialize, Serialize};

use super::SharedState;
use crate::container::{Health, HealthResult, HealthStatus};

/// Docker's defaults for what a health check leaves unset.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: u32 = 3;
/// How many results are kept.
const KEPT_RESULTS: usize = 5;

/// A container's health check, every value decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The command run in the container.
    pub command: Vec<String>,
    /// Time between two checks.
    pub interval: Duration,
    /// Longest a check may run.
    pub timeout: Duration,
    /// Time after the start during which failures do not count.
    pub start_period: Duration,
    /// Time between two checks during the start period.
    pub start_interval: Duration,
    /// Failures in a row that make the container unhealthy.
    pub retries: u32,
}

/// The check of a container: the image's, with the command line's `given` replacing what it
/// sets, shell-form commands run by `shell` (the image's `SHELL`, else `/bin/sh -c`). `None`
/// when there is none or it is turned off.
pub fn check_of(
    image: Option<&Healthcheck>,
    given: Option<&Healthcheck>,
    shell: Option<&[String]>,
) -> Option<Check> {
    let pick = |field: fn(&Healthcheck) -> i64| {
        given
            .map(field)
            .filter(|v| *v > 0)
            .or_else(|| image.map(field).filter(|v| *v > 0))
    };
    let duration = |field: fn(&Healthcheck) -> i64, default: Duration| {
        pick(field).map_or(default, |ns| Duration::from_nanos(ns as u64))
    };
    let test = given
        .map(|h| &h.test)
        .filter(|t| !t.is_empty())
        .or(image.map(|h| &h.test))?;
    let command = match test.split_first() {
        Some((kind, args)) if kind == "CMD" && !args.is_empty() => args.to_vec(),
        Some((kind, [line])) if kind == "CMD-SHELL" => {
            let default = ["/bin/sh".to_owned(), "-c".to_owned()];
            let shell = shell.filter(|s| !s.is_empty()).unwrap_or(&default);
            shell.iter().cloned().chain([line.clone()]).collect()
        }
        _ => return None,
    };
    Some(Check {
        command,
        interval: duration(|h| h.interval, DEFAULT_INTERVAL),
        timeout: duration(|h| h.timeout, DEFAULT_TIMEOUT),
        start_period: duration(|h| h.start_period, Duration::ZERO),
        start_interval: duration(|h| h.start_interval, DEFAULT_START_INTERVAL),
        retries: pick(|h| h.retries).map_or(DEFAULT_RETRIES, |n| n as u32),
    })
}

// ANCHOR: record
/// Records a check's result: docker's rules for the status and the failing streak.
pub fn record(health: &mut Health, result: HealthResult, check: &Check, started_ns: u64) {
    if result.exit_code == 0 {
        health.status = HealthStatus::Healthy;
        health.failing_streak = 0;
    } else {
        let in_start_period =
            result.start_ns.saturating_sub(started_ns) < check.start_period.as_nanos() as u64;
        if !(health.status == HealthStatus::Starting && in_start_period) {
            health.failing_streak += 1;
            if health.failing_streak >= check.retries {
                health.status = HealthStatus::Unhealthy;
            }
        }
    }
    health.log.push(result);
    if health.log.len() > KEPT_RESULTS {
        health.log.remove(0);
    }
}
// ANCHOR_END: record

/// What a check process prints: how its command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The exit code (-1: it could not run, or ran out of time).
    pub exit_code: i32,
    /// The start of its output, or why it could not run.
    pub output: String,
}

/// Runs one check in the container `id`, in this (single-threaded) process: what
/// `ch06-monitor health-check` does. A command that cannot run is a failed check (-1), with
/// the reason as its output, as docker records it.
pub fn probe_once(
    store: &ch03_union_fs::Store,
    id: &str,
    command: Vec<String>,
    timeout: Duration,
) -> Probe {
    match crate::exec::exec_capture(store, id, command, timeout) {
        Ok(captured) => Probe {
            exit_code: captured.exit_code,
            output: captured.output,
        },
        Err(error) => Probe {
            exit_code: -1,
            output: error.to_string(),
        },
    }
}

/// How to run one check in a process of its own: a program, its arguments, then the
/// timeout in nanoseconds, the container's id, `--` and the command.
#[derive(Debug, Clone)]
pub struct Prober {
    /// The program.
    pub program: std::path::PathBuf,
    /// Its first arguments (the CLI's global options and `health-check`).
    pub args: Vec<std::ffi::OsString>,
}

impl Prober {
    fn probe(&self, id: &str, check: &Check) -> Probe {
        let output = Command::new(&self.program)
            .args(&self.args)
            .arg(check.timeout.as_nanos().to_string())
            .arg(id)
            .arg("--")
            .args(&check.command)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        match output {
            Ok(output) => serde_json::from_slice(&output.stdout).unwrap_or_else(|_| Probe {
                exit_code: -1,
                output: format!("the health check process failed ({})", output.status),
            }),
            Err(error) => Probe {
                exit_code: -1,
                output: format!("cannot start the health check: {error}"),
            },
        }
    }
}

/// The running checker: its thread and the pipe whose closing stops it.
#[derive(Debug)]
pub struct Checker {
    stop: OwnedFd,
    thread: JoinHandle<()>,
}

impl Checker {
    /// Starts checking container `id`, which started at `started_ns`.
    pub fn start(
        shared: SharedState,
        prober: Prober,
        id: String,
        check: Check,
        started_ns: u64,
    ) -> Checker {
        let (stop_read, stop) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
            .expect("a pipe for the checker's stop (descriptors exhausted)");
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            loop {
                let starting = shared
                    .get()
                    .health
                    .is_some_and(|h| h.status == HealthStatus::Starting);
                let wait = if starting && started.elapsed() < check.start_period {
                    check.start_interval
                } else {
                    check.interval
                };
                if stopped_within(&stop_read, wait) {
                    return;
                }
                let start_ns = now_ns();
                let probe = prober.probe(&id, &check);
                let result = HealthResult {
                    start_ns,
                    end_ns: now_ns(),
                    exit_code: probe.exit_code,
                    output: probe.output,
                };
                let _best_effort = shared.update(|state| {
                    if let Some(health) = &mut state.health {
                        record(health, result, &check, started_ns);
                    }
                });
            }
        });
        Checker { stop, thread }
    }

    /// Stops the checks (a check under way ends first: the container it ran in is gone).
    pub fn finish(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// Waits `wait`, unless the stop pipe closes first; whether it did.
fn stopped_within(stop: &OwnedFd, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(stop.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthcheck(test: &[&str], interval_s: i64, retries: i64) -> Healthcheck {
        Healthcheck {
            test: test.iter().map(|s| s.to_string()).collect(),
            interval: interval_s * 1_000_000_000,
            retries,
            ..Healthcheck::default()
        }
    }

    #[test]
    fn the_command_lines_options_replace_the_images() {
        let image = healthcheck(&["CMD", "/probe", "exit", "0"], 10, 5);
        let given = healthcheck(&["CMD-SHELL", "test -e /ready"], 0, 0);
        let check = check_of(Some(&image), Some(&given), None).unwrap();
        assert_eq!(check.command, ["/bin/sh", "-c", "test -e /ready"]);
        assert_eq!(check.interval, Duration::from_secs(10));
        assert_eq!(check.retries, 5);
        assert_eq!(check.timeout, DEFAULT_TIMEOUT);
        let shell = ["/bin/bash".to_owned(), "-ec".to_owned()];
        let check = check_of(None, Some(&given), Some(&shell)).unwrap();
        assert_eq!(check.command, ["/bin/bash", "-ec", "test -e /ready"]);
        assert_eq!(
            check_of(Some(&image), Some(&healthcheck(&["NONE"], 0, 0)), None),
            None
        );
        assert_eq!(check_of(None, None, None), None);
    }

    fn result(exit_code: i32, at_s: u64) -> HealthResult {
        HealthResult {
            start_ns: at_s * 1_000_000_000,
            end_ns: at_s * 1_000_000_000,
            exit_code,
            output: String::new(),
        }
    }

    #[test]
    fn dockers_rules_for_status_and_streak() {
        let check = Check {
            command: vec!["true".into()],
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            start_period: Duration::from_secs(10),
            start_interval: Duration::from_secs(1),
            retries: 2,
        };
        let mut health = Health::default();
        // Failures in the start period do not count while starting.
        record(&mut health, result(1, 5), &check, 0);
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Starting, 0)
        );
        record(&mut health, result(0, 6), &check, 0);
        assert_eq!(health.status, HealthStatus::Healthy);
        // Once healthy, they do, start period or not.
        record(&mut health, result(1, 7), &check, 0);
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Healthy, 1)
        );
        record(&mut health, result(-1, 8), &check, 0);
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Unhealthy, 2)
        );
        record(&mut health, result(0, 9), &check, 0);
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Healthy, 0)
        );
        for at in 10..20 {
            record(&mut health, result(0, at), &check, 0);
        }
        assert_eq!(health.log.len(), KEPT_RESULTS);
        assert_eq!(health.log[0].start_ns, 15_000_000_000);
    }
}
