//! # `up`: make the project's containers match the file
//!
//! `up` is a convergence, not a sequence of creates: it looks at what the engine has for the
//! project (found by labels), compares it with what the file asks for, and changes only the
//! difference. So a second `up` with nothing changed recreates nothing, and a changed service
//! is recreated alone. In four phases:
//!
//! 1. **Networks and volumes** the services use are made when missing.
//! 2. **Images**: a service with `build:` is built when its image is missing (or `--build`),
//!    any other missing image is pulled.
//! 3. **Containers**, service by service in dependency order: each container whose
//!    configuration hash (or image) differs from the service's now is recreated; missing ones
//!    are created, surplus ones (a smaller `scale`) removed.
//! 4. **Start**, in dependency order: before a service starts, each of its dependencies must
//!    reach its `condition`: started, healthy (its health check passed), or completed
//!    successfully (it exited with status 0).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use dockyard_support::Sink;
use serde_json::Value;

use super::Project;
use super::convert::{self, Replica};
use super::engine::{BuildRequest, ContainerInfo, ContainerState, Engine};
use super::events::{Action, ComposeEvent, Kind, step};
use super::labels;
use super::service::Service;
use crate::container::{HealthStatus, Status};
use crate::error::{Error, Result};

/// `up`'s options.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The services to bring up (empty: all), with their dependencies unless `no_deps`.
    pub services: Vec<String>,
    /// `--no-deps`.
    pub no_deps: bool,
    /// `--force-recreate`.
    pub force_recreate: bool,
    /// `--build`: build images even when they exist.
    pub build: bool,
    /// `--remove-orphans`: remove containers of services no longer in the file.
    pub remove_orphans: bool,
    /// `--wait`: return only when every container runs (and is healthy, if it has a check).
    pub wait: bool,
    /// `-t`: seconds a container being replaced has to stop.
    pub timeout: Option<i64>,
}

/// How often a wait for a dependency looks at its state.
const POLL: Duration = Duration::from_millis(25);

/// The attributes that do not change what a container is made of, left out of its hash:
/// how its image is obtained, how many there are, what starts before it (Compose's rule).
const NOT_HASHED: &[&str] = &["build", "pull_policy", "scale", "depends_on", "profiles"];

// ANCHOR: config_hash
/// The hash of a service's configuration, kept as a container label: a container made from
/// another hash is out of date.
pub fn config_hash(service: &Value) -> String {
    let mut hashed = service.clone();
    if let Value::Object(attributes) = &mut hashed {
        for key in NOT_HASHED {
            attributes.remove(*key);
        }
        if let Some(Value::Object(deploy)) = attributes.get_mut("deploy") {
            deploy.remove("replicas");
            // `deploy: {replicas: 2}` makes the same containers as no `deploy` at all.
            if deploy.is_empty() {
                attributes.remove("deploy");
            }
        }
    }
    let text = serde_json::to_vec(&hashed).expect("a JSON value serializes");
    ch04_images::Digest::sha256_of(&text).encoded().to_owned()
}
// ANCHOR_END: config_hash

/// The services `up` (or another command) acts on: the ones named, with what they depend on
/// unless `no_deps`, in dependency order; all of them when none is named.
pub fn selected_services(
    project: &Project,
    named: &[String],
    no_deps: bool,
) -> Result<Vec<String>> {
    for name in named {
        if !project.services.contains_key(name) {
            return Err(Error::invalid(
                format!("no such service: {name}"),
                "see the services with `compose config --services`",
            ));
        }
    }
    let order = project.dependency_order();
    if named.is_empty() {
        return Ok(order);
    }
    let mut wanted: BTreeSet<String> = named.iter().cloned().collect();
    if !no_deps {
        let mut stack: Vec<String> = named.to_vec();
        while let Some(name) = stack.pop() {
            let Some(Value::Object(depends_on)) = project
                .services
                .get(&name)
                .and_then(|s| s.get("depends_on"))
            else {
                continue;
            };
            for dependency in depends_on.keys() {
                if project.services.contains_key(dependency) && wanted.insert(dependency.clone()) {
                    stack.push(dependency.clone());
                }
            }
        }
    }
    Ok(order.into_iter().filter(|s| wanted.contains(s)).collect())
}

/// The services of a project, typed, by name.
pub fn typed_services(project: &Project) -> Result<BTreeMap<String, Service>> {
    project
        .services
        .iter()
        .map(|(name, value)| Ok((name.clone(), Service::from_value(name, value)?)))
        .collect()
}

/// The project's containers of `service` (not `compose run`'s), by number.
fn containers_of<'a>(containers: &'a [ContainerInfo], service: &str) -> Vec<&'a ContainerInfo> {
    let mut found: Vec<&ContainerInfo> = containers
        .iter()
        .filter(|c| c.label(labels::SERVICE) == service && c.label(labels::ONEOFF) != "True")
        .collect();
    found.sort_by_key(|c| number_of(c));
    found
}

/// A container's number, from its label.
pub fn number_of(container: &ContainerInfo) -> u32 {
    container.label(labels::NUMBER).parse().unwrap_or(0)
}

/// Brings `project` up as `options` say, reporting each step to `events`.
pub fn up(
    engine: &dyn Engine,
    project: &Project,
    options: &UpOptions,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let services = typed_services(project)?;
    let order = selected_services(project, &options.services, options.no_deps)?;
    let existing = engine.containers(&project.name)?;
    remove_orphans(engine, project, &existing, options, events)?;
    ensure_networks(engine, project, &services, &order, events)?;
    ensure_volumes(engine, project, &services, &order, events)?;

    // Each service's containers, as (id, name).
    let mut to_start: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for name in &order {
        let service = &services[name];
        let image_id = ensure_image(engine, project, name, service, options.build, events)?;
        let layers = image_layers(engine, project, name, service);
        let hash = config_hash(&project.services[name]);
        // A dependency recreated restarts the services that asked for it (`restart: true`).
        let restart = service
            .depends_on
            .iter()
            .any(|(dependency, d)| d.restart && recreated.contains(dependency));
        // ANCHOR: converge
        let current = containers_of(&existing, name);
        let desired = service.replicas();
        let mut ids = Vec::new();
        for container in &current {
            let number = number_of(container);
            if number == 0 || number > desired {
                retire(engine, container, options.timeout, events)?;
                continue;
            }
            let outdated = options.force_recreate
                || container.label(labels::CONFIG_HASH) != hash
                || container.label(labels::IMAGE) != image_id;
            if outdated {
                events.send(ComposeEvent::progress(
                    Kind::Container,
                    &container.name,
                    Action::Recreate,
                ));
                if container.state.running() {
                    engine.stop(&container.id, options.timeout)?;
                }
                engine.remove(&container.id, false)?;
                let id = create(
                    engine, project, name, service, number, &image_id, &hash, &layers,
                )?;
                let id = (id, container.name.clone());
                events.send(ComposeEvent::progress(
                    Kind::Container,
                    &container.name,
                    Action::Recreated,
                ));
                recreated.insert(name.clone());
                ids.push(id);
            } else {
                if restart && container.state.running() {
                    stop(engine, container, options.timeout, events)?;
                }
                ids.push((container.id.clone(), container.name.clone()));
            }
        }
        // ANCHOR_END: converge
        let taken: BTreeSet<u32> = current.iter().map(|c| number_of(c)).collect();
        for number in (1..=desired).filter(|n| !taken.contains(n)) {
            let container = convert::container_name(&project.name, name, service, number);
            events.send(ComposeEvent::progress(
                Kind::Container,
                &container,
                Action::Creating,
            ));
            let id = create(
                engine, project, name, service, number, &image_id, &hash, &layers,
            )?;
            ids.push((id, container.clone()));
            events.send(ComposeEvent::progress(
                Kind::Container,
                &container,
                Action::Created,
            ));
        }
        to_start.push((name.clone(), ids));
    }

    let started: BTreeSet<&String> = order.iter().collect();
    for (name, ids) in &to_start {
        let service = &services[name];
        for (dependency, condition) in &service.depends_on {
            if !started.contains(dependency) {
                continue;
            }
            let ids = to_start
                .iter()
                .find(|(service, _)| service == dependency)
                .map(|(_, ids)| ids.as_slice())
                .unwrap_or_default();
            for id in ids {
                let waited = wait_for(engine, id, &condition.condition, events);
                match waited {
                    Ok(()) => {}
                    Err(error) if !condition.required => events.send(ComposeEvent::Warning(
                        format!("optional dependency {dependency} of {name}: {error}"),
                    )),
                    Err(error) => return Err(error),
                }
            }
        }
        for id in ids {
            start(engine, id, events)?;
        }
    }
    if options.wait {
        for (_, ids) in &to_start {
            for id in ids {
                wait_until_ready(engine, id, events)?;
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn create(
    engine: &dyn Engine,
    project: &Project,
    service_name: &str,
    service: &Service,
    number: u32,
    image_id: &str,
    hash: &str,
    layers: &[PathBuf],
) -> Result<String> {
    let options = convert::create_options(
        project,
        &Replica {
            service_name,
            service,
            number,
            image_id,
            config_hash: hash,
            layers,
        },
    )?;
    engine.create(options)
}

fn start(
    engine: &dyn Engine,
    (id, name): &(String, String),
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let state = engine.state(id)?;
    if state.running() {
        events.send(ComposeEvent::progress(
            Kind::Container,
            name,
            Action::Running,
        ));
        return Ok(());
    }
    events.send(ComposeEvent::progress(
        Kind::Container,
        name,
        Action::Starting,
    ));
    engine.start(id)?;
    events.send(ComposeEvent::progress(
        Kind::Container,
        name,
        Action::Started,
    ));
    Ok(())
}

fn stop(
    engine: &dyn Engine,
    container: &ContainerInfo,
    timeout: Option<i64>,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    step(
        events,
        &container.name,
        (Action::Stopping, Action::Stopped),
        || engine.stop(&container.id, timeout),
    )
}

/// Stops and removes a container `up` no longer wants.
fn retire(
    engine: &dyn Engine,
    container: &ContainerInfo,
    timeout: Option<i64>,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    if container.state.running() {
        stop(engine, container, timeout, events)?;
    }
    step(
        events,
        &container.name,
        (Action::Removing, Action::Removed),
        || engine.remove(&container.id, false),
    )
}

/// Waits until the running containers of each of `service`'s dependencies meet its
/// condition (for `run`, whose one-off container is not among `up`'s).
pub(super) fn wait_for_dependencies(
    engine: &dyn Engine,
    project: &Project,
    service: &Service,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let existing = engine.containers(&project.name)?;
    for (dependency, condition) in &service.depends_on {
        for container in containers_of(&existing, dependency) {
            let id = (container.id.clone(), container.name.clone());
            match wait_for(engine, &id, &condition.condition, events) {
                Ok(()) => {}
                Err(error) if !condition.required => events.send(ComposeEvent::Warning(format!(
                    "optional dependency {dependency}: {error}"
                ))),
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}

// ANCHOR: wait_for
/// Waits until the dependency `id` meets `condition`.
fn wait_for(
    engine: &dyn Engine,
    (id, name): &(String, String),
    condition: &str,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    match condition {
        "service_started" => Ok(()),
        "service_healthy" => {
            step(events, name, (Action::Waiting, Action::Healthy), || {
                poll(engine, id, |state| match state.health {
                    Some(HealthStatus::Healthy) => Ok(true),
                    Some(HealthStatus::Unhealthy) => Err(Error::conflict(
                        format!("dependency failed to start: container {name} is unhealthy"),
                        format!("see why with `inspect {name}` (State.Health) and `logs {name}`"),
                    )),
                    None => Err(Error::invalid(
                        format!(
                            "dependency failed to start: container {name} has no healthcheck configured"
                        ),
                        "give the service a healthcheck:, or depend on it with condition: service_started",
                    )),
                    Some(HealthStatus::Starting) if !state.running() => Err(Error::conflict(
                        format!(
                            "dependency failed to start: container {name} exited ({})",
                            state.exit_code.unwrap_or(-1)
                        ),
                        format!("see why with `logs {name}`"),
                    )),
                    Some(HealthStatus::Starting) => Ok(false),
                })
            })?;
            Ok(())
        }
        "service_completed_successfully" => {
            step(events, name, (Action::Waiting, Action::Exited), || {
                poll(engine, id, |state| match state.status {
                    Status::Exited | Status::Dead => match state.exit_code {
                        Some(0) => Ok(true),
                        code => Err(Error::conflict(
                            format!(
                                "service {name} didn't complete successfully: exit {}",
                                code.unwrap_or(-1)
                            ),
                            format!("see why with `logs {name}`"),
                        )),
                    },
                    _ => Ok(false),
                })
            })?;
            Ok(())
        }
        other => Err(Error::invalid(
            format!("invalid depends_on condition {other:?}"),
            "use service_started, service_healthy or service_completed_successfully",
        )),
    }
}
// ANCHOR_END: wait_for

/// `--wait`: a container runs, and is healthy if it has a health check.
fn wait_until_ready(
    engine: &dyn Engine,
    (id, name): &(String, String),
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    step(events, name, (Action::Waiting, Action::Healthy), || {
        poll(engine, id, |state| match (state.status, state.health) {
            (_, Some(HealthStatus::Unhealthy)) => Err(Error::conflict(
                format!("container {name} is unhealthy"),
                format!("see why with `inspect {name}` (State.Health)"),
            )),
            (Status::Running, None | Some(HealthStatus::Healthy)) => Ok(true),
            (Status::Exited | Status::Dead, _) => Err(Error::conflict(
                format!(
                    "container {name} exited ({})",
                    state.exit_code.unwrap_or(-1)
                ),
                format!("see why with `logs {name}`"),
            )),
            _ => Ok(false),
        })
    })?;
    Ok(())
}

/// Looks at a container's state until `done` says yes (or fails). Compose waits as long as it
/// takes: a health check's own retries and timeouts bound it.
fn poll(
    engine: &dyn Engine,
    id: &str,
    done: impl Fn(&ContainerState) -> Result<bool>,
) -> Result<()> {
    loop {
        if done(&engine.state(id)?)? {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}

fn remove_orphans(
    engine: &dyn Engine,
    project: &Project,
    existing: &[ContainerInfo],
    options: &UpOptions,
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let orphans: Vec<&ContainerInfo> = existing
        .iter()
        .filter(|c| c.label(labels::ONEOFF) != "True")
        .filter(|c| !project.services.contains_key(c.label(labels::SERVICE)))
        .collect();
    if orphans.is_empty() {
        return Ok(());
    }
    if !options.remove_orphans {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        events.send(ComposeEvent::Warning(format!(
            "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(" ")
        )));
        return Ok(());
    }
    for orphan in orphans {
        retire(engine, orphan, options.timeout, events)?;
    }
    Ok(())
}

/// The labels Compose puts on a network or volume it makes.
fn resource_labels(
    project: &Project,
    key_label: &str,
    key: &str,
    declared: Option<&Value>,
) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> = declared
        .and_then(|d| d.get("labels"))
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    all.insert(labels::PROJECT.to_owned(), project.name.clone());
    all.insert(key_label.to_owned(), key.to_owned());
    all.insert(labels::VERSION.to_owned(), labels::THIS_VERSION.to_owned());
    all
}

pub(super) fn ensure_networks(
    engine: &dyn Engine,
    project: &Project,
    services: &BTreeMap<String, Service>,
    order: &[String],
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let keys: BTreeSet<String> = order
        .iter()
        .flat_map(|name| convert::service_networks(&services[name]))
        .collect();
    for key in keys {
        let declared = project.networks.get(&key);
        if key != convert::DEFAULT_NETWORK && declared.is_none() {
            return Err(Error::invalid(
                format!("service refers to undefined network {key}: invalid compose project"),
                format!("declare it under the top-level networks: ({key}: {{}})"),
            ));
        }
        let name = convert::resource_name(&project.name, &project.networks, &key);
        if engine.network(&name)?.is_some() {
            continue;
        }
        if convert::is_external(declared) {
            return Err(Error::invalid(
                format!("network {name} declared as external, but could not be found"),
                format!("create it first: network create {name}"),
            ));
        }
        let options = network_options(project, &key, declared)?;
        events.send(ComposeEvent::progress(
            Kind::Network,
            &name,
            Action::Creating,
        ));
        engine.create_network(&name, &options)?;
        events.send(ComposeEvent::progress(
            Kind::Network,
            &name,
            Action::Created,
        ));
    }
    Ok(())
}

fn network_options(
    project: &Project,
    key: &str,
    declared: Option<&Value>,
) -> Result<crate::network::store::CreateOptions> {
    let mut options = crate::network::store::CreateOptions {
        internal: declared
            .and_then(|d| d.get("internal"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        labels: resource_labels(project, labels::NETWORK, key, declared),
        ..Default::default()
    };
    let first_pool = declared
        .and_then(|d| d.get("ipam"))
        .and_then(|ipam| ipam.get("config"))
        .and_then(Value::as_array)
        .and_then(|pools| pools.first());
    if let Some(pool) = first_pool {
        let invalid = |what: &str, text: &str| {
            Error::invalid(
                format!("networks.{key}.ipam.config[0].{what}: invalid value {text:?}"),
                "write an IPv4 subnet such as 172.28.0.0/16 and an address in it",
            )
        };
        if let Some(text) = pool.get("subnet").and_then(Value::as_str) {
            options.subnet = Some(text.parse().map_err(|_| invalid("subnet", text))?);
        }
        if let Some(text) = pool.get("gateway").and_then(Value::as_str) {
            options.gateway = Some(text.parse().map_err(|_| invalid("gateway", text))?);
        }
    }
    Ok(options)
}

pub(super) fn ensure_volumes(
    engine: &dyn Engine,
    project: &Project,
    services: &BTreeMap<String, Service>,
    order: &[String],
    events: &dyn Sink<ComposeEvent>,
) -> Result<()> {
    let keys: BTreeSet<&String> = order
        .iter()
        .flat_map(|name| services[name].volumes.iter())
        .filter(|v| v.kind == "volume")
        .filter_map(|v| v.source.as_ref())
        .collect();
    for key in keys {
        let declared = project.volumes.get(key.as_str());
        let name = convert::resource_name(&project.name, &project.volumes, key);
        if engine.volume(&name)?.is_some() {
            continue;
        }
        if convert::is_external(declared) {
            return Err(Error::invalid(
                format!("external volume \"{name}\" not found"),
                format!("create it first: volume create {name}"),
            ));
        }
        let options = crate::volume::store::CreateOptions {
            labels: resource_labels(project, labels::VOLUME, key, declared),
            ..Default::default()
        };
        events.send(ComposeEvent::progress(
            Kind::Volume,
            &name,
            Action::Creating,
        ));
        engine.create_volume(&name, &options)?;
        events.send(ComposeEvent::progress(Kind::Volume, &name, Action::Created));
    }
    Ok(())
}

/// The service's image, built or pulled if need be; its id.
pub(crate) fn ensure_image(
    engine: &dyn Engine,
    project: &Project,
    name: &str,
    service: &Service,
    force_build: bool,
    events: &dyn Sink<ComposeEvent>,
) -> Result<String> {
    let image = convert::image_name(&project.name, name, service.image.as_deref());
    let present = engine.image_id(&image)?;
    let policy = service.pull_policy.as_deref().unwrap_or("missing");
    if let Some(build) = &service.build
        && (present.is_none() || force_build || policy == "build")
    {
        events.send(ComposeEvent::progress(
            Kind::Image,
            &image,
            Action::Building,
        ));
        let context = PathBuf::from(build.context.as_deref().unwrap_or("."));
        let request = BuildRequest {
            tag: image.clone(),
            context: project.working_dir.join(context),
            dockerfile: build.dockerfile.clone(),
            args: build
                .args
                .iter()
                .filter_map(|(k, v)| {
                    v.clone()
                        .or_else(|| project.environment.get(k).cloned())
                        .map(|v| (k.clone(), v))
                })
                .collect(),
            target: build.target.clone(),
            labels: build.labels.clone().into_iter().collect(),
            no_cache: build.no_cache,
            pull: build.pull,
        };
        let id = engine.build(&request)?;
        events.send(ComposeEvent::progress(Kind::Image, &image, Action::Built));
        return Ok(id);
    }
    if let Some(id) = present.filter(|_| policy != "always") {
        return Ok(id);
    }
    if policy == "never" {
        return Err(Error::invalid(
            format!("image {image} not found and pull_policy is never"),
            "load or build the image first",
        ));
    }
    events.send(ComposeEvent::progress(Kind::Image, &image, Action::Pulling));
    engine.pull(&image)?;
    events.send(ComposeEvent::progress(Kind::Image, &image, Action::Pulled));
    engine.image_id(&image)?.ok_or_else(|| {
        Error::conflict(
            format!("image {image} is missing after its pull"),
            "pull it again",
        )
    })
}

/// The image's layers, to resolve a `user:` name; empty when no name needs it.
pub(super) fn image_layers(
    engine: &dyn Engine,
    project: &Project,
    name: &str,
    service: &Service,
) -> Vec<PathBuf> {
    match &service.user {
        Some(user) if user.parse::<ch01_namespaces::User>().is_err() => engine.image_layers(
            &convert::image_name(&project.name, name, service.image.as_deref()),
        ),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::project::from_yaml as project;
    use serde_json::json;

    #[test]
    fn the_hash_ignores_what_does_not_make_the_container() {
        let base = json!({"image": "x", "environment": {"A": "1"}});
        let same = json!({
            "image": "x", "environment": {"A": "1"},
            "depends_on": {"db": {"condition": "service_started"}},
            "build": {"context": "/src"}, "scale": 3, "deploy": {"replicas": 2},
        });
        let changed = json!({"image": "x", "environment": {"A": "2"}});
        assert_eq!(config_hash(&base), config_hash(&same));
        assert_ne!(config_hash(&base), config_hash(&changed));
    }

    #[test]
    fn named_services_bring_their_dependencies_unless_no_deps() {
        let project = project(
            "services:\n  db: {image: x}\n  api: {image: x, depends_on: [db]}\n  web: {image: x, depends_on: [api]}\n  other: {image: x}\n",
        );
        let all = selected_services(&project, &[], false).expect("all");
        assert_eq!(all, ["db", "api", "other", "web"]);
        let web = selected_services(&project, &["web".into()], false).expect("web");
        assert_eq!(web, ["db", "api", "web"]);
        let alone = selected_services(&project, &["web".into()], true).expect("alone");
        assert_eq!(alone, ["web"]);
        let error = selected_services(&project, &["nope".into()], false).unwrap_err();
        assert_eq!(error.to_string(), "no such service: nope");
    }
}
