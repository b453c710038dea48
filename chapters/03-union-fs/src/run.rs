//! Running a container on a stack of layers: chapter 02's run (a cgroup step on chapter 01's
//! container), with the root filesystem made from layers and the container's state recorded
//! before and after. Later chapters call [`run`] with layers of their own (an image's).

use std::path::PathBuf;

use ch01_namespaces::{Container, ContainerSpec, Narrator};
use ch02_cgroups::cli::{LimitArgs, oom_message};
use ch02_cgroups::{CGROUP_ROOT, CgroupStep};

use crate::cli::StorageArgs;
use crate::driver;
use crate::error::Result;
use crate::lifecycle;
use crate::store::{Record, Store, now_ns};

/// One container to run: its process, what it is made of, and what becomes of it.
#[derive(Debug)]
pub struct RunRequest<'a> {
    /// The process (its `rootfs` is set here, to the stacked layers).
    pub spec: ContainerSpec,
    /// The read-only layers, bottom first, as absolute paths.
    pub layers: Vec<PathBuf>,
    /// The image they come from, as the user named it (chapter 04 on).
    pub image: Option<String>,
    /// What the container runs with, in an image config's terms, kept for `commit`.
    pub config: Option<serde_json::Value>,
    /// `--name`.
    pub name: Option<String>,
    /// `--rm`: remove the container and its writable layer when it exits.
    pub remove: bool,
    /// Chapter 02's resource limits.
    pub limits: &'a LimitArgs,
}

// ANCHOR: run
/// Runs the container and returns its exit status; notices (the driver chosen, the OOM
/// killer) go to stderr prefixed with `program`.
pub fn run(
    program: &str,
    store: &Store,
    storage: &StorageArgs,
    request: RunRequest<'_>,
    n: &Narrator,
) -> Result<i32> {
    let limits = request.limits.limits()?;
    let api = storage.mount_api()?;
    let (driver, notice) = driver::select(storage.storage_driver, store.root());
    if let Some(notice) = notice {
        eprintln!("{program}: {notice}");
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
    let rootfs = lifecycle::create(store, &record, api, n)?;
    spec.rootfs = store.rootfs_dir(&record);

    let cgroup_parent = &request.limits.cgroup_parent;
    let mut cgroup = CgroupStep::new(CGROUP_ROOT, cgroup_parent, &record.id, limits)
        .features(request.limits.features());
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
    let status = outcome?.code();
    if let Some(outcome) = cgroup.outcome() {
        if let Some(message) = oom_message(outcome, cgroup.limits(), status) {
            eprintln!("{program}: {message}");
        }
        if let Some(stats) = &outcome.stats {
            eprint!("{stats}");
        }
    }
    Ok(status)
}
// ANCHOR_END: run
