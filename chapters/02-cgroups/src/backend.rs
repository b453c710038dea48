//! What each cgroup hierarchy implements: the one interface [`crate::Cgroup`] drives, so that
//! the rest of the chapter works the same on v1 and v2 (as youki's managers do).

use std::path::PathBuf;

use ch01_namespaces::Narrator;

use crate::error::Result;
use crate::stats::{Stats, Usage};

// ANCHOR: backend
/// What each hierarchy implements.
pub trait Backend: std::fmt::Debug {
    /// Moves a process (and, for a thread group, all its threads) into the group.
    fn attach(&self, pid: i32, n: &Narrator) -> Result<()>;
    /// The files a single-threaded process writes `0` into to move *itself* into the group,
    /// where that is cheaper than [`Backend::attach`] (see `Cgroup::self_join_files`).
    fn self_join_files(&self) -> Option<Vec<PathBuf>> {
        None
    }
    /// How many times the kernel's OOM killer killed a process of the group.
    fn oom_kills(&self) -> Result<u64>;
    /// The group's counters.
    fn stats(&self) -> Result<Stats>;
    /// What the group uses now.
    fn usage(&self) -> Result<Usage>;
    /// Freezes (`true`) or thaws every process of the group.
    fn set_frozen(&self, frozen: bool, n: &Narrator) -> Result<()>;
    /// Whether the group is frozen (a group without the freezer never is).
    fn frozen(&self) -> Result<bool>;
    /// The pids in the group.
    fn pids(&self) -> Result<Vec<i32>>;
    /// Removes the group's directories (it must be empty).
    fn remove(&self, n: &Narrator) -> Result<()>;
}
// ANCHOR_END: backend
