//! A writable view of a read-only source, whose writes are thrown away:
//! `RUN --mount=type=bind,rw`.
//!
//! The command may write to the mount (a tool that insists on writing next to its input),
//! but neither the context nor the other stage may change, and the writes are not part of
//! the layer. For a directory, the view is an overlay: the source as its only lower layer
//! and a scratch upper directory, mounted in the builder's own namespace, which the
//! container inherits (and chapter 01 binds from). For a file, a scratch copy.

use std::path::{Path, PathBuf};

use ch04_images::ImageStore;
use dockyard_support::FromIo;
use nix::mount::{MntFlags, MsFlags, mount, umount2};

use crate::error::{Error, Result};

/// A scratch view of a source; removed (and unmounted) when dropped.
#[derive(Debug)]
pub struct Scratch {
    /// Where the view is: what the container's mount binds.
    pub path: PathBuf,
    dir: PathBuf,
    mounted: bool,
}

impl Scratch {
    /// A writable view of `source` (a directory or a file), in the store's `tmp/`.
    pub fn of(store: &ImageStore, source: &Path) -> Result<Scratch> {
        let dir = store.temp_path("bind-rw");
        std::fs::create_dir(&dir).map_err(Error::io("create", &dir))?;
        let mut scratch = Scratch {
            path: dir.join("view"),
            dir: dir.clone(),
            mounted: false,
        };
        if !source.is_dir() {
            std::fs::copy(source, &scratch.path).map_err(Error::io("copy", source))?;
            return Ok(scratch);
        }
        for sub in ["upper", "work", "view"] {
            let path = dir.join(sub);
            std::fs::create_dir(&path).map_err(Error::io("create", &path))?;
        }
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            source.display(),
            dir.join("upper").display(),
            dir.join("work").display()
        );
        mount(
            Some("overlay"),
            &scratch.path,
            Some("overlay"),
            MsFlags::empty(),
            Some(options.as_str()),
        )
        .map_err(|e| Error::io("mount a scratch overlay on", &scratch.path)(e.into()))?;
        scratch.mounted = true;
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.mounted {
            let _gone_with_the_namespace_anyway = umount2(&self.path, MntFlags::MNT_DETACH);
        }
        let _swept_with_tmp_anyway = std::fs::remove_dir_all(&self.dir);
    }
}
