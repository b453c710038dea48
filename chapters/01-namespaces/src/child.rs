//! The container's side of the spawn: everything between `clone` and `execve`.
//!
//! This code runs in the new namespaces but is still the engine's program. It waits for the
//! engine to finish its setup steps, then builds the container's world in order (cgroup
//! namespace, root filesystem, masked paths, hostname, loopback, terminal, working directory,
//! then the privileges it keeps: user, capabilities, seccomp) and finally replaces itself with
//! the command. Any failure is sent to the engine over the report
//! pipe and ends the process with the matching Docker exit status.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use dockyard_support::FromIo;
use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{dup2_stdin, sethostname};

use crate::error::{Error, Result};
use crate::exec;
use crate::explain::{Actor, Narrator};
use crate::fds;
use crate::init;
use crate::net;
use crate::rootfs;
use crate::security::seccomp::{self, CompiledFilter};
use crate::security::{capabilities, masked};
use crate::signals;
use crate::spec::ContainerSpec;
use crate::steps::RootfsMount;
use crate::sync;
use crate::tty;

/// What the child inherits from the engine for its own use.
pub(crate) struct ChildEnds<'m> {
    pub release_read: OwnedFd,
    pub report_write: OwnedFd,
    pub console_socket: Option<OwnedFd>,
    pub saved_mask: SigSet,
    pub seccomp: Option<CompiledFilter>,
    pub rootfs_mount: Option<&'m dyn RootfsMount>,
    /// With `--init`: the sealed in-memory copy of `dockyard-init` that PID 1 executes.
    pub init_program: Option<OwnedFd>,
}

/// The child's entry point right after `clone`. Never returns: it becomes the command (or,
/// with `--init`, the init that waits for it), or reports why it could not and exits.
pub(crate) fn main(spec: &ContainerSpec, ends: ChildEnds<'_>, n: &Narrator) -> ! {
    let ChildEnds {
        release_read,
        report_write,
        console_socket,
        saved_mask,
        seccomp,
        rootfs_mount,
        init_program,
    } = ends;
    let keep = [
        Some(&release_read),
        Some(&report_write),
        console_socket.as_ref(),
        init_program.as_ref(),
    ];
    let keep: Vec<i32> = keep
        .into_iter()
        .flatten()
        .map(|fd| fd.as_raw_fd())
        .chain(n.raw_fd())
        .collect();
    let started = prepare(
        spec,
        &release_read,
        console_socket.as_ref(),
        rootfs_mount,
        &keep,
        n,
    );
    let error = match started {
        Err(error) => error,
        Ok(console) => {
            let command =
                || become_command(spec, console.as_deref(), &saved_mask, seccomp.as_ref(), n);
            if let Some(program) = init_program {
                let restrict_init = || {
                    let identity = exec::resolve_identity(spec);
                    drop_privileges(spec, &identity, seccomp.as_ref(), n)
                };
                match init::run_as_pid1(n, report_write, program, command, restrict_init) {}
            }
            command()
        }
    };
    sync::send_failure(&report_write, &error);
    // SAFETY: _exit ends this process at once, without running the engine's atexit handlers or
    // flushing buffers that belong to the engine (this process is a copy of it).
    unsafe { libc::_exit(error.status()) }
}

// ANCHOR: child_sequence
/// The container-wide steps, done once by the first process: returns the terminal's slave
/// path when there is one.
fn prepare(
    spec: &ContainerSpec,
    release: &OwnedFd,
    console_socket: Option<&OwnedFd>,
    rootfs_mount: Option<&dyn RootfsMount>,
    keep_fds: &[i32],
    n: &Narrator,
) -> Result<Option<PathBuf>> {
    die_with_engine()?;
    let Some(writes) = sync::wait_for_release(release) else {
        // The engine is gone before it released us: nothing to run, nobody to report to.
        // SAFETY: see `main`.
        unsafe { libc::_exit(0) }
    };
    make_step_writes(&writes, n)?;
    fds::close_all_except(keep_fds, n)?;
    enter_cgroup_namespace(n)?;
    rootfs::enter(&spec.rootfs, &spec.mounts, rootfs_mount, n)?;
    if spec.security.mask_paths {
        masked::apply(n)?;
    }
    if spec.read_only {
        // The working directory is made while it still can be, as docker makes it at create.
        if let Some(workdir) = spec.workdir.as_deref().filter(|w| !w.is_dir()) {
            std::fs::create_dir_all(workdir)
                .map_err(Error::io("create the working directory", workdir))?;
        }
        rootfs::make_read_only(n)?;
    }
    set_hostname(&spec.hostname, n)?;
    if !spec.host_network {
        net::bring_up_loopback(n)?;
    }
    console_socket
        .map(|socket| tty::create_console(socket, n))
        .transpose()
}
// ANCHOR_END: child_sequence

/// If the engine dies (even by SIGKILL), the kernel kills this process, and with it, as PID 1,
/// the whole namespace: a container never outlives its engine unsupervised.
fn die_with_engine() -> Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(Error::sys("ask to die with the engine (PR_SET_PDEATHSIG)"))
}

/// The writes the engine's setup steps left to this process (see `Step::child_writes`), made
/// before anything else: chapter 02 joins the container's cgroups here, so the command still
/// never runs a single instruction outside them.
pub(crate) fn make_step_writes(writes: &sync::StepWrites, n: &Narrator) -> Result<()> {
    for (file, value) in writes {
        n.say(
            Actor::Child,
            format_args!("write {value:?} > {}", file.display()),
        );
        std::fs::write(file, value).map_err(Error::io(format!("write {value:?} to"), file))?;
    }
    Ok(())
}

// ANCHOR: cgroupns
/// Enters a new cgroup namespace only now, after the engine had the chance to move this process
/// into its cgroup: the namespace's root is the cgroup the process is in when it is created.
fn enter_cgroup_namespace(n: &Narrator) -> Result<()> {
    n.say(Actor::Child, "unshare(CLONE_NEWCGROUP)");
    unshare(CloneFlags::CLONE_NEWCGROUP).map_err(Error::sys("enter a new cgroup namespace"))
}
// ANCHOR_END: cgroupns

fn set_hostname(hostname: &str, n: &Narrator) -> Result<()> {
    n.say(Actor::Child, format!("sethostname {hostname:?}"));
    sethostname(hostname).map_err(Error::sys(format!("set the hostname to {hostname:?}")))
}

/// Without `-i`, the command reads an empty stdin, as with `docker run`.
pub(crate) fn stdin_from_dev_null() -> Result<()> {
    let null = open(
        "/dev/null",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(Error::sys("open /dev/null for stdin"))?;
    dup2_stdin(&null).map_err(Error::sys("redirect stdin from /dev/null"))
}

// ANCHOR: become_command
/// The steps that belong to the command's own process (PID 1, or PID 2 under `--init`):
/// terminal, working directory, then the privileges it keeps, and `execve`.
fn become_command(
    spec: &ContainerSpec,
    console: Option<&Path>,
    saved_mask: &SigSet,
    seccomp: Option<&CompiledFilter>,
    n: &Narrator,
) -> Error {
    let prepared = (|| -> Result<exec::Prepared> {
        match console {
            Some(slave) => tty::attach(slave, n)?,
            None if !spec.interactive => stdin_from_dev_null()?,
            None => {}
        }
        let identity = exec::resolve_identity(spec);
        let workdir = spec.workdir.clone().unwrap_or_else(|| PathBuf::from("/"));
        exec::enter_workdir(&workdir, n)?;
        let command = exec::prepare(spec, &exec::environment(spec, &identity.home))?;
        drop_privileges(spec, &identity, seccomp, n)?;
        signals::restore_mask(saved_mask)?;
        fds::close_on_exec_above_stderr(n)?;
        Ok(command)
    })();
    match prepared {
        Ok(command) => exec::exec(command, n),
        Err(error) => error,
    }
}
// ANCHOR_END: become_command

// ANCHOR: drop_privileges
/// From root with every capability to what the container may keep, in the only order that
/// works: the bounding set while CAP_SETPCAP is still there; the seccomp filter while
/// CAP_SYS_ADMIN is (the kernel accepts a filter only from a privileged process or one with
/// `no_new_privs`); the user and groups while CAP_SETUID and CAP_SETGID are; then the sets
/// the command starts with. Every call after the filter must be one the profile allows.
pub(crate) fn drop_privileges(
    spec: &ContainerSpec,
    identity: &exec::Identity,
    filter: Option<&CompiledFilter>,
    n: &Narrator,
) -> Result<()> {
    let security = &spec.security;
    capabilities::limit_bounding_set(&security.capabilities, n)?;
    if let Some(filter) = filter {
        seccomp::load(filter, n)?;
    }
    exec::drop_to(identity, n)?;
    if identity.uid == 0 {
        capabilities::set_process_caps(&security.capabilities, n)?;
    }
    if security.no_new_privileges {
        n.say(Actor::Child, "prctl(PR_SET_NO_NEW_PRIVS, 1)");
        nix::sys::prctl::set_no_new_privs().map_err(Error::sys("set no_new_privs"))?;
    }
    Ok(())
}
// ANCHOR_END: drop_privileges
