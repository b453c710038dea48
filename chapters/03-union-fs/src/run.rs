//! Running a container on a stack of layers: chapter 02's run (a cgroup step on chapter 01's
//! container), with the root filesystem made from layers and the container's state recorded
//! before and after. Later chapters call [`run`] with layers of their own (an image's).

use std::path::PathBuf;

use ch01_namespaces::{Container, ContainerSpec, ExitStatus, Narrator};
use ch02_cgroups::{CGROUP_ROOT, CgroupOptions, CgroupStep, Outcome};
use dockyard_support::Sink;
use dockyard_support::clock::now_ns;

use crate::driver::{self, Driver};
use crate::error::Result;
use crate::lifecycle;
use crate::overlay::MountApi;
use crate::store::{Record, Store};

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
    let (driver, fallback) = driver::select(storage.driver, store.root());
    if let Some(reason) = fallback {
        events.send(RunEvent::DriverFallback { driver, reason });
    }
    let mut spec = request.spec;
    let mut record = Record {
        id: spec.id.to_string(),
        name: request.name,
        created_ns: now_ns(),
        command: spec.command.clone(),
        layers: request.layers,
        image: request.image,
        config: request.config,
        driver,
        state: lifecycle::starting_now(),
    };
    let rootfs = lifecycle::create(store, &record, storage.mount_api, n)?;
    spec.rootfs = store.rootfs_dir(&record);

    let cgroup_options = request.cgroup;
    let mut cgroup = CgroupStep::new(
        CGROUP_ROOT,
        &cgroup_options.parent,
        &record.id,
        cgroup_options.limits,
    )
    .features(cgroup_options.features);
    let mut container = Container::new(spec).narrate(n.clone()).step(&mut cgroup);
    if let Some(mount) = rootfs.mount() {
        container = container.mount_rootfs(mount);
    }
    let outcome = container.run();
    lifecycle::explain_upper(store, &record, n)?;
    if request.remove {
        store.remove(&record)?;
    } else {
        lifecycle::ended(store, &mut record, &outcome)?;
    }
    Ok(RunEnd {
        id: record.id,
        status: outcome?,
        cgroup: cgroup.outcome().cloned(),
    })
}
// ANCHOR_END: run
