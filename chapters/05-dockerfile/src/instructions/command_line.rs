//! Commands in two forms: `CMD`, `ENTRYPOINT`, `SHELL` (and `RUN`, `HEALTHCHECK CMD`).
//!
//! A command is written either as a JSON array, the *exec form*, run as it is:
//!
//! ```dockerfile
//! CMD ["nginx", "-g", "daemon off;"]
//! ```
//!
//! or as plain text, the *shell form*, handed to the stage's shell (`/bin/sh -c` unless a
//! `SHELL` instruction chose another), which then does the quoting, `$VAR`s and `&&`s:
//!
//! ```dockerfile
//! CMD nginx -g 'daemon off;'
//! ```
//!
//! The difference matters at run time: in shell form the shell is the container's first
//! process, and it does not pass `docker stop`'s SIGTERM on to the program, which is why
//! the checker recommends the exec form for `CMD` and `ENTRYPOINT`. `SHELL` itself must be
//! in exec form: a shell cannot be described in terms of a shell.

use super::flags::read_flags;
use super::{InstructionError, Parsed, at_least_one_argument, node_args};
use crate::parser::Node;

/// A command, in the form it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// `CMD echo $HOME`: one string, for the shell. An instruction with nothing after the
    /// keyword has the empty string.
    Shell(String),
    /// `CMD ["echo", "hello"]`: the program and its arguments, run as they are.
    Exec(Vec<String>),
}

impl CommandLine {
    /// The command of a node: exec form if its arguments came from JSON.
    pub(crate) fn of(node: &Node) -> CommandLine {
        let args = node_args(node);
        if node.innermost().json {
            CommandLine::Exec(args)
        } else {
            // BuildKit joins shell-form arguments with spaces; the parser left one.
            CommandLine::Shell(args.join(" "))
        }
    }

    /// Whether this is the shell form.
    pub fn is_shell(&self) -> bool {
        matches!(self, CommandLine::Shell(_))
    }
}

/// `CMD`: the default command of containers run from the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// The command.
    pub command: CommandLine,
}

/// `ENTRYPOINT`: the program containers run, `CMD` becoming its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entrypoint {
    /// The command.
    pub command: CommandLine,
}

/// `SHELL ["bash", "-c"]`: the program and options shell-form commands are run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    /// The shell and its options; the command is appended as one more argument.
    pub shell: Vec<String>,
}

/// Parses a `CMD` node.
pub fn parse_cmd(node: &Node) -> Parsed<Cmd> {
    read_flags(&node.flags, &[])?;
    Ok(Cmd {
        command: CommandLine::of(node),
    })
}

/// Parses an `ENTRYPOINT` node.
pub fn parse_entrypoint(node: &Node) -> Parsed<Entrypoint> {
    read_flags(&node.flags, &[])?;
    Ok(Entrypoint {
        command: CommandLine::of(node),
    })
}

/// Parses a `SHELL` node: a non-empty JSON array.
pub fn parse_shell(node: &Node) -> Parsed<Shell> {
    read_flags(&node.flags, &[])?;
    match CommandLine::of(node) {
        CommandLine::Exec(shell) if !shell.is_empty() => Ok(Shell { shell }),
        CommandLine::Shell(text) if !text.is_empty() => Err(InstructionError::new(
            "SHELL requires the arguments to be in JSON form",
        )
        .with_hint(r#"write it as a JSON array, as in SHELL ["/bin/bash", "-c"]"#)),
        _ => Err(at_least_one_argument("SHELL")),
    }
}
