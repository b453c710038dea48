//! Finding what a `COPY` names: each source word checked, its wildcards expanded, its path
//! resolved inside the context (or the `--from` root filesystem).
//!
//! A source is read relative to the root it comes from; a leading `/` changes nothing (`COPY
//! /a.txt` is the context's `a.txt`). Before anything is looked up, the words are read
//! lexically: a `..` that climbs above the root is refused (docker's "forbidden path outside
//! the build context"). Then the path is resolved one element at a time, as the kernel would
//! resolve it if the root were `/`: a symbolic link is followed, its target read *inside* the
//! root, an absolute target starting again from the root and a `..` stopping there. So
//! `COPY link /` where `link -> /etc/passwd` copies the context's own `etc/passwd` (if there is
//! one), never the host's: that is docker's behaviour too (it follows the source's links in
//! the context's scope), checked against docker 20.10. Symbolic links *inside* a copied
//! directory are not followed: they are copied as links (`tree`).
//!
//! What `.dockerignore` leaves out is not there: every element reached on the way is checked,
//! so a link cannot lead to an ignored file either.

use std::io;
use std::path::{Path, PathBuf};

use super::glob;
use crate::context::{Context, join, resolve_in_root};
use crate::error::CopyError;

/// Where sources are read: a root directory, and the context's ignore rules if it is one.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The root directory: the context, or a mounted root filesystem.
    pub root: &'a Path,
    /// The context, whose `.dockerignore` hides files; `None` for a root filesystem.
    pub context: Option<&'a Context>,
}

/// One source found: a file, a directory or anything else, with where it really is.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The path as the instruction reached it, relative to the root, `/`-separated (`.` for
    /// the root itself): how the digests name it.
    pub shown: String,
    /// Its name at the destination: the last element of the path as written (for a link,
    /// the link's name, not its target's, as docker does).
    pub name: String,
    /// The real path, relative to the root: no symbolic link on it.
    pub real: Vec<String>,
    /// The real path on this machine.
    pub path: PathBuf,
    /// Its metadata (of the file itself: nothing on its path is a link).
    pub metadata: std::fs::Metadata,
}

impl Selected {
    /// Whether it is a directory, whose contents are copied.
    pub fn is_dir(&self) -> bool {
        self.metadata.is_dir()
    }
}

/// The elements of `source` read lexically from the root: `.` and empty elements dropped,
/// `..` removing the element before it. `None` when a `..` would climb above the root.
///
/// ```
/// use ch05_dockerfile::build::copy::sources::lexical_parts;
///
/// assert_eq!(lexical_parts("/a/./b/../c/").unwrap(), ["a", "c"]);
/// assert!(lexical_parts(".").unwrap().is_empty());
/// assert_eq!(lexical_parts("../x"), None);
/// assert_eq!(lexical_parts("a/../../x"), None);
/// assert_eq!(lexical_parts("/../x"), None);
/// ```
pub fn lexical_parts(source: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = Vec::new();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part.to_owned()),
        }
    }
    Some(parts)
}

/// Every source of the instruction, in order, wildcards expanded (their matches sorted by
/// name).
pub fn select(
    origin: Origin<'_>,
    sources: &[String],
    add: bool,
    instruction: &'static str,
) -> Result<Vec<Selected>, CopyError> {
    let mut selected = Vec::new();
    for source in sources {
        if add && (source.starts_with("http://") || source.starts_with("https://")) {
            return Err(CopyError::RemoteSource {
                url: source.clone(),
            });
        }
        let Some(parts) = lexical_parts(source) else {
            return Err(CopyError::OutsideContext {
                instruction,
                path: source.clone(),
            });
        };
        if glob::has_wildcards(source) {
            let matched = expand(origin, &parts)?;
            if matched.is_empty() {
                return Err(CopyError::NoSourceFiles { instruction });
            }
            selected.extend(matched);
        } else {
            let not_found = || CopyError::NotFound {
                instruction,
                path: source.clone(),
            };
            match found(origin, &parts) {
                Ok(one) => selected.push(one),
                Err(error) if is_missing(&error) => return Err(not_found()),
                Err(error) => return Err(CopyError::Io(io_error(source, error))),
            }
        }
    }
    Ok(selected)
}

/// The source at the lexical path `parts`, resolved.
fn found(origin: Origin<'_>, parts: &[String]) -> io::Result<Selected> {
    let real = resolve_in_root(origin.root, parts, origin.context)?;
    let path = join(origin.root, &real);
    let metadata = std::fs::symlink_metadata(&path)?;
    Ok(Selected {
        shown: if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        },
        name: parts.last().cloned().unwrap_or_default(),
        real,
        path,
        metadata,
    })
}

/// The sources a wildcard pattern (as lexical elements) matches: each element with
/// wildcards is matched against the entries of the directories reached so far, the others
/// are looked up by name. Links are followed (inside the root) on the way.
fn expand(origin: Origin<'_>, parts: &[String]) -> Result<Vec<Selected>, CopyError> {
    // Each candidate: the path as matched, and its real path.
    let mut candidates: Vec<(Vec<String>, Vec<String>)> = vec![(Vec::new(), Vec::new())];
    for part in parts {
        let mut next = Vec::new();
        for (shown, real) in candidates {
            let names = if glob::has_wildcards(part) {
                let dir = join(origin.root, &real);
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue; // not a directory: nothing under it matches
                };
                let mut names: Vec<String> = entries
                    .filter_map(|entry| entry.ok())
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .filter(|name| glob::matches(part, name))
                    .collect();
                names.sort();
                names
            } else {
                vec![glob::unescape(part)]
            };
            for name in names {
                let mut wanted = real.clone();
                wanted.push(name.clone());
                if let Ok(resolved) = resolve_in_root(origin.root, &wanted, origin.context) {
                    let mut shown = shown.clone();
                    shown.push(name);
                    next.push((shown, resolved));
                }
            }
        }
        candidates = next;
    }
    let mut selected = Vec::new();
    for (shown, _) in candidates {
        match found(origin, &shown) {
            Ok(one) => selected.push(one),
            Err(error) if is_missing(&error) => {}
            Err(error) => return Err(CopyError::Io(io_error(&shown.join("/"), error))),
        }
    }
    Ok(selected)
}

/// Whether a lookup failed because the path is not there (or leads nowhere).
fn is_missing(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    ) || error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

fn io_error(source: &str, error: io::Error) -> dockyard_support::IoError {
    dockyard_support::IoError {
        action: "look up the source".into(),
        path: Some(source.into()),
        source: error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/passwd"), "inside").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../etc/passwd", root.join("rel")).unwrap();
        std::os::unix::fs::symlink("etc", root.join("dir")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        let parts = |p: &str| lexical_parts(p).unwrap();
        for link in ["abs", "rel", "dir/passwd", "dir/../etc/passwd"] {
            assert_eq!(
                resolve_in_root(root, &parts(link), None).unwrap(),
                ["etc", "passwd"],
                "{link}"
            );
        }
        let error = resolve_in_root(root, &parts("loop"), None).unwrap_err();
        assert!(is_missing(&error), "{error}");
    }
}
