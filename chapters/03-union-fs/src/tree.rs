//! Reading layer directories: what a stack of layers shows, and the marks overlayfs leaves.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::whiteout::OVERLAY_OPAQUE_XATTR;
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// Whether `meta` is an overlayfs whiteout: a character device with device number 0/0.
pub fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Whether the directory at `path` is marked opaque (`trusted.overlay.opaque=y`): it hides
/// everything below it in lower layers.
pub fn is_opaque(path: &Path) -> bool {
    let mut value = [0u8; 4];
    matches!(
        rustix::fs::lgetxattr(path, OVERLAY_OPAQUE_XATTR, &mut value[..]),
        Ok(1) if value[0] == b'y'
    )
}

/// Every entry under `dir`, parents before children, siblings in name order, as
/// (path relative to `dir`, metadata). Symbolic links are not followed.
pub fn walk(dir: &Path) -> impl Iterator<Item = Result<(PathBuf, Metadata)>> + '_ {
    WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .map(move |entry| {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(dir).to_path_buf();
                Error::io("walk", path)(e.into())
            })?;
            let meta = entry
                .metadata()
                .map_err(|e| Error::io("stat", entry.path())(e.into()))?;
            let relative = entry
                .path()
                .strip_prefix(dir)
                .expect("walkdir yields paths under its root")
                .to_path_buf();
            Ok((relative, meta))
        })
}

/// One file as the stack shows it: which layer it comes from, and its metadata there.
#[derive(Debug, Clone)]
pub struct Node {
    /// Index into the layers, 0 = bottom.
    pub layer: usize,
    /// The file's metadata in that layer.
    pub meta: Metadata,
}

impl Node {
    /// The file's path on disk.
    pub fn source(&self, layers: &[PathBuf], path: &Path) -> PathBuf {
        layers[self.layer].join(path)
    }
}

// ANCHOR: lower_view
/// What the stack of `layers` (bottom first) shows, path by path, as overlayfs would: each layer
/// is laid over the ones below; a whiteout removes a path and everything under it; an opaque
/// directory hides everything the lower layers had inside it.
pub fn lower_view(layers: &[PathBuf]) -> Result<BTreeMap<PathBuf, Node>> {
    let mut view: BTreeMap<PathBuf, Node> = BTreeMap::new();
    for (index, layer) in layers.iter().enumerate() {
        for entry in walk(layer) {
            let (path, meta) = entry?;
            if is_whiteout(&meta) {
                remove_subtree(&mut view, &path);
                continue;
            }
            if meta.is_dir() && is_opaque(&layer.join(&path)) {
                // This layer's own children come later in the walk, so only lower ones go.
                remove_subtree(&mut view, &path);
            } else if !meta.is_dir() {
                // A file replacing a lower directory hides its contents too.
                remove_subtree(&mut view, &path);
            }
            view.insert(path, Node { layer: index, meta });
        }
    }
    Ok(view)
}
// ANCHOR_END: lower_view

/// Removes `path` and everything under it from `view`.
fn remove_subtree(view: &mut BTreeMap<PathBuf, Node>, path: &Path) {
    view.remove(path);
    let under: Vec<PathBuf> = view
        .range::<Path, _>((std::ops::Bound::Excluded(path), std::ops::Bound::Unbounded))
        .map(|(p, _)| p)
        .take_while(|p| p.starts_with(path))
        .cloned()
        .collect();
    for p in under {
        view.remove(&p);
    }
}
