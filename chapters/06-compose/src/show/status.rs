//! How docker words a container's state: the `STATUS` column of `ps` (`Up 3 seconds
//! (healthy)`, `Exited (137) 2 seconds ago`), the one-word `State.Status` of `inspect` and
//! `ps --filter status=`, and the health word of `--filter health=`.
//!
//! Durations are go-units' `HumanDuration` ([`human_duration`]): whole seconds below a
//! minute, "About a minute", "About an hour", then rounded hours, days, weeks, months.

use dockyard_support::format::human_duration;

use super::view::ContainerView;
use crate::container::{HealthStatus, Status};

impl ContainerView {
    /// docker's `STATUS` column at `now_ns` (nanoseconds since the epoch): `Created`,
    /// `Up 3 seconds`, `Up 2 hours (healthy)`, `Up 5 seconds (health: starting)`,
    /// `Up 10 seconds (Paused)`, `Restarting (1) 2 seconds ago`, `Exited (137) 2 seconds
    /// ago`, `Dead`.
    pub fn status_text(&self, now_ns: u64) -> String {
        let since = |then: Option<u64>| {
            let then = then.unwrap_or(self.record.created_ns);
            human_duration(now_ns.saturating_sub(then) / 1_000_000_000)
        };
        let code = self.state.exit_code.unwrap_or(0);
        match self.status {
            Status::Created => "Created".to_string(),
            Status::Running => {
                let up = format!("Up {}", since(self.state.started_ns));
                match (self.paused, self.health()) {
                    (true, _) => format!("{up} (Paused)"),
                    (false, Some(health)) => format!("{up} ({})", health_in_status(health)),
                    (false, None) => up,
                }
            }
            Status::Restarting => {
                format!("Restarting ({code}) {} ago", since(self.state.finished_ns))
            }
            Status::Exited => format!("Exited ({code}) {} ago", since(self.state.finished_ns)),
            Status::Dead => "Dead".to_string(),
        }
    }

    /// docker's one-word state (`State.Status`, `{{.State}}`, `--filter status=`):
    /// `created`, `running`, `paused`, `restarting`, `exited` or `dead`.
    pub fn state_word(&self) -> &'static str {
        match self.status {
            Status::Running if self.paused => "paused",
            status => status_word(status),
        }
    }

    /// The health word of `--filter health=`: `starting`, `healthy`, `unhealthy`, or `none`
    /// for a container without a health check (or not running).
    pub fn health_word(&self) -> &'static str {
        self.health().map_or("none", health_word)
    }
}

/// A status as `state.json` and docker name it.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Created => "created",
        Status::Running => "running",
        Status::Restarting => "restarting",
        Status::Exited => "exited",
        Status::Dead => "dead",
    }
}

/// A health status as docker names it.
pub fn health_word(health: HealthStatus) -> &'static str {
    match health {
        HealthStatus::Starting => "starting",
        HealthStatus::Healthy => "healthy",
        HealthStatus::Unhealthy => "unhealthy",
    }
}

/// A health status as the `STATUS` column words it: "starting" is `health: starting`.
fn health_in_status(health: HealthStatus) -> &'static str {
    match health {
        HealthStatus::Starting => "health: starting",
        other => health_word(other),
    }
}

#[cfg(test)]
mod tests {
    use ch03_union_fs::{Driver, Record, State};

    use super::*;
    use crate::container::{Health, HostConfig, RunState};

    const SECOND: u64 = 1_000_000_000;
    const NOW: u64 = 1_800_000_000 * SECOND;

    fn view(status: Status, state: RunState) -> ContainerView {
        ContainerView {
            record: Record {
                id: "a".repeat(64),
                name: Some("web".into()),
                created_ns: NOW - 3600 * SECOND,
                command: vec!["sleep".into(), "1000".into()],
                layers: Vec::new(),
                image: None,
                config: None,
                driver: Driver::Vfs,
                state: State::Created,
            },
            host: HostConfig::default(),
            config: Default::default(),
            state: RunState { status, ..state },
            status,
            paused: false,
            orphaned: false,
            endpoints: Vec::new(),
        }
    }

    fn up_for(seconds: u64) -> RunState {
        RunState {
            started_ns: Some(NOW - seconds * SECOND),
            ..RunState::default()
        }
    }

    fn ended(seconds_ago: u64, code: i32) -> RunState {
        RunState {
            finished_ns: Some(NOW - seconds_ago * SECOND),
            exit_code: Some(code),
            ..RunState::default()
        }
    }

    fn health(status: HealthStatus) -> Option<Health> {
        Some(Health {
            status,
            ..Health::default()
        })
    }

    #[test]
    fn statuses_read_as_dockers() {
        let cases = [
            (view(Status::Created, RunState::default()), "Created"),
            (view(Status::Running, up_for(3)), "Up 3 seconds"),
            (view(Status::Running, up_for(0)), "Up Less than a second"),
            (view(Status::Running, up_for(1)), "Up 1 second"),
            (view(Status::Running, up_for(75)), "Up About a minute"),
            (
                view(
                    Status::Running,
                    RunState {
                        health: health(HealthStatus::Healthy),
                        ..up_for(2 * 3600)
                    },
                ),
                "Up 2 hours (healthy)",
            ),
            (
                view(
                    Status::Running,
                    RunState {
                        health: health(HealthStatus::Starting),
                        ..up_for(5)
                    },
                ),
                "Up 5 seconds (health: starting)",
            ),
            (
                view(
                    Status::Running,
                    RunState {
                        health: health(HealthStatus::Unhealthy),
                        ..up_for(1)
                    },
                ),
                "Up 1 second (unhealthy)",
            ),
            (
                ContainerView {
                    paused: true,
                    ..view(
                        Status::Running,
                        RunState {
                            health: health(HealthStatus::Healthy),
                            ..up_for(10)
                        },
                    )
                },
                "Up 10 seconds (Paused)",
            ),
            (
                view(Status::Restarting, ended(2, 1)),
                "Restarting (1) 2 seconds ago",
            ),
            (
                view(Status::Exited, ended(2, 137)),
                "Exited (137) 2 seconds ago",
            ),
            (view(Status::Dead, ended(2, 137)), "Dead"),
        ];
        for (view, text) in cases {
            assert_eq!(view.status_text(NOW), text, "{:?}", view.state);
        }
    }

    #[test]
    fn states_and_health_in_one_word() {
        let paused = ContainerView {
            paused: true,
            ..view(Status::Running, up_for(1))
        };
        assert_eq!(paused.state_word(), "paused");
        assert_eq!(view(Status::Exited, ended(1, 0)).state_word(), "exited");
        let checked = view(
            Status::Running,
            RunState {
                health: health(HealthStatus::Starting),
                ..up_for(1)
            },
        );
        assert_eq!(checked.health_word(), "starting");
        assert_eq!(view(Status::Running, up_for(1)).health_word(), "none");
        // An exited container has no health, whatever its last check said.
        let exited = view(
            Status::Exited,
            RunState {
                health: health(HealthStatus::Healthy),
                ..ended(1, 0)
            },
        );
        assert_eq!(exited.health_word(), "none");
    }
}
