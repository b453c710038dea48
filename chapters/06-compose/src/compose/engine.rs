//! # What Compose asks of a container engine
//!
//! Compose is a client: it turns a file into requests (make this network, create this
//! container, start it, is it healthy yet?) and leaves the work to an engine. [`Engine`] is
//! that conversation, in the few verbs Compose needs. [`Local`] answers them with this
//! chapter's library on a store, as `ch06-compose compose` does; `final/`'s client answers them
//! over the daemon's API; the tests answer them with a recording fake, to check the plan
//! without a kernel.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use ch01_namespaces::Narrator;
use ch03_union_fs::run::StorageOptions;
use ch04_images::registry::pull::{PullEvent, PullOptions};
use ch04_images::{ImageStore, Reference};
use ch05_dockerfile::build::{BuildEvent, BuildOptions, Network as BuildNetwork};
use dockyard_support::events::Discard;
use dockyard_support::{EngineError, ErrorKind, Sink};

use crate::container::{HealthStatus, Status};
use crate::error::{Error, Result};
use crate::lifecycle::create::CreateOptions;
use crate::lifecycle::start::MonitorCommand;
use crate::network::build::BuildBridge;
use crate::network::store::Networks;
use crate::volume::store::Volumes;

/// A container as Compose sees it: its labels say which project and service it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its labels (the image's and its own).
    pub labels: BTreeMap<String, String>,
    /// Where it stands.
    pub state: ContainerState,
}

impl ContainerInfo {
    /// The value of label `key`, or "".
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }
}

/// What Compose needs to know of a container's life: to wait for it, to start it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContainerState {
    /// Created, running, exited…
    pub status: Status,
    /// Its health, if it has a health check.
    pub health: Option<HealthStatus>,
    /// How it ended, if it did.
    pub exit_code: Option<i32>,
    /// Running, but frozen by `pause`.
    pub paused: bool,
}

impl ContainerState {
    /// Whether its command runs (or will again, under a restart policy).
    pub fn running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Restarting)
    }
}

/// A network or volume Compose made: its name and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

/// An image to build for a service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildRequest {
    /// The name it gets.
    pub tag: String,
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context (default `Dockerfile`).
    pub dockerfile: Option<String>,
    /// `--build-arg`s.
    pub args: Vec<(String, String)>,
    /// `--target`.
    pub target: Option<String>,
    /// Labels of the image.
    pub labels: Vec<(String, String)>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--pull`.
    pub pull: bool,
}

/// The verbs Compose speaks to an engine. Names are full names (`demo_default`,
/// `demo-web-1`); an id is what [`Engine::create`] returned.
pub trait Engine: Sync {
    /// Every container (running or not) labelled with project `project`.
    fn containers(&self, project: &str) -> Result<Vec<ContainerInfo>>;
    /// The state of the container `id` now.
    fn state(&self, id: &str) -> Result<ContainerState>;
    /// Creates a container; its id.
    fn create(&self, options: CreateOptions) -> Result<String>;
    /// Starts a created or stopped container; returns once its command runs.
    fn start(&self, id: &str) -> Result<()>;
    /// Stops a container (its stop signal, SIGKILL after `timeout` seconds or its own).
    fn stop(&self, id: &str, timeout: Option<i64>) -> Result<()>;
    /// Removes a container, stopping it first if need be; `volumes`: its anonymous ones too.
    fn remove(&self, id: &str, volumes: bool) -> Result<()>;
    /// Sends `signal` (a name such as `SIGHUP` or `HUP`, or a number) to a running container.
    fn kill(&self, id: &str, signal: &str) -> Result<()>;
    /// Freezes a running container's processes.
    fn pause(&self, id: &str) -> Result<()>;
    /// Thaws a paused container.
    fn unpause(&self, id: &str) -> Result<()>;
    /// The network `name`, if it exists.
    fn network(&self, name: &str) -> Result<Option<Resource>>;
    /// Every network labelled with project `project`.
    fn networks(&self, project: &str) -> Result<Vec<Resource>>;
    /// Creates a network.
    fn create_network(
        &self,
        name: &str,
        options: &crate::network::store::CreateOptions,
    ) -> Result<()>;
    /// Removes a network.
    fn remove_network(&self, name: &str) -> Result<()>;
    /// The volume `name`, if it exists.
    fn volume(&self, name: &str) -> Result<Option<Resource>>;
    /// Every volume labelled with project `project`.
    fn volumes(&self, project: &str) -> Result<Vec<Resource>>;
    /// Creates a volume.
    fn create_volume(
        &self,
        name: &str,
        options: &crate::volume::store::CreateOptions,
    ) -> Result<()>;
    /// Removes a volume.
    fn remove_volume(&self, name: &str) -> Result<()>;
    /// The id of the image `reference` names, if the store has it.
    fn image_id(&self, reference: &str) -> Result<Option<String>>;
    /// The layer directories of the image `reference` names (bottom first), where a `user:`
    /// name is looked up in its `/etc/passwd`; empty if it has none here.
    fn image_layers(&self, reference: &str) -> Vec<PathBuf>;
    /// Builds an image; its id.
    fn build(&self, request: &BuildRequest) -> Result<String>;
    /// Pulls an image.
    fn pull(&self, reference: &str) -> Result<()>;
    /// Pushes an image to its registry.
    fn push(&self, reference: &str) -> Result<()>;
    /// Removes an image name (and the image, when it was its last name).
    fn remove_image(&self, reference: &str) -> Result<()>;
}

/// [`Engine`] on a local store, through this chapter's library.
pub struct Local<'a> {
    /// The images and, through them, the containers.
    pub images: &'a ImageStore,
    /// The storage driver's options.
    pub storage: StorageOptions,
    /// How a container's monitor is executed.
    pub monitor: MonitorCommand,
    /// Registries spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Where `--explain` narrations go.
    pub narrator: &'a Narrator,
    /// Where a build's steps go.
    pub build_events: &'a dyn Sink<BuildEvent>,
    /// Where a pull's progress goes.
    pub pull_events: &'a dyn Sink<PullEvent>,
}

impl std::fmt::Debug for Local<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local")
            .field("root", &self.images.root())
            .field("monitor", &self.monitor)
            .finish_non_exhaustive()
    }
}

impl Local<'_> {
    fn store(&self) -> &ch03_union_fs::Store {
        self.images.containers()
    }
}

fn labelled(labels: &BTreeMap<String, String>, project: &str) -> bool {
    labels.get(super::labels::PROJECT).map(String::as_str) == Some(project)
}

fn not_found_is_none<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

impl Engine for Local<'_> {
    fn containers(&self, project: &str) -> Result<Vec<ContainerInfo>> {
        let mut found = Vec::new();
        for view in crate::show::view::list(self.store())? {
            if !labelled(&view.config.labels, project) {
                continue;
            }
            found.push(ContainerInfo {
                id: view.record.id.clone(),
                name: view.name().to_owned(),
                labels: view.config.labels.clone(),
                state: ContainerState {
                    status: view.status,
                    health: view.health(),
                    exit_code: view.state.exit_code,
                    paused: view.paused,
                },
            });
        }
        Ok(found)
    }

    fn state(&self, id: &str) -> Result<ContainerState> {
        let view = crate::show::view::find(self.store(), id)?;
        Ok(ContainerState {
            status: view.status,
            health: view.health(),
            exit_code: view.state.exit_code,
            paused: view.paused,
        })
    }

    fn create(&self, options: CreateOptions) -> Result<String> {
        let record = crate::lifecycle::create::create(
            self.images,
            options,
            &self.storage,
            self.narrator,
            &Discard,
        )?;
        Ok(record.id)
    }

    fn start(&self, id: &str) -> Result<()> {
        crate::lifecycle::start::start(self.store(), id, &self.monitor).map(drop)
    }

    fn stop(&self, id: &str, timeout: Option<i64>) -> Result<()> {
        crate::lifecycle::stop::stop(self.store(), id, timeout).map(drop)
    }

    fn remove(&self, id: &str, volumes: bool) -> Result<()> {
        crate::lifecycle::remove::remove(self.store(), id, true, volumes).map(drop)
    }

    fn kill(&self, id: &str, signal: &str) -> Result<()> {
        let signal = crate::lifecycle::signal::parse(signal)?;
        crate::lifecycle::stop::kill(self.store(), id, signal).map(drop)
    }

    fn pause(&self, id: &str) -> Result<()> {
        crate::lifecycle::pause::pause(self.store(), id).map(drop)
    }

    fn unpause(&self, id: &str) -> Result<()> {
        crate::lifecycle::pause::unpause(self.store(), id).map(drop)
    }

    fn network(&self, name: &str) -> Result<Option<Resource>> {
        let networks = Networks::open(self.store())?;
        let found = networks.list()?.into_iter().find(|n| n.name == name);
        Ok(found.map(|network| Resource {
            name: network.name,
            labels: network.labels,
        }))
    }

    fn networks(&self, project: &str) -> Result<Vec<Resource>> {
        let networks = Networks::open(self.store())?;
        Ok(networks
            .list()?
            .into_iter()
            .filter(|network| labelled(&network.labels, project))
            .map(|network| Resource {
                name: network.name,
                labels: network.labels,
            })
            .collect())
    }

    fn create_network(
        &self,
        name: &str,
        options: &crate::network::store::CreateOptions,
    ) -> Result<()> {
        Networks::open(self.store())?.create(name, options, self.narrator)?;
        Ok(())
    }

    fn remove_network(&self, name: &str) -> Result<()> {
        Networks::open(self.store())?.remove(name, self.narrator)?;
        Ok(())
    }

    fn volume(&self, name: &str) -> Result<Option<Resource>> {
        let volumes = Volumes::open(self.store())?;
        let found = volumes.list()?.into_iter().find(|v| v.name == name);
        Ok(found.map(|volume| Resource {
            name: volume.name,
            labels: volume.metadata.labels,
        }))
    }

    fn volumes(&self, project: &str) -> Result<Vec<Resource>> {
        let volumes = Volumes::open(self.store())?;
        Ok(volumes
            .list()?
            .into_iter()
            .filter(|volume| labelled(&volume.metadata.labels, project))
            .map(|volume| Resource {
                name: volume.name,
                labels: volume.metadata.labels,
            })
            .collect())
    }

    fn create_volume(
        &self,
        name: &str,
        options: &crate::volume::store::CreateOptions,
    ) -> Result<()> {
        Volumes::open(self.store())?.create(Some(name), options)?;
        Ok(())
    }

    fn remove_volume(&self, name: &str) -> Result<()> {
        Volumes::open(self.store())?.remove(name)?;
        Ok(())
    }

    fn image_id(&self, reference: &str) -> Result<Option<String>> {
        not_found_is_none(
            self.images
                .find_image(reference)
                .map(|image| image.id.to_string())
                .map_err(Error::from),
        )
    }

    fn image_layers(&self, reference: &str) -> Vec<PathBuf> {
        self.images
            .find_image(reference)
            .map(|image| {
                image
                    .chain_ids()
                    .iter()
                    .map(|chain_id| self.images.layer_dir(chain_id))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn build(&self, request: &BuildRequest) -> Result<String> {
        let context = ch05_dockerfile::context::Context::from_dir(&request.context)?;
        let dockerfile_name = request
            .dockerfile
            .clone()
            .unwrap_or_else(|| "Dockerfile".to_owned());
        let dockerfile_path = request.context.join(&dockerfile_name);
        let dockerfile = std::fs::read(&dockerfile_path).map_err(|e| {
            Error::invalid(
                format!("cannot read {}: {e}", dockerfile_path.display()),
                "check the service's build.context and build.dockerfile",
            )
        })?;
        let tag = request.tag.parse::<Reference>().map_err(|e| {
            Error::invalid(
                format!("invalid image name {:?}: {e}", request.tag),
                "set the service's image: to a valid name",
            )
        })?;
        let bridge = BuildBridge::new(Networks::open(self.store())?);
        let options = BuildOptions {
            dockerfile_name,
            tags: vec![tag],
            build_args: request.args.clone(),
            target: request.target.clone(),
            no_cache: request.no_cache,
            labels: request.labels.clone(),
            network: BuildNetwork::Plugged(Arc::new(bridge)),
            secrets: Vec::new(),
            pull: request.pull,
            insecure_registries: self.insecure_registries.clone(),
        };
        let built = ch05_dockerfile::build::build(
            self.images,
            &context,
            &dockerfile,
            &options,
            &self.storage,
            self.build_events,
        )?;
        Ok(built.id.to_string())
    }

    fn pull(&self, reference: &str) -> Result<()> {
        let parsed = parse_reference(reference)?;
        let options = PullOptions {
            platform: ch04_images::platform::Wanted::host(),
            insecure: self.insecure_registries.clone(),
        };
        ch04_images::registry::pull::pull(
            self.images,
            &parsed,
            &options,
            self.narrator,
            self.pull_events,
        )
        .map_err(Error::from)?;
        Ok(())
    }

    fn push(&self, reference: &str) -> Result<()> {
        let parsed = parse_reference(reference)?;
        let options = ch04_images::registry::push::PushOptions {
            insecure: self.insecure_registries.clone(),
            ..Default::default()
        };
        ch04_images::registry::push::push(self.images, &parsed, &options, self.narrator, &Discard)
            .map_err(Error::from)?;
        Ok(())
    }

    fn remove_image(&self, reference: &str) -> Result<()> {
        ch04_images::remove::remove_image(self.images, reference, false)?;
        Ok(())
    }
}

/// An image name, read as a registry reference.
fn parse_reference(reference: &str) -> Result<Reference> {
    reference.parse::<Reference>().map_err(|e| {
        Error::invalid(
            format!("invalid reference format {reference:?}: {e}"),
            "write an image name such as busybox:1.36",
        )
    })
}
