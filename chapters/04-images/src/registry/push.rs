//! `push REF`: an image of the store into a registry.
//!
//! ```text
//! HEAD /v2/<name>/blobs/<digest>             for each layer and the config: there already?
//! POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>
//!                                            in another repository of the registry? then the
//!                                            registry links it (201) and nothing travels
//! POST /v2/<name>/blobs/uploads/             no: start an upload; the answer's Location says where
//! PATCH <location>                           a large blob, a chunk at a time (Content-Range)
//! PUT  <location>?digest=<digest>            the blob (or its last chunk) and the digest to check
//! PUT  /v2/<name>/manifests/<tag>            last, the manifest: the registry refuses one that
//!                                            names blobs it does not have
//! ```

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use ch01_namespaces::Narrator;
use dockyard_support::Sink;

use super::client::{Client, Payload, header};
use crate::digest::Digest;
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::oci::media_type;
use crate::reference::Reference;
use crate::store::ImageStore;

/// Blobs larger than this are uploaded in chunks of this size, by default.
pub const DEFAULT_CHUNK: u64 = 64 << 20;

/// How a push is done.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Registries that may be spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// Blobs larger than this go in chunks of this size.
    pub chunk: u64,
}

impl Default for PushOptions {
    fn default() -> PushOptions {
        PushOptions {
            insecure: Vec::new(),
            chunk: DEFAULT_CHUNK,
        }
    }
}

/// What happens during a push, in the order docker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushEvent {
    /// The push starts: docker's `The push refers to repository [...]`.
    Started {
        /// The repository, with its registry.
        repository: String,
    },
    /// A layer is in the registry, top layer first.
    Layer {
        /// The first 12 hex digits of its blob's digest.
        short_id: String,
        /// How it got there.
        outcome: Uploaded,
    },
}

/// How a blob got into the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploaded {
    /// The registry had it.
    AlreadyExists,
    /// The registry linked it from another of its repositories.
    MountedFrom(String),
    /// It was uploaded.
    Pushed,
}

impl std::fmt::Display for Uploaded {
    /// As docker says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Uploaded::AlreadyExists => f.write_str("Layer already exists"),
            Uploaded::MountedFrom(repository) => write!(f, "Mounted from {repository}"),
            Uploaded::Pushed => f.write_str("Pushed"),
        }
    }
}

/// What a push did: the manifest the registry now has under the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The tag pushed.
    pub tag: String,
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's size in bytes.
    pub size: usize,
}

// ANCHOR: push
/// Pushes the image `reference` names; what happens goes to `events` as it happens.
pub fn push(
    store: &ImageStore,
    reference: &Reference,
    options: &PushOptions,
    n: &Narrator,
    events: &dyn Sink<PushEvent>,
) -> Result<Pushed> {
    let image = store.find_image(&reference.to_string())?;
    let client = Arc::new(Client::for_repository(
        reference,
        "pull,push",
        &options.insecure,
        n,
    )?);
    events.send(PushEvent::Started {
        repository: reference.name(),
    });
    client.ping()?;
    let pusher = Pusher {
        store,
        client: &client,
        reference,
        chunk: options.chunk.max(1),
    };
    for layer in image.manifest.layers.iter().rev() {
        let outcome = pusher.blob(&layer.digest)?;
        events.send(PushEvent::Layer {
            short_id: layer.digest.encoded()[..12].to_string(),
            outcome,
        });
    }
    pusher.blob(&image.id)?;

    let manifest = store.read_blob(&image.entry.manifest)?;
    let content_type = image
        .manifest
        .media_type
        .clone()
        .unwrap_or_else(|| media_type::IMAGE_MANIFEST.to_string());
    let tag = reference
        .tag
        .clone()
        .unwrap_or_else(|| crate::reference::DEFAULT_TAG.to_string());
    let path = client.path(&format!("manifests/{tag}"));
    let headers = [("Content-Type", content_type)];
    let response = client.send("PUT", &path, &headers, &Payload::Bytes(manifest.clone()))?;
    if response.status() != 201 {
        return Err(client.failure(&format!("PUT {path}"), response));
    }
    Ok(Pushed {
        tag,
        digest: image.entry.manifest.clone(),
        size: manifest.len(),
    })
}
// ANCHOR_END: push

/// The blobs of one push.
struct Pusher<'a> {
    store: &'a ImageStore,
    client: &'a Client,
    reference: &'a Reference,
    chunk: u64,
}

impl Pusher<'_> {
    /// Uploads one blob unless the registry has it.
    fn blob(&self, digest: &Digest) -> Result<Uploaded> {
        let client = self.client;
        let path = client.path(&format!("blobs/{digest}"));
        let response = client.send("HEAD", &path, &[], &Payload::Empty)?;
        match response.status().as_u16() {
            200 => return Ok(Uploaded::AlreadyExists),
            404 => {}
            _ => return Err(client.failure(&format!("HEAD {path}"), response)),
        }
        let uploads = client.path("blobs/uploads/");
        let source = self.mount_source(digest)?;
        let start = match &source {
            Some(from) => format!("{uploads}?mount={digest}&from={from}"),
            None => uploads,
        };
        let response = client.send("POST", &start, &[], &Payload::Empty)?;
        match response.status().as_u16() {
            // Mounted from the other repository: nothing to send.
            201 => return Ok(Uploaded::MountedFrom(source.unwrap_or_default())),
            202 => {}
            _ => return Err(client.failure(&format!("POST {start}"), response)),
        }
        let location = location(client, &response)?;
        let blob = self.store.blob_path(digest);
        let size = std::fs::metadata(&blob)
            .map_err(Error::io("read", &blob))?
            .len();
        if size <= self.chunk {
            self.finish(&location, digest, Payload::File(blob))?;
        } else {
            self.upload_in_chunks(location, digest, &blob, size)?;
        }
        Ok(Uploaded::Pushed)
    }

    /// Another repository of the same registry the store pulled an image with this blob from,
    /// for a cross-repository mount.
    fn mount_source(&self, digest: &Digest) -> Result<Option<String>> {
        let catalog = self.store.catalog()?;
        for (id, entry) in &catalog.images {
            let Some(repository) = entry.repo_digests.iter().find_map(|d| {
                let name = d.split_once('@')?.0;
                let (registry, repository) = name.split_once('/')?;
                (registry == self.reference.registry && repository != self.reference.repository)
                    .then(|| repository.to_string())
            }) else {
                continue;
            };
            let image = self.store.read_image(id.clone(), entry.clone())?;
            let has =
                image.id == *digest || image.manifest.layers.iter().any(|l| l.digest == *digest);
            if has {
                return Ok(Some(repository));
            }
        }
        Ok(None)
    }

    /// `PATCH` chunk after chunk, each answered with the next location, then the last `PUT`.
    fn upload_in_chunks(
        &self,
        mut location: String,
        digest: &Digest,
        blob: &std::path::Path,
        size: u64,
    ) -> Result<()> {
        let mut file = File::open(blob).map_err(Error::io("open", blob))?;
        let mut offset = 0;
        while offset < size {
            let length = self.chunk.min(size - offset);
            let mut bytes = vec![0; length as usize];
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.read_exact(&mut bytes))
                .map_err(Error::io("read", blob))?;
            let headers = [
                ("Content-Type", "application/octet-stream".to_string()),
                ("Content-Range", format!("{offset}-{}", offset + length - 1)),
            ];
            let response =
                self.client
                    .send("PATCH", &location, &headers, &Payload::Bytes(bytes))?;
            if response.status() != 202 {
                return Err(self.client.failure("PATCH a chunk of the blob", response));
            }
            location = self::location(self.client, &response)?;
            offset += length;
        }
        self.finish(&location, digest, Payload::Empty)
    }

    /// The `PUT` that ends an upload, naming the digest the registry checks the blob by.
    fn finish(&self, location: &str, digest: &Digest, payload: Payload) -> Result<()> {
        let separator = if location.contains('?') { '&' } else { '?' };
        let target = format!("{location}{separator}digest={digest}");
        let headers = [("Content-Type", "application/octet-stream".to_string())];
        let response = self.client.send("PUT", &target, &headers, &payload)?;
        if response.status() != 201 {
            return Err(self.client.failure("PUT the blob", response));
        }
        Ok(())
    }
}

/// The `Location` an upload continues at.
fn location(client: &Client, response: &ureq::http::Response<ureq::Body>) -> Result<String> {
    header(response, "location").ok_or_else(|| {
        Error::Registry(format!(
            "{}: an upload answer without a Location",
            client.registry()
        ))
    })
}
