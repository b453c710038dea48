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
use std::sync::{Arc, Mutex};

use ch01_namespaces::Narrator;

use super::blob::BlobStream;
use super::client::{Client, Payload, header};
use super::progress::Display;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::load::source::Source;
use crate::load::{MAX_DOCUMENT, Plan, PlannedLayer, store_image};
use crate::oci::{Index, Manifest, media_type};
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
/// Pulls `reference` into the store, printing docker's progress lines on stdout.
pub fn pull(
    store: &ImageStore,
    reference: &Reference,
    options: &PullOptions,
    n: &Narrator,
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
    // As docker, the first line once the reference resolved.
    println!("{tag_or_digest}: Pulling from {}", reference.repository);
    // An index lists a manifest per platform: this machine's (or --platform's) is the image.
    let chosen =
        if media_type::is_index(&top_type) {
            let index = Index::parse(&top_bytes)?;
            let chosen = options.platform.choose(&index.manifests).ok_or_else(|| {
                Error::NoMatchingPlatform {
                    wanted: options.platform.to_string(),
                    available: platform::listed(&index.manifests),
                }
            })?;
            Some(chosen.digest.clone())
        } else {
            None
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
    for layer in &manifest.layers {
        if media_type::layer_compression(&layer.media_type).is_none() {
            return Err(Error::UnsupportedLayer(layer.media_type.clone()));
        }
    }
    let config = match store.has_blob(&manifest.config.digest) {
        true => store.read_blob(&manifest.config.digest)?,
        false => fetch_blob(&client, &manifest.config.digest, manifest.config.size)?,
    };
    let display = Arc::new(Display::new(
        manifest
            .layers
            .iter()
            .map(|l| (l.digest.encoded()[..12].to_string(), l.size))
            .collect(),
    ));
    let source = RegistrySource {
        client: Arc::clone(&client),
        layers: manifest
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.digest.to_string(), (i, l.size)))
            .collect(),
        display: Arc::clone(&display),
        failure: Arc::default(),
    };
    let plan = Plan {
        config,
        manifest: Some(manifest_bytes),
        layers: manifest
            .layers
            .iter()
            .map(|l| PlannedLayer {
                path: l.digest.to_string(),
                expected: Some((l.digest.clone(), l.size)),
                media_type: Some(l.media_type.clone()),
            })
            .collect(),
        tags: reference.tag.iter().map(|_| reference.clone()).collect(),
        repo_digest: Some(repo_digest),
    };
    let loaded = store_image(store, &source, plan, n, display.as_ref()).map_err(|error| {
        // A layer cut short because the registry went away is not a corrupt layer.
        let unreachable = source.failure.lock().expect("not poisoned").take();
        unreachable.unwrap_or(error)
    })?;
    Ok(Pulled {
        id: loaded.id,
        digest: top_digest,
        up_to_date: false,
    })
}
// ANCHOR_END: pull

/// The image the reference names, if the store has it from the same manifest (and, for a
/// tag, the tag names it already).
fn up_to_date(
    store: &ImageStore,
    reference: &Reference,
    manifest: &Digest,
) -> Result<Option<Digest>> {
    let index = store.index()?;
    let found = index.images.iter().find(|(id, entry)| {
        entry.manifest == *manifest
            && (reference.tag.is_none() || index.tags.get(&reference.to_string()) == Some(*id))
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

/// The registry as a source of layer blobs, by digest; what is read is counted into the
/// display.
struct RegistrySource {
    client: Arc<Client>,
    /// Each layer's position in the image and size, by digest.
    layers: HashMap<String, (usize, u64)>,
    display: Arc<Display>,
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
        Ok(Box::new(self.display.counting(index, stream)))
    }
}
