//! `pull REF`: an image from a registry into the store.
//!
//! ```text
//! GET /v2/                                   is this a registry? (and a 401: how to log in)
//! GET /v2/<name>/manifests/<tag>             Accept: the OCI and Docker manifest types
//!   an index? GET /v2/<name>/manifests/<digest of this platform's manifest>
//! GET /v2/<name>/blobs/<config digest>       the config: the diff ids, what to run
//! GET /v2/<name>/blobs/<layer digest>        each layer the store lacks, three at a time,
//!                                            streamed through sha256 into chapter 03's apply
//! ```
//!
//! A pull is a load whose source is the registry: the layers go through the same
//! [`crate::load::store_image`], checked the same way, stored the same way.

use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

use ch01_namespaces::Narrator;
use dockyard_support::Sink;

use super::blob::BlobStream;
use super::client::{Client, Payload, header};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::load::source::Source;
use crate::load::{LayerProgress, Loaded, MAX_DOCUMENT, Plan, PlannedLayer, store_image};
use crate::oci::{ImageIndex, Manifest, media_type};
use crate::platform::{self, Wanted};
use crate::reference::Reference;
use crate::store::ImageStore;

/// The manifest types a pull accepts, in the `Accept` header.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// How a pull is done.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to choose from an index.
    pub platform: Wanted,
    /// Registries that may be spoken to over plain HTTP.
    pub insecure: Vec<String>,
}

/// What happens during a pull, in the order docker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullEvent {
    /// The reference resolved to a manifest: docker's `latest: Pulling from library/busybox`.
    Resolved {
        /// The tag or digest pulled.
        tag_or_digest: String,
        /// The repository it is pulled from.
        repository: String,
    },
    /// The image's layers, bottom first, once its manifest is read (none when the store is
    /// up to date).
    Layers(Vec<PulledLayer>),
    /// A layer's progress.
    Layer(LayerProgress),
    /// More bytes of layer `index` arrived.
    Downloaded {
        /// The layer's position in the image, bottom first.
        index: usize,
        /// How many bytes arrived.
        bytes: u64,
    },
}

/// A layer as a pull shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledLayer {
    /// The first 12 hex digits of its blob's digest, as docker shows layers.
    pub short_id: String,
    /// The size of its blob.
    pub size: u64,
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The image id.
    pub id: Digest,
    /// The digest the registry gave for the reference (the index's, for a multi-platform image).
    pub digest: Digest,
    /// Whether the store had the image already.
    pub up_to_date: bool,
}

// ANCHOR: pull
/// Pulls `reference` into the store; what happens goes to `events` as it happens.
pub fn pull(
    store: &ImageStore,
    reference: &Reference,
    options: &PullOptions,
    n: &Narrator,
    events: &dyn Sink<PullEvent>,
) -> Result<Pulled> {
    let client = Arc::new(Client::for_repository(
        reference,
        "pull",
        &options.insecure,
        n,
    )?);
    let tag_or_digest = match (&reference.digest, &reference.tag) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => tag.clone(),
        (None, None) => crate::reference::DEFAULT_TAG.to_string(),
    };
    client.ping()?;
    let (top_digest, top_type, top_bytes) =
        fetch_manifest(&client, &tag_or_digest, reference.digest.as_ref())?;
    events.send(PullEvent::Resolved {
        tag_or_digest: tag_or_digest.clone(),
        repository: reference.repository.clone(),
    });
    // An index lists a manifest per platform: this machine's (or --platform's) is the image.
    let chosen = match media_type::is_index(&top_type) {
        true => Some(choose_platform(&top_bytes, &options.platform)?),
        false => None,
    };
    let manifest_digest = chosen.clone().unwrap_or_else(|| top_digest.clone());
    if let Some(id) = up_to_date(store, reference, &manifest_digest)? {
        return Ok(Pulled {
            id,
            digest: top_digest,
            up_to_date: true,
        });
    }
    let manifest_bytes = match &chosen {
        Some(digest) => fetch_manifest(&client, &digest.to_string(), Some(digest))?.2,
        None => top_bytes,
    };
    let repo_digest = format!("{}@{top_digest}", reference.name());
    let manifest = Manifest::parse(&manifest_bytes)?;
    let layers = planned_layers(&manifest)?;
    let config = match store.has_blob(&manifest.config.digest) {
        true => store.read_blob(&manifest.config.digest)?,
        false => fetch_blob(&client, &manifest.config.digest, manifest.config.size)?,
    };
    let plan = Plan {
        config,
        manifest: Some(manifest_bytes),
        layers,
        tags: reference.tag.iter().map(|_| reference.clone()).collect(),
        repo_digest: Some(repo_digest),
    };
    let loaded = download(store, &client, &manifest, plan, n, events)?;
    Ok(Pulled {
        id: loaded.id,
        digest: top_digest,
        up_to_date: false,
    })
}
// ANCHOR_END: pull

/// The manifest an index lists for `wanted`'s platform.
fn choose_platform(index: &[u8], wanted: &Wanted) -> Result<Digest> {
    let index = ImageIndex::parse(index)?;
    let chosen = wanted
        .choose(&index.manifests)
        .ok_or_else(|| Error::NoMatchingPlatform {
            wanted: wanted.to_string(),
            available: platform::listed(&index.manifests),
        })?;
    Ok(chosen.digest.clone())
}

/// The manifest's layers, each named by its digest in the registry; refused if one is of a
/// media type this engine does not unpack.
fn planned_layers(manifest: &Manifest) -> Result<Vec<PlannedLayer>> {
    manifest
        .layers
        .iter()
        .map(|l| match media_type::layer_compression(&l.media_type) {
            None => Err(Error::UnsupportedLayer(l.media_type.clone())),
            Some(_) => Ok(PlannedLayer {
                path: l.digest.to_string(),
                expected: Some((l.digest.clone(), l.size)),
                media_type: Some(l.media_type.clone()),
            }),
        })
        .collect()
}

// ANCHOR: download
/// Downloads and stores the layers the store lacks, as `load` stores an archive's: the
/// registry is the source of the blobs, and what arrives is counted into `events`.
fn download(
    store: &ImageStore,
    client: &Arc<Client>,
    manifest: &Manifest,
    plan: Plan,
    n: &Narrator,
    events: &dyn Sink<PullEvent>,
) -> Result<Loaded> {
    events.send(PullEvent::Layers(
        manifest
            .layers
            .iter()
            .map(|l| PulledLayer {
                short_id: l.digest.encoded()[..12].to_string(),
                size: l.size,
            })
            .collect(),
    ));
    // The layers are read on threads that outlive no borrow: they count what arrives into a
    // channel, and this thread passes the counts on to `events` while the image is stored.
    let (downloaded, arrivals) = channel();
    let source = RegistrySource {
        client: Arc::clone(client),
        layers: manifest
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.digest.to_string(), (i, l.size)))
            .collect(),
        downloaded,
        failure: Arc::default(),
    };
    let progress = |layer| events.send(PullEvent::Layer(layer));
    let loaded = std::thread::scope(|scope| {
        scope.spawn(|| {
            for (index, bytes) in arrivals {
                events.send(PullEvent::Downloaded { index, bytes });
            }
        });
        let stored = store_image(store, &source, plan, n, &progress);
        // The last sender goes with the source: the passing thread ends.
        let failure = source.failure.lock().expect("not poisoned").take();
        drop(source);
        // A layer cut short because the registry went away is not a corrupt layer.
        stored.map_err(|error| failure.unwrap_or(error))
    })?;
    Ok(loaded)
}
// ANCHOR_END: download

/// The image the reference names, if the store has it from the same manifest (and, for a
/// tag, the tag names it already).
fn up_to_date(
    store: &ImageStore,
    reference: &Reference,
    manifest: &Digest,
) -> Result<Option<Digest>> {
    let catalog = store.catalog()?;
    let found = catalog.images.iter().find(|(id, entry)| {
        entry.manifest == *manifest
            && (reference.tag.is_none() || catalog.tags.get(&reference.to_string()) == Some(*id))
    });
    Ok(found.map(|(id, _)| id.clone()))
}

/// A manifest (or index) by tag or digest: its digest, media type and bytes. By digest, the
/// bytes must have it; by tag, the registry's `Docker-Content-Digest`, if given, must match.
fn fetch_manifest(
    client: &Client,
    tag_or_digest: &str,
    expected: Option<&Digest>,
) -> Result<(Digest, String, Vec<u8>)> {
    let path = client.path(&format!("manifests/{tag_or_digest}"));
    let mut response = client.send(
        "GET",
        &path,
        &[("Accept", ACCEPT.to_string())],
        &Payload::Empty,
    )?;
    if response.status() == 404 {
        return Err(Error::ManifestUnknown {
            repository: format!("{}/{}", client.registry(), client.repository()),
            tag: tag_or_digest.to_string(),
        });
    }
    if response.status() != 200 {
        return Err(client.failure(&format!("GET {path}"), response));
    }
    let announced = header(&response, "docker-content-digest");
    let content_type = header(&response, "content-type").unwrap_or_default();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_DOCUMENT)
        .read_to_vec()
        .map_err(|e| Error::Registry(format!("read {path}: {e}")))?;
    let digest = Digest::sha256_of(&bytes);
    let what = format!("the manifest {tag_or_digest}");
    for claimed in expected
        .cloned()
        .into_iter()
        .chain(announced.and_then(|a| a.parse().ok()))
    {
        if claimed.is_sha256() && claimed != digest {
            return Err(Error::DigestMismatch {
                what: what.clone(),
                expected: claimed,
                actual: digest,
            });
        }
    }
    // The media type is the document's own when it names one, else what the server said.
    let media = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_string))
        .unwrap_or(content_type);
    Ok((digest, media, bytes))
}

/// A small blob (a config), read whole and checked.
fn fetch_blob(client: &Arc<Client>, digest: &Digest, size: u64) -> Result<Vec<u8>> {
    if size > MAX_DOCUMENT {
        return Err(Error::Invalid(format!(
            "the config {digest} is {size} bytes: too large"
        )));
    }
    let mut stream = BlobStream::open(
        Arc::clone(client),
        client.path(&format!("blobs/{digest}")),
        size,
    )?;
    let mut bytes = Vec::new();
    (&mut stream)
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Registry(format!("read the config {digest}: {e}")))?;
    let actual = Digest::sha256_of(&bytes);
    if actual != *digest {
        return Err(Error::DigestMismatch {
            what: "the image config".into(),
            expected: digest.clone(),
            actual,
        });
    }
    Ok(bytes)
}

/// The registry as a source of layer blobs, by digest; what is read is counted.
struct RegistrySource {
    client: Arc<Client>,
    /// Each layer's position in the image and size, by digest.
    layers: HashMap<String, (usize, u64)>,
    /// Where each read's count goes: (layer index, bytes).
    downloaded: Sender<(usize, u64)>,
    /// The first failure to reach the registry while a layer was read.
    failure: Arc<Mutex<Option<Error>>>,
}

impl Source for RegistrySource {
    fn describe(&self) -> String {
        format!("{}/{}", self.client.registry(), self.client.repository())
    }

    fn size(&self, digest: &str) -> Option<u64> {
        self.layers.get(digest).map(|(_, size)| *size)
    }

    fn open(&self, digest: &str) -> Result<Box<dyn Read + Send>> {
        let (index, size) = self.layers.get(digest).copied().unwrap_or((0, 0));
        let path = self.client.path(&format!("blobs/{digest}"));
        let stream = BlobStream::open(Arc::clone(&self.client), path, size)?
            .keep_failure_in(Arc::clone(&self.failure));
        Ok(Box::new(Counting {
            inner: stream,
            index,
            downloaded: self.downloaded.clone(),
        }))
    }
}

/// A reader that counts the bytes of one layer as they arrive.
struct Counting<R> {
    inner: R,
    index: usize,
    downloaded: Sender<(usize, u64)>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            // The receiver is gone only once the pull is over; nobody is left to tell.
            let _pull_over = self.downloaded.send((self.index, n as u64));
        }
        Ok(n)
    }
}
