//! Processes: is the one that ran a container still there? How many threads has this one?

use std::path::Path;

/// Whether the process `pid` still exists (it has a directory in `/proc`).
pub fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// The parent of process `pid`: the fourth field of `/proc/PID/stat`, counted after the command
/// in parentheses (which may itself hold spaces and parentheses).
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_command) = stat.rsplit_once(')')?;
    after_command.split_whitespace().nth(1)?.parse().ok()
}

/// When process `pid` started, in clock ticks since boot (the 22nd field of `/proc/PID/stat`):
/// with the pid, it names one process for good, since a pid is reused but never at the same
/// moment.
pub fn started_at(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_command) = stat.rsplit_once(')')?;
    after_command.split_whitespace().nth(19)?.parse().ok()
}

/// How many threads this process runs (the `Threads:` line of `/proc/self/status`). Cloning
/// a container, forking a worker and a mount namespace of one's own all need one.
pub fn threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Waits until this process has one thread, for `patience` at most; the count it last saw.
/// A library may leave a helper thread that is still ending when its call returns (an HTTP
/// client's name resolver, a background flush): a clone or a fork that needs the process
/// alone waits for it rather than fail at once.
pub fn wait_until_single_threaded(patience: std::time::Duration) -> Option<usize> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        let threads = threads();
        if threads == Some(1) || std::time::Instant::now() >= deadline {
            return threads;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive() {
        assert!(super::alive(std::process::id()));
        assert!(!super::alive(u32::MAX));
    }

    #[test]
    fn the_parent_of_this_process_is_read_from_proc() {
        assert_eq!(
            super::parent_of(std::process::id()),
            Some(std::os::unix::process::parent_id())
        );
        assert_eq!(super::parent_of(u32::MAX), None);
    }

    #[test]
    fn a_process_start_time_is_read() {
        let me = std::process::id();
        let started = super::started_at(me).expect("our own start");
        assert_eq!(super::started_at(me), Some(started));
        assert_eq!(super::started_at(u32::MAX), None);
    }

    #[test]
    fn threads_are_counted() {
        // The test harness runs other tests on threads that come and go, so only a lower
        // bound holds: the harness's main thread, this test's and the one started here. The
        // count is read while the helper waits, and the helper is released before anything is
        // asserted, so a failed assertion cannot leave it (and the test) waiting forever.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel::<()>();
        let helper = std::thread::spawn(move || {
            let _ = ready.send(());
            let _ = released.recv_timeout(std::time::Duration::from_secs(10));
        });
        is_ready
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the helper thread started");
        let during = super::threads();
        drop(release);
        helper.join().expect("the helper thread ended");
        assert!(during.is_some_and(|n| n >= 3), "counted {during:?} threads");
    }
}
