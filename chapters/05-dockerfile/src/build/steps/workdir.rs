//! `WORKDIR`: the config's working directory, and the directory itself.
//!
//! Docker's builder creates the directory (`mkdir -p`, `0755`, owned by root whatever the
//! `USER`) in a container of the image so far and commits it, so a `WORKDIR` is a layer of
//! its own; when the directory already exists the layer is empty and none is added.

use super::{Builder, StepInputs};
use crate::build::copy::owner::Owner;
use crate::build::copy::rootfs::RootFs;
use crate::build::history;
use crate::build::state::StageState;
use crate::build::steps::config::resolve_workdir;
use crate::build::workspace::{Workspace, layers_or_empty};
use crate::error::{Error, Result};
use crate::instructions::Workdir;
use crate::shell::ShellError;

/// What can go wrong with a `WORKDIR`: its word, or making the directory.
#[derive(Debug)]
pub enum WorkdirError {
    /// The path does not expand.
    Shell(ShellError),
    /// The directory cannot be made.
    Build(Error),
}

impl From<Error> for WorkdirError {
    fn from(error: Error) -> Self {
        WorkdirError::Build(error)
    }
}

impl Builder<'_> {
    // ANCHOR: workdir
    /// `WORKDIR path`, relative to the current one.
    pub fn workdir(
        &mut self,
        state: &mut StageState,
        workdir: &Workdir,
    ) -> std::result::Result<(), WorkdirError> {
        let env = state.expansion_env();
        let expanded = self
            .lexer()
            .process_word(&workdir.path, &env)
            .map_err(WorkdirError::Shell)?;
        let path = resolve_workdir(state, &expanded);
        let step = StepInputs {
            created_by: history::workdir(&Builder::shell(state), &path),
            instruction: history::workdir(&Builder::shell(state), &path),
            reads: Default::default(),
        };
        let made = path.clone();
        self.layer_step(state, step, move |builder, state| {
            builder.make_workdir(state, &made)
        })?;
        state.run_config().working_dir = Some(path);
        Ok(())
    }
    // ANCHOR_END: workdir

    /// Makes `path` in a container of `state`, and takes the change.
    fn make_workdir(
        &mut self,
        state: &StageState,
        path: &str,
    ) -> Result<Option<crate::cache::CachedLayer>> {
        let layers = layers_or_empty(self.store, state)?;
        let workspace =
            Workspace::create(self.store, layers, self.storage, "WORKDIR", &self.narrator)?;
        let root = RootFs::open(&workspace.root())?;
        let parts: Vec<String> = path
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        root.make_dirs(&parts, Owner::ROOT, Owner::ROOT, "WORKDIR")?;
        let parent = state.chain_ids().last().cloned();
        workspace.commit(
            parent,
            format!("the directory of WORKDIR {path}"),
            &self.narrator,
        )
    }
}
