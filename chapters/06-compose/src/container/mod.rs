//! A container of this chapter, on disk. Chapter 03's record (`config.json`: the layers, the
//! command, the image config it runs with) stays what it was; beside it this chapter keeps
//!
//! - `hostconfig.json`: how the container runs, decided when it is created and read again by
//!   every start ([`HostConfig`]: docker keeps a file of the same name for the same purpose);
//! - `state.json`: what its monitor knows while it runs and after ([`RunState`]): the
//!   container's pid, when it started and ended, its exit code, its health. Only the monitor
//!   writes it, always whole, by renaming a new file over it, so a reader never sees half;
//! - `<id>-json.log`: its output, in docker's `json-file` format.

mod config;
mod state;

use std::path::{Path, PathBuf};

pub use config::{HostConfig, LogOptions, RestartPolicy, VolumeUse};
pub use state::{Health, HealthResult, HealthStatus, RunState, Status};

use dockyard_support::FromIo;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Where a container's files of this chapter live, beside chapter 03's.
#[derive(Debug, Clone)]
pub struct Paths {
    dir: PathBuf,
    id: String,
}

impl Paths {
    /// The files of container `id` in `store`.
    pub fn new(store: &ch03_union_fs::Store, id: &str) -> Self {
        Paths {
            dir: store.container_dir(id),
            id: id.to_owned(),
        }
    }

    /// The container's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How it runs.
    pub fn host_config(&self) -> PathBuf {
        self.dir.join("hostconfig.json")
    }

    /// What its monitor knows.
    pub fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Its output, docker's `json-file` log; rotated files add `.1`, `.2`…
    pub fn log(&self) -> PathBuf {
        self.dir.join(format!("{}-json.log", self.id))
    }

    /// The socket `attach` connects to, while a monitor keeps the container.
    pub fn attach_socket(&self) -> PathBuf {
        self.dir.join("attach.sock")
    }

    /// Present while a `stop` or a `kill` asked the container to end: its monitor must not
    /// restart it (docker's "manually stopped").
    pub fn stop_requested(&self) -> PathBuf {
        self.dir.join("stop-requested")
    }
}

// ANCHOR: is_container_process
/// Whether process `pid` is one of container `id`'s: its cgroup (`/proc/PID/cgroup`, one line
/// per hierarchy) is the container's group, named by the id. A pid read from `state.json` may
/// have been reused by an unrelated process since; a process in the container's group cannot.
pub fn is_container_process(pid: u32, id: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|groups| {
        groups
            .lines()
            .any(|line| line.trim_end().ends_with(&format!("/{id}")))
    })
}
// ANCHOR_END: is_container_process

/// Reads a JSON state file of the store.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(Error::io("read", path))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::CorruptState {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes a JSON state file whole: a new file renamed over the old, so that a reader (another
/// command, while the monitor writes) sees the old content or the new, never a part.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let temp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(value).expect("a state always serializes");
    std::fs::write(&temp, json).map_err(Error::io("write", &temp))?;
    std::fs::rename(&temp, path).map_err(Error::io("replace", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_belongs_to_the_container_its_cgroup_names() {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let last = own
            .lines()
            .filter_map(|l| l.rsplit('/').next())
            .find(|name| !name.is_empty());
        if let Some(name) = last {
            assert!(is_container_process(std::process::id(), name));
        }
        assert!(!is_container_process(std::process::id(), &"f".repeat(64)));
        assert!(!is_container_process(u32::MAX, &"f".repeat(64)));
    }
}
