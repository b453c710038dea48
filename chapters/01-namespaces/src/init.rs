//! `--init`: a minimal PID 1 that forwards signals and reaps zombies.
//!
//! PID 1 of a namespace has two duties ordinary programs do not expect. The kernel delivers it
//! only the signals it has a handler for (so a `SIGTERM` is silently dropped by a program that
//! never installed one), and it adopts every orphaned process, which stays a zombie until PID 1
//! waits for it. A shell or a web server run as PID 1 does neither. With `--init`, the child
//! stays behind as PID 1, starts the command as PID 2, passes on every forwarded signal and
//! reaps whatever dies, then exits with the command's status (128 + N when it was killed by
//! signal N, since PID 1 itself cannot simply die of the same signal).

use std::convert::Infallible;
use std::os::fd::OwnedFd;

use dockyard_support::error::exit_code;
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::error::Error;
use crate::explain::{Actor, Narrator};
use crate::signals;
use crate::sync;

// ANCHOR: init
/// Runs as PID 1: forks the command's process, which runs `start_command` (it execs the
/// command, or returns why it could not), takes on the command's restrictions with
/// `restrict_self`, then forwards signals and reaps children until the command ends, and exits
/// with its status. Failures are sent over `report`, as the child's are.
pub(crate) fn run_as_pid1(
    n: &Narrator,
    report: OwnedFd,
    start_command: impl FnOnce() -> Error,
    restrict_self: impl FnOnce() -> Result<(), Error>,
) -> Infallible {
    let watched = signals::watched();
    // The command waits on this pipe until init is restricted: it must never see a
    // privileged pid 1, not even for the instant between fork and restriction.
    let (restricted_read, restricted_write) = match nix::unistd::pipe() {
        Ok(pipe) => pipe,
        Err(errno) => fail(&report, Error::sys("create the init's pipe")(errno)),
    };
    n.say(Actor::Init, "fork the command as pid 2");
    // SAFETY: the container's first process is single-threaded (a clone of the engine, which
    // checked that it has one thread), so the child may run arbitrary code after fork.
    let command = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(restricted_write);
            // End of file: init is restricted (or gone, and this process with it).
            let _eof = nix::unistd::read(&restricted_read, &mut [0u8; 1]);
            drop(restricted_read);
            fail(&report, start_command())
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(errno) => fail(&report, Error::sys("fork the command")(errno)),
    };
    drop(restricted_read);
    // Init lives inside the container as long as the command: it gets the same user,
    // capabilities and seccomp filter, or it would be a privileged process within reach.
    if let Err(error) = restrict_self() {
        let _already_gone = kill(command, Signal::SIGKILL);
        fail(&report, error);
    }
    drop(restricted_write);
    // Only the command's process reports from now on: its exec closes the last write end, and
    // the engine reads end-of-file, "started".
    drop(report);

    loop {
        // The signals stay blocked (the engine blocked them before clone): init takes them
        // one at a time with sigwait instead of through handlers.
        let signal = match watched.wait() {
            Ok(signal) => signal,
            Err(_) => continue,
        };
        if signal != Signal::SIGCHLD {
            n.say(Actor::Init, format!("forward {signal} to pid {command}"));
            // The command may have just exited; then there is nobody left to tell.
            let _already_gone = kill(command, signal);
            continue;
        }
        if let Some(status) = reap_children(command) {
            n.say(
                Actor::Init,
                format!("command exited ({status}); init exits with it"),
            );
            std::process::exit(status);
        }
    }
}
// ANCHOR_END: init

/// Reports `error` to the engine and exits with its Docker status.
fn fail(report: &OwnedFd, error: Error) -> ! {
    sync::send_failure(report, &error);
    // SAFETY: ends this process without running the engine's exit handlers (it is a copy).
    unsafe { libc::_exit(error.status()) }
}

/// Waits for every child that has ended (the command and adopted orphans alike) without
/// blocking; returns the command's exit status once it is among them.
fn reap_children(command: Pid) -> Option<i32> {
    let mut command_status = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == command => command_status = Some(code),
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == command => {
                command_status = Some(exit_code::SIGNAL_BASE + signal as i32);
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return command_status,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return command_status,
        }
    }
}
