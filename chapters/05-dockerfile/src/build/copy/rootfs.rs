//! The root filesystem being written to, and paths inside it that stay inside it.
//!
//! The image's files are not to be trusted: an earlier layer may hold `/app -> /etc` or
//! `/x -> ../../..`. Were `COPY a.txt /x/y` to open `<rootfs>/x/y` by its path, the host's
//! kernel would follow `x` from the *host's* root, and the write would land anywhere on the
//! host. So every lookup here is made relative to a descriptor of the root filesystem with
//! `openat2(RESOLVE_IN_ROOT)`: the kernel resolves each link as if that descriptor were `/`
//! (`/etc` is `<rootfs>/etc`, `..` stops at `<rootfs>`), so the image's links keep their
//! meaning inside the image and can never lead out of it. Everything is then created with
//! `*at` calls relative to the directory descriptors found that way, and the last element is
//! never followed (`O_NOFOLLOW`, `O_EXCL`).

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use dockyard_support::IoError;
use rustix::fs::{Gid, Mode, OFlags, ResolveFlags, Uid};
use rustix::io::Errno;

use crate::error::CopyError;

/// How many links the destination may go through, as Linux allows.
const MAX_LINKS: usize = 40;

/// How every lookup below the root is made: links resolve as if the root were `/`, and
/// `/proc`'s magic links (which could jump anywhere) are refused.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// A user and group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
}

impl Owner {
    /// `root:root`, the owner of what `COPY` writes without `--chown`.
    pub const ROOT: Owner = Owner { uid: 0, gid: 0 };
}

/// A root filesystem opened for writing into it.
#[derive(Debug)]
pub struct RootFs {
    fd: OwnedFd,
    path: PathBuf,
}

impl RootFs {
    /// Opens the directory `path` as a root filesystem.
    pub fn open(path: &Path) -> Result<RootFs, IoError> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())
            .map_err(|e| io_error("open the root filesystem", path, e))?;
        Ok(RootFs {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Where it is on this machine.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks up `parts` inside the root, following links inside it.
    pub fn lookup(&self, parts: &[String], flags: OFlags) -> rustix::io::Result<OwnedFd> {
        let relative = if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        };
        rustix::fs::openat2(
            self.fd.as_fd(),
            relative,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            IN_ROOT,
        )
    }

    /// The directory at `parts`, if there is one (links inside the root followed).
    pub fn existing_dir(&self, parts: &[String]) -> Option<OwnedFd> {
        self.lookup(parts, OFlags::PATH | OFlags::DIRECTORY).ok()
    }

    /// The content of the file at `path` (absolute in the image: `/etc/passwd`).
    pub fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let parts: Vec<String> = path
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let fd = self.lookup(&parts, OFlags::RDONLY)?;
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut std::fs::File::from(fd), &mut content)?;
        Ok(content)
    }

    /// Opens the directory at `parts`, creating what is missing as `mkdir -p` would: `0755`,
    /// owned by `parents`, except the last one, owned by `last`. Returns it (an `O_PATH`
    /// descriptor, for `*at` calls) and whether the last one was created.
    ///
    /// Each prefix is looked up from the root with `RESOLVE_IN_ROOT`, so a link on the way
    /// (`/app -> /etc`) is followed inside the image, and each new directory is created in
    /// the descriptor of the one above it: nothing is ever looked up from the host's `/`.
    /// A link that leads nowhere yet (`/app -> /srv/app`, no `/srv`) is followed: what it
    /// names is created, inside the image, as docker does.
    pub fn make_dirs(
        &self,
        parts: &[String],
        parents: Owner,
        last: Owner,
        instruction: &'static str,
    ) -> Result<(OwnedFd, bool), CopyError> {
        self.make_dirs_following(parts, parents, last, instruction, 0)
    }

    fn make_dirs_following(
        &self,
        parts: &[String],
        parents: Owner,
        last: Owner,
        instruction: &'static str,
        links: usize,
    ) -> Result<(OwnedFd, bool), CopyError> {
        let shown = || format!("/{}", parts.join("/"));
        let blocked = || CopyError::DestinationBlocked {
            instruction,
            path: shown(),
        };
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        let mut dir = self
            .lookup(&[], flags)
            .map_err(|e| io_error("open the root filesystem", &self.path, e))?;
        let mut created = false;
        for (index, part) in parts.iter().enumerate() {
            let prefix = &parts[..=index];
            created = false;
            dir = match self.lookup(prefix, flags) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    match rustix::fs::mkdirat(&dir, part.as_str(), Mode::from_raw_mode(0o755)) {
                        Ok(()) => created = true,
                        // A link to nowhere (yet): create what it names, inside the image.
                        Err(Errno::EXIST) if links < MAX_LINKS => {
                            let target = rustix::fs::readlinkat(&dir, part.as_str(), Vec::new())
                                .map_err(|_| blocked())?;
                            let target = target.to_string_lossy();
                            let mut through = if target.starts_with('/') {
                                Vec::new()
                            } else {
                                parts[..index].to_vec()
                            };
                            for element in target
                                .split('/')
                                .chain(parts[index + 1..].iter().map(String::as_str))
                            {
                                match element {
                                    "" | "." => {}
                                    ".." => {
                                        through.pop();
                                    }
                                    element => through.push(element.to_owned()),
                                }
                            }
                            return self.make_dirs_following(
                                &through,
                                parents,
                                last,
                                instruction,
                                links + 1,
                            );
                        }
                        Err(Errno::EXIST) => return Err(blocked()),
                        Err(e) => return Err(io_error("create the directory", shown(), e).into()),
                    }
                    let owner = if index + 1 == parts.len() {
                        last
                    } else {
                        parents
                    };
                    set_owner_and_mode(&dir, part, owner, 0o755)
                        .map_err(|e| io_error("create the directory", shown(), e))?;
                    self.lookup(prefix, flags)
                        .map_err(|e| io_error("open the directory", shown(), e))?
                }
                Err(Errno::NOTDIR) => return Err(blocked()),
                Err(e) => return Err(io_error("open the directory", shown(), e).into()),
            };
        }
        Ok((dir, created))
    }
}

/// Gives the directory `name` in `dir` its owner, then its mode (after: `chown` clears set-id
/// bits), through a descriptor of its own opened without following a link.
pub fn set_owner_and_mode(
    dir: &impl AsFd,
    name: &str,
    owner: Owner,
    mode: u32,
) -> rustix::io::Result<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    rustix::fs::fchown(
        &fd,
        Some(Uid::from_raw(owner.uid)),
        Some(Gid::from_raw(owner.gid)),
    )?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))
}

/// An I/O error naming what was attempted where.
pub fn io_error(action: &str, path: impl Into<PathBuf>, errno: Errno) -> IoError {
    IoError {
        action: action.into(),
        path: Some(path.into()),
        source: errno.into(),
    }
}
