//! # The commands that act on a project's existing containers
//!
//! `start`, `stop`, `restart`, `kill`, `pause`, `unpause` and `rm` create nothing: they find
//! the project's containers by their labels (so the file may even be gone, as with `down`),
//! keep those of the services named (all when none is), and act on them in the order the
//! dependencies ask: `start` as `up` does, dependencies first; `stop` in `down`'s waves,
//! dependents first.

use dockyard_support::Sink;

use super::Project;
use super::engine::{ContainerInfo, Engine};
use super::events::{Action, ComposeEvent, step};
use super::labels;
use super::up::number_of;
use super::waves::{in_parallel, stop_wave, stop_waves};
use crate::error::{Error, Result};

/// What to act on: a project's name, its file when there is one, and the services named.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The project's name.
    pub name: &'a str,
    /// Its model, when a file was read (it gives the dependency order).
    pub project: Option<&'a Project>,
    /// The services named on the command line (empty: all).
    pub services: &'a [String],
}

impl Target<'_> {
    /// The project's containers of the services named, in start order (dependencies first,
    /// each service's by number); a service that has no container is an error, as Compose's.
    pub fn containers(&self, engine: &dyn Engine) -> Result<Vec<ContainerInfo>> {
        let mut containers: Vec<ContainerInfo> = engine
            .containers(self.name)?
            .into_iter()
            .filter(|c| {
                self.services.is_empty()
                    || self.services.iter().any(|s| s == c.label(labels::SERVICE))
            })
            .collect();
        if let Some(project) = self.project {
            for service in self.services {
                if !project.services.contains_key(service) {
                    return Err(Error::invalid(
                        format!("no such service: {service}"),
                        "see `compose config --services` for the project's services",
                    ));
                }
            }
        }
        let order: Vec<String> = self
            .project
            .map(Project::dependency_order)
            .unwrap_or_default();
        containers.sort_by_key(|c| {
            let service = c.label(labels::SERVICE);
            (
                order
                    .iter()
                    .position(|s| s == service)
                    .unwrap_or(usize::MAX),
                service.to_owned(),
                number_of(c),
            )
        });
        Ok(containers)
    }
}

/// `start`: the stopped containers, dependencies first.
pub fn start(engine: &dyn Engine, target: Target, events: &dyn Sink<ComposeEvent>) -> Result<()> {
    for container in target.containers(engine)? {
        if !container.state.running() {
            step(
                events,
                &container.name,
                (Action::Starting, Action::Started),
                || engine.start(&container.id),
            )?;
        }
    }
    Ok(())
}

/// `stop`: the running containers, in waves, dependents first.
pub fn stop(
    engine: &dyn Engine,
    target: Target,
    timeout: Option<i64>,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let running: Vec<ContainerInfo> = target
        .containers(engine)?
        .into_iter()
        .filter(|c| c.state.running())
        .collect();
    for wave in stop_waves(target.project, running) {
        stop_wave(engine, &wave, timeout, events)?;
    }
    Ok(())
}

/// `restart`: every container (running or not) stopped in waves, then started in order.
pub fn restart(
    engine: &dyn Engine,
    target: Target,
    timeout: Option<i64>,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let containers = target.containers(engine)?;
    for wave in stop_waves(target.project, containers.clone()) {
        in_parallel(&wave, |container| {
            if container.state.running() {
                engine.stop(&container.id, timeout)
            } else {
                Ok(())
            }
        })?;
    }
    for container in &containers {
        step(
            events,
            &container.name,
            (Action::Restarting, Action::Restarted),
            || engine.start(&container.id),
        )?;
    }
    Ok(())
}

/// `kill -s SIGNAL`: the signal to every running container.
pub fn kill(
    engine: &dyn Engine,
    target: Target,
    signal: &str,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    for container in target.containers(engine)? {
        if container.state.running() {
            step(
                events,
                &container.name,
                (Action::Killing, Action::Killed),
                || engine.kill(&container.id, signal),
            )?;
        }
    }
    Ok(())
}

/// `pause` (`freeze` true): every running container not paused; `unpause`: every paused one.
pub fn pause(
    engine: &dyn Engine,
    target: Target,
    freeze: bool,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    for container in target.containers(engine)? {
        if !container.state.running() || container.state.paused == freeze {
            continue;
        }
        if freeze {
            step(
                events,
                &container.name,
                (Action::Pausing, Action::Paused),
                || engine.pause(&container.id),
            )?;
        } else {
            step(
                events,
                &container.name,
                (Action::Unpausing, Action::Unpaused),
                || engine.unpause(&container.id),
            )?;
        }
    }
    Ok(())
}

/// The containers `rm` would remove: the stopped ones, or all with `stop_first` (`rm -s`).
pub fn removable(
    engine: &dyn Engine,
    target: Target,
    stop_first: bool,
) -> Result<Vec<ContainerInfo>> {
    Ok(target
        .containers(engine)?
        .into_iter()
        .filter(|c| stop_first || !c.state.running())
        .collect())
}

/// `rm`: stops (with `-s`) and removes `containers` (from [`removable`]), with their
/// anonymous volumes under `-v`.
pub fn remove(
    engine: &dyn Engine,
    target: Target,
    containers: Vec<ContainerInfo>,
    volumes: bool,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    for wave in stop_waves(target.project, containers) {
        stop_wave(engine, &wave, None, events)?;
        for container in &wave {
            step(
                events,
                &container.name,
                (Action::Removing, Action::Removed),
                || engine.remove(&container.id, volumes),
            )?;
        }
    }
    Ok(())
}
