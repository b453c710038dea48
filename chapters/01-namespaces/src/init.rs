//! `--init`: a minimal PID 1 that forwards signals and reaps zombies, and is never the engine.
//!
//! PID 1 of a namespace has two duties ordinary programs do not expect. The kernel delivers it
//! only the signals it has a handler for (so a `SIGTERM` is silently dropped by a program that
//! never installed one), and it adopts every orphaned process, which stays a zombie until PID 1
//! waits for it. A shell or a web server run as PID 1 does neither. With `--init`, the child
//! stays behind as PID 1, starts the command as PID 2, and becomes `dockyard-init` (the `init/`
//! crate), which passes on every forwarded signal and reaps whatever dies, then exits with the
//! command's status (128 + N when it was killed by signal N, since PID 1 itself cannot simply die
//! of the same signal).
//!
//! PID 1 must not stay a copy of the engine: its `/proc/1/exe` would be the engine's binary on
//! the host, which a process in the container could open and, once the engine stops running,
//! write (runc's CVE-2019-5736). So PID 1 executes a sealed in-memory copy of `dockyard-init`
//! (see `init_program`), and that program makes itself non-dumpable before the command may run.
//!
//! ```text
//! PID 1 (a copy of the engine)              PID 2 (a copy of the engine)
//! fork ───────────────────────────────────▶ waits for end-of-file on the ready pipe
//! bounding set, seccomp, user, capabilities
//! execveat(sealed memfd): dockyard-init
//! prctl(PR_SET_DUMPABLE, 0)
//! close the ready pipe ───────────────────▶ terminal, workdir, privileges, execve(command)
//! sigwait: forward signals, reap children
//! exit with the command's status
//! ```

use std::convert::Infallible;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::{AtFlags, FcntlArg, FdFlag, OFlag, fcntl};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, Pid, execveat, fork, pipe2};

use crate::error::Error;
use crate::explain::{Actor, Narrator};
use crate::fds;
use crate::sync;

// ANCHOR: init
/// Runs as PID 1: forks the command's process, which runs `start_command` (it execs the
/// command, or returns why it could not), takes on the command's restrictions with
/// `restrict_self`, then executes the sealed `init_program`, which releases the command and
/// does PID 1's duties. Failures before that exec are sent over `report`, as the child's are.
pub(crate) fn run_as_pid1(
    n: &Narrator,
    report: OwnedFd,
    init_program: OwnedFd,
    start_command: impl FnOnce() -> Error,
    restrict_self: impl FnOnce() -> Result<(), Error>,
) -> Infallible {
    // The command waits on this pipe until dockyard-init closes it: restricted, executed from
    // the sealed copy and non-dumpable. It must never see a privileged PID 1, nor one whose
    // /proc/1/exe is the engine, not even for the instant between fork and exec.
    let (ready_read, ready_write) = match pipe2(OFlag::O_CLOEXEC) {
        Ok(pipe) => pipe,
        Err(errno) => fail(&report, Error::sys("create the init's pipe")(errno)),
    };
    n.say(Actor::Init, "fork the command as pid 2");
    // SAFETY: the container's first process is single-threaded (a clone of the engine, which
    // checked that it has one thread), so the child may run arbitrary code after fork.
    let command = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop((ready_write, init_program));
            // End of file: dockyard-init released us (or PID 1 is gone, and this process with it).
            let _eof = nix::unistd::read(&ready_read, &mut [0u8; 1]);
            drop(ready_read);
            fail(&report, start_command())
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(errno) => fail(&report, Error::sys("fork the command")(errno)),
    };
    drop(ready_read);
    // Init lives inside the container as long as the command: it gets the same user,
    // capabilities and seccomp filter, or it would be a privileged process within reach. All of
    // them survive the exec that follows.
    let error = match restrict_self() {
        Ok(()) => exec_init(&init_program, &ready_write, command, n),
        Err(error) => error,
    };
    let _already_gone = kill(command, Signal::SIGKILL);
    fail(&report, error)
}
// ANCHOR_END: init

// ANCHOR: exec_init
/// Replaces this copy of the engine with `dockyard-init`, from the sealed memfd. Only two
/// descriptors cross the exec, their numbers on its command line: the narrator (or -1) and the
/// ready pipe the command waits on. The report pipe is close-on-exec: a successful exec closes
/// PID 1's end, and the command's own exec the last one. Returns only on failure.
fn exec_init(program: &OwnedFd, ready: &OwnedFd, command: Pid, n: &Narrator) -> Error {
    let prepared = (|| {
        fds::close_on_exec_above_stderr(n)?;
        for fd in [n.as_fd(), Some(ready.as_fd())].into_iter().flatten() {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))
                .map_err(Error::sys("pass a descriptor to the init (fcntl F_SETFD)"))?;
        }
        let narrator = n.as_fd().map_or(-1, |fd| fd.as_raw_fd());
        let args = [
            "dockyard-init".to_string(),
            narrator.to_string(),
            ready.as_raw_fd().to_string(),
            command.to_string(),
        ];
        Ok::<_, Error>(args.map(|a| CString::new(a).expect("no NUL in numbers")))
    })();
    let args = match prepared {
        Ok(args) => args,
        Err(error) => return error,
    };
    // The descriptor numbers depend on what the engine inherited: the narration leaves them out.
    n.say(
        Actor::Init,
        format!("execveat(sealed memfd, \"\", AT_EMPTY_PATH): dockyard-init, told the narrator, the ready pipe and pid {command}"),
    );
    let no_env: [&CStr; 0] = [];
    match execveat(program, c"", &args, &no_env, AtFlags::AT_EMPTY_PATH) {
        Err(errno) => Error::sys("execute the sealed init program (execveat)")(errno),
        Ok(never) => match never {},
    }
}
// ANCHOR_END: exec_init

/// Reports `error` to the engine and exits with its Docker status.
fn fail(report: &OwnedFd, error: Error) -> ! {
    sync::send_failure(report, &error);
    // SAFETY: ends this process without running the engine's exit handlers (it is a copy).
    unsafe { libc::_exit(error.status()) }
}
