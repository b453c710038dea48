//! The exec'd process's side, from `fork` to `execve`: into the container, then chapter 01's
//! last steps, the same code `run`'s command goes through.
//!
//! The order matters. Descriptors first: nothing the engine inherited may follow it inside. The
//! cgroups next, while the host's cgroup filesystem is still this process's to see and before
//! the container's cgroup namespace (whose root it could not leave) is entered. Then the
//! namespaces, after which `/` is the container's root. Then, as for `run`: the terminal, the
//! working directory, the user, the privileges, `execve`. Any failure is sent to the engine
//! over the report pipe and ends the process with the matching Docker exit status.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::{OFlag, open};
use nix::sys::signal::SigSet;
use nix::sys::stat::Mode;
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout};

use super::target::Target;
use super::workdir;
use crate::child::{drop_privileges, make_step_writes, stdin_from_dev_null};
use crate::error::{Error, Result};
use crate::exec;
use crate::explain::{Actor, Narrator};
use crate::fds;
use crate::security::seccomp::CompiledFilter;
use crate::signals;
use crate::spec::ContainerSpec;
use crate::sync::{self, StepWrites};
use crate::tty;

/// What the child takes from the engine for its own use.
#[derive(Debug)]
pub(super) struct ChildEnds {
    /// The report pipe's write end: a failure record, or end-of-file at `execve`.
    pub report: OwnedFd,
    /// With a terminal: the socket the master goes to the engine over.
    pub console_socket: Option<OwnedFd>,
    /// Where stdout and stderr go instead of the engine's (a health check's pipe).
    pub output: Option<OwnedFd>,
    /// Detached: stdin, stdout and stderr are the container's `/dev/null`.
    pub null_stdio: bool,
    /// The signal mask the command starts with.
    pub saved_mask: SigSet,
    /// The seccomp filter, compiled by the engine.
    pub seccomp: Option<CompiledFilter>,
    /// `0` into each `cgroup.procs` file to join.
    pub cgroup_writes: StepWrites,
}

/// The child's entry point right after `fork`. Never returns: it becomes the command, or
/// reports why it could not and exits.
pub(super) fn main(mut spec: ContainerSpec, target: &Target, ends: ChildEnds, n: &Narrator) -> ! {
    let error = match enter(&mut spec, target, &ends, n) {
        Ok(command) => exec::exec(command, n),
        Err(error) => error,
    };
    sync::send_failure(&ends.report, &error);
    // SAFETY: _exit ends this process at once, without running the engine's atexit handlers or
    // flushing buffers that belong to the engine (this process is a copy of it).
    unsafe { libc::_exit(error.status()) }
}

// ANCHOR: exec_child
/// Everything up to the `execve`, in order; returns the command, ready.
fn enter(
    spec: &mut ContainerSpec,
    target: &Target,
    ends: &ChildEnds,
    n: &Narrator,
) -> Result<exec::Prepared> {
    let keep: Vec<i32> = [
        Some(&ends.report),
        ends.console_socket.as_ref(),
        ends.output.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|fd| fd.as_raw_fd())
    .chain(target.raw_fds())
    .chain(n.raw_fd())
    .collect();
    fds::close_all_except(&keep, n)?;
    make_step_writes(&ends.cgroup_writes, n)?;
    target.enter(n)?;
    redirect_stdio(ends, n)?;
    let console = ends
        .console_socket
        .as_ref()
        .map(|socket| tty::create_console(socket, n))
        .transpose()?;
    match console {
        Some(slave) => tty::attach(&slave, n)?,
        None if !spec.interactive && ends.output.is_none() && !ends.null_stdio => {
            stdin_from_dev_null()?
        }
        None => {}
    }
    spec.hostname = nix::unistd::gethostname()
        .map_err(Error::sys("read the container's hostname"))?
        .to_string_lossy()
        .into_owned();
    let identity = exec::resolve_identity(spec);
    let dir = spec.workdir.clone().unwrap_or_else(|| "/".into());
    workdir::enter(&dir, n)?;
    let command = exec::prepare(spec, &exec::environment(spec, &identity.home))?;
    drop_privileges(spec, &identity, ends.seccomp.as_ref(), n)?;
    signals::restore_mask(&ends.saved_mask)?;
    fds::close_on_exec_above_stderr(n)?;
    Ok(command)
}
// ANCHOR_END: exec_child

/// A caller's output descriptor becomes stdout and stderr, and stdin reads nothing; detached,
/// all three are `/dev/null`. The container's own `/dev/null`: the namespaces are entered.
fn redirect_stdio(ends: &ChildEnds, n: &Narrator) -> Result<()> {
    if ends.output.is_none() && !ends.null_stdio {
        return Ok(());
    }
    let null = || {
        open("/dev/null", OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(Error::sys("open the container's /dev/null"))
    };
    let stdin = null()?;
    let detached_output;
    let output = match &ends.output {
        Some(output) => {
            n.say(
                Actor::Child,
                "dup2 the caller's output onto 1 and 2 ; /dev/null onto 0",
            );
            output
        }
        None => {
            n.say(Actor::Child, "dup2 /dev/null onto 0 1 2 (detached)");
            detached_output = null()?;
            &detached_output
        }
    };
    dup2_stdin(&stdin).map_err(Error::sys("redirect stdin"))?;
    dup2_stdout(output).map_err(Error::sys("redirect stdout"))?;
    dup2_stderr(output).map_err(Error::sys("redirect stderr"))
}
