//! `rm`: a container and everything it left, whatever state it was left in.
//!
//! A container whose monitor was killed (`kill -9` of the monitor, a crash) keeps running with
//! nobody to wait for it; `rm -f` finds its processes by the cgroup named after it, kills
//! them, and removes the groups, so nothing outlives the container.

use ch01_namespaces::Narrator;
use std::time::Duration;

use ch02_cgroups::CGROUP_ROOT;
use ch03_union_fs::{Record, Store};
use nix::sys::signal::Signal;

use super::Live;
use super::stop::wait_for_exit;
use crate::container::{HostConfig, is_container_process, read_json};
use crate::error::{Error, Result};

/// How long the monitor of a container SIGKILL ended may take to record it and exit.
const AFTER_KILL: Duration = Duration::from_secs(10);

/// Removes the container `reference` names; a running one only with `force` (it is killed
/// first); its anonymous volumes too with `volumes` (`rm -v`).
pub fn remove(store: &Store, reference: &str, force: bool, volumes: bool) -> Result<Live> {
    let live = Live::find(store, reference)?;
    let orphans = orphaned_processes(&live);
    if live.monitored() || !orphans.is_empty() {
        if !force {
            return Err(Error::conflict(
                format!(
                    "You cannot remove a running container {}. Stop the container before attempting removal or force remove",
                    live.record.id
                ),
                "stop it first, or remove it with rm -f",
            ));
        }
        let path = live.paths.stop_requested();
        let _best_effort = std::fs::write(&path, b"");
        if let Some(pid) = live.pid() {
            let _gone =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
            super::pause::thaw_if_frozen(&live);
        }
        if let Some(monitor) = live.monitor()
            && !wait_for_exit(monitor, Some(AFTER_KILL))?
        {
            return Err(Error::conflict(
                format!(
                    "the monitor of container {} did not end",
                    live.display_name()
                ),
                "try again; a monitor ends once its container's first process is gone",
            ));
        }
        for pid in orphans {
            let _gone =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
            // Its cgroup can only be removed once it is empty.
            wait_for_exit(pid, Some(AFTER_KILL))?;
        }
    }
    remove_files(store, &live.record, volumes)?;
    Ok(live)
}

/// Removes the container's record, writable layer and files, what is left of its cgroup if
/// its monitor died without removing it, and with `volumes` its anonymous volumes that no
/// other container uses.
pub fn remove_files(store: &Store, record: &Record, volumes: bool) -> Result<()> {
    let paths = crate::container::Paths::new(store, &record.id);
    let host = read_json::<HostConfig>(&paths.host_config()).ok();
    let parent = host
        .as_ref()
        .map(|host| host.cgroup.parent.clone())
        .unwrap_or_else(|| ch02_cgroups::DEFAULT_PARENT.to_owned());
    store.remove(record)?;
    crate::network::store::Networks::open(store)?.release(&record.id, &Narrator::silent())?;
    if volumes && let Some(host) = &host {
        crate::volume::remove_anonymous(store, &host.volumes)?;
    }
    // Empty groups only: their processes are gone. A group still in use is left (and the
    // error ignored): removing the record matters more.
    let _best_effort =
        ch02_cgroups::remove_leftover(std::path::Path::new(CGROUP_ROOT), &parent, &record.id);
    Ok(())
}

/// The processes of a container whose monitor is gone: those in a cgroup named after it.
fn orphaned_processes(live: &Live) -> Vec<u32> {
    if live.monitor().is_some() {
        return Vec::new();
    }
    let Some(pid) = live.state.pid else {
        return Vec::new();
    };
    if is_container_process(pid, &live.record.id) {
        vec![pid]
    } else {
        Vec::new()
    }
}
