//! # `COPY` and `ADD`: files from the context into the image
//!
//! `COPY src dst` looks simple and has a dozen rules, each learned by someone the hard way.
//! This module follows docker's legacy builder (`DOCKER_BUILDKIT=0`, the one whose output
//! this chapter prints), checked against docker 20.10 on this machine; where BuildKit does
//! otherwise, a comment says so.
//!
//! **Sources** ([`sources`]) are read from the build context, or with `--from` from another
//! stage's or image's root filesystem ([`Source`]). Each word is a path relative to that root
//! (a leading `/` changes nothing); one that climbs out with `..` is refused. It may hold
//! wildcards ([`glob`]: `*`, `?`, `[a-z]`, per path element, as Go's `filepath.Match`), which
//! must match something. Symbolic links on a source's path are followed *inside* the root,
//! as if it were `/`; links inside a copied directory are copied as links. What
//! `.dockerignore` leaves out is not there at all.
//!
//! **The destination** ([`destination`]) is a directory when it ends with `/` or already is
//! one in the image, a file path otherwise; relative to `WORKDIR`; several sources need a
//! directory. A directory source copies its contents. Missing directories are created.
//!
//! **What is written** ([`tree`]) keeps each file's mode and times (not its owner: `0:0`, or
//! `--chown`'s, see [`owner`]; and not a file's set-user-id bit, which the legacy builder
//! loses on the way: [`owner::legacy_mode`]); `--chmod` changes modes. It is written inside the image's
//! root filesystem ([`rootfs`]) so that no symbolic link the image holds can send a write
//! outside it.
//!
//! **`ADD`** is `COPY` plus two things: a local tar is unpacked ([`extract`]), and a URL is
//! downloaded ([`url`]; never unpacked).
//!
//! **The cache** needs to know whether the sources changed since the last build:
//! [`hash_sources`] hashes what would be copied ([`hash`]), content and metadata, never
//! times.

pub mod destination;
pub mod extract;
pub mod glob;
pub mod hash;
pub mod owner;
pub mod rootfs;
pub mod sources;
pub mod tree;
pub mod url;

use std::os::fd::AsFd;
use std::path::Path;

pub use crate::context::resolve_in_root;
pub use crate::error::CopyError;

use crate::context::Context;
use crate::error::Result;
use owner::Owner;
use rootfs::RootFs;
use sources::{Origin, Selected};

/// Where a COPY reads from: the context, or the mounted root filesystem of a stage or an
/// image (`--from`).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The build context: its `.dockerignore` hides files.
    Context(&'a Context),
    /// A root filesystem (`COPY --from=stage`): everything in it is visible.
    Root(&'a Path),
}

impl<'a> Source<'a> {
    fn origin(&self) -> Origin<'a> {
        match *self {
            Source::Context(context) => Origin {
                root: context.root(),
                context: Some(context),
            },
            Source::Root(root) => Origin {
                root,
                context: None,
            },
        }
    }
}

/// A COPY or ADD with every word already expanded by the builder.
#[derive(Debug, Clone, Default)]
pub struct CopyInstruction {
    /// The source paths, as written (after expansion).
    pub sources: Vec<String>,
    /// Heredoc files, `COPY <<EOF /dst`: (name, content).
    pub inline: Vec<(String, Vec<u8>)>,
    /// The destination, as written.
    pub destination: String,
    /// The stage's `WORKDIR` (absolute), for a relative destination.
    pub workdir: String,
    /// `--chown=user[:group]`: names resolved in the *target* root's `/etc/passwd` and
    /// `/etc/group`.
    pub chown: Option<String>,
    /// `--chmod`: octal, or symbolic (applied to each file's mode).
    pub chmod: Option<crate::instructions::Chmod>,
    /// `ADD`: a local tar source (plain, gzip, zstd) is extracted, not copied.
    pub add: bool,
    /// `ADD`: the URL sources, already downloaded by the builder.
    pub fetched: Vec<url::Fetched>,
}

impl CopyInstruction {
    /// `COPY` or `ADD`, as docker's messages name it.
    pub fn name(&self) -> &'static str {
        if self.add { "ADD" } else { "COPY" }
    }
}

/// The sources' content and metadata, hashed for the build cache: one digest per selected
/// file (context-relative path, type, mode, uid/gid, size, content or link target), and one
/// for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDigest {
    /// `sha256:<hex>` of all the files' paths and digests, in order.
    pub digest: String,
    /// Each file (and directory) selected: its path as reached from the root, and its
    /// `sha256:<hex>`.
    pub files: Vec<(String, String)>,
    /// Docker's `created_by` form: `file:<hex>` for one file, `dir:<hex>` for one directory,
    /// `multi:<hex>` for several sources.
    pub summary: String,
}

/// Hashes what `instruction` would copy from `source`: only the selected files are read.
/// Fails as [`copy`] would when a source is missing or forbidden.
pub fn hash_sources(source: &Source, instruction: &CopyInstruction) -> Result<SourceDigest> {
    let origin = source.origin();
    let selected = sources::select(
        origin,
        &instruction.sources,
        instruction.add,
        instruction.name(),
    )?;
    let mut files = Vec::new();
    for one in &selected {
        let real = one.real.join("/");
        // A selected source is there (`select` found it), perhaps as an implied directory.
        let digest =
            hash::hash_received(&one.path, &one.shown, &real, &one.metadata, origin.context)?
                .unwrap_or_default();
        files.push((one.shown.clone(), digest));
        if one.is_dir() {
            hash::hash_dir(&one.path, &one.shown, &real, origin.context, &mut files)?;
        }
    }
    for (name, content) in &instruction.inline {
        files.push((name.clone(), hash::hash_inline(name, content)));
    }
    let digest = hash::hash_list(&files);
    let hex = |digest: &str| digest.trim_start_matches("sha256:").to_owned();
    let summary = match (selected.as_slice(), instruction.inline.len()) {
        ([one], 0) if one.is_dir() => format!("dir:{}", hex(&digest)),
        ([_], 0) | ([], 1) => format!("file:{}", hex(&files[0].1)),
        _ => format!("multi:{}", hex(&digest)),
    };
    Ok(SourceDigest {
        digest,
        files,
        summary,
    })
}

// ANCHOR: copy
/// Copies the sources into `rootfs` (the mounted root filesystem of the image being built).
pub fn copy(source: &Source, instruction: &CopyInstruction, rootfs: &Path) -> Result<()> {
    let name = instruction.name();
    let (urls, paths) = url::split_sources(instruction);
    let mut selected = sources::select(source.origin(), &paths, instruction.add, name)?;
    selected.extend(url::selected(&urls, &instruction.fetched)?);
    let (parts, is_dir) = destination::target(&instruction.destination, &instruction.workdir);
    if selected.len() + instruction.inline.len() > 1 && !is_dir {
        return Err(CopyError::DestinationNotDirectory { instruction: name }.into());
    }
    let rootfs = RootFs::open(rootfs)?;
    let owner = match &instruction.chown {
        Some(spec) => owner::resolve_owner(spec, &rootfs)?,
        None => Owner::ROOT,
    };
    let context = source.origin().context;
    let writer = tree::Writer {
        owner,
        keep_owners: context.is_none() && instruction.chown.is_none(),
        chmod: instruction.chmod.as_ref(),
        context,
        // The legacy builder re-owns what it copies, except `--from` without `--chown`.
        drop_set_id: context.is_some() || instruction.chown.is_some(),
    };
    for one in &selected {
        copy_one(one, instruction, &rootfs, &writer, (&parts, is_dir))?;
    }
    for (file, content) in &instruction.inline {
        let (dir, file) = destination::place_file(&rootfs, (&parts, is_dir), file, owner, name)?;
        writer.write_inline(dir.as_fd(), &file, content)?;
    }
    Ok(())
}

/// Copies one source: a directory's contents, an archive unpacked (`ADD`), or one entry.
fn copy_one(
    one: &Selected,
    instruction: &CopyInstruction,
    rootfs: &RootFs,
    writer: &tree::Writer<'_>,
    (parts, is_dir): (&[String], bool),
) -> Result<()> {
    let name = instruction.name();
    if one.is_dir() {
        // The directory itself is not copied: the destination gets `0755` and, if it is
        // new, `--chown`'s owner; the directories above it stay `root`'s.
        let (dir, _) = rootfs.make_dirs(parts, Owner::ROOT, writer.owner, name)?;
        writer.copy_dir_contents(&one.path, &one.real.join("/"), dir.as_fd())?;
    } else if instruction.add
        && one.metadata.is_file()
        && !url::is_url(&one.shown)
        && extract::is_archive(&one.path)?
    {
        let (dir, _) = rootfs.make_dirs(parts, Owner::ROOT, Owner::ROOT, name)?;
        extract::extract(&one.path, dir.as_fd())?;
    } else {
        let (dir, file) =
            destination::place_file(rootfs, (parts, is_dir), &one.name, writer.owner, name)?;
        writer.copy_entry(&one.path, &one.metadata, dir.as_fd(), &file)?;
    }
    Ok(())
}
// ANCHOR_END: copy
