//! `inspect` and `history`: an image's details, as data.

use dockyard_support::clock::parse_rfc3339;
use serde_json::json;

use crate::digest::Digest;
use crate::error::Result;
use crate::image::Image;
use crate::reference::Reference;
use crate::store::ImageStore;

/// `inspect IMAGE`: the image as docker's `docker image inspect` shows it, with its field
/// names.
pub fn inspect(store: &ImageStore, reference: &str) -> Result<serde_json::Value> {
    let image = store.find_image(reference)?;
    let catalog = store.catalog()?;
    Ok(document(store, &image, &catalog.tags_of(&image.id)))
}

fn document(store: &ImageStore, image: &Image, tags: &[&str]) -> serde_json::Value {
    let config = &image.config;
    let tags: Vec<String> = tags
        .iter()
        .map(|t| {
            t.parse::<Reference>()
                .map_or(t.to_string(), |r| r.familiar())
        })
        .collect();
    let layers: Vec<String> = image
        .chain_ids()
        .iter()
        .map(|c| store.layer_dir(c).display().to_string())
        .collect();
    json!({
        "Id": image.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": image.entry.repo_digests,
        "Created": config.created,
        "Author": config.author.clone().unwrap_or_default(),
        "Config": config.config,
        "Architecture": config.architecture,
        "Variant": config.variant,
        "Os": config.os,
        "Size": image.entry.size,
        "GraphDriver": {
            "Name": "overlay",
            "Data": { "LowerDirs": layers.iter().rev().cloned().collect::<Vec<_>>().join(":") },
        },
        "RootFS": {
            "Type": config.rootfs.type_,
            "Layers": config.rootfs.diff_ids,
        },
        "Manifest": {
            "Digest": image.entry.manifest.to_string(),
            "MediaType": image.manifest.media_type,
        },
    })
}

/// One step of an image's history, as `docker history` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When it was made, in seconds since the epoch, if the config says.
    pub created: Option<i64>,
    /// The command that made it.
    pub created_by: String,
    /// Bytes of the layer it made (0 for a step that made none).
    pub size: u64,
    /// Its comment.
    pub comment: String,
}

/// `history IMAGE`: the image's id and its steps, newest first.
pub fn history(store: &ImageStore, reference: &str) -> Result<(Digest, Vec<Step>)> {
    let image = store.find_image(reference)?;
    // Each step that made a layer takes the next layer's size; the newest step is the image.
    let mut sizes = image
        .chain_ids()
        .into_iter()
        .map(|c| store.layer_size(&c))
        .collect::<Vec<_>>()
        .into_iter();
    let mut steps: Vec<Step> = image
        .config
        .history
        .iter()
        .map(|step| Step {
            created: step.created.as_deref().and_then(parse_rfc3339),
            created_by: step.created_by.clone().unwrap_or_default(),
            size: if step.empty_layer {
                0
            } else {
                sizes.next().unwrap_or(0)
            },
            comment: step.comment.clone().unwrap_or_default(),
        })
        .collect();
    steps.reverse();
    Ok((image.id, steps))
}
