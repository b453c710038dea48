//! `pause` and `unpause`: the cgroup freezer stops every process of the container where it
//! is, without a signal it could see or handle, and lets them go on later.
//!
//! A frozen process cannot act on a signal either, so `stop`, `kill` and `rm -f` thaw the
//! container after signalling it: what they sent then takes effect.

use std::path::Path;

use ch01_namespaces::Narrator;
use ch02_cgroups::{CGROUP_ROOT, Cgroup};
use ch03_union_fs::Store;

use super::Live;
use crate::container::{HostConfig, read_json};
use crate::error::{Error, Result};

/// Freezes the running container `reference` names.
pub fn pause(store: &Store, reference: &str) -> Result<Live> {
    let live = Live::find(store, reference)?;
    let group = group_of_running(&live)?;
    if group.frozen()? {
        return Err(Error::conflict(
            format!("Container {} is already paused", live.record.id),
            "unpause it with `unpause`",
        ));
    }
    group.freeze(&Narrator::silent())?;
    Ok(live)
}

/// Thaws the paused container `reference` names.
pub fn unpause(store: &Store, reference: &str) -> Result<Live> {
    let live = Live::find(store, reference)?;
    let group = group_of_running(&live)?;
    if !group.frozen()? {
        return Err(Error::conflict(
            format!("Container {} is not paused", live.record.id),
            "only a container `pause` froze can be unpaused",
        ));
    }
    group.thaw(&Narrator::silent())?;
    Ok(live)
}

/// Thaws the container if it is frozen, so that a signal just sent takes effect. The signal
/// may have ended the container already, and its monitor removed its cgroup meanwhile: a group
/// that is gone, or going, had nothing left to thaw, so nothing here is an error.
pub fn thaw_if_frozen(live: &Live) {
    if let Ok(Some(group)) = group(live)
        && group.frozen().unwrap_or(false)
    {
        let _gone_meanwhile = group.thaw(&Narrator::silent());
    }
}

fn group_of_running(live: &Live) -> Result<Cgroup> {
    if !live.running() {
        return Err(Error::NotRunning(live.record.id.clone()));
    }
    group(live)?.ok_or_else(|| Error::NotRunning(live.record.id.clone()))
}

fn group(live: &Live) -> Result<Option<Cgroup>> {
    let host: HostConfig = read_json(&live.paths.host_config())?;
    Ok(Cgroup::open(
        Path::new(CGROUP_ROOT),
        &host.cgroup.parent,
        &live.record.id,
    )?)
}
