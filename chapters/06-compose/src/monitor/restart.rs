//! `--restart`: whether the monitor starts the container again when it ended, and after how
//! long. The rules are docker's restart manager's:
//!
//! - `no` never restarts; `always` and `unless-stopped` always do; `on-failure[:N]` does when
//!   the status is not 0, at most N times if N is given;
//! - nothing restarts a container that `stop` or `kill` ended (the monitor finds
//!   `stop-requested`), so stopping a container with `--restart always` works;
//! - the delay starts at 100 ms and doubles at every restart, up to a minute; a run of 10
//!   seconds or more resets it, so a service that crashes once a day restarts at once, while
//!   one that crashes at start does not spin.

use std::time::Duration;

use ch01_namespaces::ExitStatus;

use crate::container::RestartPolicy;

/// What becomes of a container that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// It stays ended.
    Stay,
    /// It starts again, after the backoff's delay.
    Restart,
}

// ANCHOR: decide
/// Docker's rule: `policy`, the status it ended with, how often it was restarted already, and
/// whether a user stopped it.
pub fn decide(
    policy: &RestartPolicy,
    status: &ExitStatus,
    restarts: u32,
    stopped_by_user: bool,
) -> Decision {
    let restart = !stopped_by_user
        && match policy {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure { max_retries } => {
                status.code() != 0 && max_retries.is_none_or(|max| restarts < max)
            }
        };
    if restart {
        Decision::Restart
    } else {
        Decision::Stay
    }
}
// ANCHOR_END: decide

/// The first delay.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest delay.
const LONGEST_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long resets the delay.
const RESET_AFTER: Duration = Duration::from_secs(10);
/// How often a waiting monitor checks whether the container was stopped meanwhile.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// The growing delay between restarts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backoff {
    delay: Option<Duration>,
}

impl Backoff {
    // ANCHOR: backoff
    /// The delay before the next start, after a run that lasted `ran`.
    pub fn next(&mut self, ran: Duration) -> Duration {
        let delay = match self.delay {
            Some(_) if ran >= RESET_AFTER => FIRST_DELAY,
            Some(delay) => (delay * 2).min(LONGEST_DELAY),
            None => FIRST_DELAY,
        };
        self.delay = Some(delay);
        delay
    }
    // ANCHOR_END: backoff

    /// Waits the next delay after a run of `ran_ns`; false if `stopped` became true meanwhile
    /// (the container is not to start again).
    pub fn wait(&mut self, ran_ns: u64, stopped: impl Fn() -> bool) -> bool {
        let deadline = std::time::Instant::now() + self.next(Duration::from_nanos(ran_ns));
        loop {
            if stopped() {
                return false;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return true;
            }
            std::thread::sleep(STOP_CHECK.min(deadline - now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_policies() {
        let ok = ExitStatus::Exited(0);
        let failed = ExitStatus::Exited(3);
        let on_failure = |n| RestartPolicy::OnFailure { max_retries: n };
        let cases = [
            (RestartPolicy::No, failed, 0, false, Decision::Stay),
            (RestartPolicy::Always, ok, 7, false, Decision::Restart),
            (RestartPolicy::Always, ok, 0, true, Decision::Stay),
            (
                RestartPolicy::UnlessStopped,
                failed,
                0,
                false,
                Decision::Restart,
            ),
            (on_failure(None), ok, 0, false, Decision::Stay),
            (on_failure(None), failed, 99, false, Decision::Restart),
            (on_failure(Some(2)), failed, 1, false, Decision::Restart),
            (on_failure(Some(2)), failed, 2, false, Decision::Stay),
            (on_failure(Some(2)), failed, 0, true, Decision::Stay),
        ];
        for (policy, status, restarts, stopped, expected) in cases {
            assert_eq!(
                decide(&policy, &status, restarts, stopped),
                expected,
                "{policy} {status:?} after {restarts} restarts, stopped: {stopped}"
            );
        }
    }

    #[test]
    fn the_delay_doubles_up_to_a_minute_and_a_long_run_resets_it() {
        let mut backoff = Backoff::default();
        let quick = Duration::from_millis(5);
        let delays: Vec<u128> = (0..12).map(|_| backoff.next(quick).as_millis()).collect();
        assert_eq!(
            delays,
            [
                100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000
            ]
        );
        assert_eq!(backoff.next(Duration::from_secs(10)), FIRST_DELAY);
    }

    #[test]
    fn a_stop_ends_the_wait() {
        let mut backoff = Backoff::default();
        assert!(!backoff.wait(0, || true));
        assert!(backoff.wait(0, || false));
    }
}
