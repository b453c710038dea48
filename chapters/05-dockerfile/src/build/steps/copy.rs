//! `COPY` and `ADD`: files from the context (or another stage, or an image) into a
//! container's root filesystem, mounted but not run; its changes become the layer.
//!
//! The cache cannot know from the instruction alone whether the files changed, so the step's
//! inputs include a digest of every file it takes (content, mode, owner, link target; never
//! the time): change one file and this step, and the ones after it, run again.

use std::collections::BTreeMap;

use super::{Builder, StepInputs};
use crate::build::copy::{self as copier, CopyInstruction, Source};
use crate::build::history;
use crate::build::state::StageState;
use crate::build::workspace::{Workspace, layers_or_empty};
use crate::error::Result;
use crate::instructions::{Add, Chmod, Copy, Instruction, InstructionError, Sources, Word};
use crate::shell::Lexer;

/// What `COPY` and `ADD` have in common.
#[derive(Debug)]
pub struct CopyStep<'i> {
    /// `COPY` or `ADD`.
    pub keyword: &'static str,
    /// The sources and the destination, unexpanded.
    pub sources: &'i Sources,
    /// `--from`.
    pub from: Option<&'i str>,
    /// `--chown`, unexpanded.
    pub chown: Option<&'i str>,
    /// `--chmod`.
    pub chmod: Option<&'i Word<Chmod>>,
    /// `ADD`: extract local archives.
    pub add: bool,
}

impl<'i> CopyStep<'i> {
    /// A `COPY`.
    pub fn copy(copy: &'i Copy) -> CopyStep<'i> {
        CopyStep {
            keyword: "COPY",
            sources: &copy.sources,
            from: copy.from.as_deref(),
            chown: copy.chown.as_deref(),
            chmod: copy.chmod.as_ref(),
            add: false,
        }
    }

    /// An `ADD`.
    pub fn add(add: &'i Add) -> CopyStep<'i> {
        CopyStep {
            keyword: "ADD",
            sources: &add.sources,
            from: None,
            chown: add.chown.as_deref(),
            chmod: add.chmod.as_ref(),
            add: true,
        }
    }
}

impl Builder<'_> {
    // ANCHOR: copy
    /// `COPY` or `ADD` in stage `stage`.
    pub fn copy(
        &mut self,
        stage: usize,
        state: &mut StageState,
        step: &CopyStep<'_>,
        instruction: &Instruction,
    ) -> Result<()> {
        let request = self
            .expand_copy(state, step)
            .map_err(|error| instruction.error(self.file, error))?;
        // A `--from` stage or image is read through a mount of its own root filesystem.
        let from_root = match step.from {
            None => None,
            Some(from) => Some(self.mount_other(stage, from, instruction)?),
        };
        let from_path = from_root.as_ref().map(Workspace::root);
        let source = match &from_path {
            None => Source::Context(self.context),
            Some(root) => Source::Root(root),
        };
        let digest = copier::hash_sources(&source, &request)?;
        let reads: BTreeMap<String, String> = digest
            .files
            .iter()
            .map(|(path, digest)| (format!("file:{path}"), digest.clone()))
            .collect();
        let shell = Builder::shell(state);
        let created_by = history::copy(
            &shell,
            step.keyword,
            request.chown.as_deref(),
            &digest.summary,
            &request.destination,
        );
        // For the cache, the step is its words; the files' digests are inputs of their own,
        // so that --explain can name the file that changed.
        let words = request.sources.join(" ");
        let instruction = history::copy(
            &shell,
            step.keyword,
            request.chown.as_deref(),
            &words,
            &request.destination,
        );
        let inputs = StepInputs {
            instruction,
            created_by,
            reads,
        };
        self.layer_step(state, inputs, |builder, state| {
            let layers = layers_or_empty(builder.store, state)?;
            let workspace = Workspace::create(
                builder.store,
                layers,
                builder.storage,
                step.keyword,
                &builder.narrator,
            )?;
            copier::copy(&source, &request, &workspace.root())?;
            let parent = state.chain_ids().last().cloned();
            let what = format!("the files of {} {}", step.keyword, request.destination);
            workspace.commit(parent, what, &builder.narrator)
        })
    }
    // ANCHOR_END: copy

    /// The instruction's words expanded with the stage's variables.
    fn expand_copy(
        &self,
        state: &StageState,
        step: &CopyStep<'_>,
    ) -> std::result::Result<CopyInstruction, InstructionError> {
        let lexer = self.lexer();
        let env = state.expansion_env();
        let word = |text: &str| lexer.process_word(text, &env);
        let sources = step
            .sources
            .paths
            .iter()
            .map(|path| word(path))
            .collect::<Result<Vec<_>, _>>()?;
        let body_lexer = Lexer {
            ignore_quotes: true,
            ..lexer
        };
        let inline = step
            .sources
            .inline
            .iter()
            .map(|file| {
                let content = if file.expand {
                    body_lexer.process_word(&file.content, &env)?
                } else {
                    file.content.clone()
                };
                Ok((file.name.clone(), content.into_bytes()))
            })
            .collect::<Result<Vec<_>, InstructionError>>()?;
        let chmod = match step.chmod {
            None => None,
            Some(chmod) => Some(chmod.resolve(word, Chmod::parse)?),
        };
        Ok(CopyInstruction {
            sources,
            inline,
            destination: word(&step.sources.destination)?,
            workdir: state
                .run_config_ref()
                .working_dir
                .filter(|dir| !dir.is_empty())
                .unwrap_or_else(|| "/".to_owned()),
            chown: step.chown.map(word).transpose()?,
            chmod,
            add: step.add,
        })
    }
}
