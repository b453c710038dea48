//! The instructions that only edit the image's config: each is a history entry with
//! `empty_layer`, and a change to `Env`, `Cmd`, `User`… Their words are expanded with the
//! stage's variables first, except where docker does not expand (`CMD`, `ENTRYPOINT`,
//! `SHELL`, `HEALTHCHECK`, `ONBUILD`: their text is for the container's shell, or a later
//! build).

use std::collections::BTreeMap;

use ch04_images::oci::{EmptyObject, Healthcheck as ImageHealthcheck};

use super::Builder;
use crate::build::copy::destination::in_image;
use crate::build::history::{self, go_list, nop};
use crate::build::state::StageState;
use crate::instructions::{
    ArgDefinition, Command, CommandLine, Healthcheck, HealthcheckTest, KeyValue,
};
use crate::shell::ShellError;

/// What a config step will do: its history entry, what it reads, and its edit.
pub struct Edit<'b> {
    /// `created_by`.
    pub created_by: String,
    /// Inputs besides the instruction.
    pub reads: BTreeMap<String, String>,
    /// The change to the state.
    pub apply: Box<dyn FnOnce(&mut StageState) + 'b>,
}

impl std::fmt::Debug for Edit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edit")
            .field("created_by", &self.created_by)
            .finish_non_exhaustive()
    }
}

/// The edit `command` makes to `state`, its words expanded.
pub fn edit<'b>(
    builder: &Builder<'_>,
    state: &StageState,
    command: &Command,
) -> Result<Edit<'b>, ShellError> {
    let shell = Builder::shell(state);
    let lexer = builder.lexer();
    let env = state.expansion_env();
    let word = |text: &str| lexer.process_word(text, &env);
    let edit = |text: String, apply: Box<dyn FnOnce(&mut StageState) + 'b>| Edit {
        created_by: nop(&shell, &text),
        reads: BTreeMap::new(),
        apply,
    };
    Ok(match command {
        // ANCHOR: edit_env
        Command::Env(env_instruction) => {
            let pairs = expand_pairs(&env_instruction.pairs, &word)?;
            edit(
                format!("ENV {}", join_pairs(&pairs)),
                Box::new(move |state| {
                    for (name, value) in &pairs {
                        state.set_env(name, value);
                    }
                }),
            )
        }
        Command::Label(label) => {
            let pairs = expand_pairs(&label.pairs, &word)?;
            edit(
                format!("LABEL {}", join_pairs(&pairs)),
                Box::new(move |state| state.run_config().labels.extend(pairs)),
            )
        }
        // ANCHOR_END: edit_env
        Command::Arg(arg) => {
            let values = arg_values(builder, &arg.args, &word)?;
            let text = arg
                .args
                .iter()
                .map(|definition| match &definition.default {
                    Some(default) => format!("{}={default}", definition.name),
                    None => definition.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(" ");
            edit(
                format!("ARG {text}"),
                Box::new(move |state| {
                    for (name, value) in values {
                        state.args.retain(|(existing, _)| *existing != name);
                        state.args.push((name, value));
                    }
                }),
            )
        }
        Command::Expose(expose) => {
            let mut written = Vec::new();
            for port in &expose.ports {
                written.extend(lexer.process_words(port, &env)?);
            }
            // The history lists them as written, sorted; the config has each port of a
            // range, with its protocol.
            written.sort();
            let ports: Vec<String> = written.iter().flat_map(|p| exposed_ports(p)).collect();
            edit(
                format!("EXPOSE {}", written.join(" ")),
                Box::new(move |state| {
                    let exposed = &mut state.run_config().exposed_ports;
                    exposed.extend(ports.into_iter().map(|p| (p, EmptyObject)));
                }),
            )
        }
        Command::Volume(volume) => {
            let paths = volume
                .paths
                .iter()
                .map(|p| word(p))
                .collect::<Result<Vec<_>, _>>()?;
            edit(
                format!("VOLUME [{}]", paths.join(" ")),
                Box::new(move |state| {
                    let volumes = &mut state.run_config().volumes;
                    volumes.extend(paths.into_iter().map(|p| (p, EmptyObject)));
                }),
            )
        }
        Command::User(user) => {
            let user = word(&user.user)?;
            edit(
                format!("USER {user}"),
                Box::new(move |state| state.run_config().user = Some(user)),
            )
        }
        Command::StopSignal(signal) => {
            let signal = word(&signal.signal)?;
            edit(
                format!("STOPSIGNAL {signal}"),
                Box::new(move |state| state.run_config().stop_signal = Some(signal)),
            )
        }
        Command::Maintainer(maintainer) => {
            let name = maintainer.name.clone();
            edit(
                format!("MAINTAINER {name}"),
                Box::new(move |state| state.config.author = Some(name)),
            )
        }
        Command::Cmd(cmd) => {
            let command = command_line(&shell, &cmd.command);
            edit(
                format!("CMD {}", go_list(&command)),
                Box::new(move |state| {
                    state.run_config().cmd = Some(command);
                    state.cmd_set = true;
                }),
            )
        }
        // ANCHOR: edit_entrypoint
        Command::Entrypoint(entrypoint) => {
            let command = command_line(&shell, &entrypoint.command);
            edit(
                format!("ENTRYPOINT {}", go_list(&command)),
                Box::new(move |state| {
                    let cmd_set = state.cmd_set;
                    let config = state.run_config();
                    config.entrypoint = Some(command);
                    // An inherited CMD was meant for the old entrypoint.
                    if !cmd_set {
                        config.cmd = None;
                    }
                }),
            )
        }
        // ANCHOR_END: edit_entrypoint
        Command::Shell(new_shell) => {
            let list = new_shell.shell.clone();
            // The step's own history entry already runs under the new shell.
            Edit {
                created_by: nop(&list, &format!("SHELL [{}]", list.join(" "))),
                reads: BTreeMap::new(),
                apply: Box::new(move |state| state.run_config().shell = Some(list)),
            }
        }
        Command::Healthcheck(check) => {
            let written = image_healthcheck(check);
            let text = format!("HEALTHCHECK {}", history::go_healthcheck(&written));
            edit(
                text,
                Box::new(move |state| {
                    let config = state.run_config();
                    config.healthcheck = Some(inherit(written, config.healthcheck.take()));
                }),
            )
        }
        Command::Onbuild(onbuild) => {
            let trigger = onbuild.expression.clone();
            edit(
                format!("ONBUILD {trigger}"),
                Box::new(move |state| state.run_config().on_build.push(trigger)),
            )
        }
        Command::From(_)
        | Command::Run(_)
        | Command::Copy(_)
        | Command::Add(_)
        | Command::Workdir(_) => {
            unreachable!("not a config instruction")
        }
    })
}

/// `K=V` pairs with their values expanded (names are not).
fn expand_pairs(
    pairs: &[KeyValue],
    word: &dyn Fn(&str) -> Result<String, ShellError>,
) -> Result<Vec<(String, String)>, ShellError> {
    pairs
        .iter()
        .map(|pair| Ok((word(&pair.key)?, word(&pair.value)?)))
        .collect()
}

/// `A=1 B=2`.
fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// ANCHOR: arg_values
/// The value of each `ARG`: `--build-arg`, else the default expanded, else the meta
/// argument of that name (an `ARG NAME` in a stage brings a global one in), else unset.
fn arg_values(
    builder: &Builder<'_>,
    definitions: &[ArgDefinition],
    word: &dyn Fn(&str) -> Result<String, ShellError>,
) -> Result<Vec<(String, Option<String>)>, ShellError> {
    definitions
        .iter()
        .map(|definition| {
            let given = builder
                .options
                .build_args
                .iter()
                .rfind(|(name, _)| *name == definition.name)
                .map(|(_, value)| value.clone());
            let global = || {
                builder
                    .plan
                    .global_args
                    .iter()
                    .rfind(|(name, _)| *name == definition.name)
                    .map(|(_, value)| value.clone())
            };
            let value = match (given, &definition.default) {
                (Some(value), _) => Some(value),
                (None, Some(default)) => Some(word(default)?),
                (None, None) => global(),
            };
            Ok((definition.name.clone(), value))
        })
        .collect()
}
// ANCHOR_END: arg_values

/// `WORKDIR` relative to the current one; cleaned (`/a/./b/../c` is `/a/c`).
pub fn resolve_workdir(state: &StageState, path: &str) -> String {
    let current = state.run_config_ref().working_dir.unwrap_or_default();
    format!("/{}", in_image(path, &current).join("/"))
}

/// The config's ports for one `EXPOSE` word: `80` is `80/tcp`; a range is each of its
/// ports.
fn exposed_ports(word: &str) -> Vec<String> {
    let (ports, protocol) = word.split_once('/').unwrap_or((word, "tcp"));
    let protocol = protocol.to_lowercase();
    match ports.split_once('-') {
        Some((first, last)) => match (first.parse::<u16>(), last.parse::<u16>()) {
            (Ok(first), Ok(last)) if first <= last => (first..=last)
                .map(|port| format!("{port}/{protocol}"))
                .collect(),
            _ => vec![format!("{ports}/{protocol}")],
        },
        None => vec![format!("{ports}/{protocol}")],
    }
}

/// A new health check takes what it does not say (interval, timeout, start period,
/// retries) from the one before, as docker's builder does.
fn inherit(mut new: ImageHealthcheck, old: Option<ImageHealthcheck>) -> ImageHealthcheck {
    if let Some(old) = old
        && new.test.first().map(String::as_str) != Some("NONE")
    {
        let keep = |value: &mut i64, old: i64| {
            if *value == 0 {
                *value = old;
            }
        };
        keep(&mut new.interval, old.interval);
        keep(&mut new.timeout, old.timeout);
        keep(&mut new.start_period, old.start_period);
        keep(&mut new.start_interval, old.start_interval);
        keep(&mut new.retries, old.retries);
    }
    new
}

/// A command as the config keeps it: exec form as written, shell form after the shell.
pub fn command_line(shell: &[String], command: &CommandLine) -> Vec<String> {
    match command {
        CommandLine::Exec(args) => args.clone(),
        CommandLine::Shell(text) => shell.iter().cloned().chain([text.clone()]).collect(),
    }
}

/// Docker's `Healthcheck` for `HEALTHCHECK`: `NONE`, `CMD …` (exec form) or `CMD-SHELL …`.
fn image_healthcheck(check: &Healthcheck) -> ImageHealthcheck {
    match check {
        Healthcheck::None => ImageHealthcheck {
            test: vec!["NONE".into()],
            ..ImageHealthcheck::default()
        },
        Healthcheck::Check(HealthcheckTest {
            command,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        }) => {
            let test = match command {
                CommandLine::Exec(args) => {
                    ["CMD".to_owned()].into_iter().chain(args.clone()).collect()
                }
                CommandLine::Shell(text) => vec!["CMD-SHELL".to_owned(), text.clone()],
            };
            let nanos = |d: &Option<std::time::Duration>| d.map_or(0, |d| d.as_nanos() as i64);
            ImageHealthcheck {
                test,
                interval: nanos(interval),
                timeout: nanos(timeout),
                start_period: nanos(start_period),
                start_interval: nanos(start_interval),
                retries: i64::from(*retries),
            }
        }
    }
}
