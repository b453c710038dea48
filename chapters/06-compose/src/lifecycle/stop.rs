//! `stop` and `kill`: signals to a container's first process, and the monitor's end awaited.
//!
//! `stop` sends the container's stop signal (`--stop-signal`, the image's `STOPSIGNAL`, else
//! SIGTERM), waits for the container to end, and sends SIGKILL when the time is up (10 seconds
//! unless `-t` or `--stop-timeout` say otherwise). A PID 1 ignores every signal it has no
//! handler for, so a plain `sleep` only ends with the SIGKILL: that is why `docker stop` of
//! such a container takes its full ten seconds, and why `--init` helps.
//!
//! Both leave `stop-requested` in the container's directory first: the monitor then does not
//! apply the restart policy to this end.

use std::os::fd::AsFd;
use std::time::Duration;

use ch03_union_fs::Store;
use dockyard_support::FromIo;
use nix::sys::signal::Signal;

use super::{Live, signal, spec};
use crate::container::{HostConfig, read_json};
use crate::error::{Error, Result};

/// `stop`'s wait when neither the command line nor the container says: docker's 10 seconds.
pub const DEFAULT_TIMEOUT: u32 = 10;

/// How long a monitor may take to record the end of a container SIGKILL ended.
const AFTER_KILL: Duration = Duration::from_secs(10);

// ANCHOR: stop
/// Stops the container `reference` names; a container that is not running is left as it is.
/// `timeout` overrides the container's own wait (seconds; negative waits for ever, as docker).
pub fn stop(store: &Store, reference: &str, timeout: Option<i64>) -> Result<Live> {
    let live = Live::find(store, reference)?;
    let Some(monitor) = live.monitor().filter(|_| live.monitored()) else {
        return Ok(live);
    };
    let host: HostConfig = read_json(&live.paths.host_config())?;
    request_stop(&live)?;
    let stop_signal = stop_signal(&live, &host)?;
    let wait = timeout.unwrap_or(i64::from(host.stop_timeout.unwrap_or(DEFAULT_TIMEOUT)));
    if let Some(pid) = live.pid() {
        send(pid, stop_signal)?;
        super::pause::thaw_if_frozen(&live);
    }
    let patience = u64::try_from(wait).ok().map(Duration::from_secs);
    if !wait_for_exit(monitor, patience)? {
        if let Some(pid) = live.pid() {
            send(pid, Signal::SIGKILL)?;
        }
        if !wait_for_exit(monitor, Some(AFTER_KILL))? {
            return Err(Error::conflict(
                format!(
                    "container {} did not end after SIGKILL",
                    live.display_name()
                ),
                "see the container's monitor process; `rm -f` removes the container anyway",
            ));
        }
    }
    Ok(Live::of(store, live.record))
}
// ANCHOR_END: stop

/// Sends `signal` to the running container `reference` names (`kill -s`).
pub fn kill(store: &Store, reference: &str, signal: Signal) -> Result<Live> {
    let live = Live::find(store, reference)?;
    let Some(pid) = live.pid().filter(|_| live.running()) else {
        return Err(Error::NotRunning(live.record.id.clone()));
    };
    let host: HostConfig = read_json(&live.paths.host_config())?;
    // Docker's rule: a kill ends the restart policy's say unless the container has a stop
    // signal of its own and this is neither it nor SIGKILL (a SIGHUP to reload, say).
    let configured = configured_stop_signal(&live, &host)?;
    if configured.is_none_or(|stop| signal == stop || signal == Signal::SIGKILL) {
        request_stop(&live)?;
    }
    send(pid, signal)?;
    super::pause::thaw_if_frozen(&live);
    Ok(live)
}

/// The signal `stop` sends first.
pub fn stop_signal(live: &Live, host: &HostConfig) -> Result<Signal> {
    Ok(configured_stop_signal(live, host)?.unwrap_or(Signal::SIGTERM))
}

fn configured_stop_signal(live: &Live, host: &HostConfig) -> Result<Option<Signal>> {
    let image = spec::running_config(&live.record)?.stop_signal;
    host.stop_signal
        .as_deref()
        .or(image.as_deref())
        .map(signal::parse)
        .transpose()
}

fn request_stop(live: &Live) -> Result<()> {
    let path = live.paths.stop_requested();
    std::fs::write(&path, b"").map_err(Error::io("write", &path))
}

fn send(pid: u32, signal: Signal) -> Result<()> {
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal) {
        // Gone already: what the signal was for happened.
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(Error::io_op(format!("send {signal} to process {pid}"))(
            e.into(),
        )),
    }
}

/// Waits for process `pid` (not a child of this one) to end, for `patience` at most (`None`:
/// for ever); whether it ended. A pidfd (Linux 5.3) becomes readable when the process ends,
/// and it names that process even if its pid is reused meanwhile.
pub fn wait_for_exit(pid: u32, patience: Option<Duration>) -> Result<bool> {
    let watch_failed =
        |e: rustix::io::Errno| Error::io_op(format!("watch process {pid}"))(e.into());
    let Some(process) = rustix::process::Pid::from_raw(pid as i32) else {
        return Ok(true);
    };
    let pidfd = match rustix::process::pidfd_open(process, rustix::process::PidfdFlags::empty()) {
        Ok(pidfd) => pidfd,
        Err(rustix::io::Errno::SRCH) => return Ok(true),
        Err(e) => return Err(watch_failed(e)),
    };
    let deadline = patience.map(|p| std::time::Instant::now() + p);
    loop {
        let left = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                nix::poll::PollTimeout::try_from(left).unwrap_or(nix::poll::PollTimeout::MAX)
            }
            None => nix::poll::PollTimeout::NONE,
        };
        let mut fds = [nix::poll::PollFd::new(
            pidfd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, left) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::io_op(format!("watch process {pid}"))(e.into())),
        }
    }
}
