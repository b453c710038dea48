//! The engine's side of the spawn: clone the child into new namespaces, run the setup steps,
//! release it, wait for it, run the teardown steps.
//!
//! ```text
//! engine                                   child (new mount, UTS, IPC, PID, net namespaces)
//! ──────                                   ─────
//! clone(CLONE_NEW*) ─────────────────────▶ blocks on the release pipe
//! setup steps (later chapters: cgroup, veth)
//! release ───────────────────────────────▶ the steps' writes (chapter 02: join its cgroups),
//!                                          unshare(CLONE_NEWCGROUP), rootfs, pivot_root,
//!                                          hostname, lo up, terminal, user, workdir
//! read the report pipe ◀──── EOF ───────── execve(command)  (or a failure record)
//! forward signals, relay the terminal, wait
//! teardown steps, in reverse order
//! ```
//!
//! Later chapters plug into the run through [`Step`]: each step's `setup` runs after `clone`,
//! while the child is still blocked, and its `teardown` runs after the container ended, on
//! every path, so nothing a step creates outlives the container.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::{Signal, kill};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, geteuid};

use crate::child::{self, ChildEnds};
use crate::error::{Error, Result, exit_code};
use crate::explain::{Actor, Narrator};
use crate::relay;
use crate::security::seccomp;
use crate::signals;
use crate::spec::ContainerSpec;
use crate::sync::{self, SyncPipes};
use crate::tty;

// ANCHOR: clone_flags
/// The namespaces the child is created in. The cgroup namespace is missing on purpose: the
/// child enters it itself, after the engine's setup steps placed it in its cgroup.
pub const CLONE_NAMESPACES: &[(CloneFlags, &str, &str)] = &[
    (CloneFlags::CLONE_NEWNS, "CLONE_NEWNS", "mnt"),
    (CloneFlags::CLONE_NEWUTS, "CLONE_NEWUTS", "uts"),
    (CloneFlags::CLONE_NEWIPC, "CLONE_NEWIPC", "ipc"),
    (CloneFlags::CLONE_NEWPID, "CLONE_NEWPID", "pid"),
    (CloneFlags::CLONE_NEWNET, "CLONE_NEWNET", "net"),
];
// ANCHOR_END: clone_flags

/// How a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The container's PID 1 exited with this status.
    Exited(i32),
    /// The container's PID 1 was killed by this signal.
    Signaled(Signal),
}

impl ExitStatus {
    /// The status `docker run` exits with: the command's own, or 128 + N for signal N.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(signal) => exit_code::SIGNAL_BASE + signal as i32,
        }
    }
}

/// The error type setup steps return; the engine wraps it with the step's name.
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

// ANCHOR: step
/// A setup and teardown step that a later chapter adds to the run (a cgroup, a network
/// interface). Steps run in the engine, in the order they were added; teardowns run in reverse.
pub trait Step {
    /// A short name for errors and narration, e.g. `cgroup`.
    fn name(&self) -> &str;

    /// Runs after `clone`, before the child is released: `child` exists, in its new
    /// namespaces, but has not started setting up its root filesystem.
    fn setup(&mut self, child: Pid, n: &Narrator) -> Result<(), StepError>;

    /// Writes the child makes itself as its first act once released, as `(file, value)`, asked
    /// right after `setup`: for what a process does to itself more cheaply than anyone can do
    /// it to it (chapter 02: writing `0` to a cgroup v1 `tasks` file moves the writer without
    /// the global lock that moving another process takes). None by default.
    fn child_writes(&self) -> Vec<(PathBuf, String)> {
        Vec::new()
    }

    /// Runs after the container ended, or after a later step's setup failed. Only steps whose
    /// setup succeeded are torn down.
    fn teardown(&mut self, n: &Narrator) -> Result<(), StepError>;
}
// ANCHOR_END: step

// ANCHOR: rootfs_mount
/// Builds the root filesystem inside the container's own mount namespace (chapter 03 mounts
/// an overlay of image layers there). It runs in the child, after its mounts were made private
/// and before the root is swapped in, so whatever it mounts is private to the container and
/// disappears with it: no mount is ever left on the host, even if the engine is killed.
pub trait RootfsMount {
    /// A short name for errors and narration, e.g. `overlay`.
    fn name(&self) -> &str;

    /// Mounts the root filesystem on `rootfs` (the spec's rootfs directory).
    fn mount(&self, rootfs: &std::path::Path, n: &Narrator) -> Result<(), StepError>;
}
// ANCHOR_END: rootfs_mount

/// A container about to run: a spec, the steps later chapters add, and a narrator.
///
/// Steps are borrowed, not owned: the caller keeps them and can ask them afterwards what they
/// saw (chapter 02 reads the cgroup's counters after the container ended).
pub struct Container<'s> {
    spec: ContainerSpec,
    steps: Vec<&'s mut dyn Step>,
    rootfs_mount: Option<&'s dyn RootfsMount>,
    narrator: Narrator,
}

impl std::fmt::Debug for Container<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps: Vec<&str> = self.steps.iter().map(|s| s.name()).collect();
        f.debug_struct("Container")
            .field("spec", &self.spec)
            .field("steps", &steps)
            .field("rootfs_mount", &self.rootfs_mount.map(|m| m.name()))
            .finish()
    }
}

impl<'s> Container<'s> {
    /// A container for `spec`, with no extra steps and no narration.
    pub fn new(spec: ContainerSpec) -> Self {
        Container {
            spec,
            steps: Vec::new(),
            rootfs_mount: None,
            narrator: Narrator::silent(),
        }
    }

    /// Narrates every step through `narrator` (see [`Narrator::to_stderr`]).
    pub fn narrate(mut self, narrator: Narrator) -> Self {
        self.narrator = narrator;
        self
    }

    /// Adds a setup/teardown step; steps run in the order added.
    pub fn step(mut self, step: &'s mut dyn Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Has `mount` build the root filesystem on the spec's rootfs directory, inside the
    /// container's mount namespace, before the root is swapped in.
    pub fn mount_rootfs(mut self, mount: &'s dyn RootfsMount) -> Self {
        self.rootfs_mount = Some(mount);
        self
    }

    /// The container's spec.
    pub fn spec(&self) -> &ContainerSpec {
        &self.spec
    }

    // ANCHOR: run
    /// Runs the container to completion and returns how it ended.
    ///
    /// Must be called from a single-threaded process: the child is a copy of the caller made
    /// by `clone`, and in a multi-threaded process a lock held by another thread at that
    /// instant (the allocator's, say) would stay locked forever in the copy.
    pub fn run(mut self) -> Result<ExitStatus> {
        preflight(&self.spec)?;
        let (saved_mask, signal_fd) = signals::block_and_watch()?;
        let result = self.spawn_and_wait(saved_mask, &signal_fd);
        signals::restore_mask(&saved_mask)?;
        result
    }
    // ANCHOR_END: run

    fn spawn_and_wait(
        &mut self,
        saved_mask: nix::sys::signal::SigSet,
        signal_fd: &SignalFd,
    ) -> Result<ExitStatus> {
        let n = self.narrator.clone();
        let pipes = SyncPipes::new()?;
        let console = self.spec.tty.then(tty::console_socket).transpose()?;
        let (engine_console, child_console) = console.unzip();
        let security = &self.spec.security;
        let seccomp = seccomp::compile(&security.seccomp, &security.capabilities)?;

        let child = clone_child(&n)?;
        let Some(child) = child else {
            drop((pipes.release_write, pipes.report_read, engine_console));
            let ends = ChildEnds {
                release_read: pipes.release_read,
                report_write: pipes.report_write,
                console_socket: child_console,
                saved_mask,
                seccomp,
                rootfs_mount: self.rootfs_mount,
            };
            child::main(&self.spec, ends, &n);
        };
        drop((pipes.release_read, pipes.report_write, child_console));

        let mut ready = 0;
        let started = self.setup_steps(child, &mut ready).and_then(|()| {
            let writes: Vec<_> = self.steps.iter().flat_map(|s| s.child_writes()).collect();
            n.say(Actor::Engine, "release the child (write to the sync pipe)");
            sync::release(pipes.release_write, &writes)
        });
        // Either way the child is reaped when `outcome` is known, so its pid cannot be reused
        // by an unrelated process that a later kill would hit.
        let outcome = match started {
            Ok(()) => self.supervise(child, &pipes.report_read, engine_console, signal_fd),
            Err(error) => {
                kill_and_reap(child);
                Err(error)
            }
        };
        let teardown = self.teardown_steps(ready);
        let status = outcome?;
        teardown?;
        Ok(status)
    }

    fn setup_steps(&mut self, child: Pid, ready: &mut usize) -> Result<()> {
        for step in &mut self.steps {
            n_say_step(&self.narrator, "setup", step.name());
            step.setup(child, &self.narrator).map_err(|e| Error::Step {
                step: step.name().to_string(),
                message: e.to_string(),
            })?;
            *ready += 1;
        }
        Ok(())
    }

    /// Tears down the first `ready` steps in reverse order; every one is attempted, the first
    /// failure is returned.
    fn teardown_steps(&mut self, ready: usize) -> Result<()> {
        let mut first_error = None;
        for step in self.steps[..ready].iter_mut().rev() {
            n_say_step(&self.narrator, "teardown", step.name());
            if let Err(e) = step.teardown(&self.narrator) {
                first_error.get_or_insert(Error::Step {
                    step: step.name().to_string(),
                    message: e.to_string(),
                });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// After the release: learn whether the command started, then wait for the container while
    /// forwarding signals and relaying the terminal.
    fn supervise(
        &self,
        child: Pid,
        report: &OwnedFd,
        console: Option<OwnedFd>,
        signal_fd: &SignalFd,
    ) -> Result<ExitStatus> {
        let started = (|| {
            let master = match &console {
                Some(socket) => tty::receive_master(socket)?,
                None => None,
            };
            Ok((master, sync::receive_failure(report)?))
        })();
        let master = match started {
            Ok((_, Some(failure))) => {
                reap(child)?;
                return Err(failure);
            }
            Ok((master, None)) => master,
            Err(error) => {
                kill_and_reap(child);
                return Err(error);
            }
        };
        let status = relay::wait(
            child,
            signal_fd,
            master,
            self.spec.interactive,
            &self.narrator,
        )
        .inspect_err(|_| kill_and_reap(child))?;
        self.narrator.say(
            Actor::Engine,
            format!("container exited: {}", describe(status)),
        );
        Ok(status)
    }
}

fn n_say_step(n: &Narrator, phase: &str, name: &str) {
    n.say(Actor::Engine, format!("{phase} step: {name}"));
}

fn describe(status: ExitStatus) -> String {
    match status {
        ExitStatus::Exited(code) => format!("status {code}"),
        ExitStatus::Signaled(signal) => format!("killed by {signal}"),
    }
}

// ANCHOR: preflight
/// The checks that give a clear error instead of an errno from deep inside the spawn.
fn preflight(spec: &ContainerSpec) -> Result<()> {
    if !geteuid().is_root() {
        return Err(Error::NotRoot);
    }
    spec.validate()?;
    for (_, _, ns) in CLONE_NAMESPACES
        .iter()
        .chain(&[(CloneFlags::CLONE_NEWCGROUP, "", "cgroup")])
    {
        if !std::path::Path::new("/proc/self/ns").join(ns).exists() {
            return Err(Error::NamespaceUnsupported(ns));
        }
    }
    if threads_in_this_process() != Some(1) {
        return Err(Error::InvalidSpec(
            "the engine must be single-threaded to clone a container (see Container::run)".into(),
        ));
    }
    Ok(())
}
// ANCHOR_END: preflight

/// The `Threads:` line of /proc/self/status.
fn threads_in_this_process() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

// ANCHOR: clone
/// Creates the child in new namespaces. Returns `Some(pid)` in the engine, `None` in the child.
///
/// `clone` with no new stack behaves like `fork`: the child continues from here on a copy of
/// the engine's memory. (`unshare` would not do: it moves the *caller* into the new mount, UTS,
/// IPC and network namespaces, and a new PID namespace applies only to children created later.)
fn clone_child(n: &Narrator) -> Result<Option<Pid>> {
    let flags = CLONE_NAMESPACES
        .iter()
        .fold(CloneFlags::empty(), |all, (flag, _, _)| all | *flag);
    let names: Vec<&str> = CLONE_NAMESPACES.iter().map(|(_, name, _)| *name).collect();
    // SAFETY: raw clone(2) with a null stack, like fork: the child gets a copy of this (single-
    // threaded, checked in preflight) process. SIGCHLD is the signal the parent gets at its exit.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags.bits() | libc::SIGCHLD) as libc::c_ulong,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_int>(),
            std::ptr::null_mut::<libc::c_int>(),
            0 as libc::c_ulong,
        )
    };
    match pid {
        -1 => Err(Error::sys(format!("clone({})", names.join("|")))(
            Errno::last(),
        )),
        0 => Ok(None),
        pid => {
            n.say(
                Actor::Engine,
                format!("clone({}) = pid {pid}", names.join("|")),
            );
            Ok(Some(Pid::from_raw(pid as i32)))
        }
    }
}
// ANCHOR_END: clone

/// Waits for the child, retrying on EINTR.
pub(crate) fn reap(child: Pid) -> Result<ExitStatus> {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(ExitStatus::Exited(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(ExitStatus::Signaled(signal)),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys(format!("wait for pid {child}"))(e)),
        }
    }
}

/// Checks without blocking whether the child has ended.
pub(crate) fn try_reap(child: Pid) -> Result<Option<ExitStatus>> {
    match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::Exited(code))),
        Ok(WaitStatus::Signaled(_, signal, _)) => Ok(Some(ExitStatus::Signaled(signal))),
        Ok(_) | Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(Error::sys(format!("wait for pid {child}"))(e)),
    }
}

/// On a failed start: SIGKILL the child (as PID 1 its death ends the whole namespace) and wait.
fn kill_and_reap(child: Pid) {
    // Both can only fail if the child is already gone and reaped, which is what we want.
    let _already_gone = kill(child, Signal::SIGKILL);
    let _already_reaped = reap(child);
}
