//! # `down`: taking a project away
//!
//! `down` undoes `up`: the project's containers stopped in the reverse of the start order (a
//! service stops before what it depends on), then removed; then the project's networks, and
//! with `-v` its volumes. Everything is found by its labels, so `down -p NAME` works without
//! the file, as it does for Compose.

use dockyard_support::Sink;

use super::Project;
use super::convert;
use super::engine::{ContainerInfo, Engine};
use super::events::{Action, ComposeEvent, Kind};
use super::labels;
use super::waves::{each_in_parallel, stop_wave, stop_waves};
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
        stop_wave(engine, &wave, options.timeout, events)?;
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
    // Networks go together: deleting a bridge takes the kernel tens of milliseconds.
    let networks = engine.networks(name)?;
    for network in &networks {
        events.send(ComposeEvent::progress(
            Kind::Network,
            &network.name,
            Action::Removing,
        ));
    }
    let results = each_in_parallel(&networks, |network| engine.remove_network(&network.name));
    let mut first_error = None;
    for (network, result) in networks.iter().zip(results) {
        match result {
            Ok(()) => events.send(ComposeEvent::progress(
                Kind::Network,
                &network.name,
                Action::Removed,
            )),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
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
