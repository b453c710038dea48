//! The rules that follow the build: each stage walked instruction by instruction, as
//! BuildKit dispatches it, with what is in scope at each point.
//!
//! A stage starts with its base's variables (an earlier stage's, or an image's: `PATH` at
//! least), then every `ENV` and `ARG` adds to them. Each word BuildKit expands at that
//! instruction (an `ENV`'s names and values, `COPY`'s paths and `--chown`, `WORKDIR`,
//! `USER`, `VOLUME`, `STOPSIGNAL`, a `RUN --mount`'s values, an `ARG`'s default, a
//! heredoc file's body) is expanded here with the same variables, and each variable it
//! uses that is neither set nor declared by an `ARG` is `UndefinedVar`. Commands in shell
//! form are not expanded by the builder but by the shell at run time, so `RUN $X` is never
//! reported.

use regex::Regex;
use std::sync::LazyLock;

use super::{CheckOptions, Linter, Rule};
use crate::error::Result;
use crate::instructions::suggest::closest;
use crate::instructions::{Command, Instruction, Mount, Word};
use crate::shell::{Lexer, ShellError};
use crate::stages::expand::env_of;
use crate::stages::{Base, Platform, Stage, Stages, predefined_args};

/// BuildKit's arguments that are never variables (they configure the build's SBOM scans).
const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// The `PATH` every stage has, when its base does not set one (BuildKit's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ANCHOR: scope
/// What a stage has defined so far.
#[derive(Debug, Clone)]
struct Scope {
    /// The variables set, `ENV`s and `ARG`s with a value, in order (a later one wins).
    env: Vec<(String, String)>,
    /// The `ARG`s declared, with a value or not: using one is never `UndefinedVar`.
    declared: Vec<String>,
    /// Whether a `SHELL` has chosen the shell for shell-form commands.
    shell_set: bool,
    /// Whether a `WORKDIR` has been set in this Dockerfile.
    workdir_set: bool,
}

impl Scope {
    /// The scope of a stage built on an image with that environment.
    fn image(env: Option<&Vec<String>>) -> Scope {
        let mut pairs: Vec<(String, String)> = env
            .into_iter()
            .flatten()
            .map(|entry| {
                let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
                (key.to_owned(), value.to_owned())
            })
            .collect();
        if !pairs.iter().any(|(key, _)| key == "PATH") {
            pairs.push(("PATH".to_owned(), DEFAULT_PATH.to_owned()));
        }
        Scope {
            env: pairs,
            declared: Vec::new(),
            shell_set: false,
            workdir_set: false,
        }
    }

    fn set(&mut self, key: &str, value: String) {
        self.env.retain(|(name, _)| name != key);
        self.env.push((key.to_owned(), value));
    }
}
// ANCHOR_END: scope

/// Walks every stage.
pub(super) fn check(
    linter: &mut Linter,
    file: &str,
    stages: &Stages,
    options: &CheckOptions,
) -> Result<()> {
    let target = stages.stages.last().and_then(|stage| stage.name.clone());
    let host = Platform::host();
    let predefined = predefined_args(&host, &host, target.as_deref().unwrap_or(""));
    let global = stages.global_args(file, predefined, &options.build_args)?;
    // Every FROM first, as BuildKit resolves every base before it builds anything.
    let mut bases = Vec::new();
    for (index, stage) in stages.stages.iter().enumerate() {
        from_arguments(linter, stages, stage, &global);
        bases.push(stages.expand_from(file, index, &global)?.base);
    }
    let mut scopes: Vec<Scope> = Vec::new();
    for ((index, stage), base) in stages.stages.iter().enumerate().zip(bases) {
        let scope = match &base {
            Base::Stage(base) => scopes[*base].clone(),
            Base::Image(image) => Scope::image(options.image_env.get(image.as_str())),
            Base::Scratch => Scope::image(None),
        };
        let mut walk = StageWalk {
            linter: &mut *linter,
            file,
            stages,
            index,
            lexer: Lexer::new(stages.escape),
            global: &global,
            build_args: &options.build_args,
            scope,
            last_cmd: None,
            last_entrypoint: None,
            last_healthcheck: None,
        };
        for instruction in &stage.instructions {
            walk.instruction(instruction)?;
        }
        scopes.push(walk.scope);
    }
    Ok(())
}

/// `UndefinedArgInFrom` and `RedundantTargetPlatform`, on a stage's `FROM`.
fn from_arguments(
    linter: &mut Linter,
    stages: &Stages,
    stage: &Stage,
    global: &[(String, String)],
) {
    let lexer = Lexer::new(stages.escape);
    let env = env_of(global);
    // Declared: the predefined and meta arguments with a value, and every meta argument.
    let mut declared: Vec<&str> = global.iter().map(|(name, _)| name.as_str()).collect();
    for arg in &stages.meta_args {
        declared.extend(arg.value.args.iter().map(|arg| arg.name.as_str()));
    }
    let from = &stage.from;
    for word in std::iter::once(&stage.base).chain(&stage.platform) {
        let Ok(expansion) = lexer.expand(word, &env) else {
            continue;
        };
        for name in expansion
            .unset
            .iter()
            .filter(|name| !declared.contains(&name.as_str()))
        {
            let mut message = format!("FROM argument '{name}' is not declared");
            if let Some(close) = closest(name, &declared, true) {
                message.push_str(&format!(" (did you mean {close}?)"));
            }
            linter.report_under(
                &from.comments,
                Rule::UndefinedArgInFrom,
                from.start_line,
                message,
            );
        }
    }
    let Some(platform) = &stage.platform else {
        return;
    };
    let Ok(expansion) = lexer.expand(platform, &env) else {
        return;
    };
    let target = env.get("TARGETPLATFORM");
    if expansion.used == ["TARGETPLATFORM"]
        && expansion.unset.is_empty()
        && target == Some(expansion.value.as_str())
    {
        linter.report_under(
            &from.comments,
            Rule::RedundantTargetPlatform,
            from.start_line,
            format!(
                "Setting platform to predefined {platform} in FROM is redundant as this is the \
                 default behavior"
            ),
        );
    }
}

/// One stage's walk.
struct StageWalk<'l, 'c, 's> {
    linter: &'l mut Linter<'c>,
    file: &'s str,
    stages: &'s Stages,
    index: usize,
    lexer: Lexer,
    global: &'s [(String, String)],
    build_args: &'s [(String, String)],
    scope: Scope,
    /// The line of the stage's last `CMD`, `ENTRYPOINT`, `HEALTHCHECK`.
    last_cmd: Option<usize>,
    last_entrypoint: Option<usize>,
    last_healthcheck: Option<usize>,
}

impl StageWalk<'_, '_, '_> {
    /// Checks one instruction, then lets it change the scope.
    fn instruction(&mut self, instruction: &Instruction) -> Result<()> {
        match &instruction.value {
            Command::Env(env) => self.env(instruction, env)?,
            Command::Label(label) => {
                for pair in &label.pairs {
                    self.expand(instruction, &pair.key)?;
                    self.expand(instruction, &pair.value)?;
                }
                for pair in &label.pairs {
                    self.legacy_format(instruction, pair.legacy);
                }
            }
            Command::Arg(arg) => self.arg(instruction, arg)?,
            Command::Copy(copy) => {
                if let Some(from) = &copy.from {
                    self.stages
                        .copy_source(self.index, from)
                        .map_err(|message| instruction.error(self.file, message.into()))?;
                }
                self.expand_all(instruction, copy.chown.iter())?;
                self.expand_chmod(instruction, copy.chmod.as_ref())?;
                self.sources(instruction, &copy.sources)?;
            }
            Command::Add(add) => {
                self.expand_all(instruction, add.chown.iter())?;
                self.expand_chmod(instruction, add.chmod.as_ref())?;
                self.expand_all(instruction, add.checksum.iter())?;
                self.sources(instruction, &add.sources)?;
            }
            Command::Workdir(workdir) => self.workdir(instruction, &workdir.path)?,
            Command::User(user) => self.expand_all(instruction, [&user.user])?,
            Command::Volume(volume) => self.expand_all(instruction, &volume.paths)?,
            Command::StopSignal(signal) => self.expand_all(instruction, [&signal.signal])?,
            Command::Run(run) => self.mounts(instruction, &run.mounts)?,
            Command::Cmd(cmd) => {
                self.used_once(instruction, Tracked::Cmd);
                self.json_args(instruction, cmd.command.is_shell());
            }
            Command::Entrypoint(entrypoint) => {
                self.used_once(instruction, Tracked::Entrypoint);
                self.json_args(instruction, entrypoint.command.is_shell());
            }
            Command::Healthcheck(_) => self.used_once(instruction, Tracked::Healthcheck),
            Command::Shell(_) => self.scope.shell_set = true,
            Command::From(_)
            | Command::Expose(_)
            | Command::Onbuild(_)
            | Command::Maintainer(_) => {}
        }
        Ok(())
    }

    // ANCHOR: expand_word
    /// Expands a word as the builder will, reporting the variables it uses that nothing
    /// defines.
    fn expand(&mut self, instruction: &Instruction, word: &str) -> Result<String> {
        let lexer = self.lexer;
        self.expand_with(instruction, word, lexer)
    }

    fn expand_with(
        &mut self,
        instruction: &Instruction,
        word: &str,
        lexer: Lexer,
    ) -> Result<String> {
        let expansion = lexer
            .expand(word, &env_of(&self.scope.env))
            .map_err(|error| instruction.error(self.file, error.into()))?;
        self.undefined(instruction, &expansion.unset);
        Ok(expansion.value)
    }

    /// `UndefinedVar` for the unset variables no `ARG` declared.
    fn undefined(&mut self, instruction: &Instruction, unset: &[String]) {
        let keys: Vec<&str> = self.scope.env.iter().map(|(key, _)| key.as_str()).collect();
        let mut findings = Vec::new();
        for name in unset {
            if self.scope.declared.contains(name) || NON_ENV_ARGS.contains(&name.as_str()) {
                continue;
            }
            let mut message = format!("Usage of undefined variable '${name}'");
            if let Some(close) = closest(name, &keys, true) {
                message.push_str(&format!(" (did you mean ${close}?)"));
            }
            findings.push(message);
        }
        for message in findings {
            self.report(
                instruction,
                Rule::UndefinedVar,
                instruction.start_line,
                message,
            );
        }
    }
    // ANCHOR_END: expand_word

    fn expand_all<'w>(
        &mut self,
        instruction: &Instruction,
        words: impl IntoIterator<Item = &'w String>,
    ) -> Result<()> {
        for word in words {
            self.expand(instruction, word)?;
        }
        Ok(())
    }

    fn expand_chmod<T>(
        &mut self,
        instruction: &Instruction,
        chmod: Option<&Word<T>>,
    ) -> Result<()> {
        match chmod {
            Some(Word::Expandable(text)) => self.expand(instruction, text).map(drop),
            _ => Ok(()),
        }
    }

    /// A `COPY`'s or `ADD`'s paths, then its heredoc files' bodies (those that expand),
    /// which BuildKit expands keeping their quotes.
    fn sources(
        &mut self,
        instruction: &Instruction,
        sources: &crate::instructions::Sources,
    ) -> Result<()> {
        self.expand_all(instruction, &sources.paths)?;
        self.expand(instruction, &sources.destination)?;
        let raw = Lexer {
            ignore_quotes: true,
            ..Lexer::new('\\')
        };
        for file in sources.inline.iter().filter(|file| file.expand) {
            self.expand_with(instruction, &file.content, raw)?;
        }
        Ok(())
    }

    /// A `RUN`'s mounts written with variables, parsed as the builder will once expanded.
    fn mounts(&mut self, instruction: &Instruction, mounts: &[Word<Mount>]) -> Result<()> {
        for mount in mounts {
            let Word::Expandable(spec) = mount else {
                continue;
            };
            let env = env_of(&self.scope.env);
            let mut unset = Vec::new();
            let mut expand = |value: &str| -> Result<String, ShellError> {
                let expansion = self.lexer.expand(value, &env)?;
                unset.extend(expansion.unset);
                Ok(expansion.value)
            };
            Mount::parse(spec, &mut expand).map_err(|error| instruction.error(self.file, error))?;
            self.undefined(instruction, &unset);
        }
        Ok(())
    }

    /// An `ENV`: every pair expanded before any is set.
    fn env(&mut self, instruction: &Instruction, env: &crate::instructions::Env) -> Result<()> {
        let mut expanded = Vec::new();
        for pair in &env.pairs {
            let key = self.expand(instruction, &pair.key)?;
            let value = self.expand(instruction, &pair.value)?;
            expanded.push((key, value, pair.legacy));
        }
        for (key, value, legacy) in expanded {
            self.legacy_format(instruction, legacy);
            self.secret(instruction, "ENV", &key);
            self.scope.set(&key, value);
        }
        Ok(())
    }

    /// A `WORKDIR`: `WorkdirRelativePath` if it is the first and relative.
    fn workdir(&mut self, instruction: &Instruction, path: &str) -> Result<()> {
        let path = self.expand(instruction, path)?;
        if !self.scope.workdir_set && !path.starts_with('/') {
            let message = format!(
                "Relative workdir {} can have unexpected results if the base image changes",
                crate::parser::go_quote(&path)
            );
            self.report(
                instruction,
                Rule::WorkdirRelativePath,
                instruction.start_line,
                message,
            );
        }
        self.scope.workdir_set = true;
        Ok(())
    }

    /// An `ARG` in a stage: each name declared, its value the `--build-arg`, else its
    /// default expanded, else the global argument of that name.
    fn arg(&mut self, instruction: &Instruction, arg: &crate::instructions::Arg) -> Result<()> {
        for definition in &arg.args {
            let name = &definition.name;
            self.secret(instruction, "ARG", name);
            let given = self.build_args.iter().rfind(|(arg, _)| arg == name);
            let value = match (given, &definition.default) {
                (Some((_, value)), _) => Some(value.clone()),
                (None, Some(default)) => Some(self.expand(instruction, default)?),
                (None, None) => self
                    .global
                    .iter()
                    .rfind(|(arg, _)| arg == name)
                    .map(|(_, value)| value.clone()),
            };
            if let Some(value) = value
                && !NON_ENV_ARGS.contains(&name.as_str())
            {
                self.scope.set(name, value);
            }
            self.scope.declared.push(name.clone());
        }
        Ok(())
    }

    fn legacy_format(&mut self, instruction: &Instruction, legacy: bool) {
        if legacy {
            let keyword = &instruction.keyword;
            let message = format!(
                "\"{keyword} key=value\" should be used instead of legacy \"{keyword} key value\" format"
            );
            self.report(
                instruction,
                Rule::LegacyKeyValueFormat,
                instruction.start_line,
                message,
            );
        }
    }

    /// `SecretsUsedInArgOrEnv`: a name with a word that says secret, and none that says
    /// it is not (`API_KEY` is one, `PUBLIC_KEY` is not).
    fn secret(&mut self, instruction: &Instruction, keyword: &str, name: &str) {
        static SECRET: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)")
                .expect("a valid regex")
        });
        static ALLOWED: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)(?:_|^)(?:public|file|version)(?:_|$)").expect("a valid regex")
        });
        if SECRET.is_match(name) && !ALLOWED.is_match(name) {
            let message = format!(
                "Do not use ARG or ENV instructions for sensitive data ({keyword} {})",
                crate::parser::go_quote(name)
            );
            self.report(
                instruction,
                Rule::SecretsUsedInArgOrEnv,
                instruction.start_line,
                message,
            );
        }
    }

    /// `MultipleInstructionsDisallowed`: reported on the earlier one, which does nothing.
    fn used_once(&mut self, instruction: &Instruction, which: Tracked) {
        let last = match which {
            Tracked::Cmd => &mut self.last_cmd,
            Tracked::Entrypoint => &mut self.last_entrypoint,
            Tracked::Healthcheck => &mut self.last_healthcheck,
        };
        if let Some(line) = last.replace(instruction.start_line) {
            let message = format!(
                "Multiple {} instructions should not be used in the same stage because only the \
                 last one will be used",
                instruction.keyword
            );
            self.report(
                instruction,
                Rule::MultipleInstructionsDisallowed,
                line,
                message,
            );
        }
    }

    /// `JSONArgsRecommended`: a shell-form `CMD` or `ENTRYPOINT` with the default shell.
    fn json_args(&mut self, instruction: &Instruction, shell_form: bool) {
        if shell_form && !self.scope.shell_set {
            let message = format!(
                "JSON arguments recommended for {} to prevent unintended behavior related to OS \
                 signals",
                instruction.keyword
            );
            self.report(
                instruction,
                Rule::JSONArgsRecommended,
                instruction.start_line,
                message,
            );
        }
    }

    fn report(&mut self, instruction: &Instruction, rule: Rule, line: usize, message: String) {
        self.linter
            .report_under(&instruction.comments, rule, line, message);
    }
}

/// The instructions of which a stage should have one.
#[derive(Debug, Clone, Copy)]
enum Tracked {
    Cmd,
    Entrypoint,
    Healthcheck,
}
