//! Processes: is the one that ran a container still there? How many threads has this one?

use std::path::Path;

/// Whether the process `pid` still exists (it has a directory in `/proc`).
pub fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
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
    fn threads_are_counted() {
        let before = super::threads().expect("a count");
        let (started, stop) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|scope| {
            scope.spawn(|| {
                started.wait();
                stop.wait();
            });
            started.wait();
            assert_eq!(super::threads(), Some(before + 1));
            stop.wait();
        });
    }
}
