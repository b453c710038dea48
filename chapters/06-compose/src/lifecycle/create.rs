//! `create`: a container made and recorded, not started. `run` is `create` then `start`.

use ch01_namespaces::Narrator;
use ch03_union_fs::run::{RunEvent, StorageOptions};
use ch03_union_fs::{Record, Store};
use ch04_images::ImageStore;
use ch04_images::run::ImageRun;
use dockyard_support::Sink;

use ch04_images::oci::ContainerConfig;

use super::names;
use crate::container::{HostConfig, Paths, RestartPolicy, RunState, write_json};
use crate::error::{Error, Result};
use crate::volume::{self, MountRequest};

/// What `create` needs: the image and what chapter 04's `run` takes, and how the container
/// lives once it runs.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The image, the command's overrides, the process and cgroup options, the name.
    pub run: ImageRun,
    /// The restart policy, `--rm`, the log options, the health check…; its `process` and
    /// `cgroup` are taken from `run`, its volumes and mounts from `mounts`.
    pub host: HostConfig,
    /// `-v`, `--mount` and `--tmpfs`, as written.
    pub mounts: MountRequest,
}

/// Creates the container: chapter 03's record and writable layer for the image, and this
/// chapter's host config and state beside them. Nothing is left behind on failure.
pub fn create(
    images: &ImageStore,
    options: CreateOptions,
    storage: &StorageOptions,
    n: &Narrator,
    events: &dyn Sink<RunEvent>,
) -> Result<Record> {
    let CreateOptions {
        run,
        mut host,
        mounts,
    } = options;
    if host.auto_remove && host.restart != RestartPolicy::No {
        return Err(Error::invalid(
            "Conflicting options: --restart and --rm",
            "a container removed when it ends cannot be restarted: drop one of them",
        ));
    }
    host.network.check()?;
    if let Some(name) = host.network.mode.network()
        && name != crate::network::DEFAULT_NETWORK
    {
        // Docker refuses a container for a network that does not exist at create.
        crate::network::store::Networks::open(images.containers())?.find(name)?;
    }
    // A container that keeps running is watched (`stats`) and may be paused (`pause`): on
    // cgroup v1 both need hierarchies a one-shot run leaves out.
    let mut run = run;
    run.cgroup.features.stats = true;
    run.cgroup.features.freezer = true;
    host.process = run.process.clone();
    host.cgroup = run.cgroup.clone();
    let request = ch04_images::run::prepare(images, run)?;
    let image_volumes: Vec<String> = match &request.config {
        Some(config) => serde_json::from_value::<ContainerConfig>(config.clone())
            .map(|c| c.volumes.into_keys().collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let planned = volume::plan(&mounts, &image_volumes)?;
    host.volumes = planned.volumes;
    host.process.mounts = planned.mounts;
    let store = images.containers();
    let record = create_named(store, request, storage, n, events)?;
    // Volumes are made (and filled from the image) now, as docker's create makes them.
    let saved = save(store, &record, &host).and_then(|()| {
        volume::mounts_for(
            store,
            &host.volumes,
            &host.process.mounts,
            &record.layers,
            n,
        )
        .map(drop)
        .map_err(Error::from)
    });
    if let Err(error) = saved {
        let _best_effort = store.remove(&record);
        return Err(error);
    }
    Ok(record)
}

fn save(store: &Store, record: &Record, host: &HostConfig) -> Result<()> {
    let paths = Paths::new(store, &record.id);
    write_json(&paths.host_config(), host)?;
    write_json(&paths.state(), &RunState::default())
}

/// How many generated names are tried before giving up (each is taken with one chance in
/// about 1800 in a store of one container per name).
const NAME_ATTEMPTS: u32 = 16;

/// Chapter 03's create, with a generated name (`brave_hopper`) when the user gave none, as
/// docker names every container; a generated name that is taken is drawn again.
fn create_named(
    store: &Store,
    mut request: ch03_union_fs::run::RunRequest,
    storage: &StorageOptions,
    n: &Narrator,
    events: &dyn Sink<RunEvent>,
) -> Result<Record> {
    if request.name.is_some() {
        return Ok(ch03_union_fs::run::create(
            store, &request, storage, n, events,
        )?);
    }
    // The id is random already: its digits are the draws.
    let seed = u64::from_str_radix(&request.spec.id.as_str()[..16], 16).unwrap_or(0);
    for attempt in 0..NAME_ATTEMPTS {
        request.name = Some(names::generate(
            seed.rotate_left(attempt * 11) ^ u64::from(attempt),
        ));
        match ch03_union_fs::run::create(store, &request, storage, n, events) {
            Err(ch03_union_fs::Error::NameInUse(_)) => continue,
            created => return Ok(created?),
        }
    }
    Err(Error::conflict(
        "no free container name found",
        "give the container a name with --name",
    ))
}
