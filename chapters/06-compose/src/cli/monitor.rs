//! `monitor ID` (hidden): the process `start` executes to keep a container; see
//! [`crate::monitor`]. Its answer goes to descriptor 3; its own output is the container's.

use std::os::fd::{FromRawFd, OwnedFd};

use ch04_images::cli::Context;

use crate::error::Result;
use crate::exec::exec_capture;
use crate::lifecycle::start::READY_FD;
use crate::monitor::health::Probe;
use crate::monitor::{self, Mode, close_on_exec};

/// Runs the monitor of container `id`.
pub fn execute(cx: &Context, id: &str) -> Result<i32> {
    // SAFETY: `start` put the ready pipe on this descriptor before executing this program,
    // and nothing else in this process owns it.
    let ready = unsafe { OwnedFd::from_raw_fd(READY_FD) };
    close_on_exec(&ready)?;
    let storage = cx
        .globals
        .storage
        .options()
        .map_err(ch04_images::Error::from)?;
    monitor::run(
        cx.store.containers(),
        id,
        &storage,
        Mode::Detached { ready },
        super::prober(cx)?,
    )
}

/// `health-check TIMEOUT_NS ID -- CMD…` (hidden): runs one check in the container and prints
/// how it ended as JSON, for the monitor that asked.
#[derive(Debug, clap::Args)]
pub struct HealthCheckArgs {
    /// The longest the command may run, in nanoseconds
    timeout_ns: u64,
    /// The container's id
    id: String,
    /// The check's command
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

impl HealthCheckArgs {
    /// Runs the check; a command that cannot run is a failed check (-1), as docker's.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let timeout = std::time::Duration::from_nanos(self.timeout_ns);
        let probe = match exec_capture(
            cx.store.containers(),
            &self.id,
            self.command.clone(),
            timeout,
        ) {
            Ok(captured) => Probe {
                exit_code: captured.exit_code,
                output: captured.output,
            },
            Err(error) => Probe {
                exit_code: -1,
                output: error.to_string(),
            },
        };
        super::out(serde_json::to_string(&probe).expect("a probe serializes"))?;
        Ok(0)
    }
}
