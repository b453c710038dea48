//! Images in the store: finding one by name or id, and reading its manifest and config.

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::oci::{Descriptor, ImageConfig, Manifest, media_type};
use crate::reference::Reference;
use crate::store::{ImageEntry, ImageStore, chain_ids};

/// An image of the store, its documents read.
#[derive(Debug, Clone)]
pub struct Image {
    /// Its id: the digest of its config.
    pub id: Digest,
    /// What the index keeps about it.
    pub entry: ImageEntry,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its config.
    pub config: ImageConfig,
}

impl Image {
    /// The id as docker shows it: 12 hex digits.
    pub fn short_id(&self) -> &str {
        &self.id.encoded()[..12]
    }

    /// The chain id of each layer, bottom first.
    pub fn chain_ids(&self) -> Vec<Digest> {
        chain_ids(&self.config.rootfs.diff_ids)
    }
}

impl ImageStore {
    /// The image `reference` names: a name (`busybox`, `busybox:1.36`, fully qualified or
    /// not), an id (`sha256:<hex>`), or an unambiguous prefix of an id, as docker accepts.
    pub fn find_image(&self, reference: &str) -> Result<Image> {
        let catalog = self.catalog()?;
        let by_name = reference
            .parse::<Reference>()
            .ok()
            .and_then(|r| catalog.tags.get(&r.to_string()).cloned());
        let id = match by_name {
            Some(id) => id,
            None => find_id(&catalog.images, reference)?,
        };
        let entry = catalog
            .images
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::CorruptStore {
                path: self.root().join("images.json"),
                message: format!(
                    "the name {reference:?} points at {id}, which is not in the catalog"
                ),
            })?;
        self.read_image(id, entry)
    }

    /// Reads an image's manifest and config from their blobs.
    pub fn read_image(&self, id: Digest, entry: ImageEntry) -> Result<Image> {
        let manifest = Manifest::parse(&self.read_blob(&entry.manifest)?)?;
        let config = ImageConfig::parse(&self.read_blob(&id)?)?;
        Ok(Image {
            id,
            entry,
            manifest,
            config,
        })
    }
}

/// The id that `reference` is, or is the prefix of: `sha256:<hex>`, `<hex>`, or the first
/// digits of either.
fn find_id(images: &BTreeMap<Digest, ImageEntry>, reference: &str) -> Result<Digest> {
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    let is_hex = !hex.is_empty()
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    if !is_hex {
        return Err(Error::NoSuchImage(reference.to_string()));
    }
    let mut matching = images.keys().filter(|id| id.encoded().starts_with(hex));
    match (matching.next(), matching.next()) {
        (Some(id), None) => Ok(id.clone()),
        (Some(_), Some(_)) => Err(Error::AmbiguousImage(reference.to_string())),
        (None, _) => Err(Error::NoSuchImage(reference.to_string())),
    }
}

/// A manifest for an image whose archive brought none (`docker save` writes none).
pub fn new_manifest(config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
    Manifest {
        schema_version: 2,
        media_type: Some(media_type::IMAGE_MANIFEST.to_string()),
        artifact_type: None,
        config,
        layers,
        subject: None,
        annotations: BTreeMap::new(),
    }
}
