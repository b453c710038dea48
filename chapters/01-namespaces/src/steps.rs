//! The places later chapters plug into a run: [`Step`]s the engine runs around the container
//! (chapter 02 puts it in a cgroup, chapter 06 gives it a network interface), and a
//! [`RootfsMount`] that builds its root filesystem inside it (chapter 03's overlay of layers).
//!
//! They are traits of their own, apart from the spawn that calls them, so that a chapter can
//! implement one without depending on how the spawn works.

use std::fmt;
use std::path::{Path, PathBuf};

use dockyard_support::{EngineError, ErrorKind};
use nix::unistd::Pid;

use crate::explain::Narrator;

// ANCHOR: step_error
/// A later chapter's error, as a step returns it: its message, kind and hint intact, so that
/// chapter 02's hint for a missing cgroup controller reaches the user of `run`.
#[derive(Debug)]
pub struct StepError(Box<dyn EngineError>);

impl<E: EngineError> From<E> for StepError {
    fn from(error: E) -> Self {
        StepError(Box::new(error))
    }
}
// ANCHOR_END: step_error

impl StepError {
    /// What kind of failure the step's error is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind()
    }

    /// What the step's error says to do about it.
    pub fn hint(&self) -> Option<String> {
        self.0.hint()
    }

    /// The step's own error, to inspect (e.g. to downcast to that chapter's type).
    pub fn error(&self) -> &(dyn EngineError + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

// ANCHOR: step
/// A setup and teardown step that a later chapter adds to the run (a cgroup, a network
/// interface). Steps run in the engine, in the order they were added; teardowns run in reverse.
pub trait Step {
    /// A short name for errors and narration, e.g. `cgroup`.
    fn name(&self) -> &str;

    /// Runs after `clone`, before the child is released: `child` exists, in its new
    /// namespaces, but has not started setting up its root filesystem.
    fn setup(&mut self, child: Pid, n: &Narrator) -> Result<(), StepError>;

    /// Writes the child makes itself as its first act once released, as `(file, value)`, asked
    /// right after `setup`: for what a process does to itself more cheaply than anyone can do
    /// it to it (chapter 02: writing `0` to a cgroup v1 `tasks` file moves the writer without
    /// the global lock that moving another process takes). None by default.
    fn child_writes(&self) -> Vec<(PathBuf, String)> {
        Vec::new()
    }

    /// Runs once the command started (its `execve` succeeded), while the container runs: a
    /// monitor learns here that a detached container is up. Nothing by default; it cannot
    /// fail, since the container is already running.
    fn started(&mut self, child: Pid, n: &Narrator) {
        let _ = (child, n);
    }

    /// Runs after the container ended, or after a later step's setup failed. Only steps whose
    /// setup succeeded are torn down.
    fn teardown(&mut self, n: &Narrator) -> Result<(), StepError>;
}
// ANCHOR_END: step

// ANCHOR: rootfs_mount
/// Builds the root filesystem inside the container's own mount namespace (chapter 03 mounts
/// an overlay of image layers there). It runs in the child, after its mounts were made private
/// and before the root is swapped in, so whatever it mounts is private to the container and
/// disappears with it: no mount is ever left on the host, even if the engine is killed.
pub trait RootfsMount {
    /// A short name for errors and narration, e.g. `overlay`.
    fn name(&self) -> &str;

    /// Mounts the root filesystem on `rootfs` (the spec's rootfs directory).
    fn mount(&self, rootfs: &Path, n: &Narrator) -> Result<(), StepError>;
}
// ANCHOR_END: rootfs_mount
