//! Narration: every kernel-visible step goes through one place, and `--explain` prints it.
//!
//! A reader learns what a container *is* by watching what the kernel is asked to do. Each line
//! names who acts (`engine`, the process that started the container; `child`, the container's
//! first process before it becomes the command; `init`, the optional PID 1), then the step in
//! the words of its system call:
//!
//! ```text
//! [engine] clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET) = pid 4242
//! [child ] mount proc on /proc (nosuid,nodev,noexec)
//! ```
//!
//! The narrator writes to a duplicate of the engine's stderr that is closed on `execve`: the
//! container's own stderr may become a terminal, and the command must not inherit it.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// Who is speaking in a narration line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The process that started the container and waits for it.
    Engine,
    /// The container's first process, between `clone` and `execve`.
    Child,
    /// The small init that runs as PID 1 with `--init`.
    Init,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Actor::Engine => "engine",
            Actor::Child => "child ",
            Actor::Init => "init  ",
        })
    }
}

/// Prints narration lines when `--explain` is on; costs one branch when it is off.
#[derive(Debug, Clone, Default)]
pub struct Narrator {
    out: Option<Arc<OwnedFd>>,
}

impl Narrator {
    /// A narrator that prints nothing.
    pub fn silent() -> Self {
        Narrator { out: None }
    }

    /// A narrator that prints to a close-on-exec duplicate of this process's stderr.
    pub fn to_stderr() -> std::io::Result<Self> {
        // SAFETY: fd 2 is open for the life of the process; we only borrow it to duplicate it.
        let stderr = unsafe { BorrowedFd::borrow_raw(2) };
        let dup = stderr.try_clone_to_owned()?; // F_DUPFD_CLOEXEC
        Ok(Narrator {
            out: Some(Arc::new(dup)),
        })
    }

    /// Whether lines are printed; lets callers skip building an expensive description.
    pub fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Prints one line, `[actor] step`, in a single `write(2)` so that the lines of the engine
    /// and of the container's processes never interleave mid-line.
    pub fn say(&self, actor: Actor, step: impl fmt::Display) {
        let Some(out) = &self.out else { return };
        let line = format!("[{actor}] {step}\n");
        // A failed narration must not fail the container: there is nowhere left to report it.
        let _unreported = nix::unistd::write(out.as_ref(), line.as_bytes());
    }

    /// The raw descriptor, so the child can keep it open across the setup steps that close
    /// every other inherited descriptor.
    pub fn raw_fd(&self) -> Option<i32> {
        self.out.as_ref().map(|fd| fd.as_raw_fd())
    }

    /// The descriptor itself, so that `--init` can hand it on to `dockyard-init` across `execve`.
    pub(crate) fn as_fd(&self) -> Option<BorrowedFd<'_>> {
        self.out.as_deref().map(AsFd::as_fd)
    }
}
