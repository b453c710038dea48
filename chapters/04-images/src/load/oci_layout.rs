//! The OCI image layout: a directory (or a tar of one) holding `oci-layout`, `index.json`
//! and `blobs/<algorithm>/<hex>`. `index.json` lists the images; each entry's annotation
//! `org.opencontainers.image.ref.name` names it (a tag such as `latest`, or a whole reference),
//! and `io.containerd.image.name`, which docker writes, gives the whole reference.
//!
//! Every blob is checked against its descriptor's digest as it is read.

use ch01_namespaces::{Actor, Narrator};

use super::source::Source;
use super::{MAX_DOCUMENT, Plan, PlannedLayer};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::oci::{Descriptor, ImageIndex, Layout, Manifest, media_type};
use crate::platform::{self, Wanted};
use crate::reference::Reference;

/// The file that marks a directory as an image layout.
pub const LAYOUT_FILE: &str = "oci-layout";
/// The layout's list of images.
pub const INDEX_FILE: &str = "index.json";
/// The annotation naming an image in a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd and docker add with the image's whole name.
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// The images the layout holds, for this machine's platform.
pub fn plans(source: &dyn Source, n: &Narrator) -> Result<Vec<Plan>> {
    Layout::parse(&source.read(LAYOUT_FILE, MAX_DOCUMENT)?)?;
    let index = ImageIndex::parse(&source.read(INDEX_FILE, MAX_DOCUMENT)?)?;
    let host = Wanted::host();
    let mut plans = Vec::new();
    for entry in &index.manifests {
        let tags = names(entry);
        let manifest = if media_type::is_index(&entry.media_type) {
            let nested = ImageIndex::parse(&read_blob(source, entry)?)?;
            let chosen =
                host.choose(&nested.manifests)
                    .ok_or_else(|| Error::NoMatchingPlatform {
                        wanted: host.to_string(),
                        available: platform::listed(&nested.manifests),
                    })?;
            chosen.clone()
        } else if entry.platform.as_ref().is_some_and(|p| !host.matches(p)) {
            n.say(
                Actor::Engine,
                format!(
                    "skipping {} (for {})",
                    entry.digest,
                    platform::listed(std::slice::from_ref(entry))
                ),
            );
            continue;
        } else {
            entry.clone()
        };
        plans.push(plan(source, &manifest, tags)?);
    }
    if plans.is_empty() {
        return Err(Error::NoMatchingPlatform {
            wanted: host.to_string(),
            available: platform::listed(&index.manifests),
        });
    }
    Ok(plans)
}

/// The plan for one manifest.
fn plan(source: &dyn Source, descriptor: &Descriptor, tags: Vec<Reference>) -> Result<Plan> {
    if !media_type::is_manifest(&descriptor.media_type) {
        return Err(Error::Invalid(format!(
            "{}: {} is a {:?}, not an image manifest",
            source.describe(),
            descriptor.digest,
            descriptor.media_type
        )));
    }
    let bytes = read_blob(source, descriptor)?;
    let manifest = Manifest::parse(&bytes)?;
    for layer in &manifest.layers {
        if media_type::layer_compression(&layer.media_type).is_none() {
            return Err(Error::UnsupportedLayer(layer.media_type.clone()));
        }
    }
    Ok(Plan {
        config: read_blob(source, &manifest.config)?,
        manifest: Some(bytes),
        layers: manifest
            .layers
            .iter()
            .map(|layer| PlannedLayer {
                path: blob_path(&layer.digest),
                expected: Some((layer.digest.clone(), layer.size)),
                media_type: Some(layer.media_type.clone()),
            })
            .collect(),
        tags,
        repo_digest: None,
    })
}

/// The names an index entry gives its image: a whole reference, or none (a bare tag names no
/// repository: such an image loads by id, as docker loads it).
fn names(entry: &Descriptor) -> Vec<Reference> {
    let name = entry.annotations.get(CONTAINERD_NAME).or_else(|| {
        entry
            .annotations
            .get(REF_NAME)
            .filter(|n| n.contains(['/', ':']))
    });
    name.and_then(|n| n.parse().ok()).into_iter().collect()
}

/// `blobs/<algorithm>/<hex>`.
fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.encoded())
}

/// A document blob, checked against its descriptor.
fn read_blob(source: &dyn Source, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let what = format!("blob {} in {}", descriptor.digest, source.describe());
    if descriptor.size > MAX_DOCUMENT {
        return Err(Error::Invalid(format!(
            "{what}: {} bytes is too large for a {}",
            descriptor.size, descriptor.media_type
        )));
    }
    let bytes = source.read(&blob_path(&descriptor.digest), MAX_DOCUMENT)?;
    if bytes.len() as u64 != descriptor.size {
        return Err(Error::SizeMismatch {
            what,
            expected: descriptor.size,
            actual: bytes.len() as u64,
        });
    }
    let actual = Digest::sha256_of(&bytes);
    if descriptor.digest.is_sha256() && actual != descriptor.digest {
        return Err(Error::DigestMismatch {
            what,
            expected: descriptor.digest.clone(),
            actual,
        });
    }
    if !descriptor.digest.is_sha256() {
        return Err(Error::Invalid(format!(
            "{what}: only sha256 digests are supported"
        )));
    }
    Ok(bytes)
}
