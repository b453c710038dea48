//! Reading a Dockerfile as BuildKit's parser reads it.
//!
//! BuildKit reads a Dockerfile in two passes. This module is the first: it knows the *line*
//! rules of the language but not what instructions mean. It turns the file into a list of
//! [`Node`]s, one per instruction, each with its keyword, flags and arguments split but not
//! expanded, plus its heredoc bodies and its lines. Typed instructions, stages and variable
//! expansion are built on top of these nodes.
//!
//! ```text
//!  bytes ──▶ lines ──▶ directives ──▶ instruction lines ──▶ keyword, flags, arguments ──▶ Node
//!            (64 KiB    (# escape=)    (continuations,       (one line parser per          (+ heredoc
//!             each)                     comments)             kind of instruction)           bodies)
//! ```
//!
//! - `lines`: physical lines, continuations and comments, the 64 KiB line limit;
//! - `directives`: `# syntax=`, `# escape=`, `# check=` at the top ([`Directive`]);
//! - `arguments`: each instruction's line parser, the flags, JSON or shell form;
//! - [`heredoc`]: `<<EOF` words and their bodies;
//! - `node`: the [`Node`] itself; `dump`: BuildKit's `Node.Dump()` text ([`Node::dump`]);
//! - `text`: characters as Go's `unicode` package classifies them, which BuildKit's rules
//!   rest on.
//!
//! ```
//! use ch05_dockerfile::parser::parse;
//!
//! let dockerfile = parse("Dockerfile", b"FROM busybox\nRUN echo \\\n    hello\n")?;
//! assert_eq!(dockerfile.dump(), "(from \"busybox\")\n(run \"echo     hello\")");
//! assert_eq!((dockerfile.nodes[1].start_line, dockerfile.nodes[1].end_line), (2, 3));
//! # Ok::<(), ch05_dockerfile::Error>(())
//! ```

mod arguments;
mod directives;
mod dump;
pub mod heredoc;
mod lines;
mod node;
pub(crate) mod text;

pub use directives::{DEFAULT_ESCAPE, Directive, DirectiveKind};
pub use dump::go_quote;
pub use heredoc::Heredoc;
pub use lines::MAX_LINE_BYTES;
pub use node::{Keyword, Node};

use crate::error::{Error, Result};
use directives::Directives;
use lines::{SourceLine, SourceLines};

/// A Dockerfile as the parser reads it: BuildKit's parse `Result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The instructions, in order.
    pub nodes: Vec<Node>,
    /// The parser directives at the top of the file.
    pub directives: Vec<Directive>,
    /// The escape character in force: `\`, or `` ` `` after `# escape=``.
    pub escape: char,
    /// What BuildKit warns about while parsing (empty continuation lines).
    pub warnings: Vec<Warning>,
}

/// A parse warning: something BuildKit accepts today but will refuse one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The line BuildKit reports it on (the instruction's last line).
    pub line: usize,
    /// What was found: `Empty continuation line found in: RUN a b`.
    pub message: String,
    /// Why it matters.
    pub detail: String,
    /// Where the rule is documented.
    pub url: String,
}

impl Dockerfile {
    /// The first instruction's first line (BuildKit's root node `StartLine`).
    pub fn start_line(&self) -> usize {
        self.nodes.first().map_or(0, |node| node.start_line)
    }

    /// The last instruction's last line (BuildKit's root node `EndLine`).
    pub fn end_line(&self) -> usize {
        self.nodes.last().map_or(0, |node| node.end_line)
    }

    /// The directive of that kind, if the file has it.
    pub fn directive(&self, kind: DirectiveKind) -> Option<&Directive> {
        self.directives
            .iter()
            .find(|directive| directive.kind == kind)
    }
}

/// A problem on a line, before the file's name is known to say where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl SyntaxError {
    pub fn new(message: impl Into<String>) -> Self {
        SyntaxError {
            line: 0,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, line: usize) -> Self {
        self.line = line;
        self
    }

    /// The crate's error, naming the file and showing the line as written.
    fn into_error(self, file: &str, source: &[u8]) -> Error {
        let source_line = source
            .split(|&b| b == b'\n')
            .nth(self.line.saturating_sub(1))
            .map(|line| text::lossy(line).trim_end_matches('\r').to_owned());
        Error::Syntax {
            file: file.to_owned(),
            line: self.line,
            message: self.message,
            source_line,
            hint: self.hint,
        }
    }
}

// ANCHOR: parse
/// Parses a Dockerfile's bytes. `file` is the file as the user named it (`Dockerfile`), for
/// error messages.
///
/// Fails on the first problem, naming its line: BuildKit's messages (`ENV must have two
/// arguments`, `dockerfile line greater than max allowed size of 65535`, `unterminated
/// heredoc`...), or [`Error::NoInstructions`] for a file without any.
pub fn parse(file: &str, source: &[u8]) -> Result<Dockerfile> {
    let mut reader = Reader {
        lines: SourceLines::new(source),
        directives: Directives::new(),
        comments: Vec::new(),
        nodes: Vec::new(),
        warnings: Vec::new(),
    };
    while let Some(line) = reader.lines.next() {
        let line = line.map_err(|error| error.into_error(file, source))?;
        reader
            .read_instruction(line)
            .map_err(|error| error.into_error(file, source))?;
    }
    if reader.nodes.is_empty() {
        return Err(Error::NoInstructions {
            file: file.to_owned(),
        });
    }
    Ok(Dockerfile {
        nodes: reader.nodes,
        escape: reader.directives.escape,
        directives: reader.directives.found,
        warnings: reader.warnings,
    })
}
// ANCHOR_END: parse

/// The parser's state between lines.
struct Reader<'a> {
    lines: SourceLines<'a>,
    directives: Directives,
    /// The comment lines read since the last instruction.
    comments: Vec<String>,
    nodes: Vec<Node>,
    warnings: Vec<Warning>,
}

impl Reader<'_> {
    // ANCHOR: read_instruction
    /// Reads what starts at `first`: a directive, a comment, a blank line, or an
    /// instruction with its continuation lines and heredoc bodies.
    fn read_instruction(&mut self, first: SourceLine) -> Result<(), SyntaxError> {
        let mut text = first.text;
        if first.number == 1 {
            // A byte order mark is not part of the first line.
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        if lines::is_comment(text) {
            self.note_comment(text);
        }
        let trimmed = lines::trim_newline(text).trim_start();
        if self.directives.read(trimmed, first.number)? {
            // A directive is not a comment for the next instruction.
            self.comments.pop();
            return Ok(());
        }
        let content = if lines::is_comment(trimmed) {
            ""
        } else {
            trimmed
        };
        let escape = self.directives.escape;
        let Some(joined) = lines::join(content, &mut self.lines, escape)? else {
            return Ok(());
        };
        let start_line = first.number;
        if joined.had_empty_line {
            self.warnings
                .push(empty_continuation_warning(&joined.text, joined.end_line));
        }
        let mut node = arguments::node_from_line(&joined.text, escape)
            .map_err(|error| error.at(start_line))?;
        if node.can_contain_heredoc() && joined.text.contains("<<") {
            self.read_heredocs(&mut node, &joined.text, start_line)?;
        }
        node.comments = std::mem::take(&mut self.comments);
        set_lines(&mut node, start_line, self.lines.number());
        self.nodes.push(node);
        Ok(())
    }
    // ANCHOR_END: read_instruction

    /// A comment line: kept for the next instruction, and an empty `#` forgets the ones
    /// before it.
    fn note_comment(&mut self, line: &str) {
        let comment = lines::comment_text(line);
        if comment.is_empty() {
            self.comments.clear();
        } else {
            self.comments.push(comment.to_owned());
        }
    }

    /// Reads the bodies of the heredocs the instruction's line opens, one after the other.
    fn read_heredocs(
        &mut self,
        node: &mut Node,
        line: &str,
        start_line: usize,
    ) -> Result<(), SyntaxError> {
        let heredocs = heredoc::heredocs_from_line(line).map_err(|error| {
            SyntaxError::new(error.0)
                .with_hint("close the quotes in the heredoc's delimiter, as in <<'EOF'")
                .at(start_line)
        })?;
        for mut heredoc in heredocs {
            loop {
                let Some(body_line) = self.lines.next() else {
                    return Err(SyntaxError::new("unterminated heredoc")
                        .with_hint(format!(
                            "end the heredoc with a line that is exactly {}",
                            heredoc.name
                        ))
                        .at(start_line));
                };
                let body_line = body_line?;
                let mut candidate = lines::trim_newline(body_line.text);
                if heredoc.chomp {
                    candidate = candidate.trim_start_matches('\t');
                }
                if candidate == heredoc.name {
                    break;
                }
                heredoc.content.push_str(body_line.text);
            }
            node.heredocs.push(heredoc);
        }
        Ok(())
    }
}

/// Sets an instruction's lines, and its nested instructions' (which BuildKit leaves at 0).
fn set_lines(node: &mut Node, start_line: usize, end_line: usize) {
    node.start_line = start_line;
    node.end_line = end_line;
    if let Some(nested) = &mut node.nested {
        set_lines(nested, start_line, end_line);
    }
}

/// BuildKit's warning for an empty line inside a continued instruction.
fn empty_continuation_warning(line: &str, end_line: usize) -> Warning {
    Warning {
        line: end_line,
        message: format!("Empty continuation line found in: {line}"),
        detail: "Empty continuation lines will become errors in a future release".to_owned(),
        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/".to_owned(),
    }
}
