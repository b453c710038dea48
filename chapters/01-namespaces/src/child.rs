//! The container's side of the spawn: everything between `clone` and `execve`.
//!
//! This code runs in the new namespaces but is still the engine's program. It waits for the
//! engine to finish its setup steps, then builds the container's world in order (cgroup
//! namespace, root filesystem, hostname, loopback, terminal, user, working directory) and
//! finally replaces itself with the command. Any failure is sent to the engine over the report
//! pipe and ends the process with the matching Docker exit status.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{dup2_stdin, sethostname};

use crate::error::{Error, Result};
use crate::exec;
use crate::explain::{Actor, Narrator};
use crate::init;
use crate::net;
use crate::rootfs;
use crate::signals;
use crate::spec::ContainerSpec;
use crate::sync;
use crate::tty;

/// What the child inherits from the engine for its own use.
#[derive(Debug)]
pub(crate) struct ChildEnds {
    pub release_read: OwnedFd,
    pub report_write: OwnedFd,
    pub console_socket: Option<OwnedFd>,
    pub saved_mask: SigSet,
}

// ANCHOR: child_sequence
/// The child's entry point right after `clone`. Never returns: it becomes the command (or,
/// with `--init`, the init that waits for it), or reports why it could not and exits.
pub(crate) fn main(spec: &ContainerSpec, ends: ChildEnds, n: &Narrator) -> ! {
    let ChildEnds {
        release_read,
        report_write,
        console_socket,
        saved_mask,
    } = ends;
    let error = match prepare(spec, &release_read, console_socket.as_ref(), n) {
        Err(error) => error,
        Ok(console) => {
            let command = || become_command(spec, console.as_deref(), &saved_mask, n);
            if spec.init {
                match init::run_as_pid1(n, report_write, command) {}
            }
            command()
        }
    };
    sync::send_failure(&report_write, &error);
    // SAFETY: _exit ends this process at once, without running the engine's atexit handlers or
    // flushing buffers that belong to the engine (this process is a copy of it).
    unsafe { libc::_exit(error.exit_code()) }
}

/// The container-wide steps, done once by the first process: returns the terminal's slave
/// path when there is one.
fn prepare(
    spec: &ContainerSpec,
    release: &OwnedFd,
    console_socket: Option<&OwnedFd>,
    n: &Narrator,
) -> Result<Option<PathBuf>> {
    die_with_engine()?;
    if !sync::wait_for_release(release) {
        // The engine is gone before it released us: nothing to run, nobody to report to.
        // SAFETY: see `main`.
        unsafe { libc::_exit(0) }
    }
    enter_cgroup_namespace(n)?;
    rootfs::enter(&spec.rootfs, n)?;
    set_hostname(&spec.hostname, n)?;
    net::bring_up_loopback(n)?;
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
fn stdin_from_dev_null() -> Result<()> {
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
/// terminal, identity, working directory, environment, signal mask, and `execve`.
fn become_command(
    spec: &ContainerSpec,
    console: Option<&Path>,
    saved_mask: &SigSet,
    n: &Narrator,
) -> Error {
    let prepared = (|| -> Result<Vec<(String, String)>> {
        match console {
            Some(slave) => tty::attach(slave, n)?,
            None if !spec.interactive => stdin_from_dev_null()?,
            None => {}
        }
        let identity = exec::resolve_identity(spec);
        let workdir = spec.workdir.clone().unwrap_or_else(|| PathBuf::from("/"));
        exec::enter_workdir(&workdir, n)?;
        exec::drop_to(&identity, n)?;
        signals::restore_mask(saved_mask)?;
        exec::close_inherited_fds(n)?;
        Ok(exec::environment(spec, &identity.home))
    })();
    match prepared {
        Ok(env) => exec::exec_command(spec, &env, n),
        Err(error) => error,
    }
}
// ANCHOR_END: become_command
