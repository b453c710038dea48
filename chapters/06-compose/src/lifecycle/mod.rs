//! A container's life with a monitor: created, started (the monitor spawned), stopped or
//! killed, waited for, removed. Each operation is a function over the store; the command line
//! prints what they return.

pub mod connect;
pub mod create;
pub mod names;
pub mod pause;
pub mod prune;
pub mod ready;
pub mod remove;
pub mod signal;
pub mod spec;
pub mod start;
pub mod stop;
pub mod wait;

use ch03_union_fs::{Record, Store};
use dockyard_support::process::{self, parent_of};

use crate::container::{Paths, RunState, Status, read_json};

/// A container as a lifecycle operation sees it: its record, its monitor's state, and which
/// of its processes are still there.
#[derive(Debug, Clone)]
pub struct Live {
    /// What it is (chapter 03).
    pub record: Record,
    /// Its files.
    pub paths: Paths,
    /// What its monitor last wrote (a default, created state if it never had one).
    pub state: RunState,
}

impl Live {
    /// The container `reference` names (a name, an id or an id's prefix).
    pub fn find(store: &Store, reference: &str) -> crate::Result<Live> {
        let record = store.find(reference)?;
        Ok(Live::of(store, record))
    }

    /// The container `record` is.
    pub fn of(store: &Store, record: Record) -> Live {
        let paths = Paths::new(store, &record.id);
        let state = read_json(&paths.state()).unwrap_or_default();
        Live {
            record,
            paths,
            state,
        }
    }

    /// Its monitor's pid, if the monitor still runs.
    pub fn monitor(&self) -> Option<u32> {
        self.state.monitor_pid.filter(|pid| process::alive(*pid))
    }

    /// The pid of its first process, if it still runs *as this container*: its parent must
    /// be the monitor (a pid alone may have been reused by now).
    pub fn pid(&self) -> Option<u32> {
        let (pid, monitor) = (self.state.pid?, self.monitor()?);
        (parent_of(pid) == Some(monitor)).then_some(pid)
    }

    /// Whether its command runs now.
    pub fn running(&self) -> bool {
        self.state.status == Status::Running && self.pid().is_some()
    }

    /// Whether a monitor keeps it (running, or waiting to restart it).
    pub fn monitored(&self) -> bool {
        matches!(self.state.status, Status::Running | Status::Restarting)
            && self.monitor().is_some()
    }

    /// How docker names it in messages: its name, else its short id.
    pub fn display_name(&self) -> &str {
        self.record
            .name
            .as_deref()
            .unwrap_or(self.record.short_id())
    }
}
