//! Running a container on a stack of layers: chapter 02's run (a cgroup step on chapter 01's
//! container), with the root filesystem made from layers and the container's state recorded
//! before and after. Later chapters call [`run`] with layers of their own (an image's).

use std::path::PathBuf;

use ch01_namespaces::{Container, ContainerSpec, ExitStatus, Narrator, Step};
use ch02_cgroups::{CGROUP_ROOT, CgroupOptions, CgroupStep, Outcome};
use dockyard_support::Sink;
use dockyard_support::clock::now_ns;

use crate::driver::{self, Driver};
use crate::error::Result;
use crate::lifecycle::{self, Rootfs};
use crate::overlay::MountApi;
use crate::store::{Record, State, Store};

/// One container to run: its process, what it is made of, and what becomes of it.
#[derive(Debug)]
pub struct RunRequest {
    /// The process (its `rootfs` is set here, to the stacked layers).
    pub spec: ContainerSpec,
    /// The read-only layers, bottom first, as absolute paths.
    pub layers: Vec<PathBuf>,
    /// The image they come from, as the user named it (chapter 04 on).
    pub image: Option<String>,
    /// What the container runs with, in an image config's terms, kept for `commit`.
    pub config: Option<serde_json::Value>,
    /// Its name, if it has one (`--name`).
    pub name: Option<String>,
    /// Remove the container and its writable layer when it exits (`--rm`).
    pub remove: bool,
    /// Its cgroup: where, and what it may use (chapter 02).
    pub cgroup: CgroupOptions,
}

/// How the layers are stacked: what dockerd's `--storage-driver` and `--storage-opt` choose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageOptions {
    /// The driver asked for; by default overlay where the kernel has it, else vfs.
    pub driver: Option<Driver>,
    /// Which mount interface the overlay driver uses.
    pub mount_api: MountApi,
}

/// What happens during a run that its caller may want to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// The default driver could not be used; this one was, for this reason.
    DriverFallback {
        /// The driver used instead.
        driver: Driver,
        /// Why the default could not be used.
        reason: String,
    },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    /// The container's id.
    pub id: String,
    /// How its command ended.
    pub status: ExitStatus,
    /// What its cgroup saw (OOM kills, usage), read before the group was removed.
    pub cgroup: Option<Outcome>,
}

// ANCHOR: run
/// Runs the container to its end. The container is recorded in `store` before it starts and
/// its end after (or it is removed, with `remove`); nothing is printed: what the caller may
/// want to tell the user goes to `events`, and how it ended is returned.
pub fn run(
    store: &Store,
    request: RunRequest,
    storage: &StorageOptions,
    n: &Narrator,
    events: &dyn Sink<RunEvent>,
) -> Result<RunEnd> {
    run_with_steps(store, request, storage, n, events, &mut [])
}

/// [`run`], with `steps` of the caller's after the cgroup's (chapter 06 plugs a build's `RUN`
/// container into its network with one).
pub fn run_with_steps(
    store: &Store,
    request: RunRequest,
    storage: &StorageOptions,
    n: &Narrator,
    events: &dyn Sink<RunEvent>,
    steps: &mut [&mut dyn Step],
) -> Result<RunEnd> {
    let driver = select_driver(store, storage, events);
    let mut spec = request.spec;
    let mut record = new_record(
        &spec,
        request.layers,
        request.image,
        request.config,
        request.name,
        driver,
    );
    // Saved as running with the record: one write fewer on every run.
    record.state = lifecycle::starting_now();
    let rootfs = lifecycle::create(store, &record, storage.mount_api, n)?;
    spec.rootfs = store.rootfs_dir(&record);
    let (outcome, cgroup) = run_on(spec, &rootfs, &request.cgroup, n, steps);
    lifecycle::explain_upper(store, &record, n)?;
    if request.remove {
        store.remove(&record)?;
    } else {
        lifecycle::ended(store, &mut record, &outcome)?;
    }
    Ok(RunEnd {
        id: record.id,
        status: outcome?,
        cgroup,
    })
}
// ANCHOR_END: run

// ANCHOR: create_start
/// Creates the container without starting it (`docker create`): its record, in the created
/// state, and its writable layer. [`start`] runs it later, as many times as asked.
pub fn create(
    store: &Store,
    request: &RunRequest,
    storage: &StorageOptions,
    n: &Narrator,
    events: &dyn Sink<RunEvent>,
) -> Result<Record> {
    let driver = select_driver(store, storage, events);
    let record = new_record(
        &request.spec,
        request.layers.clone(),
        request.image.clone(),
        request.config.clone(),
        request.name.clone(),
        driver,
    );
    lifecycle::create(store, &record, storage.mount_api, n)?;
    Ok(record)
}

/// Starts a container [`create`] made and runs it to its end, with `steps` of the caller's
/// after the cgroup's (a monitor's, which learns the container's pid and when it started).
/// `spec` must carry the record's id; its root filesystem is set here. The record says it
/// runs, under this process, until it ended.
pub fn start(
    store: &Store,
    record: &mut Record,
    mut spec: ContainerSpec,
    cgroup: &CgroupOptions,
    storage: &StorageOptions,
    n: &Narrator,
    steps: &mut [&mut dyn Step],
) -> Result<RunEnd> {
    let rootfs = lifecycle::existing_rootfs(store, record, storage.mount_api)?;
    spec.rootfs = store.rootfs_dir(record);
    record.state = lifecycle::starting_now();
    store.save(record)?;
    let (outcome, cgroup) = run_on(spec, &rootfs, cgroup, n, steps);
    lifecycle::ended(store, record, &outcome)?;
    Ok(RunEnd {
        id: record.id.clone(),
        status: outcome?,
        cgroup,
    })
}
// ANCHOR_END: create_start

/// The driver for a new container, telling `events` when the default could not be used.
fn select_driver(store: &Store, storage: &StorageOptions, events: &dyn Sink<RunEvent>) -> Driver {
    let (driver, fallback) = driver::select(storage.driver, store.root());
    if let Some(reason) = fallback {
        events.send(RunEvent::DriverFallback { driver, reason });
    }
    driver
}

/// A new container's record, in the created state.
fn new_record(
    spec: &ContainerSpec,
    layers: Vec<PathBuf>,
    image: Option<String>,
    config: Option<serde_json::Value>,
    name: Option<String>,
    driver: Driver,
) -> Record {
    Record {
        id: spec.id.to_string(),
        name,
        created_ns: now_ns(),
        command: spec.command.clone(),
        layers,
        image,
        config,
        driver,
        state: State::Created,
    }
}

// ANCHOR: run_on
/// Chapter 02's run on the prepared root filesystem: the cgroup step first, then `steps`.
fn run_on(
    spec: ContainerSpec,
    rootfs: &Rootfs,
    options: &CgroupOptions,
    n: &Narrator,
    steps: &mut [&mut dyn Step],
) -> (
    std::result::Result<ExitStatus, ch01_namespaces::Error>,
    Option<Outcome>,
) {
    let mut cgroup = CgroupStep::new(
        CGROUP_ROOT,
        &options.parent,
        spec.id.as_str(),
        options.limits.clone(),
    )
    .features(options.features);
    let mut container = Container::new(spec).narrate(n.clone()).step(&mut cgroup);
    for step in steps.iter_mut() {
        container = container.step(&mut **step);
    }
    if let Some(mount) = rootfs.mount() {
        container = container.mount_rootfs(mount);
    }
    let outcome = container.run();
    (outcome, cgroup.outcome().cloned())
}
// ANCHOR_END: run_on
