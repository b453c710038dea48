//! The container to join, named by a pidfd, and the two `setns` calls that enter it.
//!
//! A pid is only a number: once the container's process ends and is reaped, the kernel may give
//! it to any new process, and whatever the engine opens by that number afterwards belongs to
//! the stranger. A *pidfd* (pidfd_open(2)) names one process for as long as the descriptor is
//! open. Since Linux 5.8, `setns` takes it directly and enters any set of that process's
//! namespaces in one call; on older kernels the engine opens `/proc/PID/ns/*` and then asks the
//! pidfd whether the process is still alive, which proves the files were its own.
//!
//! The PID namespace is the odd one: `setns(CLONE_NEWPID)` does not move the caller (a process
//! never changes its pid), it chooses the namespace of the caller's *next children*. So the
//! engine sets it, forks, and sets its own back at once, so that nothing it forks later lands
//! in the container by accident; the child enters the other namespaces itself.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use nix::unistd::{ForkResult, Pid, fork};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::status::kill_and_reap;

/// The namespaces the child enters itself, in the order the fallback enters them one by one:
/// the mount namespace last, as it changes the root the others' files would be found from.
const JOINED: &[(CloneFlags, &str)] = &[
    (CloneFlags::CLONE_NEWUTS, "uts"),
    (CloneFlags::CLONE_NEWIPC, "ipc"),
    (CloneFlags::CLONE_NEWNET, "net"),
    (CloneFlags::CLONE_NEWCGROUP, "cgroup"),
    (CloneFlags::CLONE_NEWNS, "mnt"),
];

/// A running container's process, held by a pidfd.
#[derive(Debug)]
pub(super) struct Target {
    pid: Pid,
    pidfd: OwnedFd,
    /// On kernels that cannot `setns` through a pidfd (before 5.8): the namespace files, the
    /// PID namespace's first.
    files: Option<Vec<(CloneFlags, &'static str, OwnedFd)>>,
    /// The engine's own namespace for its children, to go back to after the fork.
    own_pid_namespace: OwnedFd,
}

/// rustix's errno as nix's, for this crate's errors.
pub(super) fn errno(errno: rustix::io::Errno) -> Errno {
    Errno::from_raw(errno.raw_os_error())
}

impl Target {
    /// Opens a pidfd for `pid`, and checks whether this kernel joins namespaces through it.
    pub(super) fn open(pid: u32, n: &Narrator) -> Result<Self> {
        let raw = rustix::process::Pid::from_raw(pid as i32)
            .ok_or_else(|| Error::InvalidSpec(format!("invalid pid {pid}")))?;
        n.say(Actor::Engine, format!("pidfd_open {pid}"));
        let pidfd = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty())
            .map_err(|e| match e {
                rustix::io::Errno::SRCH => gone(pid),
                e => Error::sys(format!("open a pidfd for pid {pid}"))(errno(e)),
            })?;
        let own_pid_namespace = open(
            "/proc/thread-self/ns/pid_for_children",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(Error::sys("open the engine's PID namespace"))?;
        let mut target = Target {
            pid: Pid::from_raw(pid as i32),
            pidfd,
            files: None,
            own_pid_namespace,
        };
        // Entering the PID namespace for children and coming back changes nothing, and says
        // whether setns takes a pidfd (EINVAL before Linux 5.8).
        match setns(&target.pidfd, CloneFlags::CLONE_NEWPID) {
            Ok(()) => target.restore_pid_namespace()?,
            Err(Errno::EINVAL) => {
                n.say(
                    Actor::Engine,
                    "setns takes no pidfd here (Linux < 5.8): open /proc/PID/ns/*",
                );
                target.files = Some(namespace_files(pid)?);
                target.ensure_alive()?;
            }
            Err(e) => return Err(failed(pid as i32, "join the PID namespace")(e)),
        }
        Ok(target)
    }

    /// Fails if the process ended: what was read by its pid since the pidfd was opened was
    /// its own (a pid is reused only after its process ended).
    pub(super) fn ensure_alive(&self) -> Result<()> {
        // Signal 0 checks that the process exists and may be signalled, and sends nothing
        // (rustix's signals cannot be 0, hence the raw call).
        // SAFETY: pidfd_send_signal(2) with a valid descriptor, signal 0, no siginfo, no flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                0,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        match Errno::result(rc) {
            Ok(_) => Ok(()),
            Err(Errno::ESRCH) => Err(gone(self.pid.as_raw() as u32)),
            Err(e) => Err(Error::sys(format!("check on pid {}", self.pid))(e)),
        }
    }

    // ANCHOR: fork_into
    /// Forks a child into the container's PID namespace. Returns `Some(pid)` in the engine,
    /// whose own children go to its own namespace again, and `None` in the child.
    pub(super) fn fork(&self, n: &Narrator) -> Result<Option<Pid>> {
        let pid_namespace = match &self.files {
            None => self.pidfd.as_fd(),
            Some(files) => files[0].2.as_fd(),
        };
        n.say(
            Actor::Engine,
            format!(
                "setns(pid {}, CLONE_NEWPID) (for the next child) ; fork",
                self.pid
            ),
        );
        setns(pid_namespace, CloneFlags::CLONE_NEWPID)
            .map_err(failed(self.pid.as_raw(), "join the PID namespace"))?;
        // SAFETY: the engine is single-threaded (checked before), so the copy holds no lock
        // another thread had taken.
        let forked = unsafe { fork() };
        if !matches!(forked, Ok(ForkResult::Child)) {
            let restored = self.restore_pid_namespace();
            if let (Ok(ForkResult::Parent { child }), Err(_)) = (&forked, &restored) {
                kill_and_reap(*child);
            }
            restored?;
        }
        match forked {
            Ok(ForkResult::Child) => Ok(None),
            Ok(ForkResult::Parent { child }) => {
                n.say(Actor::Engine, format!("forked pid {child} ; setns back"));
                Ok(Some(child))
            }
            // ENOMEM: the namespace's PID 1 is gone and it takes no new process.
            Err(Errno::ENOMEM) => Err(gone(self.pid.as_raw() as u32)),
            Err(e) => Err(Error::sys("fork into the container's PID namespace")(e)),
        }
    }
    // ANCHOR_END: fork_into

    fn restore_pid_namespace(&self) -> Result<()> {
        setns(&self.own_pid_namespace, CloneFlags::CLONE_NEWPID)
            .map_err(Error::sys("return to the engine's PID namespace"))
    }

    // ANCHOR: enter
    /// Child side: enters the container's mount, UTS, IPC, network and cgroup namespaces. With
    /// a pidfd, in one call that either enters them all or none. The mount namespace sets the
    /// root and working directory to the container's root.
    pub(super) fn enter(&self, n: &Narrator) -> Result<()> {
        let names: Vec<&str> = JOINED.iter().map(|(_, name)| *name).collect();
        match &self.files {
            None => {
                let all = JOINED
                    .iter()
                    .fold(CloneFlags::empty(), |all, (flag, _)| all | *flag);
                n.say(Actor::Child, format!("setns(pidfd, {})", names.join("|")));
                setns(&self.pidfd, all).map_err(failed(self.pid.as_raw(), "enter the namespaces"))
            }
            Some(files) => {
                for (flag, name, file) in &files[1..] {
                    n.say(Actor::Child, format!("setns(/proc/{}/ns/{name})", self.pid));
                    setns(file, *flag).map_err(|e| {
                        Error::sys(format!("enter the {name} namespace of pid {}", self.pid))(e)
                    })?;
                }
                Ok(())
            }
        }
    }
    // ANCHOR_END: enter

    /// The descriptors the child keeps until it entered the namespaces.
    pub(super) fn raw_fds(&self) -> Vec<RawFd> {
        let files = self.files.iter().flatten().map(|(_, _, fd)| fd.as_raw_fd());
        [self.pidfd.as_raw_fd()].into_iter().chain(files).collect()
    }
}

/// Opens `/proc/PID/ns/*`: the PID namespace first, then [`JOINED`]'s.
fn namespace_files(pid: u32) -> Result<Vec<(CloneFlags, &'static str, OwnedFd)>> {
    [(CloneFlags::CLONE_NEWPID, "pid")]
        .iter()
        .chain(JOINED)
        .map(|(flag, name)| {
            let path = format!("/proc/{pid}/ns/{name}");
            let fd = open(
                path.as_str(),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| match e {
                Errno::ENOENT => gone(pid),
                e => Error::sys(format!("open {path}"))(e),
            })?;
            Ok((*flag, *name, fd))
        })
        .collect()
}

/// A closure for `map_err` on a call about process `pid`: ESRCH means it ended.
fn failed(pid: i32, action: &str) -> impl FnOnce(Errno) -> Error + '_ {
    move |errno| match errno {
        Errno::ESRCH => gone(pid as u32),
        errno => Error::sys(format!("{action} of pid {pid}"))(errno),
    }
}

/// The error for a container process that is not there (any more).
fn gone(pid: u32) -> Error {
    Error::InvalidSpec(format!(
        "no process {pid} to join: the container is not running"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_process_is_alive_and_a_reaped_one_is_gone() {
        let target = Target::open(std::process::id(), &Narrator::silent()).unwrap();
        target.ensure_alive().unwrap();

        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let held = Target::open(child.id(), &Narrator::silent()).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let error = held.ensure_alive().unwrap_err().to_string();
        assert!(error.contains("not running"), "{error}");
    }

    #[test]
    fn the_fallback_opens_every_namespace_file_pid_first() {
        let files = namespace_files(std::process::id()).unwrap();
        let names: Vec<&str> = files.iter().map(|(_, name, _)| *name).collect();
        assert_eq!(names, ["pid", "uts", "ipc", "net", "cgroup", "mnt"]);
        let error = namespace_files(u32::MAX >> 1).unwrap_err().to_string();
        assert!(error.contains("not running"), "{error}");
    }
}
