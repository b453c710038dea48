//! `save -o FILE IMAGE...`: images out of the store, as a `docker save` archive (the
//! default) or an OCI image layout in a tar.
//!
//! - **docker**: `manifest.json` names each image's config (`<id>.json`), its names and its
//!   layers (`<diff id>/layer.tar`). The layers are plain tars: the stored blobs are
//!   decompressed on the way out, so each file's digest is the layer's diff id.
//! - **oci**: `oci-layout`, `index.json` (an entry per name, annotated with it) and the blobs
//!   exactly as stored, so the manifest digests survive the trip.
//!
//! Entries carry no time or owner of this machine: saving the same images twice writes the
//! same bytes.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use ch03_union_fs::archive::Compression;
use serde_json::json;
use tar::{Builder, EntryType, Header};

use crate::digest::Digest;
use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::image::Image;
use crate::load::oci_layout::{CONTAINERD_NAME, INDEX_FILE, LAYOUT_FILE, REF_NAME};
use crate::oci::{Descriptor, ImageIndex, media_type};
use crate::reference::Reference;
use crate::store::ImageStore;

/// The archive formats `save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `docker save`'s: manifest.json, configs, plain layer tars.
    Docker,
    /// An OCI image layout: oci-layout, index.json, blobs.
    Oci,
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(text: &str) -> Result<Format> {
        match text {
            "docker" => Ok(Format::Docker),
            "oci" => Ok(Format::Oci),
            _ => Err(Error::Invalid(format!(
                "unknown archive format {text:?} (docker or oci)"
            ))),
        }
    }
}

/// One image to save, with the names it is saved under.
struct Saved {
    image: Image,
    names: Vec<Reference>,
}

/// Writes the images `references` name to `output`, as an archive in `format`.
pub fn save(
    store: &ImageStore,
    references: &[String],
    format: Format,
    output: impl Write,
) -> Result<()> {
    let saved = resolve(store, references)?;
    write_archive(store, &saved, format, output)
}

/// Writes the images `references` name to the file `output`, as an archive in `format`.
pub fn save_to_file(
    store: &ImageStore,
    references: &[String],
    format: Format,
    output: &Path,
) -> Result<()> {
    let saved = resolve(store, references)?;
    // Written beside the destination and renamed: a failed save leaves no partial archive.
    let partial = output.with_extension("partial");
    let written = File::create(&partial)
        .map_err(Error::io("create", &partial))
        .and_then(|file| {
            let mut out = BufWriter::with_capacity(1 << 20, file);
            write_archive(store, &saved, format, &mut out)?;
            out.flush().map_err(Error::io("write", &partial))
        });
    match written {
        Ok(()) => fs_rename(&partial, output),
        Err(error) => {
            let _best_effort = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

fn fs_rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(Error::io("create", to))
}

/// The images to save; an image named twice on the command line is saved once, with both
/// names. An image given by id is saved with no name, as docker does.
fn resolve(store: &ImageStore, references: &[String]) -> Result<Vec<Saved>> {
    let catalog = store.catalog()?;
    let mut saved: Vec<Saved> = Vec::new();
    for reference in references {
        let image = store.find_image(reference)?;
        let name = reference
            .parse::<Reference>()
            .ok()
            .filter(|r| catalog.tags.get(&r.to_string()) == Some(&image.id));
        match saved.iter_mut().find(|s| s.image.id == image.id) {
            Some(existing) => existing.names.extend(name),
            None => saved.push(Saved {
                image,
                names: name.into_iter().collect(),
            }),
        }
    }
    Ok(saved)
}

fn write_archive(
    store: &ImageStore,
    saved: &[Saved],
    format: Format,
    out: impl Write,
) -> Result<()> {
    let mut tar = Builder::new(out);
    match format {
        Format::Docker => write_docker(store, saved, &mut tar)?,
        Format::Oci => write_oci(store, saved, &mut tar)?,
    }
    tar.into_inner()
        .and_then(|mut out| out.flush())
        .map_err(Error::io("write", "the archive"))
}

// ANCHOR: write_docker
fn write_docker(store: &ImageStore, saved: &[Saved], tar: &mut Builder<impl Write>) -> Result<()> {
    let mut manifest = Vec::new();
    let mut written = BTreeSet::new();
    for Saved { image, names } in saved {
        let config = format!("{}.json", image.id.encoded());
        add_bytes(tar, &config, &store.read_blob(&image.id)?)?;
        let mut layers = Vec::new();
        for ((descriptor, diff_id), chain_id) in image
            .manifest
            .layers
            .iter()
            .zip(&image.config.rootfs.diff_ids)
            .zip(image.chain_ids())
        {
            let path = format!("{}/layer.tar", diff_id.encoded());
            if written.insert(path.clone()) {
                add_directory(tar, diff_id.encoded())?;
                let size = store.layer_size(&chain_id);
                add_plain_layer(tar, &path, &store.blob_path(&descriptor.digest), size)?;
            }
            layers.push(path);
        }
        manifest.push(json!({
            "Config": config,
            "RepoTags": names.iter().map(Reference::familiar).collect::<Vec<_>>(),
            "Layers": layers,
        }));
    }
    let manifest = serde_json::to_vec(&manifest).expect("JSON values serialize");
    add_bytes(tar, crate::load::docker::MANIFEST, &manifest)
}
// ANCHOR_END: write_docker

fn write_oci(store: &ImageStore, saved: &[Saved], tar: &mut Builder<impl Write>) -> Result<()> {
    let mut entries = Vec::new();
    let mut blobs = BTreeSet::new();
    for Saved { image, names } in saved {
        let manifest = Descriptor::new(
            image
                .manifest
                .media_type
                .clone()
                .unwrap_or_else(|| media_type::IMAGE_MANIFEST.into()),
            image.entry.manifest.clone(),
            std::fs::metadata(store.blob_path(&image.entry.manifest))
                .map_err(Error::io("read", store.blob_path(&image.entry.manifest)))?
                .len(),
        );
        if names.is_empty() {
            entries.push(manifest.clone());
        }
        for name in names {
            let mut entry = manifest.clone();
            entry
                .annotations
                .insert(CONTAINERD_NAME.into(), name.to_string());
            entry
                .annotations
                .insert(REF_NAME.into(), name.tag.clone().unwrap_or_default());
            entries.push(entry);
        }
        blobs.insert(image.entry.manifest.clone());
        blobs.insert(image.id.clone());
        blobs.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
    }
    add_bytes(tar, LAYOUT_FILE, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    for dir in ["blobs", "blobs/sha256"] {
        add_directory(tar, dir)?;
    }
    for blob in &blobs {
        add_blob(tar, store, blob)?;
    }
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(media_type::IMAGE_INDEX.into()),
        artifact_type: None,
        manifests: entries,
        subject: None,
        annotations: Default::default(),
    };
    add_bytes(tar, INDEX_FILE, &index.to_json())
}

/// A header with nothing of this machine in it: no time, root's ids.
fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

fn add_directory(tar: &mut Builder<impl Write>, path: &str) -> Result<()> {
    let mut header = header(EntryType::Directory, 0o755, 0);
    tar.append_data(&mut header, format!("{path}/"), io::empty())
        .map_err(Error::io("write", path))
}

fn add_bytes(tar: &mut Builder<impl Write>, path: &str, bytes: &[u8]) -> Result<()> {
    let mut header = header(EntryType::Regular, 0o644, bytes.len() as u64);
    tar.append_data(&mut header, path, bytes)
        .map_err(Error::io("write", path))
}

fn add_blob(tar: &mut Builder<impl Write>, store: &ImageStore, digest: &Digest) -> Result<()> {
    let path = store.blob_path(digest);
    let file = File::open(&path).map_err(Error::io("open", &path))?;
    let size = file.metadata().map_err(Error::io("read", &path))?.len();
    let name = format!("blobs/sha256/{}", digest.encoded());
    append_exactly(tar, &name, file, size)
}

/// A layer blob, decompressed, as a plain tar of `size` bytes.
fn add_plain_layer(
    tar: &mut Builder<impl Write>,
    name: &str,
    blob: &Path,
    size: u64,
) -> Result<()> {
    let file = File::open(blob).map_err(Error::io("open", blob))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let compression = Compression::detect(&mut input).map_err(Error::io("read", blob))?;
    let decoder = compression
        .decoder(&mut input)
        .map_err(Error::io("read", blob))?;
    append_exactly(tar, name, decoder, size)
}

/// Appends an entry of `size` bytes read from `data`, which must have exactly that many: the
/// size is in the entry's header, written before the data.
fn append_exactly(
    tar: &mut Builder<impl Write>,
    name: &str,
    data: impl Read,
    size: u64,
) -> Result<()> {
    let mut counted = Counted {
        inner: data.take(size),
        count: 0,
    };
    let mut header = header(EntryType::Regular, 0o644, size);
    tar.append_data(&mut header, name, &mut counted)
        .map_err(Error::io("write", name))?;
    if counted.count != size {
        return Err(Error::SizeMismatch {
            what: format!("{name} in the store"),
            expected: size,
            actual: counted.count,
        });
    }
    Ok(())
}

struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
