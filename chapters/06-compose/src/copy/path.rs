//! A path given to `cp`, read as docker reads it.
//!
//! Docker cleans a path lexically before it looks at anything (`/a/../b` is `/b`, a container
//! path is relative to the container's `/` whether or not it starts with one), but keeps two
//! things the cleaning would lose: a trailing `/`, which says "this is a directory", and a
//! trailing `/.`, which says "this directory's *contents*" (`docker cp app/. c:/srv` copies
//! what `app` holds into `/srv`; `docker cp app c:/srv` makes `/srv/app`).

use std::path::{Path, PathBuf};

/// A cleaned path and what its ending asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpPath {
    /// The path as the user wrote it, for messages.
    pub shown: String,
    /// Its elements, cleaned (no empty ones, no `.`, no `..`), from the root.
    pub parts: Vec<String>,
    /// It ends with `/` or `/.`: it must be a directory.
    pub asserts_dir: bool,
    /// It ends with `/.`: a directory's contents, not the directory.
    pub contents: bool,
}

impl CpPath {
    /// A path inside a container: relative to its root.
    pub fn in_container(path: &str) -> CpPath {
        CpPath::under(&[], path)
    }

    /// A path on this machine: relative to the working directory `cwd` unless absolute.
    pub fn on_host(path: &str, cwd: &Path) -> CpPath {
        let start: Vec<String> = if path.starts_with('/') {
            Vec::new()
        } else {
            clean(&[], &cwd.to_string_lossy())
        };
        CpPath::under(&start, path)
    }

    fn under(start: &[String], path: &str) -> CpPath {
        let contents = path == "." || path.ends_with("/.");
        CpPath {
            shown: path.to_owned(),
            parts: clean(start, path),
            asserts_dir: contents || path.ends_with('/'),
            contents,
        }
    }

    /// The last element: the name a copy of it takes. `None` for the root.
    pub fn base(&self) -> Option<&str> {
        self.parts.last().map(String::as_str)
    }

    /// The elements of the directory holding it (the root holds itself).
    pub fn parent(&self) -> &[String] {
        &self.parts[..self.parts.len().saturating_sub(1)]
    }

    /// The cleaned path, absolute: `/a/b`, or `/`.
    pub fn absolute(&self) -> PathBuf {
        absolute(&self.parts)
    }
}

/// The absolute path of `parts`.
pub fn absolute(parts: &[String]) -> PathBuf {
    let mut path = PathBuf::from("/");
    path.extend(parts);
    path
}

/// `path`'s elements after `start`'s, cleaned as Go's `filepath.Clean` cleans: `..` takes
/// the element before it away, and stops at the root.
fn clean(start: &[String], path: &str) -> Vec<String> {
    // The lexical rule chapter 05 applies to COPY's destinations and WORKDIR.
    ch05_dockerfile::build::copy::destination::in_image(path, &format!("/{}", start.join("/")))
}

/// `link`'s target as a path of elements, read where the link is (`dir`): an absolute target
/// from the root, a relative one from `dir`; cleaned.
pub fn link_target(dir: &[String], link: &str) -> Vec<String> {
    clean(dir, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &CpPath) -> Vec<&str> {
        path.parts.iter().map(String::as_str).collect()
    }

    #[test]
    fn container_paths_are_relative_to_the_root_and_cleaned() {
        assert_eq!(
            parts(&CpPath::in_container("etc/passwd")),
            ["etc", "passwd"]
        );
        assert_eq!(parts(&CpPath::in_container("/a/../../b/./c")), ["b", "c"]);
        assert!(CpPath::in_container("/").parts.is_empty());
        assert_eq!(CpPath::in_container("/").base(), None);
    }

    #[test]
    fn a_trailing_slash_asserts_a_directory_and_a_trailing_dot_its_contents() {
        let plain = CpPath::in_container("/app");
        assert!(!plain.asserts_dir && !plain.contents);
        let slash = CpPath::in_container("/app/");
        assert!(slash.asserts_dir && !slash.contents);
        let dot = CpPath::in_container("/app/.");
        assert!(dot.asserts_dir && dot.contents);
        assert_eq!(dot.base(), Some("app"));
        assert!(CpPath::in_container(".").contents);
        // `..` cleans away: no assertion left.
        assert!(!CpPath::in_container("/app/..").asserts_dir);
    }

    #[test]
    fn host_paths_start_from_the_working_directory() {
        let cwd = Path::new("/home/me/work");
        assert_eq!(
            parts(&CpPath::on_host("out/x", cwd)),
            ["home", "me", "work", "out", "x"]
        );
        assert_eq!(parts(&CpPath::on_host("../y", cwd)), ["home", "me", "y"]);
        assert_eq!(parts(&CpPath::on_host("/tmp", cwd)), ["tmp"]);
        assert_eq!(
            CpPath::on_host("x", cwd).absolute(),
            Path::new("/home/me/work/x")
        );
    }

    #[test]
    fn link_targets_read_from_the_link_or_the_root() {
        let dir = ["srv".to_owned(), "app".to_owned()];
        assert_eq!(link_target(&dir, "../data"), ["srv", "data"]);
        assert_eq!(link_target(&dir, "/etc"), ["etc"]);
    }
}
