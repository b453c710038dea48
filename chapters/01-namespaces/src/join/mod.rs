//! Joining a running container: `exec`, a new process inside a container that already runs.
//!
//! A container is a set of namespaces (and cgroups) that exist as long as a process is in them.
//! Nothing stops another process from entering them: `setns(2)` moves the caller into a
//! namespace another process is in, exactly as `clone` put the container's first process into
//! new ones. `docker exec` is that, plus the care it takes not to carry anything of the host in.
//!
//! ```text
//! engine                                          child
//! ──────                                          ─────
//! PR_SET_DUMPABLE 0 (inherited by the child)
//! pidfd_open(container's pid)
//! read its cgroups (/proc/PID/cgroup)
//! setns(pidfd, CLONE_NEWPID) (for children only)
//! fork ─────────────────────────────────────────▶ close every descriptor it does not need
//! setns back to its own PID namespace             write "0" into the container's cgroup.procs
//!                                                 setns(pidfd, mnt|uts|ipc|net|cgroup)
//!                                                 terminal, working directory (inside the root),
//!                                                 user, capabilities, seccomp, no_new_privs
//! read the report pipe ◀──── EOF ──────────────── execve(command)
//! forward signals, relay the terminal, wait
//! ```
//!
//! Three rules keep the host out of reach:
//!
//! - **The container is named by a pidfd**, not a pid: a pid can be reused by an unrelated
//!   process the moment the container ends, a pidfd always means the same process. Since Linux
//!   5.8, `setns` takes the pidfd itself and enters several namespaces at once.
//! - **Until `execve`, the child is a copy of the engine**, visible in the container's
//!   `/proc`. It is non-dumpable, so the container's processes cannot open its `/proc/PID/exe`
//!   (the engine's binary, runc's CVE-2019-5736), its descriptors or its memory; and, as with
//!   `run`, its command may never be the engine's binary itself.
//! - **Nothing of the host comes in**: the child closes every inherited descriptor before it
//!   enters the container, and resolves the working directory inside the container's root, then
//!   checks that it got there (a leaked host directory as working directory was runc's
//!   CVE-2024-21626).

mod cgroups;
mod child;
mod target;
mod workdir;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use dockyard_support::FromIo;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use nix::unistd::{ForkResult, Pid, fork, geteuid, pipe2};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::relay;
use crate::security::SecuritySpec;
use crate::security::seccomp;
use crate::signals;
use crate::spec::{ContainerSpec, User};
use crate::status::{ExitStatus, kill_and_reap, reap, try_reap};
use crate::steps::StepError;
use crate::sync;
use crate::tty;
use child::ChildEnds;
use target::Target;

// ANCHOR: exec_spec
/// What to run inside a running container, and with which confinement: `docker exec`'s
/// options. The caller decides them from the container's own configuration (a process in a
/// container gets the container's environment, user and confinement unless told otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSpec {
    /// The command and its arguments; a command without `/` is looked up on the PATH.
    pub command: Vec<String>,
    /// Environment variables, in order: the container's, then `-e`'s. Docker's defaults (PATH,
    /// HOSTNAME from the container's UTS namespace, TERM with a terminal, HOME) go around them
    /// as for `run`.
    pub env: Vec<(String, String)>,
    /// Who the command runs as, resolved against the container's `/etc/passwd`.
    pub user: User,
    /// The working directory inside the container (default `/`); never created.
    pub workdir: Option<PathBuf>,
    /// Give the command a terminal from the container's devpts (with [`Exec::run`] only).
    pub tty: bool,
    /// Relay the engine's stdin; without it the command reads `/dev/null`.
    pub interactive: bool,
    /// Capabilities, seccomp, `no_new_privs` (masked paths are the container's already).
    pub security: SecuritySpec,
    /// The cgroups the process joins.
    pub cgroups: CgroupJoin,
}
// ANCHOR_END: exec_spec

/// Which cgroups the new process joins before it enters the container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CgroupJoin {
    /// The groups the container's process is in, in every hierarchy mounted on the host, read
    /// from `/proc/PID/cgroup` (cgroup v1, v2, or both on a hybrid host).
    #[default]
    OfTarget,
    /// These `cgroup.procs` files.
    Procs(Vec<PathBuf>),
}

impl ExecSpec {
    /// A spec for `command` as root, with Docker's default confinement, in the target's
    /// cgroups.
    pub fn new(command: Vec<String>) -> Self {
        ExecSpec {
            command,
            env: Vec::new(),
            user: User::default(),
            workdir: None,
            tty: false,
            interactive: false,
            security: SecuritySpec::default(),
            cgroups: CgroupJoin::OfTarget,
        }
    }

    /// The process in the terms of chapter 01's last steps (the user, the environment, the
    /// command, the privileges), which read them from a [`ContainerSpec`]. Its root is the
    /// container's `/`, entered by the time they run, and its hostname is filled in from the
    /// container's UTS namespace then. The checks are the same as `run`'s.
    fn command_spec(&self) -> Result<ContainerSpec> {
        let mut spec = ContainerSpec::new("/", self.command.clone())?;
        spec.env = self.env.clone();
        spec.user = self.user;
        spec.workdir = Some(self.workdir.clone().unwrap_or_else(|| "/".into()));
        spec.tty = self.tty;
        spec.interactive = self.interactive;
        spec.security = self.security.clone();
        spec.validate()?;
        Ok(spec)
    }
}

/// A process to start in a running container.
///
/// ```no_run
/// use ch01_namespaces::{Exec, ExecSpec};
///
/// let container_pid = 4242; // the container's first process, as the host sees it
/// let spec = ExecSpec::new(vec!["/bin/hostname".into()]);
/// let status = Exec::new(container_pid, spec).run()?; // prints the container's hostname
/// std::process::exit(status.code());
/// # Ok::<(), ch01_namespaces::Error>(())
/// ```
pub struct Exec {
    target: u32,
    spec: ExecSpec,
    output: Option<OwnedFd>,
    verify: Option<Box<TargetCheck>>,
    narrator: Narrator,
}

/// A caller's proof that a pid is still the container's process: see [`Exec::verify_target`].
type TargetCheck = dyn Fn(u32) -> std::result::Result<(), StepError>;

impl std::fmt::Debug for Exec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exec")
            .field("target", &self.target)
            .field("spec", &self.spec)
            .field("output", &self.output)
            .field("verify", &self.verify.is_some())
            .finish()
    }
}

/// How the engine waits for the new process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The process is the engine's child.
    Attached,
    /// The process is adopted by the host's init as soon as it started.
    Detached,
}

/// A started process: its pid, and, attached, the master of its terminal.
#[derive(Debug)]
struct Started {
    pid: Option<Pid>,
    master: Option<OwnedFd>,
}

impl Exec {
    /// A process for `spec` in the container whose process has host pid `target` (any process
    /// of the container; its first one is the usual choice).
    pub fn new(target: u32, spec: ExecSpec) -> Self {
        Exec {
            target,
            spec,
            output: None,
            verify: None,
            narrator: Narrator::silent(),
        }
    }

    /// Refuses the target unless `check(pid)` passes, called once a pidfd holds the process. A
    /// caller that read the pid from a file (a container's recorded state) proves here that it
    /// is still the container's process and not a stranger that got the number after the
    /// container ended: whatever the check reads by pid, the pidfd guarantees it was read
    /// from the process that is then joined.
    pub fn verify_target(
        mut self,
        check: impl Fn(u32) -> std::result::Result<(), StepError> + 'static,
    ) -> Self {
        self.verify = Some(Box::new(check));
        self
    }

    /// Narrates every step through `narrator`.
    pub fn narrate(mut self, narrator: Narrator) -> Self {
        self.narrator = narrator;
        self
    }

    /// Sends the command's stdout and stderr both to `output` (a pipe the caller reads, as a
    /// health check does) instead of the engine's; its stdin is then `/dev/null`.
    pub fn output(mut self, output: OwnedFd) -> Self {
        self.output = Some(output);
        self
    }

    /// Runs the command to its end, forwarding signals and relaying the terminal as
    /// [`crate::Container::run`] does, and returns how it ended.
    ///
    /// Must be called from a single-threaded process: the new process is a copy of the caller
    /// made by `fork`, and in a multi-threaded process a lock held by another thread at that
    /// instant (the allocator's, say) would stay locked forever in the copy.
    pub fn run(self) -> Result<ExitStatus> {
        let (saved_mask, signal_fd) = signals::block_and_watch()?;
        let result = self.start(Mode::Attached, saved_mask).and_then(|started| {
            let pid = started
                .pid
                .expect("an attached process is the engine's child");
            relay::wait(
                pid,
                &signal_fd,
                started.master,
                self.spec.interactive,
                &self.narrator,
            )
            .inspect_err(|_| kill_and_reap(pid))
        });
        signals::restore_mask(&saved_mask)?;
        let status = result?;
        self.narrator
            .say(Actor::Engine, format!("exec'd process exited: {status}"));
        Ok(status)
    }

    /// Starts the command and returns once it runs (its `execve` succeeded), leaving the
    /// waiting to the caller: [`Joined::wait`], or a `poll` on the handle, which becomes
    /// readable when the process ends. Signals are not forwarded and there is no terminal.
    /// Single-threaded callers only, as [`Exec::run`].
    pub fn spawn(self) -> Result<Joined> {
        self.refuse_terminal("spawn")?;
        let started = self.start(Mode::Attached, current_mask()?)?;
        let pid = started
            .pid
            .expect("an attached process is the engine's child");
        // The child is ours and not reaped yet: its pid cannot name another process here.
        let pidfd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(pid.as_raw()).expect("a child's pid is positive"),
            rustix::process::PidfdFlags::empty(),
        )
        .map_err(|errno| {
            kill_and_reap(pid);
            Error::sys(format!("pidfd_open {pid}"))(target::errno(errno))
        })?;
        Ok(Joined { pid, pidfd })
    }

    /// Starts the command detached (`docker exec -d`), with `/dev/null` as its stdio, and
    /// returns once it runs. The engine forks an intermediate process that forks the command's
    /// and exits at once: the command is then adopted by the host's init (or the nearest
    /// subreaper), never by the container's PID 1, which may not reap, and the caller has no
    /// child left to wait for. Single-threaded callers only, as [`Exec::run`].
    pub fn detach(mut self) -> Result<()> {
        self.refuse_terminal("detach")?;
        self.output = None;
        self.start(Mode::Detached, current_mask()?).map(drop)
    }

    fn refuse_terminal(&self, how: &str) -> Result<()> {
        if self.spec.tty {
            return Err(Error::InvalidSpec(format!(
                "a terminal needs the engine to relay it: use Exec::run, not Exec::{how}"
            )));
        }
        Ok(())
    }

    // ANCHOR: exec_start
    /// The engine's side: name the container by a pidfd, find its cgroups, fork the child into
    /// its PID namespace, and learn whether the command started.
    fn start(&self, mode: Mode, saved_mask: SigSet) -> Result<Started> {
        let n = &self.narrator;
        preflight()?;
        let spec = self.spec.command_spec()?;
        make_non_dumpable(n)?;
        let target = Target::open(self.target, n)?;
        if let Some(check) = &self.verify {
            check(self.target).map_err(|source| Error::Step {
                step: "verify the container's process".into(),
                source,
            })?;
        }
        let cgroup_writes = self.cgroup_writes(n)?;
        // What was read by pid since the pidfd was opened was the container's: the process
        // is still alive, so its pid was not reused.
        target.ensure_alive()?;
        let security = &self.spec.security;
        let seccomp = seccomp::compile(&security.seccomp, &security.capabilities)?;
        let (report_read, report_write) =
            pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("create the report pipe"))?;
        let console = (self.spec.tty && mode == Mode::Attached)
            .then(tty::console_socket)
            .transpose()?;
        let (engine_console, child_console) = console.unzip();
        let output = self
            .output
            .as_ref()
            .map(|fd| fd.try_clone())
            .transpose()
            .map_err(Error::io_op("duplicate the output descriptor"))?;
        let ends = ChildEnds {
            report: report_write,
            console_socket: child_console,
            output,
            null_stdio: mode == Mode::Detached,
            saved_mask,
            seccomp,
            cgroup_writes,
        };
        let child = match mode {
            Mode::Attached => target.fork(n)?,
            Mode::Detached => fork_detached(&target, &ends, n)?,
        };
        let Some(child) = child else {
            drop((report_read, engine_console));
            child::main(spec, &target, ends, n);
        };
        drop(ends);
        drop(target);
        let pid = (mode == Mode::Attached).then_some(child);
        let started = (|| {
            let master = match &engine_console {
                Some(socket) => tty::receive_master(socket)?,
                None => None,
            };
            Ok((master, sync::receive_failure(&report_read)?))
        })();
        match (started, pid) {
            (Ok((master, None)), pid) => Ok(Started { pid, master }),
            (Ok((_, Some(failure))), Some(pid)) => {
                reap(pid)?;
                Err(failure)
            }
            (Ok((_, Some(failure))), None) => Err(failure),
            (Err(error), pid) => {
                pid.into_iter().for_each(kill_and_reap);
                Err(error)
            }
        }
    }
    // ANCHOR_END: exec_start

    /// The writes that put the child into its cgroups: `0` (the writer itself) into each
    /// `cgroup.procs` file, made by the child before it enters the container's cgroup
    /// namespace (whose root it could not leave to join them afterwards).
    fn cgroup_writes(&self, n: &Narrator) -> Result<sync::StepWrites> {
        let files = match &self.spec.cgroups {
            CgroupJoin::Procs(files) => files.clone(),
            CgroupJoin::OfTarget => {
                let files = cgroups::procs_files_of(self.target)?;
                n.say(
                    Actor::Engine,
                    format!(
                        "read /proc/{}/cgroup: {} group(s) to join",
                        self.target,
                        files.len()
                    ),
                );
                files
            }
        };
        Ok(files.into_iter().map(|file| (file, "0".into())).collect())
    }
}

/// How long an exec waits for the engine's other threads to end before it refuses.
const THREADS_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

fn preflight() -> Result<()> {
    if !geteuid().is_root() {
        return Err(Error::NotRoot);
    }
    if dockyard_support::process::wait_until_single_threaded(THREADS_PATIENCE) != Some(1) {
        return Err(Error::InvalidSpec(
            "the engine must be single-threaded to exec into a container (see Exec::run)".into(),
        ));
    }
    Ok(())
}

// ANCHOR: non_dumpable
/// Makes the engine non-dumpable before it touches the container. The child inherits the flag
/// and keeps it until its `execve`: while it is still the engine's program inside the
/// container, only a process with CAP_SYS_PTRACE may open its `/proc/PID/exe`, `fd/` or `mem`
/// (ptrace access mode checks, proc(5)), and the container has none. The engine stays so: it
/// holds descriptors of the container's namespaces, which no one else should reach either.
fn make_non_dumpable(n: &Narrator) -> Result<()> {
    n.say(Actor::Engine, "prctl(PR_SET_DUMPABLE, 0)");
    nix::sys::prctl::set_dumpable(false).map_err(Error::sys("make the engine non-dumpable"))
}
// ANCHOR_END: non_dumpable

/// The signal mask as it is, for a child that must start with it.
fn current_mask() -> Result<SigSet> {
    let mut mask = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, None, Some(&mut mask))
        .map_err(Error::sys("read the signal mask"))?;
    Ok(mask)
}

/// Forks an intermediate process that forks the child into the container and exits at once.
/// Returns `Some(intermediate)` in the engine, once the intermediate is reaped, and `None` in
/// the child. A failure of the intermediate is sent over the report pipe, as the child's are.
fn fork_detached(target: &Target, ends: &ChildEnds, n: &Narrator) -> Result<Option<Pid>> {
    // SAFETY: the engine is single-threaded (checked in preflight), so the copy holds no lock
    // another thread had taken.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Parent { child } => {
            reap(child)?;
            Ok(Some(child))
        }
        ForkResult::Child => match target.fork(n) {
            Ok(None) => Ok(None),
            Ok(Some(_)) => {
                // SAFETY: _exit ends the intermediate at once, without the engine's atexit
                // handlers or buffers (this process is a copy of the engine).
                unsafe { libc::_exit(0) }
            }
            Err(error) => {
                sync::send_failure(&ends.report, &error);
                // SAFETY: as above.
                unsafe { libc::_exit(error.status()) }
            }
        },
    }
}

/// A process started by [`Exec::spawn`]: the engine's child until it is waited for. Dropped
/// without [`Joined::wait`], it stays a zombie until the caller exits. As a descriptor (a
/// pidfd), it becomes readable when the process ends, for `poll` with a timeout.
#[derive(Debug)]
pub struct Joined {
    pid: Pid,
    pidfd: OwnedFd,
}

impl Joined {
    /// The process's pid, as the host sees it.
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Waits for the process to end.
    pub fn wait(self) -> Result<ExitStatus> {
        reap(self.pid)
    }

    /// Whether it ended, without waiting; `Some` reaps it.
    pub fn try_wait(&self) -> Result<Option<ExitStatus>> {
        try_reap(self.pid)
    }

    /// Sends it SIGKILL (through the pidfd: never another process, even after it ended).
    pub fn kill(&self) -> Result<()> {
        rustix::process::pidfd_send_signal(&self.pidfd, rustix::process::Signal::KILL)
            .map_err(|errno| Error::sys(format!("kill pid {}", self.pid))(target::errno(errno)))
    }
}

impl AsFd for Joined {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }
}
