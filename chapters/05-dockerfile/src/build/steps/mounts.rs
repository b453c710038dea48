//! `RUN --mount`: what a `RUN` sees besides the image so far, and leaves out of its layer.
//!
//! Each mount becomes one of chapter 01's [`Mount`]s, attached inside the container's root:
//!
//! - `bind`: a directory (or file) of the context, or of another stage or image (`from=`),
//!   read-only (with `rw`, writable through a scratch view whose writes are lost); its
//!   content is part of the step's cache key, since the command reads it;
//! - `cache`: a directory of the store (`build-cache-mounts/<id>`) that outlives the build,
//!   for package managers' downloads; not part of the key (a cache never changes a result);
//! - `tmpfs`: an empty in-memory directory;
//! - `secret`: a file given with `build --secret id=…,src=…`, read-only, at
//!   `/run/secrets/<id>` by default; never in the key, the layer or the history.
//!
//! A mount point the image did not have is created for the mount and taken away before the
//! layer is made, as BuildKit does: the layer holds what the command wrote, nothing else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ch01_namespaces::{Mount, MountKind};
use dockyard_support::FromIo;
use nix::fcntl::{Flock, FlockArg};

use super::Builder;
use super::scratch::Scratch;
use crate::build::copy::{self as copier, CopyInstruction, Source};
use crate::build::state::StageState;
use crate::build::workspace::Workspace;
use crate::error::{Error, Result};
use crate::instructions::{
    Instruction, InstructionError, Mount as RunMount, MountType, Run, Sharing, Word,
};

/// A `RUN`'s mounts, ready for chapter 01, with what must stay alive while it runs.
#[derive(Debug, Default)]
pub struct RunMounts<'a> {
    /// The mounts, in order.
    pub mounts: Vec<Mount>,
    /// Variables a secret is also given in (`env=`).
    pub env: Vec<(String, String)>,
    /// What the step reads through them, for its cache key: `mount:TARGET` → digest.
    pub reads: BTreeMap<String, String>,
    /// A description of each mount, for the cache key.
    pub described: Vec<String>,
    /// Mount points the image did not have (paths inside the image), to take away after.
    pub created: Vec<String>,
    /// Other stages' or images' root filesystems that binds read from.
    pub sources: Vec<Workspace<'a>>,
    /// Scratch views that writable binds write to.
    pub scratch: Vec<Scratch>,
    /// The locks of `sharing=locked` cache mounts, held while the step runs.
    pub locks: Vec<Flock<std::fs::File>>,
}

impl<'a> Builder<'a> {
    // ANCHOR: run_mounts
    /// The mounts of `run` in stage `stage`, their words expanded.
    pub fn run_mounts(
        &mut self,
        stage: usize,
        state: &StageState,
        run: &Run,
        instruction: &Instruction,
    ) -> Result<RunMounts<'a>> {
        let mut prepared = RunMounts::default();
        for word in &run.mounts {
            let mount = self
                .expand_mount(state, word)
                .map_err(|error| instruction.error(self.file, error))?;
            let target = self.mount_target(state, &mount);
            if !exists_in_layers(&state.layer_dirs(self.store), &target) {
                prepared.created.push(target.clone());
            }
            prepared.described.push(format!(
                "{:?} {target} {:?} {:?} read-only={}",
                mount.kind, mount.from, mount.source, mount.read_only
            ));
            let path = PathBuf::from(&target);
            let fail =
                |message: String| instruction.error(self.file, InstructionError::new(message));
            match mount.kind {
                MountType::Bind => {
                    let (source, digest) =
                        self.bind_source(stage, &mount, &mut prepared, instruction)?;
                    prepared.reads.insert(format!("mount:{target}"), digest);
                    if mount.read_only {
                        prepared.mounts.push(Mount::bind(source, path, true));
                    } else {
                        // Writable, but the writes go to a scratch view and are lost.
                        let scratch = Scratch::of(self.store, &source)?;
                        prepared
                            .mounts
                            .push(Mount::bind(&scratch.path, path, false));
                        prepared.scratch.push(scratch);
                    }
                }
                MountType::Cache => {
                    let id = mount.id.clone().unwrap_or_else(|| target.clone());
                    let dir = self.cache_mount_dir(&id, &mount)?;
                    // `sharing=locked`: one RUN at a time uses it, across workers and builds.
                    if mount.sharing == Some(Sharing::Locked) {
                        prepared.locks.push(lock(&dir)?);
                    }
                    prepared
                        .mounts
                        .push(Mount::bind(dir, path, mount.read_only));
                }
                // ANCHOR_END: run_mounts
                MountType::Tmpfs => prepared.mounts.push(Mount {
                    source: None,
                    target: path,
                    kind: MountKind::Tmpfs {
                        size: mount.size,
                        mode: None,
                        no_exec: false,
                    },
                }),
                MountType::Secret => {
                    let id = mount.id.clone().unwrap_or_else(|| base_name(&target));
                    match self.options.secrets.iter().find(|(name, _)| *name == id) {
                        Some((_, file)) => {
                            if let Some(variable) = &mount.env {
                                let value = std::fs::read_to_string(file)
                                    .map_err(Error::io("read the secret", file))?;
                                prepared.env.push((variable.clone(), value));
                            }
                            prepared.mounts.push(Mount::bind(file.clone(), path, true));
                        }
                        None if mount.required => {
                            let missing = InstructionError::new(format!("secret {id} not found"))
                                .with_hint("give it with build --secret id=ID,src=PATH");
                            return Err(instruction.error(self.file, missing));
                        }
                        // An optional secret not given: nothing is mounted.
                        None => prepared.created.retain(|created| *created != target),
                    }
                }
                MountType::Ssh => return Err(fail("RUN --mount=type=ssh is not supported".into())),
            }
        }
        Ok(prepared)
    }

    /// A mount's words expanded with the stage's variables.
    fn expand_mount(
        &self,
        state: &StageState,
        word: &Word<RunMount>,
    ) -> std::result::Result<RunMount, InstructionError> {
        match word {
            Word::Literal(mount) => Ok(mount.clone()),
            Word::Expandable(text) => {
                let lexer = self.lexer();
                let env = state.expansion_env();
                RunMount::parse(text, &mut |value| lexer.process_word(value, &env))
            }
        }
    }

    /// Where a mount goes: its `target` (BuildKit's default for a secret:
    /// `/run/secrets/<id>`), relative to the working directory.
    fn mount_target(&self, state: &StageState, mount: &RunMount) -> String {
        let target = match (&mount.target, mount.kind, &mount.id) {
            (Some(target), _, _) => target.clone(),
            (None, MountType::Secret, Some(id)) => format!("/run/secrets/{id}"),
            (None, _, _) => "/".to_owned(),
        };
        super::config::resolve_workdir(state, &target)
    }

    /// The host path a bind mount shows, and a digest of what is there.
    fn bind_source(
        &mut self,
        stage: usize,
        mount: &RunMount,
        prepared: &mut RunMounts<'a>,
        instruction: &Instruction,
    ) -> Result<(PathBuf, String)> {
        let source = mount.source.clone().unwrap_or_else(|| ".".to_owned());
        let root = match &mount.from {
            None => self.context.root().to_path_buf(),
            Some(from) => {
                let workspace = self.mount_other(stage, from, instruction)?;
                let root = workspace.root();
                prepared.sources.push(workspace);
                root
            }
        };
        let request = CopyInstruction {
            sources: vec![source.clone()],
            destination: "/".into(),
            workdir: "/".into(),
            ..CopyInstruction::default()
        };
        let digest = match &mount.from {
            None => copier::hash_sources(&Source::Context(self.context), &request)?,
            Some(_) => copier::hash_sources(&Source::Root(&root), &request)?,
        };
        let parts: Vec<String> = source
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let context = mount.from.is_none().then_some(self.context);
        let real = copier::resolve_in_root(&root, &parts, context).map_err(Error::io(
            "find the bind mount's source",
            root.join(&source),
        ))?;
        Ok((crate::context::join(&root, &real), digest.digest))
    }

    /// The store's directory for cache mount `id`, created on first use with the mount's
    /// mode and owner (0755 root by default).
    fn cache_mount_dir(&self, id: &str, mount: &RunMount) -> Result<PathBuf> {
        let name = ch04_images::Digest::sha256_of(id.as_bytes()).encoded()[..16].to_owned();
        let dir = self.store.root().join("build-cache-mounts").join(name);
        if !dir.exists() {
            std::fs::create_dir_all(&dir).map_err(Error::io("create the cache mount", &dir))?;
            use std::os::unix::fs::PermissionsExt;
            let mode = mount.mode.unwrap_or(0o755);
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
                .map_err(Error::io("set the mode of", &dir))?;
            std::os::unix::fs::chown(
                &dir,
                Some(mount.uid.unwrap_or(0)),
                Some(mount.gid.unwrap_or(0)),
            )
            .map_err(Error::io("set the owner of", &dir))?;
        }
        Ok(dir)
    }
}

/// Takes the lock of the cache mount `dir` (a file beside it), waiting for it.
fn lock(dir: &Path) -> Result<Flock<std::fs::File>> {
    let path = dir.with_extension("lock");
    let file = std::fs::File::create(&path).map_err(Error::io("create", &path))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| Error::io("lock the cache mount", dir)(errno.into()))
}

/// Whether any of `layers` has `path` (absolute in the image), links not followed.
fn exists_in_layers(layers: &[PathBuf], path: &str) -> bool {
    let relative = path.trim_start_matches('/');
    relative.is_empty()
        || layers
            .iter()
            .any(|layer| std::fs::symlink_metadata(layer.join(relative)).is_ok())
}

/// The last element of a path.
fn base_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned())
}

/// Takes away, from a container's changes (`changes_root`: its upper directory), the mount
/// points created for it, and the parents created with them, deepest first.
pub fn remove_mount_points(
    changes_root: &Path,
    created: &[String],
    layers: &[PathBuf],
) -> Result<()> {
    for target in created {
        let mut path = PathBuf::from(target.trim_start_matches('/'));
        loop {
            if path.as_os_str().is_empty()
                || exists_in_layers(layers, &format!("/{}", path.display()))
            {
                break;
            }
            let full = changes_root.join(&path);
            let removed = match std::fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir(&full).is_ok(),
                Ok(_) => std::fs::remove_file(&full).is_ok(),
                Err(_) => false,
            };
            // A directory the command wrote into stays, with what it wrote.
            if !removed {
                break;
            }
            path.pop();
        }
    }
    Ok(())
}
