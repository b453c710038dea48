//! # What `up` and `down` report
//!
//! The library says what it does as events; the command line prints them as Docker Compose's
//! plain progress does (` Container demo-db-1  Started`), and a test can read them as data.

use std::fmt;

use dockyard_support::Sink;

use crate::error::Result;

/// What a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A network.
    Network,
    /// A volume.
    Volume,
    /// A container.
    Container,
    /// An image (built or pulled).
    Image,
}

/// What is happening to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Being made.
    Creating,
    /// Made.
    Created,
    /// Replaced by a new container: its configuration or image changed.
    Recreate,
    /// Replaced.
    Recreated,
    /// Being started.
    Starting,
    /// Runs.
    Started,
    /// Ran already, unchanged.
    Running,
    /// Waited for: a dependent needs it healthy or completed.
    Waiting,
    /// Its health check passed.
    Healthy,
    /// It ended with status 0, as a dependent needed.
    Exited,
    /// Being stopped.
    Stopping,
    /// Stopped.
    Stopped,
    /// Being removed.
    Removing,
    /// Removed.
    Removed,
    /// Being built.
    Building,
    /// Built.
    Built,
    /// Being pulled.
    Pulling,
    /// Pulled.
    Pulled,
    /// Being pushed.
    Pushing,
    /// Pushed.
    Pushed,
    /// Not pulled: built here instead, or skipped.
    Skipped,
    /// Being sent a signal.
    Killing,
    /// Sent it.
    Killed,
    /// Being stopped and started again.
    Restarting,
    /// Started again.
    Restarted,
    /// Being frozen.
    Pausing,
    /// Frozen.
    Paused,
    /// Being thawed.
    Unpausing,
    /// Thawed.
    Unpaused,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One step of `up` or `down`, or a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeEvent {
    /// Something happens to a resource.
    Progress {
        /// What it is.
        kind: Kind,
        /// Its name (`demo-web-1`, `demo_default`).
        name: String,
        /// What happens.
        action: Action,
    },
    /// Something the user should know that does not stop the command.
    Warning(String),
}

impl ComposeEvent {
    /// A progress event.
    pub fn progress(kind: Kind, name: impl fmt::Display, action: Action) -> ComposeEvent {
        ComposeEvent::Progress {
            kind,
            name: name.to_string(),
            action,
        }
    }
}

impl fmt::Display for ComposeEvent {
    /// Docker Compose's plain progress line (without the leading space it prints).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComposeEvent::Progress { kind, name, action } => {
                write!(f, "{kind:?} {name}  {action}")
            }
            ComposeEvent::Warning(message) => write!(f, "WARN[0000] {message}"),
        }
    }
}

/// Sends the two events around one action on the container `name`.
pub fn step(
    events: &dyn Sink<ComposeEvent>,
    name: &str,
    (doing, done): (Action, Action),
    act: impl FnOnce() -> Result<()>,
) -> Result<()> {
    events.send(ComposeEvent::progress(Kind::Container, name, doing));
    act()?;
    events.send(ComposeEvent::progress(Kind::Container, name, done));
    Ok(())
}
