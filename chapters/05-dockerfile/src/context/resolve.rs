//! Paths resolved inside a root as if it were `/`: the build context's, for a `COPY` source
//! or the Dockerfile, and another stage's root filesystem, for `--from`.
//!
//! A symbolic link is followed, but its target is read *inside* the root: `/etc/passwd`
//! names the root's `etc/passwd`, and `../../..` stops at the root. So a link in a context
//! can never reach the files of the machine that builds.

use std::io;
use std::path::{Path, PathBuf};

use super::Context;

/// How many symbolic links one path may go through, as Linux allows (`ELOOP` beyond).
const MAX_LINKS: usize = 40;

// ANCHOR: resolve_in_root
/// Resolves `parts` under `root` as if `root` were `/`, following every symbolic link
/// (the last element's too): an absolute target starts again from `root`, and `..` stops at
/// it. Returns the real path, which has no link on it. With a `context`, an element that
/// `.dockerignore` leaves out is not found.
pub fn resolve_in_root(
    root: &Path,
    parts: &[String],
    context: Option<&Context>,
) -> io::Result<Vec<String>> {
    let mut pending: Vec<String> = parts.iter().rev().cloned().collect();
    let mut real: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                real.pop(); // at the root, `..` is the root
                continue;
            }
            _ => {}
        }
        real.push(part);
        let path = join(root, &real);
        let metadata = std::fs::symlink_metadata(&path)?;
        if metadata.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(io::Error::from_raw_os_error(
                    rustix::io::Errno::LOOP.raw_os_error(),
                ));
            }
            let target = std::fs::read_link(&path)?;
            real.pop();
            let target = target.to_string_lossy();
            if target.starts_with('/') {
                real.clear();
            }
            pending.extend(target.split('/').rev().map(str::to_owned));
            continue;
        }
        if let Some(context) = context
            && !context.is_visible(Path::new(&real.join("/")), metadata.is_dir())
        {
            return Err(io::ErrorKind::NotFound.into());
        }
    }
    Ok(real)
}
// ANCHOR_END: resolve_in_root

/// `root` with `parts` appended.
pub fn join(root: &Path, parts: &[String]) -> PathBuf {
    let mut path = root.to_path_buf();
    path.extend(parts);
    path
}
