//! `parse [-f FILE] [--dump]`: a Dockerfile as the parser reads it.
//!
//! Without `--dump`, an outline: one line per instruction with its line numbers, the joined
//! text of continued lines, its heredocs, and the parser's warnings. With `--dump`, BuildKit's
//! `Node.Dump()` text, byte for byte.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use dockyard_support::FromIo;

use super::out;
use crate::error::{Error, Result};
use crate::parser::{self, Dockerfile, Node};

/// The name errors give a Dockerfile read from standard input, as `docker build -f -` does.
const STDIN_NAME: &str = "Dockerfile";

/// `parse`'s arguments.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The Dockerfile; `-` reads standard input
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        default_value = "Dockerfile"
    )]
    file: PathBuf,
    /// Print BuildKit's dump of the AST instead of the outline
    #[arg(long)]
    dump: bool,
}

impl ParseArgs {
    /// Reads and parses the file, and prints the outline or the dump.
    pub fn execute(&self) -> Result<()> {
        let (name, source) = self.read()?;
        let dockerfile = parser::parse(&name, &source)?;
        if self.dump {
            for warning in &dockerfile.warnings {
                eprintln!("[WARNING]: {}", warning.message);
            }
            out(format!("{}\n", dockerfile.dump()))
        } else {
            out(outline(&dockerfile))
        }
    }

    /// The file's name (as the user gave it) and its bytes.
    fn read(&self) -> Result<(String, Vec<u8>)> {
        if self.file.as_os_str() == "-" {
            let mut source = Vec::new();
            std::io::stdin()
                .read_to_end(&mut source)
                .map_err(Error::io_op("read the Dockerfile from standard input"))?;
            return Ok((STDIN_NAME.to_owned(), source));
        }
        let source = std::fs::read(&self.file).map_err(Error::io("read", &self.file))?;
        Ok((self.file.display().to_string(), source))
    }
}

/// The outline: the directives, then each instruction as read (continuations joined) after
/// its line numbers, its heredocs beneath it, then the warnings.
///
/// ```text
///    1  # syntax=docker/dockerfile:1
///    3  FROM busybox AS build
///  4-6  RUN set -e;     echo building
///  7-9  COPY <<EOF /etc/motd
///         <<EOF: 1 line
/// ```
pub fn outline(dockerfile: &Dockerfile) -> String {
    let ranges: Vec<String> = dockerfile.nodes.iter().map(line_range).collect();
    let width = ranges.iter().map(String::len).max().unwrap_or(1);
    let mut text = String::new();
    for directive in &dockerfile.directives {
        let (line, name) = (directive.line, directive.kind.as_str());
        text.push_str(&format!("{line:>width$}  # {name}={}\n", directive.value));
    }
    for (node, range) in dockerfile.nodes.iter().zip(&ranges) {
        text.push_str(&format!("{range:>width$}  {}\n", node.original.trim()));
        for heredoc in &node.heredocs {
            text.push_str(&format!("{:width$}    {}\n", "", heredoc_summary(heredoc)));
        }
    }
    for warning in &dockerfile.warnings {
        text.push_str(&format!(
            "warning: line {}: {}\n",
            warning.line, warning.message
        ));
    }
    text
}

/// `7` or `7-9`.
fn line_range(node: &Node) -> String {
    if node.start_line == node.end_line {
        node.start_line.to_string()
    } else {
        format!("{}-{}", node.start_line, node.end_line)
    }
}

/// `<<EOF: 2 lines, tabs stripped, not expanded, on fd 3`.
fn heredoc_summary(heredoc: &parser::Heredoc) -> String {
    let lines = heredoc.content.lines().count();
    let mut summary = format!(
        "<<{}: {lines} line{}",
        heredoc.name,
        if lines == 1 { "" } else { "s" }
    );
    if heredoc.chomp {
        summary.push_str(", tabs stripped");
    }
    if !heredoc.expand {
        summary.push_str(", not expanded");
    }
    if heredoc.file_descriptor != 0 {
        summary.push_str(&format!(", on fd {}", heredoc.file_descriptor));
    }
    summary
}
