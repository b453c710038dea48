//! The digest of what a `COPY` would copy, for the build cache.
//!
//! A builder reuses the result of an earlier `COPY` only if the files are the same: same
//! paths, same content, same type, mode and owner, same link targets. Comparing modification
//! times would be cheaper but wrong both ways: a fresh `git clone` touches every file without
//! changing one, and a file can change within one second. So each selected file is hashed:
//! its path (relative to the context root), type, mode, owner, size, and its content (or its
//! link's target), streamed through SHA-256, never held in memory whole. Only what the
//! instruction selects is read, and nothing `.dockerignore` hides. The files are taken in a
//! fixed order (sources in order, directories in name order), so the digest of all of them,
//! a hash of the list of `(path, digest)`, is the same on every run.
//!
//! The legacy builder writes a short form of it in the image's history (`created_by`):
//! `COPY file:<hex> in /dst` for one file, `dir:<hex>` for one directory, `multi:<hex>` for
//! several sources: [`SourceDigest::summary`](super::SourceDigest::summary).

use std::fs::{File, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use dockyard_support::IoError;
use sha2::{Digest, Sha256};

use crate::context::{Context, Presence};

/// The `sha256:<hex>` of what was hashed.
pub fn finish(hasher: Sha256) -> String {
    format!("sha256:{:x}", hasher.finalize())
}

// ANCHOR: hash_entry
/// The digest of one entry at `path` (nothing on its path a link), named `shown`: its
/// metadata, then its content or link target. Never its times.
pub fn hash_entry(path: &Path, shown: &str, metadata: &Metadata) -> Result<String, IoError> {
    let kind = metadata.file_type();
    let type_letter = if kind.is_dir() {
        'd'
    } else if kind.is_symlink() {
        'l'
    } else if kind.is_file() {
        'f'
    } else if kind.is_fifo() {
        'p'
    } else if kind.is_char_device() {
        'c'
    } else if kind.is_block_device() {
        'b'
    } else {
        's'
    };
    let mut hasher = Sha256::new();
    let header = format!(
        "{shown}\0{type_letter}\0{:o}\0{}\0{}\0{}\0{}\0",
        metadata.mode() & 0o7777,
        metadata.uid(),
        metadata.gid(),
        if kind.is_file() { metadata.len() } else { 0 },
        if kind.is_char_device() || kind.is_block_device() {
            metadata.rdev()
        } else {
            0
        },
    );
    hasher.update(header.as_bytes());
    let failed = |source| IoError {
        action: "hash".into(),
        path: Some(path.into()),
        source,
    };
    if kind.is_file() {
        let mut file = File::open(path).map_err(failed)?;
        std::io::copy(&mut file, &mut hasher).map_err(failed)?;
    } else if kind.is_symlink() {
        let target = std::fs::read_link(path).map_err(failed)?;
        hasher.update(target.as_os_str().as_encoded_bytes());
    }
    Ok(finish(hasher))
}
// ANCHOR_END: hash_entry

/// The digest of a file written from memory (a heredoc): as [`hash_entry`] hashes a file of
/// mode `0644` owned by root.
pub fn hash_inline(name: &str, content: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let header = format!("{name}\0f\0644\00\00\0{}\00\0", content.len());
    hasher.update(header.as_bytes());
    hasher.update(content);
    finish(hasher)
}

/// The digest of the entry at `path` (named `shown`, at `real` in the context) as the
/// builder receives it, which `COPY` then writes: `None` when `.dockerignore` leaves it out,
/// and for a directory made only to hold what an exception took back, the digest of a
/// `0755` directory owned by root, whatever the ignored one's metadata
/// ([`Context::presence`]).
pub fn hash_received(
    path: &Path,
    shown: &str,
    real: &str,
    metadata: &Metadata,
    context: Option<&Context>,
) -> Result<Option<String>, IoError> {
    let presence = match context {
        Some(context) => context.presence(Path::new(real), metadata.is_dir()),
        None => Presence::Sent,
    };
    Ok(match presence {
        Presence::Sent => Some(hash_entry(path, shown, metadata)?),
        Presence::Implied => {
            let header = format!("{shown}\0d\0755\00\00\00\00\0");
            Some(finish(Sha256::new_with_prefix(header)))
        }
        Presence::Absent => None,
    })
}

/// Adds the digests of everything under the directory `path` (named `shown`, at `real` in
/// the context) to `files`, in name order, skipping what the context hides.
pub fn hash_dir(
    path: &Path,
    shown: &str,
    real: &str,
    context: Option<&Context>,
    files: &mut Vec<(String, String)>,
) -> Result<(), IoError> {
    let failed = |source| IoError {
        action: "read".into(),
        path: Some(path.into()),
        source,
    };
    let mut names: Vec<_> = std::fs::read_dir(path)
        .map_err(failed)?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    names.sort();
    for name in names {
        let child = path.join(&name);
        let name = name.to_string_lossy();
        let child_shown = join(shown, &name);
        let child_real = join(real, &name);
        let metadata = std::fs::symlink_metadata(&child).map_err(failed)?;
        let Some(digest) = hash_received(&child, &child_shown, &child_real, &metadata, context)?
        else {
            continue;
        };
        files.push((child_shown.clone(), digest));
        if metadata.is_dir() {
            hash_dir(&child, &child_shown, &child_real, context, files)?;
        }
    }
    Ok(())
}

/// `dir/name`, or `name` at the root.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The digest of a list of `(path, digest)`: each line `path\0digest\n`.
pub fn hash_list(files: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (path, digest) in files {
        hasher.update(format!("{path}\0{digest}\n"));
    }
    finish(hasher)
}
