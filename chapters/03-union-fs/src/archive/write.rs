//! Writing a layer archive from a container's changes (`commit -o layer.tar`).

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{Builder, EntryType, Header};

use crate::diff::{Change, Kind};
use crate::whiteout::{OPAQUE, OVERLAY_XATTR_PREFIX, PREFIX};
use dockyard_support::FromIo;

use crate::error::{Error, Result};

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Entries in the archive, whiteouts included.
    pub entries: u64,
    /// Whiteout entries (deletions and opaque markers).
    pub whiteouts: u64,
}

// ANCHOR: write_layer
/// Writes `changes` as an OCI layer archive to `out`: added and changed paths as entries read
/// from `source` (the upper directory, or the vfs copy), deletions as empty `.wh.NAME` entries
/// and replaced directories with a `.wh..wh..opq` entry inside.
pub fn write_layer(changes: &[Change], source: &Path, out: impl Write) -> Result<Written> {
    let mut builder = Builder::new(out);
    let mut written = Written::default();
    let mut links: HashMap<(u64, u64), PathBuf> = HashMap::new();
    for change in changes {
        let at = |e: std::io::Error| Error::io("write the archive entry for", &change.path)(e);
        match change.kind {
            Kind::Deleted => {
                let name = change.path.file_name().expect("a changed path has a name");
                let whiteout = change
                    .path
                    .with_file_name(format!("{PREFIX}{}", name.to_string_lossy()));
                append_marker(&mut builder, &whiteout).map_err(at)?;
                written.whiteouts += 1;
            }
            Kind::Added | Kind::Changed => {
                let file = source.join(&change.path);
                let meta = fs::symlink_metadata(&file).map_err(Error::io("stat", &file))?;
                append_entry(&mut builder, &change.path, &file, &meta, &mut links)?;
                if change.opaque {
                    append_marker(&mut builder, &change.path.join(OPAQUE)).map_err(at)?;
                    written.whiteouts += 1;
                }
            }
        }
        written.entries += 1 + u64::from(change.opaque);
    }
    builder
        .into_inner()
        .and_then(|mut out| out.flush())
        .map_err(Error::io("finish the archive", source))?;
    Ok(written)
}
// ANCHOR_END: write_layer

/// An empty regular file entry: how the archive format spells a whiteout.
fn append_marker(builder: &mut Builder<impl Write>, path: &Path) -> std::io::Result<()> {
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(0);
    header.set_mtime(0);
    builder.append_data(&mut header, path, std::io::empty())
}

/// One file, directory, link or device, with its metadata.
fn append_entry(
    builder: &mut Builder<impl Write>,
    path: &Path,
    file: &Path,
    meta: &Metadata,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let at = |e: std::io::Error| Error::io("write the archive entry for", file)(e);
    append_xattrs(builder, path, file).map_err(at)?;
    let mut header = Header::new_gnu();
    header.set_mode(meta.mode() & 0o7777);
    header.set_uid(meta.uid().into());
    header.set_gid(meta.gid().into());
    header.set_mtime(meta.mtime().max(0) as u64);
    header.set_size(0);
    let kind = meta.file_type();
    if !kind.is_dir() && meta.nlink() > 1 {
        // The second name of an inode is a hard link to the first, not a second copy.
        let key = (meta.dev(), meta.ino());
        if let Some(first) = links.get(&key) {
            header.set_entry_type(EntryType::Link);
            return builder.append_link(&mut header, path, first).map_err(at);
        }
        links.insert(key, path.to_path_buf());
    }
    if kind.is_dir() {
        header.set_entry_type(EntryType::Directory);
        builder.append_data(&mut header, path, std::io::empty())
    } else if kind.is_symlink() {
        header.set_entry_type(EntryType::Symlink);
        let target = fs::read_link(file).map_err(Error::io("read the link", file))?;
        builder.append_link(&mut header, path, target)
    } else if kind.is_file() {
        header.set_entry_type(EntryType::Regular);
        header.set_size(meta.len());
        let content = File::open(file).map_err(Error::io("open", file))?;
        builder.append_data(&mut header, path, content)
    } else {
        header.set_entry_type(if kind.is_char_device() {
            EntryType::Char
        } else if kind.is_block_device() {
            EntryType::Block
        } else {
            EntryType::Fifo
        });
        let rdev = meta.rdev();
        header.set_device_major(libc::major(rdev)).map_err(at)?;
        header.set_device_minor(libc::minor(rdev)).map_err(at)?;
        builder.append_data(&mut header, path, std::io::empty())
    }
    .map_err(at)
}

/// The file's extended attributes (not overlayfs's own) as a PAX header before its entry, with
/// the `SCHILY.xattr.` keys GNU tar and Docker use.
fn append_xattrs(
    builder: &mut Builder<impl Write>,
    path: &Path,
    file: &Path,
) -> std::io::Result<()> {
    let mut names = vec![0u8; 4096];
    let len = match rustix::fs::llistxattr(file, &mut names[..]) {
        Ok(len) => len,
        Err(rustix::io::Errno::NOTSUP) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut records = Vec::new();
    for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
            continue;
        }
        let mut value = vec![0u8; 65536];
        let size = rustix::fs::lgetxattr(file, name, &mut value[..])?;
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(name);
        records.extend(pax_record(&key, &value[..size]));
    }
    if records.is_empty() {
        return Ok(());
    }
    let mut header = Header::new_ustar();
    header.set_entry_type(EntryType::XHeader);
    header.set_mode(0o644);
    header.set_size(records.len() as u64);
    let name = Path::new("PaxHeaders.0").join(path.file_name().unwrap_or_default());
    header.set_path(&name)?;
    header.set_cksum();
    builder.append(&header, &records[..])
}

/// One PAX record: `LEN KEY=VALUE\n`, where LEN counts the whole record, its own digits too.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while body + len.to_string().len() != len {
        len = body + len.to_string().len();
    }
    let mut record = format!("{len} ").into_bytes();
    record.extend_from_slice(key);
    record.push(b'=');
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

#[cfg(test)]
mod tests {
    use super::pax_record;

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record(b"a", b"b"), b"6 a=b\n");
        let long = pax_record(b"SCHILY.xattr.user.k", &[b'x'; 90]);
        let len: usize = std::str::from_utf8(&long[..3]).unwrap().parse().unwrap();
        assert_eq!(len, long.len());
    }
}
