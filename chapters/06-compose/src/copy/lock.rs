//! Who may mount a container's files: its monitor, or a `cp` while it is stopped.
//!
//! A running container's files are read through the container's own mounts. A stopped one
//! has none, so `cp` mounts its overlay itself, on the container's upper directory; were the
//! container started meanwhile, a second overlay would be mounted over the same upper
//! directory, which the kernel warns is undefined behavior. So each container has a lock file,
//! `files.lock`: every monitor holds it shared for its whole life, and `cp` takes it exclusive,
//! without waiting, to work on a stopped container. Getting it proves no monitor runs the
//! container, and none can until the copy ends: a `start` meanwhile waits, as docker's
//! waits for a copy to finish.

use std::fs::{File, OpenOptions};

use dockyard_support::FromIo;
use nix::fcntl::{Flock, FlockArg};

use crate::container::Paths;
use crate::error::{Error, Result};

/// The lock file, in the container's directory.
const FILE: &str = "files.lock";

/// A held lock on a container's files; released when dropped.
pub type FilesLock = Flock<File>;

/// Takes the lock shared, waiting for a `cp` that holds it to end: a monitor's, for its life.
pub fn share(paths: &Paths) -> Result<FilesLock> {
    take(paths, FlockArg::LockShared).map(|lock| lock.expect("a blocking lock is taken"))
}

/// Takes the lock exclusive if no one holds it: `None` while a monitor runs the container.
pub fn try_exclusive(paths: &Paths) -> Result<Option<FilesLock>> {
    take(paths, FlockArg::LockExclusiveNonblock)
}

fn take(paths: &Paths, how: FlockArg) -> Result<Option<FilesLock>> {
    let path = paths.dir().join(FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    match Flock::lock(file, how) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(Error::io("lock", &path)(e.into())),
    }
}
