//! Processes the engine left running: is the one that ran a container still there?

use std::path::Path;

/// Whether the process `pid` still exists (it has a directory in `/proc`).
pub fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive() {
        assert!(super::alive(std::process::id()));
        assert!(!super::alive(u32::MAX));
    }
}
