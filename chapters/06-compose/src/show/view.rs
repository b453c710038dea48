//! A container as the commands that show it see it: chapter 03's record, its
//! `hostconfig.json` and `state.json`, and what is true *now*, which no file can say.
//!
//! `state.json` is what the monitor last wrote. A monitor killed with SIGKILL writes nothing
//! more, so a file that says "running" may be stale. Every reader therefore checks it against
//! the processes that exist, and shows the *effective* status:
//!
//! | recorded              | monitor alive | container's pid alive | shown                    |
//! |-----------------------|---------------|-----------------------|--------------------------|
//! | running or restarting | yes           | (not asked)           | as recorded              |
//! | running               | no            | yes                   | running ("orphaned")     |
//! | running               | no            | no                    | dead: how it ended is lost |
//! | restarting            | no            | (none between runs)   | exited, with its last code |
//! | created, exited, dead | (not asked)   | (not asked)           | as recorded              |
//!
//! A pid counts as the container's only while `/proc/PID/cgroup` names the container's
//! group: pids are reused, and a number alone could name some other process. A container of
//! an earlier chapter (or one just created) has no `state.json`: its record's state stands,
//! checked as chapter 03 checks it ([`ch03_union_fs::lifecycle::effective_state`]).
//!
//! *Paused* is not in any file either: the cgroup freezer holds it, asked only of a running
//! container.

use ch02_cgroups::{CGROUP_ROOT, Cgroup};
use ch03_union_fs::lifecycle::effective_state;
use ch03_union_fs::{Record, State, Store};
use ch04_images::oci::ContainerConfig;
use dockyard_support::process;
use serde::de::DeserializeOwned;

use crate::container::{
    self, HealthStatus, HostConfig, Paths, RunState, Status, is_container_process,
};
use crate::error::{Error, Result};
use crate::network::store::Networks;
use crate::network::{Endpoint, Network};

/// A container, as `ps`, `inspect`, `top` and `stats` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerView {
    /// What it is (chapter 03).
    pub record: Record,
    /// How it runs; the defaults for a container of an earlier chapter.
    pub host: HostConfig,
    /// The image config it runs with, overrides applied (chapter 04's record of it).
    pub config: ContainerConfig,
    /// What its monitor last wrote, or what its record says when it has no monitor's file.
    pub state: RunState,
    /// Where it really is in its life (see the module's table).
    pub status: Status,
    /// Its cgroup is frozen (only ever true for a running container).
    pub paused: bool,
    /// It runs, but its monitor is gone: nobody will record its end or restart it.
    pub orphaned: bool,
    /// Its attachments to networks while it runs (its monitor holds them); none otherwise.
    pub endpoints: Vec<(Network, Endpoint)>,
}

impl ContainerView {
    /// Reads what the store knows of the container `record` and checks it against the
    /// processes and cgroups that exist now.
    pub fn load(store: &Store, record: Record) -> Result<Self> {
        let paths = Paths::new(store, &record.id);
        let host: HostConfig = read_optional(&paths.host_config())?.unwrap_or_default();
        let state = match read_optional(&paths.state())? {
            Some(state) => state,
            None => state_of_record(&record),
        };
        let config = match &record.config {
            Some(config) => {
                serde_json::from_value(config.clone()).map_err(|e| Error::CorruptState {
                    path: paths.dir().join("config.json"),
                    message: format!("its image config: {e}"),
                })?
            }
            None => ContainerConfig::default(),
        };
        let (status, orphaned) = effective_status(&state, &record.id);
        let paused = status == Status::Running && frozen(&host, &record.id);
        let endpoints = if status == Status::Running {
            Networks::open(store)?
                .endpoints_of(&record.id)?
                .into_iter()
                .filter(|(_, endpoint)| endpoint.holder.alive())
                .collect()
        } else {
            Vec::new()
        };
        Ok(ContainerView {
            record,
            host,
            config,
            state,
            status,
            paused,
            orphaned,
            endpoints,
        })
    }

    /// Its full id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// Its name, or `""` when it has none.
    pub fn name(&self) -> &str {
        self.record.name.as_deref().unwrap_or_default()
    }

    /// What messages call it: its name, else its short id.
    pub fn known_as(&self) -> &str {
        self.record
            .name
            .as_deref()
            .unwrap_or_else(|| self.record.short_id())
    }

    /// What docker calls running: its command runs, frozen or not, or its monitor is about
    /// to start it again. `ps` without `-a` shows these.
    pub fn is_running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Restarting)
    }

    /// Its health, when it has a health check and runs: docker shows none otherwise.
    pub fn health(&self) -> Option<HealthStatus> {
        match self.status {
            Status::Running => self.state.health.as_ref().map(|h| h.status),
            _ => None,
        }
    }
}

/// Every container of the store, newest first, as `ps` lists them.
pub fn list(store: &Store) -> Result<Vec<ContainerView>> {
    let mut views = store
        .list()?
        .into_iter()
        .map(|record| ContainerView::load(store, record))
        .collect::<Result<Vec<_>>>()?;
    views.reverse();
    Ok(views)
}

/// The container `reference` names: a name, an id or an unambiguous id prefix.
pub fn find(store: &Store, reference: &str) -> Result<ContainerView> {
    ContainerView::load(store, store.find(reference)?)
}

/// Reads a state file that may not exist (yet, or for a container of an earlier chapter).
fn read_optional<T: DeserializeOwned>(path: &std::path::Path) -> Result<Option<T>> {
    match container::read_json(path) {
        Ok(value) => Ok(Some(value)),
        Err(Error::Io(io)) if io.source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// The run state a container without a monitor's file is in: what its chapter 03 record
/// says, its engine checked as chapter 03 checks it (the engine is its monitor).
fn state_of_record(record: &Record) -> RunState {
    let seconds = |s: u64| Some(s * 1_000_000_000);
    match effective_state(record) {
        State::Created => RunState::default(),
        State::Running {
            engine_pid,
            started,
        } => RunState {
            status: Status::Running,
            monitor_pid: Some(engine_pid),
            started_ns: seconds(started),
            ..RunState::default()
        },
        State::Exited { code, finished } => RunState {
            status: Status::Exited,
            finished_ns: seconds(finished),
            exit_code: Some(code),
            ..RunState::default()
        },
    }
}

/// The status shown for a recorded `state` of container `id`, and whether the container
/// runs without its monitor (see the module's table).
pub fn effective_status(state: &RunState, id: &str) -> (Status, bool) {
    let monitor_alive = state.monitor_pid.is_some_and(process::alive);
    match state.status {
        Status::Running | Status::Restarting if monitor_alive => (state.status, false),
        Status::Running if state.pid.is_some_and(|pid| is_container_process(pid, id)) => {
            (Status::Running, true)
        }
        Status::Running => (Status::Dead, false),
        // Between two runs: the last one ended as recorded, and no restart will come.
        Status::Restarting => (Status::Exited, false),
        recorded => (recorded, false),
    }
}

/// Whether the container's cgroup is frozen. A group that is gone, or that has no freezer
/// (a v1 group created without it), is not: the container may end between the reads.
fn frozen(host: &HostConfig, id: &str) -> bool {
    match Cgroup::open(std::path::Path::new(CGROUP_ROOT), &host.cgroup.parent, id) {
        Ok(Some(group)) => group.frozen().unwrap_or(false),
        Ok(None) | Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pid that no process has (above the kernel's `pid_max` limit of 2^22).
    const NO_PROCESS: u32 = 1 << 23;

    fn state(status: Status, monitor: Option<u32>, pid: Option<u32>) -> RunState {
        RunState {
            status,
            monitor_pid: monitor,
            pid,
            exit_code: Some(3),
            ..RunState::default()
        }
    }

    #[test]
    fn a_live_monitor_is_believed() {
        let me = Some(std::process::id());
        let id = "a".repeat(64);
        for status in [Status::Running, Status::Restarting] {
            assert_eq!(
                effective_status(&state(status, me, None), &id),
                (status, false)
            );
        }
    }

    #[test]
    fn without_its_monitor_a_container_is_dead_or_exited() {
        let gone = Some(NO_PROCESS);
        let id = "a".repeat(64);
        // This test's process is alive, but not in the container's cgroup.
        let stranger = Some(std::process::id());
        assert_eq!(
            effective_status(&state(Status::Running, gone, stranger), &id),
            (Status::Dead, false)
        );
        assert_eq!(
            effective_status(&state(Status::Restarting, gone, None), &id),
            (Status::Exited, false)
        );
        for status in [Status::Created, Status::Exited, Status::Dead] {
            assert_eq!(
                effective_status(&state(status, gone, None), &id),
                (status, false)
            );
        }
    }
}
