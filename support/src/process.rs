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
