//! # The build context: the files a build may read
//!
//! `docker build DIR` does not let the Dockerfile read the whole disk: it hands the builder one
//! directory, the *build context*, and `COPY`/`ADD` read from there only. The docker client
//! sends it to the daemon as a tar (the daemon may be on another machine), leaving out what the
//! context's `.dockerignore` lists; `docker build - < context.tar` sends a tar the user made.
//! Either way the builder ends up with a directory tree and a rule: *nothing outside it exists*.
//!
//! That rule has three sides, each enforced somewhere:
//!
//! - **Ignored files do not exist.** A file `.dockerignore` excludes was never sent, so `COPY`
//!   cannot find it, and a `COPY . .` leaves it out. [`Context::is_ignored`] is the question,
//!   asked as docker's client asks it while it walks the context (see the `dockerignore`
//!   module: the walker's verdict, which can differ from a one-shot match). An ignored
//!   directory is never sent either, but a file an exception takes back from inside it is,
//!   and the daemon creates the directories above it: [`Context::presence`] tells the three
//!   cases apart.
//! - **Paths stay inside.** `COPY ../secret /` names a file beside the context: refused
//!   (`build::copy` checks the words; symbolic links inside the context are resolved as if
//!   the context root were `/`).
//! - **A context that comes as a tar is unpacked safely.** Its entries could be named
//!   `../../etc/cron.d/x`, or go through a symbolic link `evil -> /`; [`Context::from_tar`]
//!   unpacks it with chapter 03's archive code, which refuses the first and keeps the second
//!   inside the target, and which refuses device nodes here (a context has no use for one).
//!
//! The Dockerfile itself is read from the context even when `.dockerignore` lists it (docker
//! reads it, then leaves it out of what `COPY` sees): [`Context::read_file`] reads any file of
//! the context, ignored or not, but never through a link that leads out of it.

mod resolve;

pub use resolve::{join, resolve_in_root};

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;
use ch03_union_fs::archive::apply::entry::{Target, apply_entry};
use ch03_union_fs::archive::{ApplyOptions, Compression, Whiteouts};
use dockyard_support::FromIo;

use crate::dockerignore::{self, MatchInfo, PatternMatcher};
use crate::error::{Error, Result};

/// The name of the ignore file at the context root.
pub const IGNORE_FILE: &str = ".dockerignore";

/// A build context: a directory, and what its `.dockerignore` leaves out.
#[derive(Debug)]
pub struct Context {
    root: PathBuf,
    ignore: PatternMatcher,
    /// The directory a tar was unpacked into, removed with the context.
    _scratch: Option<Scratch>,
}

/// A directory removed when dropped.
#[derive(Debug)]
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        // Nothing to report to: a context that cannot be removed leaves a directory behind,
        // which is all a failure here could mean.
        let _best_effort = std::fs::remove_dir_all(&self.0);
    }
}

impl Context {
    /// The context `dir`, with its `.dockerignore` read (none is an empty list).
    pub fn from_dir(dir: &Path) -> Result<Context> {
        let root = std::path::absolute(dir).map_err(Error::io("find the build context", dir))?;
        let metadata =
            std::fs::metadata(&root).map_err(Error::io("open the build context", &root))?;
        if !metadata.is_dir() {
            return Err(Error::io("open the build context", &root)(
                std::io::Error::from(std::io::ErrorKind::NotADirectory),
            ));
        }
        let ignore = read_ignore_file(&root)?;
        Ok(Context {
            root,
            ignore,
            _scratch: None,
        })
    }

    /// The context sent as a tar (plain, gzip or zstd) on `input`, unpacked into `scratch`, a
    /// directory that must not exist yet: the context creates it and removes it when dropped.
    ///
    /// The entries are created by chapter 03's `apply_entry`: a name with `..` is refused, a
    /// symbolic link is created but never followed out of `scratch` (every lookup is made
    /// with `RESOLVE_IN_ROOT`), device nodes are refused, and `.wh.` names are plain files
    /// (this is not a layer). Owners are not restored: docker's client sends every file as
    /// `0:0` anyway, and `COPY` sets its own.
    pub fn from_tar(input: impl Read, scratch: PathBuf) -> Result<Context> {
        std::fs::create_dir(&scratch).map_err(Error::io(
            "create the directory for the build context",
            &scratch,
        ))?;
        let guard = Scratch(scratch.clone());
        let mut input = BufReader::with_capacity(1 << 16, input);
        let read_error = |e| Error::io("read the build context", &scratch)(e);
        let compression = Compression::detect(&mut input).map_err(read_error)?;
        let decoded = compression.decoder(&mut input).map_err(read_error)?;
        let options = ApplyOptions {
            whiteouts: Whiteouts::Plain,
            special_files: false,
            same_owner: false,
        };
        let n = Narrator::silent();
        let mut target = Target::open(&scratch)?;
        let mut archive = tar::Archive::new(decoded);
        let corrupt = |e: std::io::Error| ch03_union_fs::Error::CorruptArchive(e.to_string());
        for entry in archive.entries().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            apply_entry(&mut target, &mut entry, &options, &n)?;
        }
        target.finish()?;
        let ignore = read_ignore_file(&scratch)?;
        Ok(Context {
            root: scratch,
            ignore,
            _scratch: Some(guard),
        })
    }

    /// The context's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The patterns of the context's `.dockerignore`.
    pub fn ignore_patterns(&self) -> &PatternMatcher {
        &self.ignore
    }

    /// The content of the context's file `name` (a path relative to the root: `Dockerfile`,
    /// `docker/prod.Dockerfile`), ignored or not. Symbolic links on the way resolve inside the
    /// context, as if its root were `/`.
    pub fn read_file(&self, name: &str) -> Result<Vec<u8>> {
        let parts: Vec<String> = name
            .split('/')
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect();
        let real = resolve_in_root(&self.root, &parts, None)
            .map_err(Error::io("read the file of the build context", name))?;
        let path = real
            .iter()
            .fold(self.root.clone(), |path, part| path.join(part));
        std::fs::read(&path).map_err(Error::io("read the file of the build context", name))
    }

    // ANCHOR: is_ignored
    /// Whether `.dockerignore` leaves out `path` (relative to the context root, `/`-separated:
    /// `src/main.rs`). The verdict is the one docker's client reaches while it walks the
    /// context: each directory's pattern hits are carried down to what is inside it, so with
    /// `a/b` then `!a`, `a/b` stays out (a one-shot match would take it back through `a`).
    /// The root itself is never left out.
    pub fn is_ignored(&self, path: &Path) -> bool {
        let text = path.to_string_lossy();
        let clean = dockerignore::path::clean(text.trim_start_matches('/'));
        if clean == "." || self.ignore.patterns().is_empty() {
            return false;
        }
        let mut info = MatchInfo::default();
        let mut excluded = false;
        let mut prefix = String::new();
        for part in clean.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            // The patterns were all tried when the context was opened, so none fails here.
            (excluded, info) = self
                .ignore
                .matches_using_parent_results(&prefix, &info)
                .unwrap_or((false, MatchInfo::default()));
        }
        excluded
    }
    // ANCHOR_END: is_ignored

    /// Whether `path` is there for `COPY` to see: sent, or a directory made to hold what was
    /// (see [`Context::presence`]).
    pub fn is_visible(&self, path: &Path, is_dir: bool) -> bool {
        self.presence(path, is_dir) != Presence::Absent
    }

    /// How the entry `path` (relative to the root, `/`-separated; `is_dir` if it is a
    /// directory) reaches the builder, as docker's client walks the context.
    ///
    /// What is not ignored is [`Presence::Sent`], with its own mode and times. An ignored
    /// entry is never sent itself; but when exceptions (`!docs/README.md`) might take back
    /// something inside an ignored directory, the client walks into it and sends what they
    /// take back, and the daemon creates the missing directories above it as any tar
    /// extraction does: [`Presence::Implied`], a plain `0755` directory owned by root. An
    /// ignored directory with nothing taken back inside is [`Presence::Absent`], like any
    /// ignored entry.
    pub fn presence(&self, path: &Path, is_dir: bool) -> Presence {
        if !self.is_ignored(path) {
            Presence::Sent
        } else if is_dir
            && !self.ignore.can_skip_excluded_dir(&path.to_string_lossy())
            && self.holds_sent_entry(&path.to_string_lossy())
        {
            Presence::Implied
        } else {
            Presence::Absent
        }
    }

    /// Whether the walk into the ignored directory `dir` sends anything: an entry that is
    /// not ignored somewhere below it. Links are not followed, as the client's walk does
    /// not follow them; an entry that cannot be read counts as not sent.
    fn holds_sent_entry(&self, dir: &str) -> bool {
        let Ok(entries) = std::fs::read_dir(self.root.join(dir)) else {
            return false;
        };
        entries.filter_map(|entry| entry.ok()).any(|entry| {
            let path = format!("{dir}/{}", entry.file_name().to_string_lossy());
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            self.presence(Path::new(&path), is_dir) != Presence::Absent
        })
    }
}

/// How an entry of the context reaches the builder: [`Context::presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Not ignored: sent with its mode and times.
    Sent,
    /// An ignored directory holding something an exception takes back: not sent itself,
    /// but created (`0755`, root's) to hold what is.
    Implied,
    /// Ignored, with nothing inside taken back: not there at all.
    Absent,
}

/// The matcher of the `.dockerignore` at `root`, every pattern tried once so that one that
/// cannot be matched fails here rather than on some file in the middle of a build.
fn read_ignore_file(root: &Path) -> Result<PatternMatcher> {
    let patterns = dockerignore::read(&root.join(IGNORE_FILE))?;
    let matcher = PatternMatcher::new(patterns)?;
    for pattern in matcher.patterns() {
        pattern.matches("Dockerfile")?;
    }
    Ok(matcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with_ignore(ignore: &str) -> (tempfile::TempDir, Context) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(IGNORE_FILE), ignore).unwrap();
        let context = Context::from_dir(dir.path()).unwrap();
        (dir, context)
    }

    #[test]
    fn ignored_paths_follow_the_walker() {
        let (_dir, context) = context_with_ignore("docs\n!docs/README.md\n*.log\na/b\n!a\n");
        let ignored = |path: &str| context.is_ignored(Path::new(path));
        assert!(ignored("docs"));
        assert!(ignored("docs/guide.md"));
        assert!(!ignored("docs/README.md"));
        assert!(ignored("x.log"));
        assert!(!ignored("sub/x.log"));
        // The walker's verdict: `!a` is not tried on `a` (nothing was excluded yet), so `a/b`
        // stays out.
        assert!(ignored("a/b"));
        assert!(!ignored("."));
        assert!(!ignored("/Dockerfile"));
        let presence = |path: &str, is_dir| context.presence(Path::new(path), is_dir);
        // Nothing was written: `docs` holds nothing an exception takes back.
        assert_eq!(presence("docs", true), Presence::Absent);
        std::fs::create_dir(context.root().join("docs")).unwrap();
        std::fs::write(context.root().join("docs/guide.md"), "g").unwrap();
        assert_eq!(presence("docs", true), Presence::Absent);
        std::fs::write(context.root().join("docs/README.md"), "r").unwrap();
        assert_eq!(presence("docs", true), Presence::Implied);
        assert_eq!(presence("docs/README.md", false), Presence::Sent);
        assert_eq!(presence("docs/guide.md", false), Presence::Absent);
        assert_eq!(presence("sub", true), Presence::Sent);
    }

    #[test]
    fn a_bad_pattern_fails_when_the_context_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(IGNORE_FILE), "[z-a]\n").unwrap();
        let error = Context::from_dir(dir.path()).unwrap_err();
        assert!(matches!(error, Error::IgnorePattern(_)), "{error}");
    }
}
