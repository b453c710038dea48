//! `exec`: a new process in a running container, confined as the container is.
//!
//! Chapter 01 joins a running container given the host pid of one of its processes
//! ([`ch01_namespaces::Exec`]). This module finds that pid and decides the process's options
//! the way `docker exec` does, from what the container was created with:
//!
//! - the container must run: its monitor's `state.json` says so and names its first process;
//! - the environment is the container's (its image's `Env` and `run -e`), then `exec -e`'s;
//! - the user and working directory are the container's unless `-u` and `-w` say otherwise;
//! - the capabilities, seccomp profile and `no-new-privileges` are the container's
//!   (`hostconfig.json`); `--privileged` gives every capability, and keeps the container's
//!   seccomp profile, as docker's does;
//! - the process joins the container's cgroups, so the container's limits count it.
//!
//! A pid read from a file may name another process by the time it is used (the container
//! ended, the number was given to a new process), so the engine checks, once its pidfd holds the
//! process, that its root filesystem is this container's.
//!
//! [`exec_capture`] is what a health check runs: the command with its output captured and a
//! deadline, as docker's health checker does.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ch01_namespaces::security::capabilities;
use ch01_namespaces::{CgroupJoin, Exec, ExecSpec, ExitStatus, Narrator, User};
use ch03_union_fs::{Driver, Record, Store};
use ch04_images::oci::ContainerConfig;
use dockyard_support::FromIo;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{pipe2, read};

use crate::container::{HostConfig, Paths, RunState, Status, is_container_process, read_json};
use crate::error::{Error, Result};

/// What `docker exec` takes besides the container: plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// `-e`: variables added to the container's, or replacing them, in order.
    pub env: Vec<(String, String)>,
    /// `-u`: `user`, `uid`, `user:group` or `uid:gid` (default: the container's user).
    pub user: Option<String>,
    /// `-w`: the working directory, which must exist (default: the container's).
    pub workdir: Option<PathBuf>,
    /// `-t`: a terminal.
    pub tty: bool,
    /// `-i`: stdin relayed.
    pub interactive: bool,
    /// `--privileged`: every capability the engine has.
    pub privileged: bool,
}

/// A running container's process, and the spec of a process to start in it.
#[derive(Debug)]
struct Prepared {
    id: String,
    pid: u32,
    spec: ExecSpec,
}

/// Runs `options.command` in the running container `reference` (a name, an id or an id
/// prefix), relaying stdio, signals and the terminal, and returns how it ended.
///
/// Must be called from a single-threaded process, as [`Exec::run`].
pub fn exec(
    store: &Store,
    reference: &str,
    options: &ExecOptions,
    n: &Narrator,
) -> Result<ExitStatus> {
    let prepared = prepare(store, reference, options)?;
    Ok(joining(prepared, n).run()?)
}

/// Starts `options.command` in the running container `reference` and returns once it runs
/// (`docker exec -d`): its stdio is `/dev/null`, and it is nobody's child to wait for (a
/// terminal, which no one would read, is not given). Single-threaded callers only.
pub fn exec_detached(
    store: &Store,
    reference: &str,
    options: &ExecOptions,
    n: &Narrator,
) -> Result<()> {
    let options = ExecOptions {
        tty: false,
        ..options.clone()
    };
    let prepared = prepare(store, reference, &options)?;
    Ok(joining(prepared, n).detach()?)
}

fn joining(prepared: Prepared, n: &Narrator) -> Exec {
    let Prepared { id, pid, spec } = prepared;
    Exec::new(pid, spec)
        .narrate(n.clone())
        .verify_target(move |pid| {
            if is_container_process(pid, &id) {
                Ok(())
            } else {
                Err(Error::NotRunning(id.clone()).into())
            }
        })
}

/// The most output a health check keeps, as docker's (`maxOutputLen` in moby's
/// `daemon/health.go`); more is cut, and marked with `...`.
pub const CAPTURED_OUTPUT_LIMIT: usize = 4096;

/// What a captured command did: its exit code (-1 when it ran out of time, as docker
/// reports a health check's timeout) and the start of its output, stdout and stderr together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The exit code; 128+N for signal N; -1 for a timeout.
    pub exit_code: i32,
    /// The first [`CAPTURED_OUTPUT_LIMIT`] bytes of what it wrote, `...` appended if there was
    /// more; for a timeout, docker's `Health check exceeded timeout (30s)`.
    pub output: String,
}

// ANCHOR: exec_capture
/// Runs `command` in the running container `id` as a health check does: as the container's
/// user, in its working directory, with its environment, stdin `/dev/null`, and stdout and
/// stderr into one pipe, of which the first 4 KiB are kept. If it has not ended after
/// `timeout`, it is killed (SIGKILL) and the result says so.
///
/// An error means the command could not be run at all (not found, the container stopped);
/// docker's health checker records that as exit code -1 with the error's text as output.
///
/// Must be called from a single-threaded process, as [`Exec::run`]: the monitor, whose pump
/// thread runs the checks, runs each in a process of its own.
pub fn exec_capture(
    store: &Store,
    id: &str,
    command: Vec<String>,
    timeout: Duration,
) -> Result<Captured> {
    let options = ExecOptions {
        command,
        ..ExecOptions::default()
    };
    let prepared = prepare(store, id, &options)?;
    let (output, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(sys("create the output pipe"))?;
    // Only the engine's end: the command writes as to any pipe, blocking when it is full.
    fcntl(&output, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map_err(sys("make the output pipe non-blocking"))?;
    let deadline = Instant::now() + timeout;
    let joined = joining(prepared, &Narrator::silent())
        .output(write_end)
        .spawn()?;
    let mut kept = Kept::default();
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            joined.kill()?;
            joined.wait()?;
            return Ok(Captured {
                exit_code: -1,
                output: format!("Health check exceeded timeout ({})", go_duration(timeout)),
            });
        };
        let (output_ready, ended) = wait_for(&output, &joined, left)?;
        if output_ready {
            kept.read_from(&output)?;
        }
        if ended && let Some(status) = joined.try_wait()? {
            // What is still in the pipe was written before the end; a descendant that kept the
            // pipe open is not waited for (docker's neither).
            kept.read_from(&output)?;
            return Ok(Captured {
                exit_code: status.code(),
                output: kept.into_output(),
            });
        }
    }
}
// ANCHOR_END: exec_capture

/// Waits until the output is readable or the process ended (its pidfd is readable), at most
/// `left`.
fn wait_for(output: &OwnedFd, process: &impl AsFd, left: Duration) -> Result<(bool, bool)> {
    let millis = u16::try_from(left.as_millis().saturating_add(1)).unwrap_or(u16::MAX);
    let mut fds = [
        PollFd::new(output.as_fd(), PollFlags::POLLIN),
        PollFd::new(process.as_fd(), PollFlags::POLLIN),
    ];
    match poll(&mut fds, PollTimeout::from(millis)) {
        Ok(_) | Err(Errno::EINTR) => {}
        Err(e) => return Err(sys("wait for the health check")(e)),
    }
    let ready = |fd: &PollFd| fd.any().unwrap_or(false);
    Ok((ready(&fds[0]), ready(&fds[1])))
}

/// The output kept so far, and whether some was cut.
#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Kept {
    /// Reads what the (non-blocking) pipe holds now; past the limit it is read and dropped,
    /// so that the command never blocks on a full pipe.
    fn read_from(&mut self, pipe: &OwnedFd) -> Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match read(pipe, &mut buf) {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(()),
                Ok(n) => {
                    let room = CAPTURED_OUTPUT_LIMIT - self.bytes.len();
                    self.bytes.extend_from_slice(&buf[..n.min(room)]);
                    self.truncated |= n > room;
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(sys("read the health check's output")(e)),
            }
        }
    }

    fn into_output(self) -> String {
        let mut output = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.truncated {
            output.push_str("...");
        }
        output
    }
}

/// A duration as Go prints it (`time.Duration.String`), which docker's messages use: `30s`,
/// `1m30s`, `1h0m0s`, `1.5s`, `500ms`.
fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    let trimmed = |whole: u128, fraction: u128, digits: usize, unit: &str| {
        let fraction = format!("{fraction:0digits$}");
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{whole}{unit}")
        } else {
            format!("{whole}.{fraction}{unit}")
        }
    };
    match nanos {
        0 => "0s".into(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => trimmed(n / 1_000, n % 1_000, 3, "µs"),
        n if n < 1_000_000_000 => trimmed(n / 1_000_000, n % 1_000_000, 6, "ms"),
        n => {
            let seconds = trimmed((n / 1_000_000_000) % 60, n % 1_000_000_000, 9, "s");
            let minutes = n / 60_000_000_000;
            match (minutes / 60, minutes % 60) {
                (0, 0) => seconds,
                (0, m) => format!("{m}m{seconds}"),
                (h, m) => format!("{h}h{m}m{seconds}"),
            }
        }
    }
}

// ANCHOR: prepare
/// Finds the running container and decides the process's spec from its configuration.
fn prepare(store: &Store, reference: &str, options: &ExecOptions) -> Result<Prepared> {
    let record = store.find(reference)?;
    let paths = Paths::new(store, &record.id);
    let pid = running_pid(&paths, &record.id)?;
    let host: HostConfig = read_json(&paths.host_config())?;
    let config: ContainerConfig = match &record.config {
        Some(config) => {
            serde_json::from_value(config.clone()).map_err(|e| Error::CorruptState {
                path: paths.dir().join("config.json"),
                message: e.to_string(),
            })?
        }
        None => ContainerConfig::default(),
    };
    let user = match options.user.as_deref().or(config.user.as_deref()) {
        Some(user) if !user.is_empty() => resolve_user(store, &record, user)?,
        _ => User::default(),
    };
    let mut security = host.process.security()?;
    if options.privileged {
        security.capabilities = capabilities::engine_bounding_set()?;
    }
    let workdir = options.workdir.clone().or_else(|| {
        (config.working_dir.as_deref())
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
    });
    let spec = ExecSpec {
        env: environment(&config, &options.env),
        user,
        workdir,
        tty: options.tty,
        interactive: options.interactive,
        security,
        cgroups: CgroupJoin::OfTarget,
        ..ExecSpec::new(options.command.clone())
    };
    Ok(Prepared {
        id: record.id,
        pid,
        spec,
    })
}
// ANCHOR_END: prepare

/// The container's first process, from its monitor's state: it must be running.
fn running_pid(paths: &Paths, id: &str) -> Result<u32> {
    let state: RunState = match read_json(&paths.state()) {
        Ok(state) => state,
        // Never started: its monitor never wrote a state.
        Err(Error::Io(io)) if io.source.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotRunning(id.to_owned()));
        }
        Err(error) => return Err(error),
    };
    match (state.status, state.pid) {
        (Status::Running, Some(pid)) => Ok(pid),
        _ => Err(Error::NotRunning(id.to_owned())),
    }
}

/// The container's `Env`, then `-e`'s: a variable already there takes the new value in place,
/// a new one goes last (docker's `ReplaceOrAppendEnvValues`).
fn environment(config: &ContainerConfig, added: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = config
        .env
        .iter()
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (key, value) in added {
        match env.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value.clone(),
            None => env.push((key.clone(), value.clone())),
        }
    }
    env
}

/// `-u` (or the container's `User`): numbers as they are, names looked up in the container's
/// `/etc/passwd` and `/etc/group` as its layers and its own writable layer show them.
fn resolve_user(store: &Store, record: &Record, user: &str) -> Result<User> {
    let mut layers = record.layers.clone();
    layers.push(match record.driver {
        Driver::Overlay => store.upper_dir(&record.id),
        Driver::Vfs => store.rootfs_dir(record),
    });
    Ok(ch04_images::run::resolve_user(user, &layers)?)
}

/// A closure for `map_err` naming what this module was attempting.
fn sys(action: &'static str) -> impl FnOnce(Errno) -> Error {
    move |errno| Error::io_op(action)(std::io::Error::from(errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_prints_them() {
        let cases = [
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_micros(1500), "1.5ms"),
            (Duration::ZERO, "0s"),
        ];
        for (duration, text) in cases {
            assert_eq!(go_duration(duration), text);
        }
    }

    #[test]
    fn exec_env_replaces_in_place_and_appends() {
        let config = ContainerConfig {
            env: vec!["PATH=/bin".into(), "A=1".into()],
            ..ContainerConfig::default()
        };
        let added = [("A".into(), "2".into()), ("B".into(), "3".into())];
        let env = environment(&config, &added);
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(pairs, ["PATH=/bin", "A=2", "B=3"]);
    }

    #[test]
    fn output_is_cut_at_4_kib_and_marked() {
        let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).unwrap();
        nix::unistd::write(&write_end, &[b'x'; 5000]).unwrap();
        let mut kept = Kept::default();
        kept.read_from(&read_end).unwrap();
        let output = kept.into_output();
        assert_eq!(output.len(), CAPTURED_OUTPUT_LIMIT + 3);
        assert!(output.ends_with("x..."));
    }
}
