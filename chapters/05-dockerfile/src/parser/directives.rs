//! Parser directives: `# syntax=`, `# escape=`, `# check=` at the top of the file.
//!
//! A directive looks like a comment, `# name=value`, and only counts at the very top: the
//! first line that is not one (an instruction, a blank line, an ordinary comment, an
//! unknown `# name=value`) ends the directives, and anything that looks like one afterwards
//! is just a comment. Names are case-insensitive and each may appear once.
//!
//! - `escape` changes the escape character, which also continues lines, from `\` to `` ` ``;
//! - `syntax` names the frontend image BuildKit should parse the file with (`docker/dockerfile:1`);
//! - `check` configures the build checks (`skip=JSONArgsRecommended;error=true`).
//!
//! The parser acts on `escape` and records all three, with their lines.

use super::SyntaxError;
use super::text;

/// The directives BuildKit knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectiveKind {
    /// `# syntax=`: the frontend to parse the file with.
    Syntax,
    /// `# escape=`: the escape character, `\` or `` ` ``.
    Escape,
    /// `# check=`: the build checks' configuration.
    Check,
}

impl DirectiveKind {
    /// Its name, in lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectiveKind::Syntax => "syntax",
            DirectiveKind::Escape => "escape",
            DirectiveKind::Check => "check",
        }
    }

    fn from_name(name: &str) -> Option<DirectiveKind> {
        [
            DirectiveKind::Syntax,
            DirectiveKind::Escape,
            DirectiveKind::Check,
        ]
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(name))
    }
}

/// One directive found at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Which one.
    pub kind: DirectiveKind,
    /// Its value, surrounding whitespace trimmed.
    pub value: String,
    /// Its line, from 1.
    pub line: usize,
}

/// The escape character when no directive changes it.
pub const DEFAULT_ESCAPE: char = '\\';

// ANCHOR: directives
/// The directive reader's state while the top of the file is read.
#[derive(Debug)]
pub(crate) struct Directives {
    /// Set by the first line that is not a directive: none may follow.
    done: bool,
    /// The directives found.
    pub found: Vec<Directive>,
    /// The escape character in force.
    pub escape: char,
}

impl Directives {
    pub fn new() -> Self {
        Directives {
            done: false,
            found: Vec::new(),
            escape: DEFAULT_ESCAPE,
        }
    }

    /// Reads a line (leading whitespace already trimmed) that may be a directive; whether
    /// it was one.
    pub fn read(&mut self, line: &str, number: usize) -> Result<bool, SyntaxError> {
        if self.done {
            return Ok(false);
        }
        let directive = line
            .strip_prefix('#')
            .and_then(|rest| split_directive(rest.trim_start()))
            .and_then(|(name, value)| Some((DirectiveKind::from_name(name)?, value)));
        let Some((kind, value)) = directive else {
            self.done = true;
            return Ok(false);
        };
        if self.found.iter().any(|seen| seen.kind == kind) {
            return Err(SyntaxError::new(format!(
                "only one {} parser directive can be used",
                kind.as_str()
            ))
            .with_hint("keep the first and remove the others")
            .at(number));
        }
        if kind == DirectiveKind::Escape {
            self.escape = escape_token(value).map_err(|error| error.at(number))?;
        }
        self.found.push(Directive {
            kind,
            value: value.to_owned(),
            line: number,
        });
        Ok(true)
    }
}

// ANCHOR_END: directives

/// `name = value` as BuildKit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` reads it.
fn split_directive(text: &str) -> Option<(&str, &str)> {
    let name_len = text
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(text.len());
    let (name, rest) = text.split_at(name_len);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let after = rest
        .trim_start_matches(text::is_regex_space)
        .strip_prefix('=')?;
    let value = after.trim_start_matches(text::is_regex_space);
    if !value.is_empty() {
        return Some((name, value.trim_end_matches(text::is_regex_space)));
    }
    // A value of whitespace alone: the lazy `(.+?)` still takes one character, the last.
    let last = after.char_indices().next_back()?.0;
    Some((name, &after[last..]))
}

/// The escape character an `escape` directive names: `\` or `` ` `` only.
fn escape_token(value: &str) -> Result<char, SyntaxError> {
    match value {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        _ => Err(SyntaxError::new(format!(
            "invalid escape token '{value}' does not match ` or \\"
        ))
        .with_hint("the escape character is \\ (the default) or ` (a backtick)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_as_buildkit_reads_them() {
        assert_eq!(split_directive("escape=`"), Some(("escape", "`")));
        assert_eq!(
            split_directive("syntax = docker/dockerfile:1 // x  "),
            Some(("syntax", "docker/dockerfile:1 // x"))
        );
        assert_eq!(split_directive("escape=  "), Some(("escape", " ")));
        assert_eq!(split_directive("escape="), None);
        assert_eq!(split_directive("1escape=x"), None);
        assert_eq!(split_directive("key-x=1"), None);
    }

    #[test]
    fn directives_end_at_the_first_other_line() {
        let mut directives = Directives::new();
        assert!(directives.read("# EScape=`", 1).expect("valid"));
        assert!(!directives.read("# comment", 2).expect("valid"));
        assert!(!directives.read("# syntax=x", 3).expect("valid"));
        assert_eq!(directives.escape, '`');
        assert_eq!(directives.found.len(), 1);
    }

    #[test]
    fn directives_may_not_repeat() {
        let mut directives = Directives::new();
        assert!(directives.read("#check=skip=all", 1).expect("valid"));
        let error = directives.read("# CHECK=error=true", 2).expect_err("twice");
        assert_eq!(error.message, "only one check parser directive can be used");
        assert_eq!(error.line, 2);
    }
}
