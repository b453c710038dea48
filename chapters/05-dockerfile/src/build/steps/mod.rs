//! What each instruction does to a stage, and how the cache decides whether to do it.
//!
//! Every step goes the same way: say what it will do (its `created_by` and what it reads),
//! which gives its cache key; if the cache has the key (and the store still has the layer
//! it made), take that; else do the work and record it. Only then is the step's effect on
//! the config applied and its history entry written, the same way in both cases, so a
//! cached build and a fresh one make the same image.
//!
//! - [`config`]: the instructions that only edit the config (`ENV`, `CMD`, `USER`…);
//! - [`run`]: `RUN`, a container;
//! - [`copy`]: `COPY` and `ADD`, files into a mounted root filesystem.

pub mod config;
pub mod copy;
pub mod mounts;
pub mod run;
pub mod scratch;
pub mod workdir;

use std::collections::BTreeMap;

use ch01_namespaces::Narrator;
use ch03_union_fs::StorageOptions;
use ch04_images::ImageStore;
use ch04_images::store::layers::chain_id;
use dockyard_support::Sink;
use dockyard_support::clock::{format_rfc3339, now};

use super::plan::Plan;
use super::state::StageState;
use super::workspace::{Workspace, layers_or_empty};
use super::{BuildEvent, BuildOptions};
use crate::cache::{self, Cache, CachedLayer, Entry, Inputs, Miss};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::instructions::InstructionError;
use crate::instructions::{Command, Instruction};
use crate::parser;
use crate::shell::Lexer;
use crate::stages::{Base, Source, Stages};
use workdir::WorkdirError;

/// The shell of shell-form commands when the image sets none.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// A build in progress.
pub struct Builder<'a> {
    /// The image store.
    pub store: &'a ImageStore,
    /// The build context.
    pub context: &'a Context,
    /// The build's options.
    pub options: &'a BuildOptions,
    /// How containers' layers are stacked.
    pub storage: &'a StorageOptions,
    /// Where events go.
    pub events: &'a dyn Sink<BuildEvent>,
    /// The Dockerfile's name, for messages.
    pub file: &'a str,
    /// The Dockerfile's stages.
    pub stages: &'a Stages,
    /// What to build.
    pub plan: &'a Plan,
    /// The build cache.
    pub cache: Cache,
    /// The stages built so far, by index.
    pub built: Vec<(usize, StageState)>,
    /// The narrator handed to chapters 01–04 (silent: a build's story is its steps).
    pub narrator: Narrator,
    /// The number of the step being done.
    pub step: usize,
    /// Whether the steps being done are a base image's `ONBUILD` triggers.
    pub in_triggers: bool,
}

/// One step's description: its history entry, and what it reads besides the state.
#[derive(Debug)]
pub struct StepInputs {
    /// `created_by`.
    pub created_by: String,
    /// The step as the cache describes it: `created_by`, without what `reads` holds.
    pub instruction: String,
    /// Inputs by name (`file:PATH`, `arg:NAME`…).
    pub reads: BTreeMap<String, String>,
}

impl std::fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("file", &self.file)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl<'a> Builder<'a> {
    /// The same build, its events sent to `events` (a worker's).
    pub fn with_events<'b>(&'b self, events: &'b dyn Sink<BuildEvent>) -> Builder<'b> {
        Builder {
            store: self.store,
            context: self.context,
            options: self.options,
            storage: self.storage,
            events,
            file: self.file,
            stages: self.stages,
            plan: self.plan,
            cache: self.cache.clone(),
            built: self.built.clone(),
            narrator: self.narrator.clone(),
            step: self.step,
            in_triggers: false,
        }
    }

    // ANCHOR: build_stage
    /// Builds stage `index`: its base, the base's `ONBUILD` triggers, then each instruction.
    pub fn build_stage(&mut self, index: usize) -> Result<StageState> {
        let stage = &self.stages.stages[index];
        self.announce(&stage.from.source);
        let from = self.plan.froms[index]
            .as_ref()
            .expect("planned stages are expanded");
        let mut state = match &from.base {
            Base::Scratch => StageState::scratch(),
            Base::Stage(base) => self.stage_state(*base)?,
            Base::Image(reference) => StageState::from_image(&self.store.find_image(reference)?),
        };
        // A stage's build arguments are its own: a stage built on another starts without.
        state.args.clear();
        let triggers = std::mem::take(&mut state.run_config().on_build);
        if !triggers.is_empty() {
            // The triggers are part of the FROM step: one id at their end, as docker prints.
            self.say(BuildEvent::Triggers {
                count: triggers.len(),
            });
            self.in_triggers = true;
            for trigger in triggers {
                let instruction = self.trigger_instruction(&trigger)?;
                self.execute(index, &mut state, &instruction)?;
            }
            self.in_triggers = false;
        }
        // docker shows the base's id (or the last trigger's), and nothing for scratch.
        let id = if from.base == Base::Scratch {
            String::new()
        } else {
            short(&state.key)
        };
        self.say(BuildEvent::Done { id });
        for instruction in &stage.instructions {
            self.announce(&instruction.source);
            self.execute(index, &mut state, instruction)?;
        }
        self.built.push((index, state.clone()));
        Ok(state)
    }
    // ANCHOR_END: build_stage

    /// The state a finished stage ended in.
    pub fn stage_state(&self, index: usize) -> Result<StageState> {
        self.built
            .iter()
            .find(|(built, _)| *built == index)
            .map(|(_, state)| state.clone())
            .ok_or_else(|| Error::Build {
                message: format!("stage {} was not built", self.stages.display_name(index)),
                hint: None,
            })
    }

    /// The root filesystem of the stage or image that `from` names (`COPY --from`, `RUN
    /// --mount=from=`) in stage `stage`, mounted for reading.
    pub fn mount_other(
        &self,
        stage: usize,
        from: &str,
        instruction: &Instruction,
    ) -> Result<Workspace<'a>> {
        let state = match self.stages.copy_source(stage, from) {
            Ok(Source::Stage(index)) => self.stage_state(index)?,
            Ok(Source::Image(reference)) => {
                StageState::from_image(&self.store.find_image(&reference)?)
            }
            Err(message) => {
                return Err(instruction.error(self.file, InstructionError::new(message)));
            }
        };
        let layers = layers_or_empty(self.store, &state)?;
        let what = format!("{} --from={from}", instruction.keyword);
        Workspace::create(self.store, layers, self.storage, &what, &self.narrator)
    }

    /// An `ONBUILD` trigger, read as an instruction of its own.
    fn trigger_instruction(&self, trigger: &str) -> Result<Instruction> {
        let parsed = parser::parse("ONBUILD trigger", trigger.as_bytes())?;
        let node = parsed.nodes.first().ok_or_else(|| Error::Build {
            message: format!("empty ONBUILD trigger {trigger:?} in the base image"),
            hint: None,
        })?;
        crate::instructions::parse_instruction("ONBUILD trigger", node)
    }

    // ANCHOR: execute
    /// Does one instruction to `state`.
    fn execute(
        &mut self,
        stage: usize,
        state: &mut StageState,
        instruction: &Instruction,
    ) -> Result<()> {
        let fail = |error: crate::shell::ShellError| instruction.error(self.file, error.into());
        match &instruction.value {
            Command::Run(run) => self.run(stage, state, run, instruction),
            Command::Copy(copy) => {
                self.copy(stage, state, &copy::CopyStep::copy(copy), instruction)
            }
            Command::Add(add) => self.copy(stage, state, &copy::CopyStep::add(add), instruction),
            Command::Workdir(workdir) => self.workdir(state, workdir).map_err(|e| match e {
                WorkdirError::Shell(error) => fail(error),
                WorkdirError::Build(error) => error,
            }),
            Command::From(_) => unreachable!("a stage holds no FROM"),
            other => {
                let edit = config::edit(self, state, other).map_err(fail)?;
                self.config_step(state, edit.created_by, edit.reads, edit.apply)
            }
        }
    }
    // ANCHOR_END: execute

    /// The words of an instruction expand with this lexer.
    pub fn lexer(&self) -> Lexer {
        Lexer::new(self.stages.escape)
    }

    // ANCHOR: config_step
    /// A step that edits the config only: a history entry marked `empty_layer`.
    pub fn config_step(
        &mut self,
        state: &mut StageState,
        created_by: String,
        reads: BTreeMap<String, String>,
        apply: Box<dyn FnOnce(&mut StageState) + '_>,
    ) -> Result<()> {
        let inputs = Inputs {
            instruction: created_by.clone(),
            reads,
        };
        let key = cache::key(&state.key, &inputs);
        let cached = self.lookup(&key, state, &inputs);
        let hit = cached.is_some();
        let created = match cached {
            Some(entry) => entry.created,
            None => {
                let created = format_rfc3339(now() as i64);
                self.record(&key, state, inputs, &created, None)?;
                created
            }
        };
        apply(state);
        state.push_history(created_by, &created, true);
        self.advance(state, key, hit);
        Ok(())
    }

    // ANCHOR_END: config_step

    // ANCHOR: layer_step
    /// A step that makes a layer with `work`, unless the cache has it.
    pub fn layer_step(
        &mut self,
        state: &mut StageState,
        step: StepInputs,
        work: impl FnOnce(&mut Self, &StageState) -> Result<Option<CachedLayer>>,
    ) -> Result<()> {
        let inputs = Inputs {
            instruction: step.instruction,
            reads: step.reads,
        };
        let key = cache::key(&state.key, &inputs);
        let cached = self.lookup(&key, state, &inputs);
        let hit = cached.is_some();
        let (layer, created) = match cached {
            Some(entry) => (entry.layer, entry.created),
            None => {
                let layer = work(self, state)?;
                let created = format_rfc3339(now() as i64);
                self.record(&key, state, inputs, &created, layer.clone())?;
                (layer, created)
            }
        };
        // A step that changed nothing adds no layer: its history entry says `empty_layer`.
        if let Some(layer) = &layer {
            state.push_layer(layer);
        }
        state.push_history(step.created_by, &created, layer.is_none());
        self.advance(state, key, hit);
        Ok(())
    }
    // ANCHOR_END: layer_step

    // ANCHOR: lookup
    /// The cache's entry for `key`, if it has one whose layer the store still holds; says
    /// which way it went, and why.
    fn lookup(&mut self, key: &str, state: &StageState, inputs: &Inputs) -> Option<Entry> {
        if self.options.no_cache {
            self.say(BuildEvent::NotCached(Miss::Disabled));
            return None;
        }
        let usable = self.cache.get(key).filter(|entry| match &entry.layer {
            None => true,
            Some(layer) => {
                let below = state.chain_ids().last().cloned();
                let chain = chain_id(below.as_ref(), &layer.diff_id);
                self.store.has_layer(&chain) && self.store.has_blob(&layer.descriptor.digest)
            }
        });
        match usable.cloned() {
            Some(entry) => {
                self.say(BuildEvent::Cached);
                Some(entry)
            }
            None => {
                let miss = self.cache.explain_miss(&state.key, state.hit, inputs);
                self.say(BuildEvent::NotCached(miss));
                None
            }
        }
    }
    // ANCHOR_END: lookup

    fn record(
        &mut self,
        key: &str,
        state: &StageState,
        inputs: Inputs,
        created: &str,
        layer: Option<CachedLayer>,
    ) -> Result<()> {
        self.cache.record(Entry {
            key: key.to_owned(),
            previous: state.key.clone(),
            inputs,
            created: created.to_owned(),
            layer,
        })
    }

    fn advance(&mut self, state: &mut StageState, key: String, hit: bool) {
        if !self.in_triggers {
            self.say(BuildEvent::Done { id: short(&key) });
        }
        state.key = key;
        state.hit = hit;
    }

    /// `Step N/M : INSTRUCTION`.
    fn announce(&mut self, instruction: &str) {
        self.step += 1;
        self.say(BuildEvent::Step {
            number: self.step,
            total: self.plan.total_steps,
            instruction: instruction.to_owned(),
        });
    }

    /// Sends an event.
    pub fn say(&self, event: BuildEvent) {
        self.events.send(event);
    }

    /// The shell of shell-form commands in `state`.
    pub fn shell(state: &StageState) -> Vec<String> {
        state
            .run_config_ref()
            .shell
            .unwrap_or_else(|| DEFAULT_SHELL.iter().map(|s| s.to_string()).collect())
    }
}

/// The short form of a key or an id: 12 hex digits.
pub fn short(key: &str) -> String {
    key.trim_start_matches("sha256:").chars().take(12).collect()
}
