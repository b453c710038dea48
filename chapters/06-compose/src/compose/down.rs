//! # `down`, and the commands that act on a project's existing containers
//!
//! `down` undoes `up`: the project's containers stopped in the reverse of the start order (a
//! service stops before what it depends on), then removed; then the project's networks, and
//! with `-v` its volumes. Everything is found by its labels, so `down -p NAME` works without
//! the file, as it does for Compose.

use std::collections::BTreeMap;

use dockyard_support::Sink;

use super::Project;
use super::engine::{ContainerInfo, Engine};
use super::events::{Action, ComposeEvent, Kind};
use super::labels;
use super::up::number_of;
use super::{convert, depends_on};
use crate::error::Result;

/// `down --rmi`: which images go too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoveImages {
    /// None (the default).
    #[default]
    None,
    /// Images built for services that name no `image:` (`local`).
    Local,
    /// Every image a service uses (`all`).
    All,
}

/// `down`'s options.
#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    /// `-v`: the named volumes declared in the file, and the containers' anonymous ones.
    pub volumes: bool,
    /// `--remove-orphans`: containers of services no longer in the file too.
    pub remove_orphans: bool,
    /// `--rmi`.
    pub images: RemoveImages,
    /// `-t`: seconds each container has to stop.
    pub timeout: Option<i64>,
}

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

/// Takes the project `name` down; `project` is its file, when there is one.
pub fn down(
    engine: &dyn Engine,
    name: &str,
    project: Option<&Project>,
    options: &DownOptions,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let containers = engine.containers(name)?;
    let (known, orphans): (Vec<_>, Vec<_>) = containers
        .into_iter()
        .partition(|c| project.is_none_or(|p| p.services.contains_key(c.label(labels::SERVICE))));
    if !orphans.is_empty() && !options.remove_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        events.send(ComposeEvent::Warning(format!(
            "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(" ")
        )));
    }
    let doomed: Vec<ContainerInfo> = known
        .into_iter()
        .chain(orphans.into_iter().filter(|_| options.remove_orphans))
        .collect();
    for wave in stop_waves(project, doomed) {
        super::act::stop_wave(engine, &wave, options.timeout, events)?;
        for container in &wave {
            events.send(ComposeEvent::progress(
                Kind::Container,
                &container.name,
                Action::Removing,
            ));
            engine.remove(&container.id, options.volumes)?;
            events.send(ComposeEvent::progress(
                Kind::Container,
                &container.name,
                Action::Removed,
            ));
        }
    }
    if options.volumes {
        for volume in engine.volumes(name)? {
            events.send(ComposeEvent::progress(
                Kind::Volume,
                &volume.name,
                Action::Removing,
            ));
            engine.remove_volume(&volume.name)?;
            events.send(ComposeEvent::progress(
                Kind::Volume,
                &volume.name,
                Action::Removed,
            ));
        }
    }
    for network in engine.networks(name)? {
        events.send(ComposeEvent::progress(
            Kind::Network,
            &network.name,
            Action::Removing,
        ));
        engine.remove_network(&network.name)?;
        events.send(ComposeEvent::progress(
            Kind::Network,
            &network.name,
            Action::Removed,
        ));
    }
    if let Some(project) = project {
        remove_images(engine, project, options.images, events)?;
    }
    Ok(())
}

fn remove_images(
    engine: &dyn Engine,
    project: &Project,
    which: RemoveImages,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    if which == RemoveImages::None {
        return Ok(());
    }
    let mut images: Vec<String> = Vec::new();
    for (name, value) in &project.services {
        let named = value.get("image").and_then(|v| v.as_str());
        if which == RemoveImages::Local && named.is_some() {
            continue;
        }
        let image = convert::image_name(&project.name, name, named);
        if !images.contains(&image) {
            images.push(image);
        }
    }
    for image in images {
        if engine.image_id(&image)?.is_none() {
            continue;
        }
        events.send(ComposeEvent::progress(
            Kind::Image,
            &image,
            Action::Removing,
        ));
        engine.remove_image(&image)?;
        events.send(ComposeEvent::progress(Kind::Image, &image, Action::Removed));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::engine::ContainerState;
    use crate::compose::{LoadOptions, load};

    /// A project read from `yaml` in a directory of its own.
    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().expect("a directory");
        std::fs::write(dir.path().join("compose.yaml"), yaml).expect("compose.yaml");
        load(&LoadOptions {
            working_dir: dir.path().to_path_buf(),
            project_name: Some("p".into()),
            ..LoadOptions::default()
        })
        .expect("the project loads")
    }

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
