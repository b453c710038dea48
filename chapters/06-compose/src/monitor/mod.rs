//! The monitor: the process that keeps a detached container, as containerd's shim and Podman's
//! conmon do.
//!
//! ```text
//! ch06-compose run -d ──spawn──▶ monitor (ch06-compose monitor ID, its own session)
//!        ▲                        │ fds 1 and 2 := two pipes' write ends
//!        │                        │ chapter 03's start ──clone──▶ container (inherits 1 and 2)
//!        └── "started" ◀──────────┤ Step::started: record the pid, start the pump thread
//!            (the ready pipe)     │ pump thread: pipes ──▶ json-file log
//!                                 │ the container ends: record how, restart it or not
//!                                 ▼ exit (removing the container with --rm)
//! ```
//!
//! The command that started it returns as soon as the container runs; the monitor outlives it.
//! It is the container's parent, so it alone can wait for it and learn its exit status; it
//! holds the write ends of the container's output pipes, so the output never hits a closed
//! pipe (SIGPIPE) even between two runs of a restarting container.
//!
//! The monitor clones the container from a single thread (chapter 01's rule): its pump thread
//! starts only once the container runs and ends before the next start.

pub mod attach;
pub mod health;
mod pump;
pub mod restart;

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use ch01_namespaces::{Narrator, Step, StepError};
use ch03_union_fs::Store;
use ch03_union_fs::run::{RunEnd, StorageOptions};
use dockyard_support::FromIo;
use dockyard_support::clock::now_ns;
use nix::unistd::Pid;

use crate::container::{Health, HostConfig, Paths, RunState, Status, read_json, write_json};
use crate::error::{Error, Result};
use crate::lifecycle::ready::{self, Ready};
use crate::lifecycle::spec::{container_spec, running_config};
use crate::log::LogWriter;
use crate::network::attach::{Attachment, NetworkStep};
use crate::network::store::{JoinRequest, Networks};
use attach::AttachPoint;
use health::{Check, Checker, Prober};
use pump::{Output, Pump};
use restart::Decision;

/// Where the container's output goes besides its log.
#[derive(Debug)]
pub enum Mode {
    /// Detached (`run -d`, `start`): the output goes to the log alone, and the command that
    /// started the monitor waits on `ready` to learn that the container runs.
    Detached {
        /// The write end of the starter's pipe.
        ready: OwnedFd,
    },
    /// Attached (`run` without `-d`): the output goes to the log and to these (the terminal).
    Attached {
        /// Where the container's standard output is copied.
        stdout: OwnedFd,
        /// Where its standard error is copied.
        stderr: OwnedFd,
    },
    /// Attached with a terminal (`run -t` without `-d`): the container has this process's
    /// terminal itself, and no log (as docker's, a terminal's output is not worth keeping).
    Terminal,
}

/// The state file, shared by the monitor's threads: every change is saved whole.
#[derive(Debug, Clone)]
pub struct SharedState {
    state: Arc<Mutex<RunState>>,
    path: std::path::PathBuf,
}

impl SharedState {
    fn new(paths: &Paths, state: RunState) -> Self {
        SharedState {
            state: Arc::new(Mutex::new(state)),
            path: paths.state(),
        }
    }

    /// Changes the state and saves it, under the lock, so two threads' changes never cross.
    pub fn update(&self, change: impl FnOnce(&mut RunState)) -> Result<()> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut state);
        write_json(&self.path, &*state)
    }

    /// A copy of the state as it is now.
    pub fn get(&self) -> RunState {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

// ANCHOR: run
/// Runs the monitor of container `id` until the container ends for good; its result is the
/// container's last exit status. A container that could not start is an error (and, detached,
/// the starter is told why).
pub fn run(
    store: &Store,
    id: &str,
    storage: &StorageOptions,
    mode: Mode,
    prober: Prober,
    n: &Narrator,
) -> Result<i32> {
    let record = store.find(id)?;
    let paths = Paths::new(store, &record.id);
    // A `cp` that mounted the stopped container's files holds them: wait until it is done,
    // so that the container's overlay is never mounted twice over one upper directory.
    let _files = crate::copy::lock::share(&paths)?;
    // One monitor per container: a second `start` racing the first finds the lock taken.
    let Some(_lock) = lock(&paths)? else {
        if let Mode::Detached { ready } = mode {
            ready::send(ready, &Ready::Started);
        }
        return Ok(0);
    };
    let host: HostConfig = read_json(&paths.host_config())?;
    let previous: RunState = read_json(&paths.state()).unwrap_or_default();
    let shared = SharedState::new(
        &paths,
        RunState {
            status: Status::Created,
            monitor_pid: Some(std::process::id()),
            // A start by hand counts restarts from zero again, as docker's.
            restart_count: 0,
            ..previous
        },
    );
    let config = running_config(&record)?;
    let check = health::check_of(
        config.healthcheck.as_ref(),
        host.healthcheck.as_ref(),
        config.shell.as_deref(),
    );
    let log = || LogWriter::open(&paths.log(), host.log);
    let (output, ready) = match mode {
        Mode::Detached { ready } => {
            let stdin = host.process.interactive.then(stdin_pipe).transpose()?;
            let point = AttachPoint::listen(&paths, host.process.tty, stdin)?;
            let output = Output::capture(None)?.attach(point);
            (Some((output, log()?)), Some(ready))
        }
        Mode::Attached { stdout, stderr } => {
            let tee = Some((stdout, stderr));
            (Some((Output::capture(tee)?, log()?)), None)
        }
        Mode::Terminal => (None, None),
    };
    let mut monitor = Monitor {
        store,
        storage,
        record,
        paths,
        host,
        shared,
        health: check.map(|check| (check, prober)),
        output,
        ready,
        narrator: n.clone(),
    };
    monitor.keep()?;
    let code = monitor.shared.get().exit_code.unwrap_or(0);
    monitor.shared.update(|s| s.monitor_pid = None)?;
    if monitor.host.auto_remove {
        // `--rm` takes the container's anonymous volumes with it, as docker's does.
        crate::lifecycle::remove::remove_files(store, &monitor.record, true)?;
    }
    Ok(code)
}
// ANCHOR_END: run

/// What a monitor holds between two runs of its container.
struct Monitor<'a> {
    store: &'a Store,
    storage: &'a StorageOptions,
    record: ch03_union_fs::Record,
    paths: Paths,
    host: HostConfig,
    shared: SharedState,
    health: Option<(Check, Prober)>,
    output: Option<(Output, LogWriter)>,
    ready: Option<OwnedFd>,
    /// `--explain`'s narrator (attached `run` only: a detached monitor has no terminal).
    narrator: Narrator,
}

impl Monitor<'_> {
    // ANCHOR: keep
    /// Runs the container, and again as long as its restart policy says so.
    fn keep(&mut self) -> Result<()> {
        let mut delay = restart::Backoff::default();
        loop {
            let started_ns = now_ns();
            let end = match self.run_once() {
                Ok(end) => end,
                Err(error) => {
                    let error = failed_start(&self.shared, self.ready.take(), error);
                    if self.host.auto_remove {
                        let _best_effort =
                            crate::lifecycle::remove::remove_files(self.store, &self.record, true);
                    }
                    return Err(error);
                }
            };
            let stopped_by_user = || self.paths.stop_requested().exists();
            let restarts = self.shared.get().restart_count;
            let decision =
                restart::decide(&self.host.restart, &end.status, restarts, stopped_by_user());
            record_end(&self.shared, &end, &decision)?;
            if decision == Decision::Stay {
                return Ok(());
            }
            let ran_ns = now_ns().saturating_sub(started_ns);
            if !delay.wait(ran_ns, stopped_by_user) {
                return self.shared.update(|s| s.status = Status::Exited);
            }
            self.shared.update(|s| s.restart_count += 1)?;
        }
    }
    // ANCHOR_END: keep

    // ANCHOR: run_once
    /// Starts the container once and waits for its end: chapter 03's `start` with the
    /// monitor's step, which learns when the command runs; then the checker and the pump are
    /// stopped (the pump drains the pipes first) before the end is recorded.
    fn run_once(&mut self) -> Result<RunEnd> {
        let spec = container_spec(self.store, &self.record, &self.host, &self.narrator)?;
        let mut step = MonitorStep {
            shared: self.shared.clone(),
            ready: self.ready.take(),
            pump: None,
            output: self.output.take(),
            health: self
                .health
                .clone()
                .map(|(c, p)| (c, p, self.record.id.clone())),
            checker: None,
        };
        let mut network =
            network_step(self.store, &self.record, &self.host, &spec, &self.narrator)?;
        let mut steps: Vec<&mut dyn Step> = Vec::new();
        if let Some(network) = network.as_mut() {
            steps.push(network);
        }
        steps.push(&mut step);
        let end = ch03_union_fs::run::start(
            self.store,
            &mut self.record,
            spec,
            &self.host.cgroup,
            self.storage,
            &self.narrator,
            &mut steps,
        );
        if let Some(checker) = step.checker.take() {
            checker.finish();
        }
        self.output = match step.pump.take() {
            Some(pump) => Some(pump.finish()),
            None => step.output.take(),
        };
        // A starter still waiting (the command never ran) learns why from `keep`.
        self.ready = step.ready.take();
        Ok(end?)
    }
    // ANCHOR_END: run_once
}

// ANCHOR: network_step
/// The step that plugs the container into its network, if it has one: the default network is
/// made the first time a container needs it, and `-P` publishes the image's exposed ports.
fn network_step(
    store: &Store,
    record: &ch03_union_fs::Record,
    host: &HostConfig,
    spec: &ch01_namespaces::ContainerSpec,
    n: &Narrator,
) -> Result<Option<NetworkStep>> {
    let Some(name) = host.network.mode.network() else {
        return Ok(None);
    };
    let networks = Networks::open(store)?;
    if name == crate::network::DEFAULT_NETWORK {
        networks.default_network(n)?;
    }
    let mut ports = host.network.ports.clone();
    if host.network.publish_all {
        ports.extend(crate::network::ports::exposed(&running_config(record)?));
    }
    let member = record
        .name
        .clone()
        .unwrap_or_else(|| record.short_id().to_owned());
    let mut attachments = vec![Attachment {
        network: name.to_owned(),
        request: JoinRequest {
            name: member.clone(),
            aliases: host.network.aliases.clone(),
            ip: host.network.ip,
            holder: None,
        },
        ports,
    }];
    // `network connect`ed ones: eth1, eth2…, without ports or a default route.
    attachments.extend(host.network.connected.iter().map(|more| Attachment {
        network: more.network.clone(),
        request: JoinRequest {
            name: member.clone(),
            aliases: more.aliases.clone(),
            ip: more.ip,
            holder: None,
        },
        ports: Vec::new(),
    }));
    let files = crate::lifecycle::spec::etc_files(store, record, host, &spec.hostname);
    Ok(Some(NetworkStep::new(
        networks,
        &record.id,
        attachments,
        Some(files),
    )))
}
// ANCHOR_END: network_step

/// Makes this process's standard input (and so the container's) a pipe, whose write end it
/// returns: `attach` writes what the user types into it.
fn stdin_pipe() -> Result<OwnedFd> {
    use nix::fcntl::OFlag;
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| Error::io_op("make the input pipe")(e.into()))?;
    // The monitor's end never blocks it: what does not fit in the pipe is dropped.
    nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map_err(|e| Error::io_op("make the input pipe non-blocking")(e.into()))?;
    // SAFETY: dup2 onto this process's own standard input; the copy is not close-on-exec, so
    // the container inherits it.
    if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&read), 0) } < 0 {
        return Err(Error::io_op("make the input pipe the container's")(
            std::io::Error::last_os_error(),
        ));
    }
    Ok(write)
}

/// Takes the container's monitor lock (`monitor.lock`, an flock held for the monitor's life);
/// `None` if another monitor holds it.
fn lock(paths: &Paths) -> Result<Option<nix::fcntl::Flock<std::fs::File>>> {
    let path = paths.dir().join("monitor.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(Error::io("lock", &path)(e.into())),
    }
}

/// The container ended: how, and whether it will start again.
fn record_end(shared: &SharedState, end: &RunEnd, decision: &Decision) -> Result<()> {
    let oom = end.cgroup.as_ref().is_some_and(|c| c.oom_kills > 0);
    shared.update(|s| {
        s.status = match decision {
            Decision::Restart => Status::Restarting,
            Decision::Stay => Status::Exited,
        };
        s.pid = None;
        s.exit_code = Some(end.status.code());
        s.finished_ns = Some(now_ns());
        s.oom_killed = oom;
    })
}

/// The container could not start: the state says why, and a starter still waiting learns it.
fn failed_start(shared: &SharedState, ready: Option<OwnedFd>, error: Error) -> Error {
    let _best_effort = shared.update(|s| {
        s.status = if s.started_ns.is_some() {
            Status::Exited
        } else {
            Status::Created
        };
        s.pid = None;
        s.error = Some(error.to_string());
        s.monitor_pid = None;
    });
    if let Some(ready) = ready {
        ready::send(ready, &Ready::failed(&error));
    }
    error
}

/// The monitor's part in chapter 01's run: once the command started, record its pid, tell
/// the starter, and start the pump.
struct MonitorStep {
    shared: SharedState,
    ready: Option<OwnedFd>,
    output: Option<(Output, LogWriter)>,
    pump: Option<Pump>,
    health: Option<(Check, Prober, String)>,
    checker: Option<Checker>,
}

impl Step for MonitorStep {
    fn name(&self) -> &str {
        "monitor"
    }

    fn setup(&mut self, _child: Pid, _n: &Narrator) -> std::result::Result<(), StepError> {
        Ok(())
    }

    // ANCHOR: started
    fn started(&mut self, child: Pid, _n: &Narrator) {
        let started_ns = now_ns();
        let checked = self.health.is_some();
        let saved = self.shared.update(|s| {
            s.health = checked.then(Health::default);
            s.status = Status::Running;
            s.pid = Some(child.as_raw() as u32);
            s.started_ns = Some(started_ns);
            s.finished_ns = None;
            s.exit_code = None;
            s.error = None;
            s.oom_killed = false;
        });
        if let Some(ready) = self.ready.take() {
            let answer = match &saved {
                Ok(()) => Ready::Started,
                Err(error) => Ready::failed(error),
            };
            ready::send(ready, &answer);
        }
        if let Some((output, log)) = self.output.take() {
            self.pump = Some(Pump::start(output, log));
        }
        if let Some((check, prober, id)) = self.health.clone() {
            let shared = self.shared.clone();
            self.checker = Some(Checker::start(shared, prober, id, check, started_ns));
        }
    }
    // ANCHOR_END: started

    fn teardown(&mut self, _n: &Narrator) -> std::result::Result<(), StepError> {
        Ok(())
    }
}

/// Makes `fd` close on `execve`: the monitor's own descriptors must not reach the container's
/// command (chapter 01 closes the others too; this makes it so at the source).
pub fn close_on_exec(fd: &OwnedFd) -> Result<()> {
    nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map(drop)
    .map_err(|e| Error::io_op("mark a descriptor close-on-exec")(e.into()))
}

/// The arguments that give `ch06-monitor` (or a command line) a store: `--root`, each
/// `--storage-opt`, then `subcommand`.
pub fn global_args(
    root: &std::path::Path,
    storage_opts: &[String],
    subcommand: &str,
) -> Vec<std::ffi::OsString> {
    let mut args = vec!["--root".into(), root.as_os_str().to_owned()];
    for option in storage_opts {
        args.extend(["--storage-opt".into(), option.into()]);
    }
    args.push(subcommand.into());
    args
}
