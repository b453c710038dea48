//! Blobs: files named by the digest of their content, `blobs/sha256/<hex>`.
//!
//! A blob is written to `tmp/` while it is hashed, checked against the digest it is expected
//! to have, flushed, and only then renamed under its name. A blob under its name is therefore
//! always whole and always what its name says.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{ImageStore, sync_dir};
use crate::digest::Digest;
use dockyard_support::FromIo;

use crate::error::{Error, Result};

impl ImageStore {
    /// Where the blob `digest` is (or would be).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root()
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.encoded())
    }

    /// Whether the store has the blob.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// The blob's content.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        fs::read(&path).map_err(Error::io("read the blob", &path))
    }

    /// Stores `bytes` as a blob and returns its digest; if `expected` is given, the bytes must
    /// have that digest, or nothing is stored.
    pub fn put_blob(&self, bytes: &[u8], expected: Option<&Digest>, what: &str) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(Error::DigestMismatch {
                what: what.to_string(),
                expected: expected.clone(),
                actual: digest,
            });
        }
        if self.has_blob(&digest) {
            return Ok(digest);
        }
        let mut writer = self.blob_writer()?;
        writer
            .write_all(bytes)
            .map_err(Error::io("write", writer.path.clone()))?;
        writer.commit(&digest, what)?;
        Ok(digest)
    }

    /// A writer for a blob whose digest is known once it is written.
    pub fn blob_writer(&self) -> Result<BlobWriter> {
        self.new_blob_writer(Some(Sha256::new()))
    }

    /// A writer that does not hash: for a caller that hashes the same bytes on their way
    /// elsewhere (a layer being unpacked) and checks the digest before committing.
    pub(crate) fn blob_writer_hashed_by_caller(&self) -> Result<BlobWriter> {
        self.new_blob_writer(None)
    }

    fn new_blob_writer(&self, hash: Option<Sha256>) -> Result<BlobWriter> {
        let path = self.temp_path("blob");
        let file = File::create(&path).map_err(Error::io("create", &path))?;
        Ok(BlobWriter {
            store: self.clone(),
            file: BufWriter::with_capacity(1 << 20, file),
            hash,
            size: 0,
            path,
            committed: false,
        })
    }

    /// Removes a blob (no error if it is already gone).
    pub fn remove_blob(&self, digest: &Digest) -> Result<()> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove the blob", &path)(e)),
        }
    }

    /// Every blob in the store.
    pub fn list_blobs(&self) -> Result<Vec<Digest>> {
        let dir = self.root().join("blobs").join("sha256");
        let mut digests = Vec::new();
        for entry in fs::read_dir(&dir).map_err(Error::io("list", &dir))? {
            let entry = entry.map_err(Error::io("list", &dir))?;
            if let Some(hex) = entry.file_name().to_str()
                && let Ok(digest) = Digest::from_sha256_hex(hex)
            {
                digests.push(digest);
            }
        }
        digests.sort();
        Ok(digests)
    }
}

/// A blob being written: hashed as it goes, renamed under its digest by [`BlobWriter::commit`],
/// removed if dropped uncommitted.
#[derive(Debug)]
pub struct BlobWriter {
    store: ImageStore,
    file: BufWriter<File>,
    /// `None` for a writer whose caller hashes the same bytes itself.
    hash: Option<Sha256>,
    size: u64,
    path: PathBuf,
    committed: bool,
}

impl BlobWriter {
    /// The bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    // ANCHOR: commit
    /// Checks that the content has the digest `expected`, flushes it to disk, and renames it
    /// under that digest. On a mismatch nothing is stored.
    pub fn commit(mut self, expected: &Digest, what: &str) -> Result<Digest> {
        let actual = match self.hash.take() {
            Some(hash) => Digest::from_sha256_hex(&hex(hash)).expect("a sha256 is 64 hex digits"),
            None => expected.clone(),
        };
        if actual != *expected {
            return Err(Error::DigestMismatch {
                what: what.to_string(),
                expected: expected.clone(),
                actual,
            });
        }
        self.file
            .flush()
            .and_then(|()| self.file.get_ref().sync_all())
            .map_err(Error::io("flush", &self.path))?;
        let target = self.store.blob_path(&actual);
        fs::rename(&self.path, &target).map_err(Error::io("store the blob", &target))?;
        self.committed = true;
        sync_dir(target.parent().expect("a blob path has a parent"))?;
        Ok(actual)
    }
    // ANCHOR_END: commit

    /// Hands what was written so far to the kernel and has it start writing it to disk,
    /// without waiting (the commit's flush waits for it).
    pub fn start_writeback(&mut self) -> io::Result<()> {
        self.file.flush()?;
        ch03_union_fs::archive::apply::entry::start_writeback(self.file.get_ref());
        Ok(())
    }

    /// The temporary file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for BlobWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.file.write(bytes)?;
        if let Some(hash) = &mut self.hash {
            hash.update(&bytes[..n]);
        }
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a leftover is swept by the next open anyway.
            let _leftover_swept_later = fs::remove_file(&self.path);
        }
    }
}

/// Lowercase hex of a finished sha256.
pub(crate) fn hex(hash: Sha256) -> String {
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
