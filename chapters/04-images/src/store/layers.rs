//! Unpacked layers, one directory each under `layers/`, named by the layer's *chain id*.
//!
//! A layer's *diff id* is the digest of its uncompressed tar: it names the layer's content,
//! whatever compression it travelled in. But a layer's files only mean something on top of
//! the layers below it (its whiteouts delete *their* files), so the unpacked directory is
//! named by the *chain id*, which covers the layer and everything under it:
//!
//! ```text
//! chain(L1) = diff_id(L1)
//! chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln))
//! ```
//!
//! Two images that start with the same layers share those layers' directories.

use std::fs;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ch01_namespaces::Narrator;
use ch03_union_fs::archive::{self, Applied, ApplyFailure, ApplyOptions, Compression, Whiteouts};
use dockyard_support::FromIo;

use super::{BlobWriter, ImageStore, sync_dir};
use crate::digest::Digest;

use crate::error::{Error, Result};
use crate::oci::media_type;

// ANCHOR: chain_ids
/// The chain id of each layer of a stack, bottom first.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut chain: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        chain.push(chain_id(chain.last(), diff_id));
    }
    chain
}

/// The chain id of the layer `diff_id` on top of the layer whose chain id is `below`.
pub fn chain_id(below: Option<&Digest>, diff_id: &Digest) -> Digest {
    match below {
        None => diff_id.clone(),
        Some(below) => Digest::sha256_of(format!("{below} {diff_id}").as_bytes()),
    }
}
// ANCHOR_END: chain_ids

/// A layer to unpack: the blob it comes in, and what it must turn out to be.
#[derive(Debug, Clone)]
pub struct LayerBlob {
    /// The digest of the bytes as they travel (compressed or not), where the source names it
    /// (a `docker save` archive names layers by path only).
    pub digest: Option<Digest>,
    /// The digest its uncompressed tar must have (from the image config), if known: a layer
    /// being imported or committed is named by what it turns out to be.
    pub diff_id: Option<Digest>,
    /// The chain id of the layer below it, if any.
    pub parent: Option<Digest>,
    /// What it is, for messages: `layer 2 of busybox:latest`.
    pub what: String,
    /// Where it is read from, for messages: the registry and repository of a pull, the
    /// archive or layout of a load.
    pub from: Option<String>,
}

impl LayerBlob {
    /// The blob's digest and the diff id `applied` found, checked against what the layer
    /// must be.
    fn checked_digests(&self, applied: &Applied) -> Result<(Digest, Digest)> {
        let digest: Digest = applied.digest.parse()?;
        if let Some(expected) = &self.digest
            && digest != *expected
        {
            return Err(self.mismatch(expected, digest));
        }
        let diff_id: Digest = applied.diff_id.parse()?;
        if let Some(expected) = &self.diff_id {
            check(&format!("{} (uncompressed)", self.what), expected, &diff_id)?;
        }
        Ok((digest, diff_id))
    }

    /// The layer as an error names it: by its digest and where it came from, if known.
    fn named(&self) -> String {
        match (&self.digest, &self.from) {
            (Some(digest), Some(from)) => format!("layer {digest} from {from}"),
            (None, Some(from)) => format!("{} from {from}", self.what),
            (_, None) => self.what.clone(),
        }
    }

    /// The error for a blob whose bytes are not the digest it was named by.
    fn mismatch(&self, expected: &Digest, actual: Digest) -> Error {
        Error::LayerDigestMismatch {
            expected: expected.clone(),
            from: self.from.clone().unwrap_or_else(|| self.what.clone()),
            actual,
        }
    }

    /// The error for a layer that could not be unpacked: the blob's digest, if it is not the
    /// one expected, says more than what the decompressor or the tar reader tripped on.
    fn failure(&self, failure: ApplyFailure) -> Error {
        let actual = failure
            .digest
            .and_then(|digest| digest.parse::<Digest>().ok());
        if let (Some(expected), Some(actual)) = (&self.digest, actual)
            && *expected != actual
        {
            return self.mismatch(expected, actual);
        }
        match failure.error {
            ch03_union_fs::Error::CorruptArchive(cause) => {
                ch03_union_fs::Error::CorruptArchive(format!("{}: {cause}", self.named())).into()
            }
            other => other.into(),
        }
    }
}

/// A layer unpacked into `tmp/`, its blob checked and written there too, waiting for
/// [`ImageStore::commit_layers`] to give both their names. Dropped uncommitted, it removes
/// both: a load that fails on one layer keeps none.
#[derive(Debug)]
pub struct PendingLayer {
    partial: PathBuf,
    blob: Option<BlobWriter>,
    /// Its chain id, the name of its directory.
    pub chain_id: Digest,
    /// The digest of its uncompressed tar.
    pub diff_id: Digest,
    /// The digest of the blob, as read.
    pub digest: Digest,
    /// Bytes of the blob.
    pub compressed_size: u64,
    /// Bytes of uncompressed tar.
    pub size: u64,
    /// The compression the blob came in.
    pub compression: Compression,
}

impl Drop for PendingLayer {
    fn drop(&mut self) {
        // After a commit the directory has its final name and this finds nothing to remove;
        // a leftover is swept by the next open anyway.
        let _swept_later_if_this_fails = fs::remove_dir_all(&self.partial);
    }
}

impl PendingLayer {
    /// The OCI media type that says how its blob is compressed.
    pub fn media_type(&self) -> &'static str {
        media_type::of_layer(self.compression)
    }
}

impl ImageStore {
    /// The directory of the layer with this chain id.
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.root().join("layers").join(chain_id.encoded())
    }

    /// The file beside the layer's directory that holds the size of its tar.
    fn layer_size_file(&self, chain_id: &Digest) -> PathBuf {
        self.root()
            .join("layers")
            .join(format!("{}.size", chain_id.encoded()))
    }

    /// The size of the layer's uncompressed tar, as `images` adds it up.
    pub fn layer_size(&self, chain_id: &Digest) -> u64 {
        fs::read_to_string(self.layer_size_file(chain_id))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Whether the layer is unpacked in the store.
    pub fn has_layer(&self, chain_id: &Digest) -> bool {
        self.layer_dir(chain_id).is_dir()
    }

    // ANCHOR: unpack_layer
    /// Unpacks the layer read from `reader` into `tmp/` and writes its blob there, in one
    /// pass: the bytes are hashed, decompressed, hashed again and unpacked by chapter 03's
    /// apply, and copied into the blob as they go by. Both digests are checked; on a mismatch
    /// nothing is kept. A layer that does not unpack is still read to its end when its digest
    /// is known: bytes that are not that digest are reported as such, whatever the
    /// decompressor made of them.
    pub fn unpack_layer(
        &self,
        reader: impl Read + Send + 'static,
        layer: &LayerBlob,
        n: &Narrator,
    ) -> Result<PendingLayer> {
        let partial = self.temp_path("layer");
        fs::create_dir(&partial).map_err(Error::io("create", &partial))?;
        let blob = self.blob_writer_hashed_by_caller()?;
        let blob_path = blob.path().to_path_buf();
        let unpacked = (|| {
            let blob = Arc::new(Mutex::new(blob));
            let tee = Tee {
                reader,
                blob: Arc::clone(&blob),
                written_back: 0,
            };
            let options = ApplyOptions::for_this_process(Whiteouts::Overlay);
            let applied = match &layer.digest {
                Some(_) => archive::apply_to_end(tee, &partial, &options, n),
                None => archive::apply(tee, &partial, &options, n).map_err(|error| ApplyFailure {
                    error,
                    digest: None,
                }),
            }
            .map_err(|failure| layer.failure(failure))?;
            let (digest, diff_id) = layer.checked_digests(&applied)?;
            if applied.size >= FLUSH_EARLY_FROM {
                self.flush_in_background();
            }
            // The reading thread has ended, and dropped its end of the tee.
            let blob = Arc::into_inner(blob)
                .expect("the reading thread has finished")
                .into_inner()
                .map_err(|_| Error::Invalid("a layer reading thread panicked".into()))?;
            Ok(PendingLayer {
                partial: partial.clone(),
                blob: Some(blob),
                chain_id: chain_id(layer.parent.as_ref(), &diff_id),
                diff_id,
                digest,
                compressed_size: applied.compressed_size,
                size: applied.size,
                compression: applied.compression,
            })
        })();
        match unpacked {
            Ok(pending) => Ok(pending),
            Err(error) => {
                // The blob went with its writer; by name too, should a reading thread outlive it.
                let _swept_later_if_this_fails = fs::remove_file(&blob_path);
                let _swept_later_if_this_fails = fs::remove_dir_all(&partial);
                Err(error)
            }
        }
    }
    // ANCHOR_END: unpack_layer

    /// Starts flushing the file system (`syncfs`) on a thread of its own, without waiting for
    /// it: a large layer just unpacked goes to disk while the next ones are unpacked, and the
    /// flush that [`ImageStore::commit_layers`] waits for has only the rest to do. (On a
    /// virtual machine, that flush is also where the host writes what it was given to its own
    /// disk: 0.2-0.3 s after the bench image was unpacked, here.)
    fn flush_in_background(&self) {
        let tmp = self.root().join("tmp");
        let started = std::thread::Builder::new()
            .name("layer-flush".into())
            .spawn(move || {
                if let Ok(dir) = fs::File::open(&tmp) {
                    let _commit_flushes_anyway = rustix::fs::syncfs(dir.as_fd());
                }
            });
        // Only an early start: without it, the commit's flush does it all.
        drop(started);
    }

    /// Puts unpacked layers and their blobs under their names: their files are flushed to
    /// disk first (one `syncfs` for all of them), so a layer directory under its name is
    /// always whole.
    pub fn commit_layers(&self, pending: Vec<PendingLayer>) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let tmp = self.root().join("tmp");
        let dir = fs::File::open(&tmp).map_err(Error::io("open", &tmp))?;
        rustix::fs::syncfs(dir.as_fd())
            .map_err(|e| Error::io("flush the layers in", &tmp)(e.into()))?;
        for mut layer in pending {
            if let Some(blob) = layer.blob.take() {
                blob.commit(&layer.digest, "a layer")?;
            }
            // The size first: a layer under its name always has one.
            let size_file = self.layer_size_file(&layer.chain_id);
            fs::write(&size_file, layer.size.to_string())
                .map_err(Error::io("write", &size_file))?;
            let target = self.layer_dir(&layer.chain_id);
            match fs::rename(&layer.partial, &target) {
                Ok(()) => {}
                // Another process unpacked the same layer first: theirs is as good.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) => {
                    fs::remove_dir_all(&layer.partial)
                        .map_err(Error::io("remove", &layer.partial))?;
                }
                Err(e) => return Err(Error::io("store the layer", &target)(e)),
            }
        }
        sync_dir(&self.root().join("layers"))
    }

    /// Removes a layer directory (no error if it is already gone). It is renamed into `tmp/`
    /// first, so a removal interrupted half-way never leaves half a layer under its name.
    pub fn remove_layer(&self, chain_id: &Digest) -> Result<()> {
        let dir = self.layer_dir(chain_id);
        let doomed = self.temp_path("removed-layer");
        match fs::rename(&dir, &doomed) {
            Ok(()) => {
                fs::remove_dir_all(&doomed).map_err(Error::io("remove", &doomed))?;
                let size_file = self.layer_size_file(chain_id);
                fs::remove_file(&size_file).or_else(|e| match e.kind() {
                    io::ErrorKind::NotFound => Ok(()),
                    _ => Err(Error::io("remove", &size_file)(e)),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove the layer", &dir)(e)),
        }
    }

    /// Every unpacked layer in the store, by chain id.
    pub fn list_layers(&self) -> Result<Vec<Digest>> {
        let dir = self.root().join("layers");
        let mut layers = Vec::new();
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            if let Some(hex) = entry.file_name().to_str()
                && let Ok(digest) = Digest::from_sha256_hex(hex)
            {
                layers.push(digest);
            }
        }
        Ok(layers)
    }
}

/// Marks `tmp/`, where layers are unpacked, as the top of unrelated directory trees
/// (`FS_TOPDIR_FL`, what `chattr +T` sets; see ioctl_iflags(2)), so that ext4 places each
/// layer's directory, and so its files, in a block group that has room, rather than beside
/// whatever was last created and deleted near the store.
///
/// Why it matters: ext4 gives a new file an inode of its directory's block group, scanning
/// the group from its start, and on a file system without a journal it passes over every
/// inode freed in the last minutes (`recently_deleted`), looking each one up. In a group
/// where thousands of files were just removed (a removed store, another program's temporary
/// tree), every file a layer creates pays for that scan: a pull measured here spent half its
/// time in it. A hint only: file systems that know no such flag are left as they are.
pub(crate) fn spread_layers_out(tmp: &Path) {
    use rustix::fs::{IFlags, Mode, OFlags, ioctl_getflags, ioctl_setflags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open(tmp, flags, Mode::empty()) else {
        return;
    };
    if let Ok(current) = ioctl_getflags(&dir)
        && !current.contains(IFlags::TOPDIR)
    {
        let _only_a_hint = ioctl_setflags(&dir, current | IFlags::TOPDIR);
    }
}

fn check(what: &str, expected: &Digest, actual: &Digest) -> Result<()> {
    if actual == expected {
        return Ok(());
    }
    Err(Error::DigestMismatch {
        what: what.to_string(),
        expected: expected.clone(),
        actual: actual.clone(),
    })
}

/// The size of tar from which a layer is flushed as soon as it is unpacked: smaller ones wait
/// for the commit's flush.
const FLUSH_EARLY_FROM: u64 = 16 << 20;

/// How much of a blob is written between two requests to start writing it back to disk.
const WRITEBACK_STEP: u64 = 8 << 20;

/// A reader that copies what it reads into a blob, and has the kernel write the blob back
/// to disk as it grows (as chapter 03 does with each file it unpacks), so that the flush
/// before the layer is named finds little left to write.
struct Tee<R> {
    reader: R,
    blob: Arc<Mutex<BlobWriter>>,
    written_back: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        let mut blob = self
            .blob
            .lock()
            .map_err(|_| io::Error::other("the blob writer was poisoned"))?;
        io::Write::write_all(&mut *blob, &buf[..n])?;
        if n == 0 || blob.size() >= self.written_back + WRITEBACK_STEP {
            blob.start_writeback()?;
            self.written_back = blob.size();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_spec() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let chain = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
    }
}
