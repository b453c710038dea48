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

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signalfd::SignalFd;
use nix::unistd::{Pid, geteuid};

use crate::child::{self, ChildEnds};
use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::init_program;
use crate::relay;
use crate::security::seccomp;
use crate::signals;
use crate::spec::ContainerSpec;
use crate::status::{ExitStatus, kill_and_reap, reap};
use crate::steps::{RootfsMount, Step};
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

    // ANCHOR: spawn_and_wait
    /// The core sequence: clone the child, run the setup steps while it waits, release it,
    /// supervise it until it ends, and tear the steps down, on every path. The child takes
    /// the other branch of the clone and never comes back from `child::main`.
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
        let init_program = self
            .spec
            .init
            .then(|| init_program::seal_init_program(&n))
            .transpose()?;

        let child = clone_child(self.spec.host_network, &n)?;
        let Some(child) = child else {
            drop((pipes.release_write, pipes.report_read, engine_console));
            let ends = ChildEnds {
                release_read: pipes.release_read,
                report_write: pipes.report_write,
                console_socket: child_console,
                saved_mask,
                seccomp,
                rootfs_mount: self.rootfs_mount,
                init_program,
            };
            child::main(&self.spec, ends, &n);
        };
        drop((pipes.release_read, pipes.report_write, child_console));
        drop(init_program);

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
    // ANCHOR_END: spawn_and_wait

    fn setup_steps(&mut self, child: Pid, ready: &mut usize) -> Result<()> {
        for step in &mut self.steps {
            n_say_step(&self.narrator, "setup", step.name());
            step.setup(child, &self.narrator)
                .map_err(|source| Error::Step {
                    step: step.name().to_string(),
                    source,
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
            if let Err(source) = step.teardown(&self.narrator) {
                first_error.get_or_insert(Error::Step {
                    step: step.name().to_string(),
                    source,
                });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// After the release: learn whether the command started, then wait for the container while
    /// forwarding signals and relaying the terminal.
    fn supervise(
        &mut self,
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
        for step in &mut self.steps {
            step.started(child, &self.narrator);
        }
        let status = relay::wait(
            child,
            signal_fd,
            master,
            self.spec.interactive,
            &self.narrator,
        )
        .inspect_err(|_| kill_and_reap(child))?;
        self.narrator
            .say(Actor::Engine, format!("container exited: {status}"));
        Ok(status)
    }
}

fn n_say_step(n: &Narrator, phase: &str, name: &str) {
    n.say(Actor::Engine, format!("{phase} step: {name}"));
}

/// How long a spawn waits for the engine's other threads to end before it refuses.
const THREADS_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

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
    // A thread still on its way out (a library's helper) is waited for, a few seconds.
    if dockyard_support::process::wait_until_single_threaded(THREADS_PATIENCE) != Some(1) {
        return Err(Error::InvalidSpec(
            "the engine must be single-threaded to clone a container (see Container::run)".into(),
        ));
    }
    Ok(())
}
// ANCHOR_END: preflight

// ANCHOR: clone
/// Creates the child in new namespaces. Returns `Some(pid)` in the engine, `None` in the child.
///
/// `clone` with no new stack behaves like `fork`: the child continues from here on a copy of
/// the engine's memory. (`unshare` would not do: it moves the *caller* into the new mount, UTS,
/// IPC and network namespaces, and a new PID namespace applies only to children created later.)
fn clone_child(host_network: bool, n: &Narrator) -> Result<Option<Pid>> {
    // A container on the host's network (`--network host`) keeps the engine's namespace.
    let wanted = CLONE_NAMESPACES
        .iter()
        .filter(|(flag, _, _)| !(host_network && *flag == CloneFlags::CLONE_NEWNET));
    let flags = wanted
        .clone()
        .fold(CloneFlags::empty(), |all, (flag, _, _)| all | *flag);
    let names: Vec<&str> = wanted.map(|(_, name, _)| *name).collect();
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
