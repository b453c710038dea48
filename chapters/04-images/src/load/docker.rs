//! The `docker save` archive: a tar with `manifest.json` listing, for each image, its config
//! file, its names and its layer tars, bottom first:
//!
//! ```json
//! [{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": ["<hex>.tar", ...]}]
//! ```
//!
//! Older engines put each layer at `<id>/layer.tar`; newer ones write an OCI layout with
//! `blobs/sha256/<hex>` beside the same `manifest.json`. Either way the paths are read from the
//! manifest, so one reader does for all.

use serde::Deserialize;

use super::source::Source;
use super::{MAX_DOCUMENT, Plan, PlannedLayer};
use crate::error::{Error, Result};
use crate::reference::Reference;

/// The archive's table of contents.
pub const MANIFEST: &str = "manifest.json";

/// One image in `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The images the archive holds.
pub fn plans(source: &dyn Source) -> Result<Vec<Plan>> {
    let manifest = source.read(MANIFEST, MAX_DOCUMENT)?;
    let entries: Vec<Entry> = serde_json::from_slice(&manifest)
        .map_err(|e| Error::Invalid(format!("{}: invalid {MANIFEST}: {e}", source.describe())))?;
    entries
        .into_iter()
        .map(|entry| {
            let tags = entry
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|tag| tag.parse::<Reference>())
                .collect::<Result<Vec<_>>>()?;
            Ok(Plan {
                config: source.read(&entry.config, MAX_DOCUMENT)?,
                manifest: None,
                layers: entry
                    .layers
                    .into_iter()
                    .map(|path| PlannedLayer {
                        path,
                        expected: None,
                        media_type: None,
                    })
                    .collect(),
                tags,
                repo_digest: None,
            })
        })
        .collect()
}
