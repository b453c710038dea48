//! Which stages a build needs, and in which order.
//!
//! A Dockerfile may hold stages the target does not need (a test stage, a debug image). As
//! BuildKit does (and the legacy builder does not), only the stages the target depends on are
//! built: its base if that is a stage, the stages it copies from (`COPY --from`, `RUN
//! --mount=from=`), and theirs, transitively. A stage can only name an earlier one, so file
//! order is a valid build order.

use std::collections::BTreeSet;

use super::BuildOptions;
use crate::error::{Error, Result};
use crate::instructions::{Command, Word};
use crate::stages::{Base, ExpandedFrom, Platform, Source, Stages, predefined_args};

/// The stages to build, with their `FROM` lines expanded.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The stages to build, in order; the last is the target.
    pub order: Vec<usize>,
    /// Each stage's `FROM`, expanded (only the planned stages').
    pub froms: Vec<Option<ExpandedFrom>>,
    /// The global arguments: predefined, then the `ARG`s before the first `FROM`.
    pub global_args: Vec<(String, String)>,
    /// Steps in the planned stages, `FROM`s included: the `N` of `Step 1/N`.
    pub total_steps: usize,
    /// The stages each stage needs built first (its base, what it copies from), by index.
    pub needs: Vec<Vec<usize>>,
    /// The number of each planned stage's `FROM` step, less one: the steps before it.
    pub steps_before: Vec<usize>,
}

impl Plan {
    /// The plan for `options.target` (or the last stage).
    pub fn new(file: &str, stages: &Stages, options: &BuildOptions) -> Result<Plan> {
        let target = match &options.target {
            None => stages.stages.len() - 1,
            Some(name) => stages.find(name).ok_or_else(|| Error::Build {
                message: format!("target stage {name:?} could not be found"),
                hint: Some(format!(
                    "--target names a stage (FROM … AS {name}); this Dockerfile's stages: {}",
                    stage_names(stages)
                )),
            })?,
        };
        let host = Platform::host();
        let target_name = stages.stages[target].name.clone().unwrap_or_default();
        let predefined = predefined_args(&host, &host, &target_name);
        let global_args = stages.global_args(file, predefined, &options.build_args)?;
        let mut froms = vec![None; stages.stages.len()];
        let mut needs = vec![Vec::new(); stages.stages.len()];
        let mut needed = BTreeSet::new();
        let mut pending = vec![target];
        while let Some(index) = pending.pop() {
            if !needed.insert(index) {
                continue;
            }
            let from = stages.expand_from(file, index, &global_args)?;
            if let Some(platform) = &from.platform {
                check_platform(platform, &host)?;
            }
            if let Base::Stage(base) = from.base {
                needs[index].push(base);
            }
            needs[index].extend(copied_stages(stages, index));
            pending.extend(needs[index].iter().copied());
            froms[index] = Some(from);
        }
        let order: Vec<usize> = needed.into_iter().collect();
        let mut steps_before = vec![0; stages.stages.len()];
        let mut total_steps = 0;
        for &index in &order {
            steps_before[index] = total_steps;
            total_steps += 1 + stages.stages[index].instructions.len();
        }
        Ok(Plan {
            order,
            froms,
            global_args,
            total_steps,
            needs,
            steps_before,
        })
    }
}

/// The stages that stage `index` copies or mounts from.
fn copied_stages(stages: &Stages, index: usize) -> Vec<usize> {
    let mut from_names = Vec::new();
    for instruction in &stages.stages[index].instructions {
        match &instruction.value {
            Command::Copy(copy) => from_names.extend(copy.from.clone()),
            Command::Run(run) => {
                for mount in &run.mounts {
                    if let Word::Literal(mount) = mount {
                        from_names.extend(mount.from.clone());
                    }
                }
            }
            _ => {}
        }
    }
    from_names
        .iter()
        .filter_map(|name| match stages.copy_source(index, name) {
            Ok(Source::Stage(stage)) => Some(stage),
            _ => None,
        })
        .collect()
}

/// A `--platform` other than this machine's cannot be built here: there is no emulator.
fn check_platform(platform: &str, host: &Platform) -> Result<()> {
    let host_name = host.format();
    let wanted = platform.trim_end_matches("/v8");
    if wanted == host_name || wanted == format!("{}/{}", host.os, host.architecture) {
        return Ok(());
    }
    Err(Error::Build {
        message: format!(
            "the base image is for platform {platform}, and this machine is {host_name}"
        ),
        hint: Some(format!(
            "build for this machine (--platform={host_name} or $BUILDPLATFORM); running another \
             CPU's binaries needs an emulator, which this builder does not use"
        )),
    })
}

/// `build, app` or `stage-0, stage-1`.
fn stage_names(stages: &Stages) -> String {
    (0..stages.stages.len())
        .map(|index| stages.display_name(index))
        .collect::<Vec<_>>()
        .join(", ")
}
