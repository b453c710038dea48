//! Stages: a Dockerfile as the builds it describes.
//!
//! Every `FROM` starts a *stage*: a base, then the instructions up to the next `FROM`. The
//! last stage is the image built by default; the others build things for it (a compiler
//! stage whose binary the last stage copies with `COPY --from=build`), or are targets of
//! their own (`docker build --target test`).
//!
//! ```text
//!  ARG VERSION=1.36                 ─ meta argument: for FROM lines only
//!  FROM golang:1.22 AS build        ┐
//!  RUN go build -o /app .           ┘ stage 0, "build"
//!  FROM busybox:${VERSION}          ┐
//!  COPY --from=build /app /app      │ stage 1 (its base expanded with the meta arguments;
//!  CMD ["/app"]                     ┘ its COPY names stage 0)
//! ```
//!
//! - an `ARG` before the first `FROM` is a *meta argument*: it can be used in `FROM`
//!   lines, and nowhere else unless a stage declares it again (`ARG VERSION`); any other
//!   instruction before the first `FROM` is an error;
//! - a stage is named by `AS name` (lowercased) or by its index from 0; `FROM name` builds
//!   on an earlier stage, `COPY --from=name` (or `--from=0`) copies from one;
//! - `FROM`'s base and `--platform` are the only words expanded before any stage runs,
//!   with the meta arguments and the predefined platform arguments ([`expand`]).
//!
//! ```
//! use ch05_dockerfile::parser::parse;
//! use ch05_dockerfile::stages::{Source, Stages};
//!
//! let source = b"FROM busybox AS Build\nRUN true\nFROM scratch\nCOPY --from=build /bin /bin\n";
//! let stages = Stages::new("Dockerfile", &parse("Dockerfile", source)?)?;
//! assert_eq!(stages.stages[0].name.as_deref(), Some("build"));
//! assert_eq!(stages.copy_source(1, "build"), Ok(Source::Stage(0)));
//! assert_eq!(stages.copy_source(1, "alpine"), Ok(Source::Image("alpine".into())));
//! # Ok::<(), ch05_dockerfile::Error>(())
//! ```

pub mod expand;
mod references;

pub use expand::{Base, ExpandedFrom, Platform, predefined_args};
pub use references::Source;

use crate::error::{Error, Result};
use crate::instructions::{
    self, Arg, Command, From, Instruction, InstructionError, Located, parse_instruction,
};
use crate::parser::Dockerfile;
use crate::shell::{Env, Lexer};

// ANCHOR: stages
/// A Dockerfile's meta arguments and stages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stages {
    /// The `ARG`s before the first `FROM`.
    pub meta_args: Vec<Located<Arg>>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// The file's escape character, for expanding its words.
    pub escape: char,
}

/// One stage: a `FROM` and the instructions after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Its name (`AS name`, lowercased), if it has one.
    pub name: Option<String>,
    /// Its base as written: an image, `scratch`, or an earlier stage's name.
    pub base: String,
    /// `FROM --platform`, as written.
    pub platform: Option<String>,
    /// The `FROM` itself.
    pub from: Located<From>,
    /// The instructions after it, `FROM` excluded.
    pub instructions: Vec<Instruction>,
    /// The line of its `FROM`.
    pub start_line: usize,
    /// The last line of its last instruction.
    pub end_line: usize,
}
// ANCHOR_END: stages

impl Stages {
    // ANCHOR: stages_new
    /// Types every instruction of `dockerfile` and groups them into stages, as BuildKit's
    /// `instructions.Parse` does; `file` names the Dockerfile in errors.
    pub fn new(file: &str, dockerfile: &Dockerfile) -> Result<Stages> {
        let mut meta_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for node in &dockerfile.nodes {
            let instruction = parse_instruction(file, node)?;
            let Located { value, .. } = &instruction;
            match (value, stages.last_mut()) {
                (Command::From(from), _) => stages.push(Stage::new(from.clone(), &instruction)),
                (Command::Arg(arg), None) => meta_args.push(instruction.with_value(arg.clone())),
                (_, None) => {
                    return Err(InstructionError::new("no build stage in current context")
                        .with_hint("start the Dockerfile with FROM (only ARG may come before it)")
                        .at(file, node));
                }
                (_, Some(stage)) => {
                    stage.end_line = instruction.end_line;
                    stage.instructions.push(instruction);
                }
            }
        }
        if stages.is_empty() {
            return Err(Error::NoStages {
                file: file.to_owned(),
            });
        }
        let stages = Stages {
            meta_args,
            stages,
            escape: dockerfile.escape,
        };
        stages.check_copy_sources(file)?;
        Ok(stages)
    }
    // ANCHOR_END: stages_new

    /// BuildKit refuses variables in `COPY --from` before building anything: a stage cannot
    /// be chosen by a variable (an `ARG` in a `FROM` line can).
    fn check_copy_sources(&self, file: &str) -> Result<()> {
        let lexer = Lexer::new(self.escape);
        for instruction in self.stages.iter().flat_map(|stage| &stage.instructions) {
            let Command::Copy(instructions::Copy {
                from: Some(from), ..
            }) = &instruction.value
            else {
                continue;
            };
            let expanded = lexer
                .process_word(from, &Env::default())
                .map_err(|error| instruction.error(file, error.into()))?;
            if expanded != *from {
                return Err(instruction.error(
                    file,
                    InstructionError::new(
                        "variable expansion is not supported for --from, define a new stage \
                         with FROM using ARG from global scope as a workaround",
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The stage that `name` names, ignoring case (the last, if two have that name).
    pub fn find(&self, name: &str) -> Option<usize> {
        let name = crate::parser::text::to_lower(name);
        self.stages
            .iter()
            .rposition(|stage| stage.name.as_deref() == Some(name.as_str()))
    }

    /// A stage's name for messages: its own, or `stage-N`.
    pub fn display_name(&self, index: usize) -> String {
        match self
            .stages
            .get(index)
            .and_then(|stage| stage.name.as_deref())
        {
            Some(name) => name.to_owned(),
            None => format!("stage-{index}"),
        }
    }
}

impl Stage {
    fn new(from: From, instruction: &Instruction) -> Stage {
        Stage {
            name: from.name.clone(),
            base: from.base.clone(),
            platform: from.platform.clone(),
            start_line: instruction.start_line,
            end_line: instruction.end_line,
            from: instruction.with_value(from),
            instructions: Vec::new(),
        }
    }
}

impl<T> Located<T> {
    /// The same place, holding another value.
    pub fn with_value<U>(&self, value: U) -> Located<U> {
        Located {
            value,
            keyword: self.keyword.clone(),
            start_line: self.start_line,
            end_line: self.end_line,
            comments: self.comments.clone(),
            source: self.source.clone(),
        }
    }

    /// The crate's error for a problem with this instruction.
    pub fn error(&self, file: &str, error: InstructionError) -> Error {
        Error::Syntax {
            file: file.to_owned(),
            line: self.start_line,
            message: error.message,
            source_line: Some(self.source.clone()),
            hint: error.hint,
        }
    }
}
