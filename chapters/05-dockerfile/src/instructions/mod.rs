//! Typed instructions: what each [`Node`] *means*, checked as BuildKit checks it.
//!
//! The parser cut every instruction into a keyword, `--flags` and arguments, but it does
//! not know that `COPY` needs a destination, that `HEALTHCHECK --interval` takes a duration
//! or that `FROM` names its stage with `AS`. This is BuildKit's second pass (its
//! `instructions` package): each node becomes a [`Command`], a Rust value with one field
//! per thing the instruction can say, or an error naming the line.
//!
//! ```text
//!  Node { instruction: "COPY", flags: ["--chmod=644"], args: ["a", "b", "/dst/"] }
//!    │  the keyword picks the parser (one small file per family of instructions)
//!    ▼  the flags it accepts are declared, then read (unknown flag, missing value…)
//!  Command::Copy(Copy { sources: Sources { paths: ["a", "b"], destination: "/dst/", … },
//!                       chmod: Some(Word::Literal(Chmod::Octal(0o644))), … })
//! ```
//!
//! ## What is checked here, and what is not
//!
//! Only what can be known from the text: the number of arguments, the flags, the forms
//! (`SHELL` must be JSON), `FROM`'s stage name, `HEALTHCHECK`'s durations and retries,
//! `ONBUILD`'s trigger. Word expansion (`$VAR`) is *not* applied: the builder does that
//! instruction by instruction, with the variables in force at that point. A value that
//! still holds a variable (`--chmod=$MODE`) is kept as written, a [`Word::Expandable`], and
//! checked once the builder has expanded it; the same value written out (`--chmod=644`) is
//! checked now, a [`Word::Literal`].
//!
//! - [`flags`]: reading the `--flags` an instruction declares (BuildKit's `BFlags`);
//! - [`from`]: `FROM [--platform=…] image [AS name]`;
//! - [`command_line`]: shell and exec form, and `CMD`, `ENTRYPOINT`, `SHELL`;
//! - [`run`]: `RUN` and its `--mount`, `--network`, `--security`, `--device`;
//! - [`copy`]: `COPY` and `ADD`, their sources, heredoc files and flags ([`chmod`]);
//! - [`key_value`]: `ENV`, `LABEL`, `ARG`;
//! - [`healthcheck`]: `HEALTHCHECK`, with Go's durations ([`duration`]);
//! - [`metadata`]: the one-value instructions (`WORKDIR`, `USER`, `EXPOSE`, `VOLUME`,
//!   `STOPSIGNAL`, `MAINTAINER`) and `ONBUILD`;
//! - [`suggest`]: the "did you mean" of an unknown keyword or flag.
//!
//! ```
//! use ch05_dockerfile::instructions::{Command, parse_instruction};
//! use ch05_dockerfile::parser::parse;
//!
//! let dockerfile = parse("Dockerfile", b"FROM busybox\nCOPY --chmod=644 a b /dst/\n")?;
//! let copy = parse_instruction("Dockerfile", &dockerfile.nodes[1])?;
//! let Command::Copy(copy) = &copy.value else { panic!("a COPY") };
//! assert_eq!(copy.sources.paths, ["a", "b"]);
//! assert_eq!(copy.sources.destination, "/dst/");
//! # Ok::<(), ch05_dockerfile::Error>(())
//! ```

pub mod chmod;
pub mod command_line;
pub mod copy;
mod csv;
pub mod duration;
pub mod flags;
pub mod from;
pub mod healthcheck;
pub mod key_value;
pub mod metadata;
pub mod mount;
pub mod run;
pub mod suggest;
mod word;

pub use chmod::Chmod;
pub use command_line::{Cmd, CommandLine, Entrypoint, Shell};
pub use copy::{Add, Copy, InlineFile, Sources};
pub use from::From;
pub use healthcheck::{Healthcheck, HealthcheckTest};
pub use key_value::{Arg, ArgDefinition, Env, KeyValue, Label};
pub use metadata::{Expose, Maintainer, Onbuild, StopSignal, User, Volume, Workdir};
pub use mount::{Mount, MountType, Sharing};
pub use run::{Device, Network, Run, Security};
pub use word::Word;

use crate::error::{Error, Result};
use crate::parser::{Keyword, Node};
use crate::shell::ShellError;

// ANCHOR: command
/// An instruction's meaning: one variant per instruction a Dockerfile knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `FROM`: the start of a stage.
    From(From),
    /// `RUN`: a command run in a new layer.
    Run(Run),
    /// `CMD`: the image's default command.
    Cmd(Cmd),
    /// `ENTRYPOINT`: the image's entrypoint.
    Entrypoint(Entrypoint),
    /// `SHELL`: the shell that runs shell-form commands.
    Shell(Shell),
    /// `ENV`: environment variables.
    Env(Env),
    /// `ARG`: build arguments.
    Arg(Arg),
    /// `LABEL`: metadata.
    Label(Label),
    /// `COPY`: files from the context or another stage.
    Copy(Copy),
    /// `ADD`: files, URLs, archives, git repositories.
    Add(Add),
    /// `HEALTHCHECK`: how to tell the container is healthy.
    Healthcheck(Healthcheck),
    /// `WORKDIR`: the working directory.
    Workdir(Workdir),
    /// `USER`: the user to run as.
    User(User),
    /// `EXPOSE`: ports the image listens on.
    Expose(Expose),
    /// `VOLUME`: mount points for volumes.
    Volume(Volume),
    /// `STOPSIGNAL`: the signal that stops the container.
    StopSignal(StopSignal),
    /// `ONBUILD`: an instruction kept for the images built from this one.
    Onbuild(Onbuild),
    /// `MAINTAINER`: the author (deprecated for a label).
    Maintainer(Maintainer),
}

/// A typed value with where it was written: the keyword as written (`run`, `RUN`), its
/// lines, the comments above it and its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The typed value.
    pub value: T,
    /// The keyword as written, for the checks on its casing.
    pub keyword: String,
    /// The line it starts on, from 1.
    pub start_line: usize,
    /// The line it ends on.
    pub end_line: usize,
    /// The comment lines just above it (`# check=skip=…` there applies to it alone).
    pub comments: Vec<String>,
    /// The instruction as the parser read it, continuation lines joined.
    pub source: String,
}

/// One instruction of a stage, typed, with its place in the file.
pub type Instruction = Located<Command>;
// ANCHOR_END: command

/// What is wrong with an instruction, before the file and line are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructionError {
    /// BuildKit's message.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl InstructionError {
    /// An error with BuildKit's message and no hint.
    pub fn new(message: impl Into<String>) -> Self {
        InstructionError {
            message: message.into(),
            hint: None,
        }
    }

    /// The same error, with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The crate's error: `file:line: message`, showing the instruction.
    pub fn at(self, file: &str, node: &Node) -> Error {
        Error::Syntax {
            file: file.to_owned(),
            line: node.start_line,
            message: self.message,
            source_line: Some(node.original.trim().to_owned()),
            hint: self.hint,
        }
    }
}

impl std::convert::From<ShellError> for InstructionError {
    fn from(error: ShellError) -> Self {
        let hint = error.reason.hint().map(str::to_owned);
        InstructionError {
            message: error.to_string(),
            hint,
        }
    }
}

impl std::convert::From<String> for InstructionError {
    fn from(message: String) -> Self {
        InstructionError::new(message)
    }
}

/// The result of an instruction's parser.
pub type Parsed<T> = std::result::Result<T, InstructionError>;

// ANCHOR: parse_instruction
/// Parses one node into its typed instruction, as BuildKit's `ParseInstruction` does;
/// `file` names the Dockerfile in errors.
pub fn parse_instruction(file: &str, node: &Node) -> Result<Instruction> {
    let command = parse_command(node).map_err(|error| error.at(file, node))?;
    Ok(Located {
        value: command,
        keyword: node.instruction.clone(),
        start_line: node.start_line,
        end_line: node.end_line,
        comments: node.comments.clone(),
        source: node.original.trim().to_owned(),
    })
}

/// The typed value of a node, by its keyword.
pub fn parse_command(node: &Node) -> Parsed<Command> {
    let Some(keyword) = node.keyword() else {
        return Err(unknown_instruction(&node.instruction));
    };
    Ok(match keyword {
        Keyword::From => Command::From(from::parse(node)?),
        Keyword::Run => Command::Run(run::parse(node)?),
        Keyword::Cmd => Command::Cmd(command_line::parse_cmd(node)?),
        Keyword::Entrypoint => Command::Entrypoint(command_line::parse_entrypoint(node)?),
        Keyword::Shell => Command::Shell(command_line::parse_shell(node)?),
        Keyword::Env => Command::Env(key_value::parse_env(node)?),
        Keyword::Label => Command::Label(key_value::parse_label(node)?),
        Keyword::Arg => Command::Arg(key_value::parse_arg(node)?),
        Keyword::Copy => Command::Copy(copy::parse_copy(node)?),
        Keyword::Add => Command::Add(copy::parse_add(node)?),
        Keyword::Healthcheck => Command::Healthcheck(healthcheck::parse(node)?),
        Keyword::Workdir => Command::Workdir(metadata::parse_workdir(node)?),
        Keyword::User => Command::User(metadata::parse_user(node)?),
        Keyword::Expose => Command::Expose(metadata::parse_expose(node)?),
        Keyword::Volume => Command::Volume(metadata::parse_volume(node)?),
        Keyword::StopSignal => Command::StopSignal(metadata::parse_stop_signal(node)?),
        Keyword::Onbuild => Command::Onbuild(metadata::parse_onbuild(node)?),
        Keyword::Maintainer => Command::Maintainer(metadata::parse_maintainer(node)?),
    })
}
// ANCHOR_END: parse_instruction

/// `unknown instruction: RUNN (did you mean RUN?)`.
fn unknown_instruction(written: &str) -> InstructionError {
    let names: Vec<&str> = Keyword::ALL
        .iter()
        .map(|keyword| keyword.as_str())
        .collect();
    let mut message = format!("unknown instruction: {written}");
    if let Some(name) = suggest::closest(written, &names, false) {
        message.push_str(&format!(" (did you mean {name}?)"));
    }
    InstructionError::new(message).with_hint(
        "an instruction starts with one of FROM, RUN, CMD, COPY, ADD, ENV, ARG, LABEL, \
         WORKDIR, USER, EXPOSE, VOLUME, ENTRYPOINT, HEALTHCHECK, SHELL, STOPSIGNAL, ONBUILD",
    )
}

/// `ENV requires at least one argument`.
pub(crate) fn at_least_one_argument(keyword: &str) -> InstructionError {
    InstructionError::new(format!("{keyword} requires at least one argument"))
}

/// `WORKDIR requires exactly one argument`.
pub(crate) fn exactly_one_argument(keyword: &str) -> InstructionError {
    InstructionError::new(format!("{keyword} requires exactly one argument"))
}

/// The arguments as BuildKit hands them to an instruction's parser: an `ONBUILD`'s are its
/// trigger's keyword followed by the trigger's arguments.
pub(crate) fn node_args(node: &Node) -> Vec<String> {
    match &node.nested {
        None => node.args.clone(),
        Some(nested) => {
            let mut args = vec![nested.instruction.clone()];
            args.extend(node_args(nested));
            args
        }
    }
}
