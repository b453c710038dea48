//! Waiting for a log to change, without spinning.
//!
//! `logs -f` spends nearly all its life waiting for the container to write. It could wake up
//! every few milliseconds and look; instead it asks the kernel (inotify) to tell it when
//! something in the container's directory changes: the log grows (`IN_MODIFY`), is rotated
//! (`IN_MOVED_FROM`, `IN_CREATE`), or the monitor replaces `state.json` (`IN_MOVED_TO`), which
//! lives in the same directory, so a container that stops wakes the follower too. A quiet
//! container then costs no CPU, and a line shows as soon as it is written.
//!
//! Every wait is still bounded: one thing announces itself with no file event at all, a
//! monitor killed before it could record the end, and only looking again notices it. When
//! inotify is unavailable (the per-user limit `fs.inotify.max_user_instances` is reached, or
//! a filesystem that does not report changes), the follower falls back to looking again
//! after a short sleep.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};

/// How long a wait lasts at most with inotify: how late a monitor's silent death is noticed.
pub const WATCH_PATIENCE: Duration = Duration::from_millis(250);

/// How long a wait lasts without inotify: how late a new line shows.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A directory to wait on.
#[derive(Debug)]
pub struct Watch {
    /// The inotify instance watching the directory; `None` if it could not be made.
    inotify: Option<OwnedFd>,
}

impl Watch {
    /// Watches `dir` for files written, created, moved or removed. Events that come after
    /// this call and before a [`Watch::wait`] are kept: a write cannot slip between a read
    /// and the wait after it.
    pub fn new(dir: &Path) -> Watch {
        let events = WatchFlags::MODIFY
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MOVED_FROM
            | WatchFlags::MOVED_TO
            | WatchFlags::DELETE_SELF;
        let inotify = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .ok()
            .filter(|fd| inotify::add_watch(fd, dir, events).is_ok());
        Watch { inotify }
    }

    /// Whether the kernel reports changes, or the follower polls.
    pub fn notified(&self) -> bool {
        self.inotify.is_some()
    }

    /// Returns once something changed in the directory since the last wait, or after
    /// `at_most` (and never later than [`WATCH_PATIENCE`]; [`POLL_INTERVAL`] without inotify).
    pub fn wait(&mut self, at_most: Duration) {
        let Some(fd) = &self.inotify else {
            std::thread::sleep(at_most.min(POLL_INTERVAL));
            return;
        };
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(at_most.min(WATCH_PATIENCE))
            .expect("the patience fits in a poll");
        // An interrupted poll only means a look earlier than needed.
        if poll(&mut fds, timeout).is_ok_and(|ready| ready > 0) {
            drain(fd);
        }
    }
}

/// Reads the pending events away: what changed does not matter, the follower looks at the
/// files again anyway.
fn drain(fd: &OwnedFd) {
    let mut buffer = [0u8; 4096];
    while rustix::io::read(fd, &mut buffer).is_ok_and(|n| n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether events wait to be read, without waiting.
    fn pending(watch: &Watch) -> bool {
        let fd = watch.inotify.as_ref().expect("inotify");
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::ZERO).unwrap() > 0
    }

    #[test]
    fn changes_are_kept_until_a_wait_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut watch = Watch::new(dir.path());
        assert!(watch.notified(), "inotify works on a temporary directory");
        assert!(!pending(&watch));
        std::fs::write(dir.path().join("log"), "x").unwrap();
        assert!(pending(&watch), "the write is reported");
        watch.wait(WATCH_PATIENCE);
        assert!(!pending(&watch), "the wait read the events");
        std::fs::rename(dir.path().join("log"), dir.path().join("log.1")).unwrap();
        assert!(pending(&watch), "the rotation is reported");
    }
}
