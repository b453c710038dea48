//! # `run`: a one-off container of a service
//!
//! `compose run SERVICE CMD` makes a container from the service's configuration for one
//! command (a migration, a shell): with the service's image, environment, volumes and
//! networks, but its own name (`<project>-<service>-run-<hex>`), the label `oneoff=True` (so
//! `up` never counts it among the service's containers), no published ports unless asked
//! and no restart policy. Its dependencies are brought up first, as `up SERVICE` would.

use dockyard_support::Sink;

use super::Project;
use super::convert::{self, Replica};
use super::engine::Engine;
use super::events::ComposeEvent;
use super::labels;
use super::up::{
    UpOptions, config_hash, ensure_image, ensure_networks, ensure_volumes, image_layers,
    typed_services, up, wait_for_dependencies,
};
use crate::container::RestartPolicy;
use crate::error::{Error, Result};

/// `run`'s options.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The service.
    pub service: String,
    /// The command instead of the service's (empty: the service's).
    pub command: Vec<String>,
    /// `--entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `-e KEY=VALUE`, over the service's environment.
    pub env: Vec<(String, String)>,
    /// `--name`.
    pub name: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `--service-ports`: publish the service's ports (taken by its own containers, usually).
    pub service_ports: bool,
    /// `--no-deps`.
    pub no_deps: bool,
    /// `--build`.
    pub build: bool,
    /// `-T`: no terminal, even if the service asks for one (`tty: true`).
    pub no_tty: bool,
}

/// A container made by [`create`]: its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOff {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// Brings the service's dependencies up, then creates (without starting) the one-off
/// container.
pub fn create(
    engine: &dyn Engine,
    project: &Project,
    options: &RunOptions,
    events: &dyn Sink<ComposeEvent>,
) -> Result<OneOff> {
    let services = typed_services(project)?;
    let Some(mut service) = services.get(&options.service).cloned() else {
        return Err(Error::invalid(
            format!("no such service: {}", options.service),
            "see the services with `compose config --services`",
        ));
    };
    let dependencies: Vec<String> = service
        .depends_on
        .keys()
        .filter(|d| project.services.contains_key(*d))
        .cloned()
        .collect();
    if !options.no_deps && !dependencies.is_empty() {
        let up_options = UpOptions {
            services: dependencies,
            ..UpOptions::default()
        };
        up(engine, project, &up_options, events)?;
        wait_for_dependencies(engine, project, &service, events)?;
    }
    let only = [options.service.clone()];
    ensure_networks(engine, project, &services, &only, events)?;
    ensure_volumes(engine, project, &services, &only, events)?;
    let image_id = ensure_image(
        engine,
        project,
        &options.service,
        &service,
        options.build,
        events,
    )?;
    let layers = image_layers(engine, project, &options.service, &service);

    if !options.command.is_empty() {
        service.command = Some(options.command.clone());
    }
    if options.entrypoint.is_some() {
        service.entrypoint.clone_from(&options.entrypoint);
    }
    for (key, value) in &options.env {
        service.environment.insert(key.clone(), Some(value.clone()));
    }
    if options.user.is_some() {
        service.user.clone_from(&options.user);
    }
    if options.workdir.is_some() {
        service.working_dir.clone_from(&options.workdir);
    }
    if !options.service_ports {
        service.ports.clear();
    }
    service.restart = None;
    if options.no_tty {
        service.tty = false;
    }

    let hash = config_hash(&project.services[&options.service]);
    let mut create = convert::create_options(
        project,
        &Replica {
            service_name: &options.service,
            service: &service,
            number: 1,
            image_id: &image_id,
            config_hash: &hash,
            layers: &layers,
        },
    )?;
    let name = match &options.name {
        Some(name) => name.clone(),
        None => {
            let random = crate::volume::name::random()?;
            format!("{}-{}-run-{}", project.name, options.service, &random[..12])
        }
    };
    create.run.name = Some(name.clone());
    create
        .run
        .labels
        .insert(labels::ONEOFF.to_owned(), "True".to_owned());
    create.host.restart = RestartPolicy::No;
    let id = engine.create(create)?;
    Ok(OneOff { id, name })
}
