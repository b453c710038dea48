//! `RUN`: a container on the layers so far, whose changes become the next layer.
//!
//! The command is the stage's shell with the text (shell form) or the list as written (exec
//! form). It runs with the image's environment and the stage's build arguments (an `ENV` of
//! the same name wins), as the image's `USER`, in its `WORKDIR` (created if missing), exactly
//! as `run` would start a container of the image so far: chapter 04's [`spec`] makes the
//! process, chapter 03's [`run`](ch03_union_fs::run::run) runs it on the layers.

use std::path::PathBuf;

use ch01_namespaces::{ContainerSpec, Mount, ProcessOptions, Step};
use ch02_cgroups::CgroupOptions;
use ch03_union_fs::RunRequest;
use ch04_images::run::{Overrides, spec};
use dockyard_support::events::Discard;

use super::mounts::{RunMounts, remove_mount_points};
use super::{Builder, StepInputs};
use crate::build::history;
use crate::build::state::StageState;
use crate::build::workspace::{build_marker, commit_record, layers_or_empty};
use crate::build::{BuildEvent, Network};
use crate::cache::CachedLayer;
use crate::error::{Error, Result};
use crate::instructions::{self, CommandLine, Instruction, Run};

impl Builder<'_> {
    // ANCHOR: run
    /// `RUN`.
    pub fn run(
        &mut self,
        stage: usize,
        state: &mut StageState,
        run: &Run,
        instruction: &Instruction,
    ) -> Result<()> {
        let mounts = self.run_mounts(stage, state, run, instruction)?;
        let shell = Builder::shell(state);
        let command = match &run.command {
            CommandLine::Exec(args) => args.clone(),
            CommandLine::Shell(text) => {
                let script = with_heredocs(text, run);
                shell.iter().cloned().chain([script]).collect()
            }
        };
        // The build arguments the command sees: those with a value that no ENV hides.
        let image_env = state.env_pairs();
        let args: Vec<(String, String)> = state
            .valued_args()
            .into_iter()
            .filter(|(name, _)| !image_env.iter().any(|(set, _)| set == name))
            .collect();
        // The arguments are in `created_by`; for the cache they are inputs of their own, so
        // that --explain can name the one that changed.
        let mut reads: std::collections::BTreeMap<String, String> = args
            .iter()
            .map(|(name, value)| (format!("arg:{name}"), value.clone()))
            .collect();
        reads.extend(mounts.reads.clone());
        let mut described = command.join(" ");
        for mount in &mounts.described {
            described.push_str(&format!("\n--mount {mount}"));
        }
        let network = match run.network {
            instructions::Network::Default => self.options.network.clone(),
            instructions::Network::None => Network::None,
            instructions::Network::Host => Network::Host,
        };
        if network != self.options.network {
            described.push_str(&format!("\n--network {network:?}"));
        }
        let step = StepInputs {
            created_by: history::run(&args, &command),
            instruction: described,
            reads,
        };
        self.layer_step(state, step, |builder, state| {
            builder.run_container(state, command, args, &mounts, &network)
        })
    }
    // ANCHOR_END: run

    // ANCHOR: run_container
    /// Runs `command` in a container of `state`, and takes its changes as a layer.
    fn run_container(
        &mut self,
        state: &StageState,
        command: Vec<String>,
        args: Vec<(String, String)>,
        mounts: &RunMounts<'_>,
        network: &Network,
    ) -> Result<Option<CachedLayer>> {
        let layers = layers_or_empty(self.store, state)?;
        let spec = run_spec(state, &command, args, mounts, network, &layers)?;
        let container = spec.id.short().to_owned();
        // A later chapter's network: its step plugs the container in before the command runs.
        let mut plugged = match network {
            Network::Plugged(plug) => Some(plug.step(&spec.id)),
            Network::Host | Network::None => None,
        };
        let mut steps: Vec<&mut dyn Step> = Vec::new();
        if let Some(step) = plugged.as_mut() {
            steps.push(step.as_mut());
        }
        self.say(BuildEvent::Running {
            container: container.clone(),
        });
        let request = RunRequest {
            spec,
            layers,
            image: None,
            config: Some(build_marker("run")),
            name: None,
            remove: false,
            cgroup: CgroupOptions::default(),
        };
        let containers = self.store.containers();
        let end = ch03_union_fs::run::run_with_steps(
            containers,
            request,
            self.storage,
            &self.narrator,
            &Discard,
            &mut steps,
        )
        .map_err(ch04_images::Error::from)?;
        let record = containers.find(&end.id).map_err(ch04_images::Error::from)?;
        if end.status.code() != 0 {
            let _removed = ch03_union_fs::lifecycle::remove(containers, &record);
            self.say(BuildEvent::Removed { container });
            return Err(Error::RunFailed {
                command: command.join(" "),
                code: end.status.code(),
            });
        }
        // The mount points made for --mount are not the command's doing.
        let changes = ch03_union_fs::lifecycle::changes_source(containers, &record);
        remove_mount_points(&changes, &mounts.created, &state.layer_dirs(self.store))?;
        let parent = state.chain_ids().last().cloned();
        let what = format!("the changes of RUN {}", command.join(" "));
        let layer = commit_record(self.store, &record, parent, what, &self.narrator)?;
        self.say(BuildEvent::Removed { container });
        Ok(layer)
    }
    // ANCHOR_END: run_container
}

// ANCHOR: run_spec
/// The container a `RUN` runs in: the image so far as `run` would start it (its `ENV`,
/// `USER`, `WORKDIR`), the command instead of its `CMD`, the build arguments in its
/// environment, its mounts, and an init.
fn run_spec(
    state: &StageState,
    command: &[String],
    args: Vec<(String, String)>,
    mounts: &RunMounts<'_>,
    network: &Network,
    layers: &[PathBuf],
) -> Result<ContainerSpec> {
    let mut config = state.run_config_ref();
    config.entrypoint = None;
    config.cmd = None;
    // Build arguments are variables of the RUN, not of the image (an ENV already won);
    // so are the secrets given in variables.
    let mut env = args;
    env.extend(mounts.env.iter().cloned());
    // An init as PID 1: it reaps what the command leaves running, and it passes a Ctrl-C
    // on to the command (a command as PID 1 would ignore it, and the build would hang).
    let options = ProcessOptions {
        env,
        init: true,
        ..ProcessOptions::default()
    };
    let overrides = Overrides {
        entrypoint: None,
        command: command.to_vec(),
    };
    let mut spec = spec(&config, &options, &overrides, layers)?;
    spec.host_network = *network == Network::Host;
    // The image's VOLUMEs are volumes for a RUN too, as in docker's builder: what the
    // command writes there is lost, and only the empty mount point stays in the layer.
    let volumes = config
        .volumes
        .keys()
        .map(|path| Mount::tmpfs(PathBuf::from(path)));
    spec.mounts.extend(volumes);
    spec.mounts.extend(mounts.mounts.iter().cloned());
    Ok(spec)
}
// ANCHOR_END: run_spec

/// The script of a shell-form `RUN` with heredocs: a `RUN <<EOF` alone runs the heredoc's
/// body as the script; otherwise the heredocs stay in the text, for the shell to read, as
/// BuildKit passes them.
fn with_heredocs(text: &str, run: &Run) -> String {
    match run.heredocs.as_slice() {
        [] => text.to_owned(),
        [only] if text.trim().starts_with("<<") && !text.trim().contains(' ') => body(only),
        heredocs => {
            let mut script = text.to_owned();
            for heredoc in heredocs {
                script.push('\n');
                script.push_str(&body(heredoc));
                script.push_str(&heredoc.name);
            }
            script
        }
    }
}

/// A heredoc's body, its leading tabs removed for `<<-`.
fn body(heredoc: &crate::parser::heredoc::Heredoc) -> String {
    if heredoc.chomp {
        crate::parser::heredoc::chomp(&heredoc.content)
    } else {
        heredoc.content.clone()
    }
}
