//! `load -i FILE`: images from a `docker save` archive or an OCI image layout (a directory, or
//! a tar of one), into the store.
//!
//! Both formats come down to the same plan: a config, the layers in order, and the names to
//! give the image. [`store_image`] carries a plan out: the config is stored, each layer is
//! unpacked and stored in one pass (several at once), and the image is named last, so that
//! a load interrupted at any point leaves no name pointing at a half-stored image.

pub mod docker;
pub mod oci_layout;
pub mod source;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ch01_namespaces::{Actor, Narrator};
use dockyard_support::Sink;

use crate::digest::Digest;
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::oci::{Compression, Descriptor, ImageConfig, media_type};
use crate::reference::Reference;
use crate::store::layers::{LayerBlob, PendingLayer};
use crate::store::{Access, ImageEntry, ImageStore, chain_ids};
use source::Source;

/// How many layers are unpacked at once: each also has a reading thread of its own.
pub const PARALLEL_LAYERS: usize = 3;
/// The largest manifest, index or config `load` reads into memory.
pub const MAX_DOCUMENT: u64 = 4 << 20;

/// One image to store, as an archive describes it.
#[derive(Debug)]
pub struct Plan {
    /// The config's bytes, exactly as in the archive (the image id is their digest).
    pub config: Vec<u8>,
    /// The manifest's bytes, if the archive has one (an OCI layout does; `docker save`
    /// writes none, so one is made).
    pub manifest: Option<Vec<u8>>,
    /// Each layer: where it is in the source, and its digest if the source gives it.
    pub layers: Vec<PlannedLayer>,
    /// The names to give the image.
    pub tags: Vec<Reference>,
    /// `name@digest` of the manifest in the registry it came from (a pull).
    pub repo_digest: Option<String>,
}

/// One layer of a [`Plan`].
#[derive(Debug, Clone)]
pub struct PlannedLayer {
    /// Its path in the source.
    pub path: String,
    /// Its blob's digest and size, where the source names them.
    pub expected: Option<(Digest, u64)>,
    /// Its media type, where the source names one: the compression it must be in.
    pub media_type: Option<String>,
}

/// What happens to a layer while an image is stored, for a display like docker's (`pull`
/// shows it; `load` does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerProgress {
    /// The layer's position in the image, bottom first.
    pub index: usize,
    /// What happened to it.
    pub event: LayerEvent,
}

/// A layer's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEvent {
    /// The store has it: nothing to read.
    AlreadyExists,
    /// It will be read and unpacked.
    Waiting,
    /// It is being read and unpacked.
    Started,
    /// It is unpacked and checked.
    Done,
}

/// What was loaded: an image id and the names it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The image id (its config's digest).
    pub id: Digest,
    /// The names given to it.
    pub tags: Vec<Reference>,
}

/// Loads every image in the archive or layout at `path`; each layer's progress goes to
/// `progress`.
pub fn load(
    store: &ImageStore,
    path: &Path,
    n: &Narrator,
    progress: &dyn Sink<LayerProgress>,
) -> Result<Vec<Loaded>> {
    let source = source::open(path)?;
    let plans = if source.size(docker::MANIFEST).is_some() {
        n.say(
            Actor::Engine,
            format!("{}: a docker save archive", path.display()),
        );
        docker::plans(source.as_ref())?
    } else if source.size(oci_layout::LAYOUT_FILE).is_some() {
        n.say(
            Actor::Engine,
            format!("{}: an OCI image layout", path.display()),
        );
        oci_layout::plans(source.as_ref(), n)?
    } else {
        return Err(Error::UnknownFormat(path.display().to_string()));
    };
    plans
        .into_iter()
        .map(|plan| store_image(store, source.as_ref(), plan, n, progress))
        .collect()
}

// ANCHOR: store_image
/// Stores one image: its config, its layers (unpacked and kept as blobs), a manifest, and
/// last its names.
pub fn store_image(
    store: &ImageStore,
    source: &dyn Source,
    plan: Plan,
    n: &Narrator,
    progress: &dyn Sink<LayerProgress>,
) -> Result<Loaded> {
    let config = ImageConfig::parse(&plan.config)?;
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != plan.layers.len() {
        return Err(Error::Invalid(format!(
            "{}: the image config lists {} layers, the manifest {}",
            source.describe(),
            diff_ids.len(),
            plan.layers.len()
        )));
    }
    let id = Digest::sha256_of(&plan.config);
    let chains = chain_ids(diff_ids);
    let layers = layer_blobs(&plan, &id, diff_ids, &chains, source);
    let pending = unpack_layers(store, source, &plan.layers, &layers, &chains, n, progress)?;
    let (blobs, size) = stored_blobs(store, &plan, diff_ids, &chains, &layers, &pending)?;

    // Nothing is stored before every layer was read and checked: a bad layer leaves the
    // store as it was.
    let _adding = store.lock(Access::Add)?;
    store.commit_layers(pending.into_iter().map(|(_, p)| p).collect())?;
    store.put_blob(&plan.config, Some(&id), "the image config")?;
    let manifest = match plan.manifest {
        Some(bytes) => bytes,
        // `docker save` writes none: one is made from the blobs as they are stored.
        None => manifest_for(&id, plan.config.len(), blobs),
    };
    let manifest = store.put_blob(&manifest, None, "the image manifest")?;
    let entry = ImageEntry {
        manifest,
        size,
        repo_digests: plan.repo_digest.into_iter().collect(),
    };
    store.update_catalog(|catalog| {
        catalog.images.insert(id.clone(), entry);
        for tag in &plan.tags {
            catalog.tags.insert(tag.to_string(), id.clone());
        }
        Ok(())
    })?;
    Ok(Loaded {
        id,
        tags: plan.tags,
    })
}
// ANCHOR_END: store_image

/// What each layer of the plan must turn out to be, and how to name it in messages.
fn layer_blobs(
    plan: &Plan,
    id: &Digest,
    diff_ids: &[Digest],
    chains: &[Digest],
    source: &dyn Source,
) -> Vec<LayerBlob> {
    let name = plan
        .tags
        .first()
        .map_or_else(|| id.to_string(), Reference::familiar);
    plan.layers
        .iter()
        .zip(diff_ids)
        .enumerate()
        .map(|(i, (planned, diff_id))| LayerBlob {
            digest: planned.expected.as_ref().map(|(digest, _)| digest.clone()),
            diff_id: Some(diff_id.clone()),
            parent: i.checked_sub(1).map(|below| chains[below].clone()),
            what: format!("layer {} of {name} ({})", i + 1, planned.path),
            from: Some(source.describe()),
        })
        .collect()
}

/// A layer's blob as a manifest names it: digest, size, media type.
type BlobOf = (Digest, u64, &'static str);

/// The blobs as the manifest names them (the ones just unpacked, or the ones the store had),
/// and the image's size: the bytes of its uncompressed layers.
fn stored_blobs(
    store: &ImageStore,
    plan: &Plan,
    diff_ids: &[Digest],
    chains: &[Digest],
    layers: &[LayerBlob],
    pending: &[(usize, PendingLayer)],
) -> Result<(Vec<BlobOf>, u64)> {
    let mut blobs = Vec::with_capacity(layers.len());
    let mut size = 0;
    for (i, (planned, diff_id)) in plan.layers.iter().zip(diff_ids).enumerate() {
        let blob = match pending.iter().find(|(j, _)| *j == i) {
            Some((_, p)) => {
                check_media_type(planned, p, &layers[i].what)?;
                size += p.size;
                (p.digest.clone(), p.compressed_size, p.media_type())
            }
            None => {
                size += store.layer_size(&chains[i]);
                existing_blob(store, planned, diff_id)?
            }
        };
        blobs.push(blob);
    }
    Ok((blobs, size))
}

/// A manifest for an image that came without one.
fn manifest_for(id: &Digest, config_size: usize, blobs: Vec<BlobOf>) -> Vec<u8> {
    crate::image::new_manifest(
        Descriptor::new(media_type::IMAGE_CONFIG, id.clone(), config_size as u64),
        blobs
            .into_iter()
            .map(|(digest, size, media)| Descriptor::new(media, digest, size))
            .collect(),
    )
    .to_json()
}

/// Unpacks the layers the store lacks, [`PARALLEL_LAYERS`] at a time, largest first (so that
/// the longest does not start last); returns each with its position in the image. On any
/// failure, nothing unpacked is kept.
fn unpack_layers(
    store: &ImageStore,
    source: &dyn Source,
    planned: &[PlannedLayer],
    layers: &[LayerBlob],
    chains: &[Digest],
    n: &Narrator,
    progress: &dyn Sink<LayerProgress>,
) -> Result<Vec<(usize, PendingLayer)>> {
    let mut missing: Vec<usize> = (0..layers.len())
        .filter(|&i| {
            let layer = &layers[i];
            let have_blob = layer.digest.as_ref().is_none_or(|d| store.has_blob(d));
            let needed = !(store.has_layer(&chains[i]) && have_blob);
            let event = if needed {
                LayerEvent::Waiting
            } else {
                n.say(
                    Actor::Engine,
                    format!("{}: already in the store", layer.what),
                );
                LayerEvent::AlreadyExists
            };
            progress.send(LayerProgress { index: i, event });
            needed
        })
        .collect();
    missing.sort_by_key(|&i| std::cmp::Reverse(source.size(&planned[i].path).unwrap_or(0)));

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results = Mutex::new(Vec::with_capacity(missing.len()));
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_LAYERS.min(missing.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&i) = missing.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let layer = &layers[i];
                    n.say(Actor::Engine, format!("unpacking {}", layer.what));
                    progress.send(LayerProgress {
                        index: i,
                        event: LayerEvent::Started,
                    });
                    let result = source
                        .open(&planned[i].path)
                        .and_then(|reader| store.unpack_layer(reader, layer, n));
                    if result.is_ok() {
                        progress.send(LayerProgress {
                            index: i,
                            event: LayerEvent::Done,
                        });
                    }
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    results
                        .lock()
                        .expect("no worker panics holding it")
                        .push((i, result));
                }
            });
        }
    });
    let mut done = Vec::with_capacity(missing.len());
    let mut first_error = None;
    for (i, result) in results.into_inner().expect("the workers have ended") {
        match result {
            Ok(pending) => done.push((i, pending)),
            // The layer that failed first in the image's order is the one reported.
            Err(error) if first_error.as_ref().is_none_or(|(j, _)| i < *j) => {
                first_error = Some((i, error))
            }
            Err(_) => {}
        }
    }
    match first_error {
        // Dropping `done` removes what the other layers unpacked.
        Some((_, error)) => Err(error),
        None => Ok(done),
    }
}

/// A layer is decompressed as its media type says, as docker does: a `+gzip` layer that is
/// zstd, or a plain one that is compressed, is refused.
fn check_media_type(planned: &PlannedLayer, layer: &PendingLayer, what: &str) -> Result<()> {
    let Some(declared) = &planned.media_type else {
        return Ok(());
    };
    if media_type::layer_compression(declared) == Some(layer.compression) {
        return Ok(());
    }
    let content = match layer.compression {
        Compression::None => "a plain tar",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    };
    Err(Error::Invalid(format!(
        "{what} is declared {declared:?} but its content is {content}"
    )))
}

/// The blob of a layer the store already had: the one the source names, or (for a `docker
/// save` archive, whose layers are plain tars) the one named by its diff id.
fn existing_blob(
    store: &ImageStore,
    planned: &PlannedLayer,
    diff_id: &Digest,
) -> Result<(Digest, u64, &'static str)> {
    let (digest, size) = match &planned.expected {
        Some((digest, size)) => (digest.clone(), *size),
        None => {
            let path = store.blob_path(diff_id);
            let size = std::fs::metadata(&path)
                .map_err(Error::io("read", &path))?
                .len();
            (diff_id.clone(), size)
        }
    };
    let media = if digest == *diff_id {
        media_type::LAYER_TAR
    } else {
        media_type::LAYER_TAR_GZIP
    };
    Ok((digest, size, media))
}
