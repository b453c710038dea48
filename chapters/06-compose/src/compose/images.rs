//! # `build`, `pull`, `push`: the images of a project's services
//!
//! A service with `build:` has an image made here, named by its `image:` or else
//! `<project>-<service>`; any other service's image comes from a registry. `build` builds the
//! first kind (always, not only when missing as `up` does), `pull` fetches the second, and
//! `push` sends the built images that name a registry through `image:`.

use dockyard_support::Sink;

use super::Project;
use super::convert;
use super::engine::Engine;
use super::events::{Action, ComposeEvent, Kind};
use super::up::{ensure_image, selected_services, typed_services};
use crate::error::Result;

/// `build`'s options.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The services (empty: all).
    pub services: Vec<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--pull`: pull the base images again.
    pub pull: bool,
}

/// Builds the images of the services that have `build:`.
pub fn build(
    engine: &dyn Engine,
    project: &Project,
    options: &BuildOptions,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let services = typed_services(project)?;
    for name in selected_services(project, &options.services, true)? {
        let mut service = services[&name].clone();
        let Some(build) = service.build.as_mut() else {
            continue;
        };
        build.no_cache |= options.no_cache;
        build.pull |= options.pull;
        ensure_image(engine, project, &name, &service, true, events)?;
    }
    Ok(())
}

/// Pulls the images of the services that name one; a service with `build:` is skipped (its
/// image is made here), as with Compose's `--ignore-buildable`.
pub fn pull(
    engine: &dyn Engine,
    project: &Project,
    services: &[String],
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let typed = typed_services(project)?;
    for name in selected_services(project, services, true)? {
        let service = &typed[&name];
        let Some(image) = &service.image else {
            continue;
        };
        if service.build.is_some() {
            events.send(ComposeEvent::progress(Kind::Image, image, Action::Skipped));
            continue;
        }
        events.send(ComposeEvent::progress(Kind::Image, image, Action::Pulling));
        engine.pull(image)?;
        events.send(ComposeEvent::progress(Kind::Image, image, Action::Pulled));
    }
    Ok(())
}

/// Pushes the built images that `image:` names.
pub fn push(
    engine: &dyn Engine,
    project: &Project,
    services: &[String],
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let typed = typed_services(project)?;
    for name in selected_services(project, services, true)? {
        let service = &typed[&name];
        if service.build.is_none() || service.image.is_none() {
            continue;
        }
        let image = convert::image_name(&project.name, &name, service.image.as_deref());
        events.send(ComposeEvent::progress(Kind::Image, &image, Action::Pushing));
        engine.push(&image)?;
        events.send(ComposeEvent::progress(Kind::Image, &image, Action::Pushed));
    }
    Ok(())
}
