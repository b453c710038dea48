//! Where a copied file goes: docker's rules for the destination.
//!
//! - A relative destination is under the stage's `WORKDIR`: `WORKDIR /app` then
//!   `COPY a.txt conf/` writes `/app/conf/a.txt`. A `..` stops at `/`.
//! - A destination that ends with `/` (or is `.`) is a directory: each file goes in it under
//!   its own name, and it is created if missing.
//! - So is a destination that already is a directory in the image (links inside the image
//!   followed): `COPY a.txt /etc` writes `/etc/a.txt`.
//! - Otherwise it is the file's new path: `COPY a.txt /b` writes the file `/b`.
//! - With several sources (or a wildcard matching several files) only a directory makes
//!   sense, and it must be written with its `/`: docker refuses the rest, as the instruction
//!   reads the same whatever the image holds.
//! - A directory source copies its *contents* into the destination, which is always a
//!   directory: `COPY src /app` writes `/app/main.rs`, not `/app/src/main.rs`.
//! - Missing directories on the way are created `0755`. Who owns them is one of the legacy
//!   builder's quirks, checked against docker 20.10: for a file, the new directories get
//!   `--chown`'s owner (`COPY --chown=1:2 a /x/y/` makes `/x` and `/x/y` `1:2`); for a
//!   directory source only the destination itself does, the directories above it staying
//!   `root`'s. (BuildKit gives all of them `--chown`'s owner; not checked here.)

use std::os::fd::OwnedFd;

use super::owner::Owner;
use super::rootfs::RootFs;
use crate::error::CopyError;

/// The destination as absolute path elements inside the image, and whether it is written as
/// a directory (a trailing `/`, or `.`).
///
/// ```
/// use ch05_dockerfile::build::copy::destination::target;
///
/// assert_eq!(target("/etc/app.conf", "/w"), (vec!["etc".into(), "app.conf".into()], false));
/// assert_eq!(target("conf/", "/w"), (vec!["w".into(), "conf".into()], true));
/// assert_eq!(target(".", "/w"), (vec!["w".into()], true));
/// assert_eq!(target("../../x", "/w"), (vec!["x".into()], false));
/// ```
pub fn target(destination: &str, workdir: &str) -> (Vec<String>, bool) {
    let is_dir = destination.ends_with('/')
        || destination == "."
        || destination.ends_with("/.")
        || destination.is_empty();
    let parts = in_image(destination, workdir);
    let is_dir = is_dir || parts.is_empty();
    (parts, is_dir)
}

/// The elements of `path` in the image, a relative one under `workdir`, `.` and `..`
/// resolved by their names alone (`..` at `/` is `/`): where `COPY`, `WORKDIR` and `RUN
/// --mount` put things, before any link in the image is followed.
pub fn in_image(path: &str, workdir: &str) -> Vec<String> {
    let full = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{workdir}/{path}")
    };
    let mut parts: Vec<String> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part.to_owned()),
        }
    }
    parts
}

/// Where a file named `name` goes for the destination `parts`: the directory to create it
/// in (created if missing, new directories owned by `owner`) and its name there.
pub fn place_file(
    rootfs: &RootFs,
    (parts, is_dir): (&[String], bool),
    name: &str,
    owner: Owner,
    instruction: &'static str,
) -> Result<(OwnedFd, String), CopyError> {
    if is_dir || rootfs.existing_dir(parts).is_some() {
        let (dir, _) = rootfs.make_dirs(parts, owner, owner, instruction)?;
        return Ok((dir, name.to_owned()));
    }
    let (last, parent) = parts
        .split_last()
        .expect("an empty destination is a directory");
    let (dir, _) = rootfs.make_dirs(parent, owner, owner, instruction)?;
    Ok((dir, last.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_destinations_are_under_the_workdir() {
        assert_eq!(target("x", "/"), (vec!["x".to_owned()], false));
        assert_eq!(
            target("a/b/", "/w/v"),
            (vec!["w".into(), "v".into(), "a".into(), "b".into()], true)
        );
        assert_eq!(target("/", "/w"), (vec![], true));
        assert_eq!(target("./", "/w"), (vec!["w".to_owned()], true));
        assert_eq!(target("/x/.", "/w"), (vec!["x".to_owned()], true));
        assert_eq!(target("..", "/"), (vec![], true));
    }
}
