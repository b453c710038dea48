//! `wait`: block until a container stops, then say how it ended.

use std::time::Duration;

use ch03_union_fs::Store;

use super::Live;
use super::stop::wait_for_exit;
use crate::container::Status;
use crate::error::Result;

/// How long a monitor may take to write down the end of a container whose process ended.
const RECORDING: Duration = Duration::from_secs(10);
/// How often the state is read again while the monitor records the end.
const STATE_CHECK: Duration = Duration::from_millis(5);

/// Waits until the container `reference` names is not running, and returns its exit code. A
/// container that will be restarted counts as stopped at its end, as docker's `wait` counts.
pub fn wait(store: &Store, reference: &str) -> Result<i32> {
    let live = Live::find(store, reference)?;
    if live.state.status != Status::Running || live.monitor().is_none() {
        return Ok(live.state.exit_code.unwrap_or(0));
    }
    // Its process may have ended already, before its monitor wrote that down: then only
    // the recording is waited for.
    if let Some(pid) = live.pid() {
        wait_for_exit(pid, None)?;
    }
    let deadline = std::time::Instant::now() + RECORDING;
    loop {
        let now = Live::of(store, live.record.clone());
        let recorded = now.state.status != Status::Running
            || now.state.started_ns != live.state.started_ns
            || now.monitor().is_none();
        if recorded || std::time::Instant::now() >= deadline {
            return Ok(now.state.exit_code.unwrap_or(0));
        }
        std::thread::sleep(STATE_CHECK);
    }
}
