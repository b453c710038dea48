//! `dockyard-init`: the PID 1 that `--init` puts into a container.
//!
//! PID 1 of a PID namespace has two jobs other programs do not expect: the kernel delivers it only
//! the signals it asked for, and it inherits every orphan, which stays a zombie until PID 1 waits
//! for it. This program does both for the container's command, as `tini` does for `docker run
//! --init`.
//!
//! It exists so that PID 1 is *not the engine*. A process that stays a copy of the engine (a fork
//! that never calls `execve`) has the engine's binary on the host as its `/proc/1/exe`, and a
//! process in the container that holds a descriptor to it can reopen it for writing once the
//! engine stops running: runc's CVE-2019-5736. So the engine embeds this small static program,
//! copies it into a sealed in-memory file, and the container's PID 1 executes that copy, after it
//! took on the command's restrictions (user, capabilities, seccomp filter, `no_new_privs`: all of
//! them survive `execve`). Then `/proc/1/exe` is a private file nobody can write, and this program
//! also makes itself non-dumpable, so that processes in the container cannot open it at all.
//!
//! The engine starts it, never a user:
//!
//! ```text
//! dockyard-init NARRATOR_FD READY_FD COMMAND_PID
//! ```
//!
//! * `NARRATOR_FD`: where `--explain` lines go (`-1`: nowhere).
//! * `READY_FD`: the write end of a pipe the command (already forked, as pid 2) waits on until it
//!   reads end-of-file; closing it lets the command go on and `execve`.
//! * `COMMAND_PID`: the command's process, whose exit status this program exits with.
//!
//! It uses only the standard library and is linked statically, so it runs in any root filesystem,
//! even one without a dynamic loader. The few calls `std` lacks are declared in [`sys`].

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The status this program exits with when it cannot do its job: Docker's "engine failure".
const ENGINE_FAILURE: i32 = 125;

/// Added to the signal number when the command was killed by a signal, as a shell does.
const SIGNAL_BASE: i32 = 128;

// ANCHOR: main
fn main() {
    // First of all, before anything could look: from here on, only a process with
    // CAP_SYS_PTRACE may open /proc/1/exe, /proc/1/fd/* or /proc/1/mem. `execve` reset the flag
    // (a new program starts dumpable), so it must be set again by the new program itself.
    let non_dumpable = sys::set_non_dumpable();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some((narrator, ready, command)) = parse_args(&args) else {
        fail(&format!(
            "usage: dockyard-init NARRATOR_FD READY_FD COMMAND_PID; got {args:?}"
        ));
    };
    // SAFETY: the engine passed these descriptors open, for this program's sole use; nothing
    // else in this process knows their numbers.
    let narrator = narrator.map(|fd| unsafe { File::from_raw_fd(fd) });
    // SAFETY: as above.
    let ready = unsafe { OwnedFd::from_raw_fd(ready) };
    let say = |step: &str| narrate(narrator.as_ref(), step);
    if let Err(error) = non_dumpable {
        fail(&format!(
            "cannot become non-dumpable (prctl PR_SET_DUMPABLE): {error}"
        ));
    }
    say("prctl(PR_SET_DUMPABLE, 0): /proc/1/exe is out of reach");

    // The engine blocked the signals it forwards before it created the container, and a blocked
    // mask survives `execve`: they wait, pending, until this loop takes them with sigwait.
    let watched = match sys::watched_signals() {
        Ok(set) => set,
        Err(error) => fail(&format!("cannot block SIGCHLD: {error}")),
    };
    say("release the command (close the ready pipe)");
    drop(ready);

    loop {
        let signal = match sys::wait_for_signal(&watched) {
            Ok(signal) => signal,
            Err(_interrupted) => continue,
        };
        if signal != sys::SIGCHLD {
            say(&format!("forward {} to pid {command}", signal_name(signal)));
            // The command may have just exited; then there is nobody left to tell.
            let _already_gone = sys::send_signal(command, signal);
            continue;
        }
        if let Some(status) = reap_children(command) {
            say(&format!("command exited ({status}); init exits with it"));
            std::process::exit(status);
        }
    }
}
// ANCHOR_END: main

/// `NARRATOR_FD READY_FD COMMAND_PID`, with -1 meaning "no narrator".
fn parse_args(args: &[OsString]) -> Option<(Option<RawFd>, RawFd, i32)> {
    let number = |arg: &OsString| arg.to_str()?.parse::<i32>().ok();
    let [narrator, ready, command] = args else {
        return None;
    };
    let narrator = match number(narrator)? {
        -1 => None,
        fd if fd > 2 => Some(fd),
        _ => return None,
    };
    let ready = number(ready).filter(|fd| *fd > 2)?;
    let command = number(command).filter(|pid| *pid > 1)?;
    (narrator != Some(ready)).then_some((narrator, ready, command))
}

/// Writes one `--explain` line in a single `write`, formatted as the engine's narrator does.
fn narrate(narrator: Option<&File>, step: &str) {
    if let Some(mut out) = narrator {
        // A failed narration must not stop the container: there is nowhere to report it.
        let _unreported = out.write_all(format!("[init  ] {step}\n").as_bytes());
    }
}

/// Ends this program with Docker's engine-failure status. As PID 1 its exit ends the whole
/// namespace, the command included, so nothing is left behind.
fn fail(message: &str) -> ! {
    eprintln!("dockyard-init: {message}");
    std::process::exit(ENGINE_FAILURE)
}

/// How a waited-for child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Exited(i32),
    Killed(i32),
}

/// Decodes a `waitpid` status word (the `WIFEXITED` / `WIFSIGNALED` macros of sys/wait.h):
/// the low 7 bits hold the signal that killed the child (0: it exited, 0x7f: it only stopped),
/// the next byte the exit status.
fn decode_wait_status(status: i32) -> Option<Ended> {
    match status & 0x7f {
        0 => Some(Ended::Exited((status >> 8) & 0xff)),
        0x7f => None,
        signal => Some(Ended::Killed(signal)),
    }
}

/// Waits for every child that has ended (the command and adopted orphans alike) without
/// blocking; returns the command's exit status once it is among them.
fn reap_children(command: i32) -> Option<i32> {
    let mut command_status = None;
    // Stops at "none left to wait for" (ECHILD) and at any other error alike: the next SIGCHLD
    // starts another round.
    while let Ok(Some((pid, status))) = sys::reap_one() {
        match decode_wait_status(status) {
            Some(Ended::Exited(code)) if pid == command => command_status = Some(code),
            Some(Ended::Killed(signal)) if pid == command => {
                command_status = Some(SIGNAL_BASE + signal);
            }
            _ => {}
        }
    }
    command_status
}

/// The name the engine's narration uses for a signal (signal(7), x86_64 and most others).
fn signal_name(signal: i32) -> String {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(signal - 1)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("signal {signal}"), |name| name.to_string())
}

/// The C library calls `std` has no wrapper for, each behind a safe function.
mod sys {
    use std::ffi::{c_int, c_ulong};
    use std::io;

    /// prctl(2): the "dumpable" flag (linux/prctl.h).
    const PR_SET_DUMPABLE: c_int = 4;
    /// sigprocmask(2): add to the blocked set (asm-generic/signal-defs.h).
    const SIG_BLOCK: c_int = 0;
    /// waitpid(2): return at once if no child has ended (linux/wait.h).
    const WNOHANG: c_int = 1;
    /// The signal a parent gets when a child ends (asm/signal.h on x86, arm, riscv).
    pub const SIGCHLD: c_int = 17;

    /// The C library's `sigset_t` (glibc and musl alike): 1024 bits, of which Linux uses 64.
    #[derive(Debug, Clone, Copy)]
    #[repr(C)]
    pub struct SigSet([u64; 16]);

    unsafe extern "C" {
        fn prctl(option: c_int, ...) -> c_int;
        fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
        fn sigaddset(set: *mut SigSet, signal: c_int) -> c_int;
        fn sigwait(set: *const SigSet, signal: *mut c_int) -> c_int;
        fn kill(pid: c_int, signal: c_int) -> c_int;
        fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    }

    fn check(rc: c_int) -> io::Result<c_int> {
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    }

    /// prctl(PR_SET_DUMPABLE, 0): /proc/PID files become root's, and opening /proc/PID/exe
    /// needs CAP_SYS_PTRACE (ptrace(2), "Ptrace access mode checking").
    pub fn set_non_dumpable() -> io::Result<()> {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
        check(unsafe { prctl(PR_SET_DUMPABLE, 0 as c_ulong) }).map(drop)
    }

    /// The signals blocked when this program started, plus SIGCHLD, now blocked too: the set
    /// the main loop waits for.
    pub fn watched_signals() -> io::Result<SigSet> {
        let mut set = SigSet([0; 16]);
        // SAFETY: a null new set only reads the current mask into `set`, which we own.
        check(unsafe { sigprocmask(SIG_BLOCK, std::ptr::null(), &mut set) })?;
        // SAFETY: `set` is a valid sigset_t; SIGCHLD is a valid signal number.
        check(unsafe { sigaddset(&mut set, SIGCHLD) })?;
        // SAFETY: `set` is a valid sigset_t; no old mask is asked for.
        check(unsafe { sigprocmask(SIG_BLOCK, &set, std::ptr::null_mut()) })?;
        Ok(set)
    }

    /// sigwait(3): takes one pending signal of `set`, waiting for one if none is.
    pub fn wait_for_signal(set: &SigSet) -> io::Result<c_int> {
        let mut signal = 0;
        // SAFETY: both pointers are to valid values we own for the duration of the call.
        match unsafe { sigwait(set, &mut signal) } {
            0 => Ok(signal),
            errno => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    /// kill(2).
    pub fn send_signal(pid: c_int, signal: c_int) -> io::Result<()> {
        // SAFETY: kill has no memory-safety preconditions.
        check(unsafe { kill(pid, signal) }).map(drop)
    }

    /// waitpid(-1, WNOHANG): one ended child and its status, or `None` if none has ended yet.
    pub fn reap_one() -> io::Result<Option<(c_int, c_int)>> {
        let mut status = 0;
        // SAFETY: `status` is an int we own for the duration of the call.
        match check(unsafe { waitpid(-1, &mut status, WNOHANG) })? {
            0 => Ok(None),
            pid => Ok(Some((pid, status))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments_are_two_descriptors_and_a_pid() {
        assert_eq!(parse_args(&args(&["5", "4", "2"])), Some((Some(5), 4, 2)));
        assert_eq!(parse_args(&args(&["-1", "4", "2"])), Some((None, 4, 2)));
        for bad in [
            &["4", "4", "2"][..],
            &["5", "1", "2"],
            &["5", "4", "1"],
            &["5", "4"],
        ] {
            assert_eq!(parse_args(&args(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn wait_statuses_decode_as_the_c_macros_do() {
        assert_eq!(decode_wait_status(7 << 8), Some(Ended::Exited(7)));
        assert_eq!(decode_wait_status(9), Some(Ended::Killed(9)));
        assert_eq!(
            decode_wait_status(9 | 0x80),
            Some(Ended::Killed(9)),
            "core dumped"
        );
        assert_eq!(decode_wait_status((19 << 8) | 0x7f), None, "stopped");
    }

    #[test]
    fn signals_are_named_as_the_engine_names_them() {
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(28), "SIGWINCH");
        assert_eq!(signal_name(40), "signal 40");
        assert_eq!(signal_name(0), "signal 0");
    }
}
