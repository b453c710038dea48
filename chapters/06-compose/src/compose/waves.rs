//! # Waves: stopping a project's containers in dependency order, in parallel
//!
//! `down`, `stop` and `rm -s` stop dependents before what they depend on, and containers that
//! do not depend on each other all at once, each with its own grace period: one wave after
//! the other.

use std::collections::BTreeMap;

use dockyard_support::Sink;

use super::Project;
use super::depends_on;
use super::engine::{ContainerInfo, Engine};
use super::events::{Action, ComposeEvent, Kind};
use super::labels;
use super::up::number_of;
use crate::error::Result;

// ANCHOR: stop_waves
/// The project's containers in waves to stop them, as Compose does: a service stops only
/// once every service depending on it has stopped, and the containers of one wave stop
/// together. A service no other depends on (and a container of a service the file does not
/// know, or of a project read from labels alone) is in the first wave.
pub fn stop_waves(
    project: Option<&Project>,
    containers: Vec<ContainerInfo>,
) -> Vec<Vec<ContainerInfo>> {
    // A service's wave: one after the latest wave of the services depending on it.
    let mut wave: BTreeMap<String, usize> = BTreeMap::new();
    if let Some(project) = project {
        // Dependents come after their dependencies in the start order: walk it backwards.
        for service in project.dependency_order().iter().rev() {
            let after = project
                .services
                .iter()
                .filter(|(_, value)| {
                    depends_on::dependencies(value)
                        .iter()
                        .any(|(dependency, _)| dependency == service)
                })
                .filter_map(|(dependent, _)| wave.get(dependent).map(|w| w + 1))
                .max()
                .unwrap_or(0);
            wave.insert(service.clone(), after);
        }
    }
    let mut waves: Vec<Vec<ContainerInfo>> = Vec::new();
    for container in containers {
        let index = wave
            .get(container.label(labels::SERVICE))
            .copied()
            .unwrap_or(0);
        if waves.len() <= index {
            waves.resize_with(index + 1, Vec::new);
        }
        waves[index].push(container);
    }
    for wave in &mut waves {
        wave.sort_by_key(|c| (c.label(labels::SERVICE).to_owned(), number_of(c)));
    }
    waves.retain(|wave| !wave.is_empty());
    waves
}
// ANCHOR_END: stop_waves

/// Stops one wave's running containers together (each may take its whole grace period),
/// reporting them in the wave's order, so that the output does not depend on which stops
/// first.
pub fn stop_wave(
    engine: &dyn Engine,
    wave: &[ContainerInfo],
    timeout: Option<i64>,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let running: Vec<ContainerInfo> = wave.iter().filter(|c| c.state.running()).cloned().collect();
    for container in &running {
        events.send(ComposeEvent::progress(
            Kind::Container,
            &container.name,
            Action::Stopping,
        ));
    }
    let results = each_in_parallel(&running, |container| engine.stop(&container.id, timeout));
    let mut first_error = None;
    for (container, result) in running.iter().zip(results) {
        match result {
            Ok(()) => events.send(ComposeEvent::progress(
                Kind::Container,
                &container.name,
                Action::Stopped,
            )),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Runs `act` on each container at once; the first error, once all are done.
pub fn in_parallel(
    containers: &[ContainerInfo],
    act: impl Fn(&ContainerInfo) -> Result<()> + Sync,
) -> Result<()> {
    each_in_parallel(containers, act).into_iter().collect()
}

/// Runs `act` on each item at once; each one's result, in their order.
pub fn each_in_parallel<T: Sync>(
    items: &[T],
    act: impl Fn(&T) -> Result<()> + Sync,
) -> Vec<Result<()>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.iter().map(|item| scope.spawn(|| act(item))).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .expect("an action on a container does not panic")
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::engine::ContainerState;
    use crate::compose::project::from_yaml as project;

    fn container(service: &str, number: u32) -> ContainerInfo {
        ContainerInfo {
            id: format!("{service}{number}"),
            name: format!("p-{service}-{number}"),
            labels: [
                (labels::SERVICE.to_owned(), service.to_owned()),
                (labels::NUMBER.to_owned(), number.to_string()),
            ]
            .into(),
            state: ContainerState::default(),
        }
    }

    fn names(waves: &[Vec<ContainerInfo>]) -> Vec<Vec<&str>> {
        waves
            .iter()
            .map(|wave| wave.iter().map(|c| c.name.as_str()).collect())
            .collect()
    }

    #[test]
    fn dependents_stop_in_a_wave_before_what_they_depend_on() {
        let project = project(
            "services:\n  db: {image: x}\n  cache: {image: x}\n  api: {image: x, depends_on: [db, cache]}\n  web: {image: x, depends_on: [api]}\n  worker: {image: x, depends_on: [db]}\n",
        );
        let containers = vec![
            container("db", 1),
            container("web", 2),
            container("web", 1),
            container("api", 1),
            container("worker", 1),
            container("cache", 1),
            container("gone", 1),
        ];
        let waves = stop_waves(Some(&project), containers);
        assert_eq!(
            names(&waves),
            [
                vec!["p-gone-1", "p-web-1", "p-web-2", "p-worker-1"],
                vec!["p-api-1"],
                vec!["p-cache-1", "p-db-1"],
            ]
        );
    }

    #[test]
    fn without_a_file_everything_stops_in_one_wave() {
        let waves = stop_waves(None, vec![container("b", 1), container("a", 1)]);
        assert_eq!(names(&waves), [vec!["p-a-1", "p-b-1"]]);
    }
}
