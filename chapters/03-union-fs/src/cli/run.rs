//! What a tool prints around a run: the events it tells the user about as they happen, and,
//! once the container ended, what its cgroup saw.

use ch02_cgroups::Limits;
use ch02_cgroups::cli::outcome_report;

use crate::run::{RunEnd, RunEvent};

/// Prints a run's event on stderr, prefixed with the tool's name.
pub fn print_event(program: &str, event: RunEvent) {
    match event {
        RunEvent::DriverFallback { reason, .. } => eprintln!("{program}: {reason}"),
    }
}

/// Prints the OOM line (and the cgroup's counters, when they were asked for) on stderr;
/// returns the exit status, as `docker run` exits.
pub fn finish(program: &str, end: &RunEnd, limits: &Limits) -> i32 {
    let status = end.status.code();
    if let Some(outcome) = &end.cgroup {
        eprint!("{}", outcome_report(program, outcome, limits, status));
    }
    status
}
