//! Entry names and where they lead: the part of unpacking that keeps a hostile archive inside
//! its target directory.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// An entry name checked to stay inside the target: relative, no `..`, no empty or `.` parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPath {
    /// The components, in order; empty for the target directory itself.
    pub parts: Vec<String>,
}

impl EntryPath {
    /// The directory holding the entry, relative to the target.
    pub fn parent(&self) -> PathBuf {
        self.parts[..self.parts.len().saturating_sub(1)]
            .iter()
            .collect()
    }

    /// The entry's own name (`None` for the target itself).
    pub fn name(&self) -> Option<&str> {
        self.parts.last().map(String::as_str)
    }

    /// The whole path, relative to the target.
    pub fn relative(&self) -> PathBuf {
        self.parts.iter().collect()
    }
}

impl std::fmt::Display for EntryPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}", self.parts.join("/"))
    }
}

// ANCHOR: check_name
/// Checks an entry's name (or a hard link's target): it must not climb out with `..`. An
/// absolute name is read relative to the target, as GNU tar, Docker and containerd read it
/// (umoci writes layers whose names start with `/`); a leading `./` and repeated slashes are
/// harmless and dropped.
pub fn check(name: &[u8]) -> Result<EntryPath> {
    let shown = String::from_utf8_lossy(name).into_owned();
    let refuse = |reason: &str| Error::UnsafeEntry {
        entry: shown.clone(),
        reason: reason.into(),
    };
    let mut parts = Vec::new();
    for part in name.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(refuse("'..' would climb out of the target directory")),
            part => parts.push(
                std::str::from_utf8(part)
                    .map_err(|_| refuse("the name is not valid UTF-8"))?
                    .to_string(),
            ),
        }
    }
    Ok(EntryPath { parts })
}
// ANCHOR_END: check_name

/// How every lookup below the target is made: symbolic links resolve as if the target were
/// `/`, and `/proc`'s magic links (which could jump anywhere) are refused.
pub const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

// ANCHOR: resolve_parent
/// Opens the directory `parent` (relative to the target `root`), creating missing directories
/// as `tar` does. Every step is resolved by the kernel with `RESOLVE_IN_ROOT`: a symbolic link
/// planted by an earlier entry (`evil -> /`, `evil -> ../../..`) resolves inside the target,
/// never outside it, so an entry `evil/etc/passwd` lands in the target's own `etc`.
pub fn resolve_parent(root: BorrowedFd<'_>, parent: &Path) -> Result<OwnedFd> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    match rustix::fs::openat2(root, parent, flags, Mode::empty(), IN_ROOT) {
        Ok(fd) => return Ok(fd),
        Err(Errno::NOENT) => {}
        Err(e) => return Err(Error::errno("open the directory", parent)(e)),
    }
    // Something is missing: walk down, creating what is not there.
    let mut dir = rustix::fs::openat2(root, ".", flags, Mode::empty(), IN_ROOT)
        .map_err(Error::errno("open the target directory", parent))?;
    for part in parent.components() {
        let next =
            match rustix::fs::openat2(dir.as_fd(), part.as_os_str(), flags, Mode::empty(), IN_ROOT)
            {
                Err(Errno::NOENT) => {
                    rustix::fs::mkdirat(dir.as_fd(), part.as_os_str(), Mode::from_raw_mode(0o755))
                        .or_else(|e| if e == Errno::EXIST { Ok(()) } else { Err(e) })
                        .map_err(Error::errno("create the directory", parent))?;
                    rustix::fs::openat2(
                        dir.as_fd(),
                        part.as_os_str(),
                        flags,
                        Mode::empty(),
                        IN_ROOT,
                    )
                }
                other => other,
            };
        dir = next.map_err(Error::errno("open the directory", parent))?;
    }
    Ok(dir)
}
// ANCHOR_END: resolve_parent
