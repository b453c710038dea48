//! `rmi`: removing names, and images left without one; and the collector of what no image
//! and no container uses any more.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ch03_union_fs::lifecycle;
use ch03_union_fs::store::State;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::reference::Reference;
use crate::store::{Access, ImageStore};

/// What a removal did, step by step, as docker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// A name was removed (as docker shows names: `busybox:latest`).
    Untagged(String),
    /// The image itself was deleted.
    Deleted(Digest),
}

impl std::fmt::Display for Removed {
    /// `Untagged: busybox:latest`, `Deleted: sha256:…`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Removed::Untagged(name) => write!(f, "Untagged: {name}"),
            Removed::Deleted(id) => write!(f, "Deleted: {id}"),
        }
    }
}

// ANCHOR: remove_image
/// Removes one name, and the image with its last name, as docker does: an image that a
/// container uses stays unless forced (and one that a running container uses, even then); an
/// image named by id that has several names stays unless forced. Returns what it removed.
pub fn remove_image(store: &ImageStore, reference: &str, force: bool) -> Result<Vec<Removed>> {
    let image = store.find_image(reference)?;
    let catalog = store.catalog()?;
    let names: Vec<String> = catalog
        .tags_of(&image.id)
        .into_iter()
        .map(str::to_string)
        .collect();
    let by_name = reference
        .parse::<Reference>()
        .ok()
        .map(|r| r.to_string())
        .filter(|r| names.contains(r));
    if let Some(name) = &by_name
        && names.len() > 1
    {
        // Another name remains: only this one goes.
        untag(store, &image.id, std::slice::from_ref(name))?;
        return Ok(vec![Removed::Untagged(familiar(name))]);
    }
    if by_name.is_none() && names.len() > 1 && !force {
        return Err(Error::ImageHasNames {
            image: image.short_id().to_string(),
            names: names.len(),
        });
    }
    // The last name, or the image itself: it goes, unless a container stands on its layers.
    let users = containers_using(store, &image)?;
    if let Some((container, running)) = users.iter().find(|(_, running)| *running || !force) {
        return Err(Error::ImageInUse {
            reference: reference.to_string(),
            container: container.clone(),
            image: image.short_id().to_string(),
            running: *running,
        });
    }
    untag(store, &image.id, &names)?;
    store.update_catalog(|catalog| {
        catalog.images.remove(&image.id);
        Ok(())
    })?;
    // What a stopped container stands on stays until it is removed: collection keeps the
    // layers of every container.
    collect_garbage(store)?;
    let mut removed: Vec<Removed> = names
        .iter()
        .map(|n| Removed::Untagged(familiar(n)))
        .collect();
    removed.push(Removed::Deleted(image.id));
    Ok(removed)
}
// ANCHOR_END: remove_image

/// The containers that stand on the image's layers: their short ids, and whether each runs.
fn containers_using(store: &ImageStore, image: &Image) -> Result<Vec<(String, bool)>> {
    let layers: Vec<PathBuf> = image
        .chain_ids()
        .iter()
        .map(|c| store.layer_dir(c))
        .collect();
    Ok(store
        .containers()
        .list()?
        .into_iter()
        .filter(|c| c.layers == layers)
        .map(|c| {
            let running = matches!(lifecycle::effective_state(&c), State::Running { .. });
            (c.short_id().to_string(), running)
        })
        .collect())
}

/// Removes the names `names` of the image `id` (if they still point at it).
fn untag(store: &ImageStore, id: &Digest, names: &[String]) -> Result<()> {
    store.update_catalog(|catalog| {
        for name in names {
            if catalog.tags.get(name) == Some(id) {
                catalog.tags.remove(name);
            }
        }
        Ok(())
    })
}

/// A stored name as docker shows it.
fn familiar(name: &str) -> String {
    name.parse::<Reference>()
        .map_or(name.to_string(), |r| r.familiar())
}

/// Removes every blob and layer that no image of the catalog and no container uses.
pub fn collect_garbage(store: &ImageStore) -> Result<()> {
    // Alone: an image being added has blobs and layers under their names before its name.
    let _alone = store.lock(Access::Collect)?;
    let catalog = store.catalog()?;
    let mut blobs = BTreeSet::new();
    let mut layers = BTreeSet::new();
    for (id, entry) in &catalog.images {
        let image = store.read_image(id.clone(), entry.clone())?;
        blobs.insert(id.clone());
        blobs.insert(entry.manifest.clone());
        blobs.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
        layers.extend(image.chain_ids());
    }
    let used_by_containers: BTreeSet<PathBuf> = store
        .containers()
        .list()?
        .into_iter()
        .flat_map(|c| c.layers)
        .collect();
    for chain in store.list_layers()? {
        if !layers.contains(&chain) && !used_by_containers.contains(&store.layer_dir(&chain)) {
            store.remove_layer(&chain)?;
        }
    }
    for blob in store.list_blobs()? {
        if !blobs.contains(&blob) {
            store.remove_blob(&blob)?;
        }
    }
    Ok(())
}
