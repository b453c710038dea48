//! A container's root filesystem, mounted but never run: where a `COPY` writes, and where a
//! `COPY --from` reads.
//!
//! It is a chapter 03 container in every other way: a record in the store, a writable layer
//! over the image's layers, the same overlay (or vfs copy). That is what makes a `COPY`
//! step's layer the same kind of thing as a `RUN` step's: the container's changes, taken by
//! chapter 03's diff and stored by chapter 04, whether a process or the builder made them.
//!
//! Every container the builder makes carries the label `dockyard.build`; one left behind by
//! a builder that was killed is removed by the next build ([`sweep`]).

use std::path::PathBuf;

use ch01_namespaces::{ContainerId, Narrator, RootfsMount};
use ch03_union_fs::lifecycle::{self, Rootfs};
use ch03_union_fs::store::State;
use ch03_union_fs::{Record, StorageOptions, driver};
use ch04_images::create::store_changes;
use ch04_images::oci::Descriptor;
use ch04_images::{Digest, ImageStore};
use dockyard_support::FromIo;
use dockyard_support::clock::now_ns;
use nix::mount::{MntFlags, umount2};

use crate::build::state::StageState;
use crate::cache::CachedLayer;
use crate::error::{Error, Result};

/// The label that marks the builder's containers.
pub const BUILD_LABEL: &str = "dockyard.build";

/// The config recorded with a builder's container: only the label that marks it.
pub fn build_marker(what: &str) -> serde_json::Value {
    serde_json::json!({ "Labels": { BUILD_LABEL: what } })
}

// ANCHOR: workspace
/// A container's root filesystem, mounted in the builder's namespace.
#[derive(Debug)]
pub struct Workspace<'a> {
    store: &'a ImageStore,
    record: Record,
    mounted: bool,
}

impl<'a> Workspace<'a> {
    /// A new container on `layers` (bottom first), its root filesystem ready at
    /// [`Workspace::root`].
    pub fn create(
        store: &'a ImageStore,
        layers: Vec<PathBuf>,
        storage: &StorageOptions,
        what: &str,
        n: &Narrator,
    ) -> Result<Workspace<'a>> {
        let containers = store.containers();
        let (driver, _fallback) = driver::select(storage.driver, containers.root());
        let id = ContainerId::random().map_err(ch04_images::Error::from)?;
        let record = Record {
            id: id.to_string(),
            name: None,
            created_ns: now_ns(),
            command: Vec::new(),
            layers,
            image: None,
            config: Some(build_marker(what)),
            driver,
            state: lifecycle::starting_now(),
        };
        let rootfs = lifecycle::create(containers, &record, storage.mount_api, n)
            .map_err(ch04_images::Error::from)?;
        let mut workspace = Workspace {
            store,
            record,
            mounted: false,
        };
        if let Rootfs::Overlay(overlay) = &rootfs {
            let target = workspace.root();
            // The legacy mount call works from the store's directory: come back after.
            let cwd =
                std::env::current_dir().map_err(Error::io_op("read the working directory"))?;
            let mounted = overlay.mount(&target, n);
            std::env::set_current_dir(&cwd).map_err(Error::io("return to", &cwd))?;
            mounted.map_err(|e| Error::Build {
                message: format!("cannot mount the build container's root filesystem: {e}"),
                hint: None,
            })?;
            workspace.mounted = true;
        }
        Ok(workspace)
    }

    // ANCHOR_END: workspace

    /// Where its root filesystem is.
    pub fn root(&self) -> PathBuf {
        self.store.containers().rootfs_dir(&self.record)
    }

    /// Its short id, as docker shows a container.
    pub fn short_id(&self) -> &str {
        self.record.short_id()
    }

    /// Its changes, stored as a layer on the layer `parent` (a chain id), or `None` if it
    /// changed nothing; the container goes.
    pub fn commit(
        mut self,
        parent: Option<Digest>,
        what: String,
        n: &Narrator,
    ) -> Result<Option<CachedLayer>> {
        self.unmount()?;
        take_layer(self.store, &self.record, parent, what, n)
    }

    fn unmount(&mut self) -> Result<()> {
        if self.mounted {
            let root = self.root();
            umount2(&root, MntFlags::MNT_DETACH)
                .map_err(|e| Error::io("unmount", &root)(e.into()))?;
            self.mounted = false;
        }
        Ok(())
    }
}

// ANCHOR: workspace_drop
impl Drop for Workspace<'_> {
    fn drop(&mut self) {
        // On every path, success or failure: nothing of the container stays.
        let _detached_anyway_when_the_builder_exits = self.unmount();
        // Recorded as run by this process (so that another build's sweep leaves it alone):
        // removed without the check that it no longer runs.
        let _swept_by_the_next_build = self.store.containers().remove(&self.record);
    }
}
// ANCHOR_END: workspace_drop

/// A container's changes stored as a layer on `parent`, under its name; `None` if there
/// are none: docker's builder then adds no layer, and marks the step `empty_layer`.
fn take_layer(
    store: &ImageStore,
    record: &Record,
    parent: Option<Digest>,
    what: String,
    n: &Narrator,
) -> Result<Option<CachedLayer>> {
    let changes =
        lifecycle::changes(store.containers(), record).map_err(ch04_images::Error::from)?;
    if changes.is_empty() {
        return Ok(None);
    }
    let pending = store_changes(store, record, parent, what, n)?;
    let layer = CachedLayer {
        descriptor: Descriptor::new(
            pending.media_type(),
            pending.digest.clone(),
            pending.compressed_size,
        ),
        diff_id: pending.diff_id.clone(),
        size: pending.size,
    };
    store.commit_layers(vec![pending])?;
    Ok(Some(layer))
}

/// Takes the layer a RUN container made: its changes, stored on `parent`; the container
/// goes, whatever happens.
pub fn commit_record(
    store: &ImageStore,
    record: &Record,
    parent: Option<Digest>,
    what: String,
    n: &Narrator,
) -> Result<Option<CachedLayer>> {
    let taken = take_layer(store, record, parent, what, n);
    let removed = lifecycle::remove(store.containers(), record);
    let layer = taken?;
    removed.map_err(ch04_images::Error::from)?;
    Ok(layer)
}

/// The directories of `state`'s layers, bottom first; for an image with none (`FROM
/// scratch`), one empty directory, since an overlay needs a lower layer.
pub fn layers_or_empty(store: &ImageStore, state: &StageState) -> Result<Vec<PathBuf>> {
    let layers = state.layer_dirs(store);
    if !layers.is_empty() {
        return Ok(layers);
    }
    let empty = store.root().join("build-empty-layer");
    std::fs::create_dir_all(&empty).map_err(Error::io("create", &empty))?;
    Ok(vec![empty])
}

/// Removes the containers of builds that did not end (killed, crashed): labelled
/// [`BUILD_LABEL`], and not running.
pub fn sweep(store: &ImageStore) -> Result<()> {
    let containers = store.containers();
    for record in containers.list().map_err(ch04_images::Error::from)? {
        let from_a_build = record
            .config
            .as_ref()
            .and_then(|config| config.pointer(&format!("/Labels/{BUILD_LABEL}")))
            .is_some();
        let running = matches!(lifecycle::effective_state(&record), State::Running { .. });
        if from_a_build && !running {
            // A RUN's builder killed with SIGKILL ran no teardown: its cgroup is left too.
            // While the container's last processes are still exiting the group is busy:
            // then both stay, for the next build to sweep.
            let cgroup = ch02_cgroups::remove_leftover(
                std::path::Path::new(ch02_cgroups::CGROUP_ROOT),
                ch02_cgroups::DEFAULT_PARENT,
                &record.id,
            );
            match cgroup {
                Ok(_) => {
                    lifecycle::remove(containers, &record).map_err(ch04_images::Error::from)?
                }
                Err(error) if is_busy(&error) => continue,
                Err(error) => return Err(ch04_images::Error::from(error).into()),
            }
        }
    }
    Ok(())
}

/// Whether a cgroup error is EBUSY: the group still has a process.
fn is_busy(error: &ch02_cgroups::Error) -> bool {
    matches!(error, ch02_cgroups::Error::Io(io) if io.source.raw_os_error() == Some(libc::EBUSY))
}
