//! `container prune`: every container that is not running, removed.

use ch03_union_fs::Store;

use super::Live;
use super::remove::remove_files;
use crate::error::Result;

/// What a prune removed: the containers' ids, and the bytes of their writable layers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// The ids removed, oldest first.
    pub ids: Vec<String>,
    /// The bytes their writable layers held.
    pub reclaimed: u64,
}

/// Removes every container no monitor keeps (created, exited, or left by a dead monitor);
/// their volumes stay, as docker's prune leaves them.
pub fn prune(store: &Store) -> Result<Pruned> {
    let mut pruned = Pruned::default();
    for record in store.list()? {
        let live = Live::of(store, record);
        if live.monitored() {
            continue;
        }
        let (writable, _) = ch03_union_fs::lifecycle::sizes(store, &live.record);
        remove_files(store, &live.record, false)?;
        pruned.reclaimed += writable;
        pruned.ids.push(live.record.id);
    }
    Ok(pruned)
}
