//! New images made here rather than loaded: `import` (a root filesystem archive becomes a
//! one-layer image) and `commit` (a container's writable layer becomes a new top layer on
//! its image).
//!
//! Either way the new layer is unpacked and stored in one pass, as `load` does, and named
//! by what it turns out to be; then a config and a manifest are written for it, and the
//! image is named last.

use std::fs::File;
use std::path::Path;

use ch01_namespaces::Narrator;
use ch03_union_fs::archive;
use ch03_union_fs::lifecycle;
use dockyard_support::clock::{format_rfc3339, now};

use crate::digest::Digest;
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::image::{Image, new_manifest};
use crate::oci::{ContainerConfig, Descriptor, History, ImageConfig, media_type};
use crate::platform::Wanted;
use crate::reference::Reference;
use crate::store::layers::{LayerBlob, PendingLayer};
use crate::store::{Access, ImageEntry, ImageStore};

/// `import FILE [NAME[:TAG]]`: the archive (plain, gzip or zstd tar) as the only layer of a
/// new image with an empty config, as `docker import` makes.
pub fn import(
    store: &ImageStore,
    file: &Path,
    name: Option<&Reference>,
    n: &Narrator,
) -> Result<Digest> {
    let input = File::open(file).map_err(Error::io("open", file))?;
    let layer = LayerBlob {
        digest: None,
        diff_id: None,
        parent: None,
        what: format!("the archive {}", file.display()),
        from: None,
    };
    let pending = store.unpack_layer(input, &layer, n)?;
    let created = format_rfc3339(now() as i64);
    let config = ImageConfig {
        created: Some(created.clone()),
        history: vec![History {
            created: Some(created),
            comment: Some(format!("Imported from {}", file.display())),
            ..History::default()
        }],
        ..Wanted::host().empty_config(ContainerConfig::default())
    };
    add_image(store, None, config, pending, name)
}

// ANCHOR: commit
/// `commit CONTAINER [NAME[:TAG]]`: the container's changes as a new layer on top of its
/// image's, with the image's config.
pub fn commit(
    store: &ImageStore,
    container: &str,
    name: Option<&Reference>,
    n: &Narrator,
) -> Result<Digest> {
    let record = store.containers().find(container)?;
    let base = base_image(store, &record.layers)?;
    let pending = store_changes(
        store,
        &record,
        base.chain_ids().last().cloned(),
        format!("the changes of container {}", record.short_id()),
        n,
    )?;
    let created = format_rfc3339(now() as i64);
    let mut config = base.config.clone();
    config.created = Some(created.clone());
    // What the container ran with becomes the image's, as docker's commit does; a container
    // from before chapter 04 kept no config, and the base image's stays.
    if let Some(running) = &record.config {
        let running = serde_json::from_value(running.clone()).map_err(|e| Error::CorruptStore {
            path: store
                .containers()
                .container_dir(&record.id)
                .join("config.json"),
            message: format!("the container's image config: {e}"),
        })?;
        config.config = Some(running);
    }
    config.history.push(History {
        created: Some(created),
        created_by: Some(record.command.join(" ")),
        ..History::default()
    });
    add_image(store, Some(&base), config, pending, name)
}
// ANCHOR_END: commit

/// The image whose layers a container stands on.
fn base_image(store: &ImageStore, layers: &[std::path::PathBuf]) -> Result<Image> {
    let catalog = store.catalog()?;
    for (id, entry) in &catalog.images {
        let image = store.read_image(id.clone(), entry.clone())?;
        let dirs: Vec<_> = image
            .chain_ids()
            .iter()
            .map(|c| store.layer_dir(c))
            .collect();
        if dirs == layers {
            return Ok(image);
        }
    }
    Err(Error::Invalid(
        "the container's layers are not an image of this store (run it from an image, or use commit -o FILE for its layer alone)".into(),
    ))
}

// ANCHOR: store_changes
/// A container's changes (its writable layer, chapter 03's diff) stored as a layer on the
/// layer `parent` (a chain id), not yet under its name: the archive is written on one
/// thread and unpacked on another, through a pipe, so it is never kept whole, and its
/// digests are taken on the way. A builder's `RUN` and `COPY` steps make their layers so.
pub fn store_changes(
    store: &ImageStore,
    record: &ch03_union_fs::Record,
    parent: Option<Digest>,
    what: String,
    n: &Narrator,
) -> Result<PendingLayer> {
    let changes = lifecycle::changes(store.containers(), record)?;
    let source = lifecycle::changes_source(store.containers(), record);
    let (reader, writer) = std::io::pipe().map_err(Error::io("create a pipe for", &source))?;
    let layer = LayerBlob {
        digest: None,
        diff_id: None,
        parent,
        what,
        from: None,
    };
    std::thread::scope(|scope| {
        let writing = scope.spawn(|| archive::write_layer(&changes, &source, writer));
        let unpacked = store.unpack_layer(reader, &layer, n);
        let written = writing.join().unwrap_or_else(|_| {
            Err(ch03_union_fs::Error::Invalid(
                "the layer writer panicked".into(),
            ))
        });
        written?;
        unpacked
    })
}
// ANCHOR_END: store_changes

/// Stores `config` (with the new layer's diff id added) and a manifest for the base image's
/// layers plus the new one, then names the image.
fn add_image(
    store: &ImageStore,
    base: Option<&Image>,
    mut config: ImageConfig,
    layer: PendingLayer,
    name: Option<&Reference>,
) -> Result<Digest> {
    config.rootfs.diff_ids.push(layer.diff_id.clone());
    let _adding = store.lock(Access::Add)?;
    let mut layers = base.map(|b| b.manifest.layers.clone()).unwrap_or_default();
    layers.push(Descriptor::new(
        layer.media_type(),
        layer.digest.clone(),
        layer.compressed_size,
    ));
    let size = base.map_or(0, |b| b.entry.size) + layer.size;
    store.commit_layers(vec![layer])?;
    let names: Vec<Reference> = name.into_iter().cloned().collect();
    store_config(store, &config, layers, size, &names)
}

// ANCHOR: store_config
/// Stores an image whose layers are all in the store already: its config, a manifest naming
/// `layers` (the blobs, bottom first), its catalog entry, and last its names. Returns its id.
pub fn store_config(
    store: &ImageStore,
    config: &ImageConfig,
    layers: Vec<Descriptor>,
    size: u64,
    names: &[Reference],
) -> Result<Digest> {
    let config_bytes = config.to_json();
    let _adding = store.lock(Access::Add)?;
    let id = store.put_blob(&config_bytes, None, "the image config")?;
    let manifest = new_manifest(
        Descriptor::new(
            media_type::IMAGE_CONFIG,
            id.clone(),
            config_bytes.len() as u64,
        ),
        layers,
    );
    let manifest = store.put_blob(&manifest.to_json(), None, "the image manifest")?;
    store.update_catalog(|catalog| {
        catalog.images.insert(
            id.clone(),
            ImageEntry {
                manifest,
                size,
                repo_digests: Vec::new(),
            },
        );
        for name in names {
            catalog.tags.insert(name.to_string(), id.clone());
        }
        Ok(())
    })?;
    Ok(id)
}
// ANCHOR_END: store_config
