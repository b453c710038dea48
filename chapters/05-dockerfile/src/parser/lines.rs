//! Lines: from the file's physical lines to one instruction's line.
//!
//! An instruction may span several lines: a line whose last character (trailing spaces and
//! tabs aside) is the *escape character* continues on the next one. The escape character is
//! `\` unless an `# escape=` directive made it `` ` `` (handy on Windows, where `\` is the
//! path separator). Joining follows BuildKit exactly, quirks included:
//!
//! - the escape character and the spaces after it go, but the spaces *before* it stay, and
//!   so does the indentation of the next line: `RUN a \⏎    b` is `RUN a     b`;
//! - an escape character preceded by another one (`\\`) is an escaped escape, not a
//!   continuation;
//! - comment lines inside a continued instruction are skipped, and so are empty lines
//!   (which earn a warning: they will become errors in a future release);
//! - a continuation at the end of the file simply ends the instruction.
//!
//! Every physical line is at most 65535 bytes, the largest token Go's `bufio.Scanner`
//! accepts by default; BuildKit fails on a longer one, and so does this parser.

use super::SyntaxError;

/// The longest line BuildKit reads, in bytes, its newline not counted (Go's
/// `bufio.MaxScanTokenSize` less one).
pub const MAX_LINE_BYTES: usize = 65535;

/// A line of the file, its line ending included.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourceLine<'a> {
    /// Its number, from 1.
    pub number: usize,
    /// Its text, with its `\n` (or `\r\n`) if it had one.
    pub text: &'a str,
}

/// The file's lines, one at a time, each checked for length and for being UTF-8 text.
#[derive(Debug)]
pub(crate) struct SourceLines<'a> {
    rest: &'a [u8],
    number: usize,
}

impl<'a> SourceLines<'a> {
    pub fn new(source: &'a [u8]) -> Self {
        SourceLines {
            rest: source,
            number: 0,
        }
    }

    /// How many lines have been read so far: the number of the last one.
    pub fn number(&self) -> usize {
        self.number
    }
}

impl<'a> Iterator for SourceLines<'a> {
    type Item = Result<SourceLine<'a>, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let newline = self.rest.iter().position(|&b| b == b'\n');
        let content_len = newline.unwrap_or(self.rest.len());
        let (line, rest) = self.rest.split_at(newline.map_or(content_len, |at| at + 1));
        self.rest = rest;
        self.number += 1;
        if content_len > MAX_LINE_BYTES {
            return Some(Err(SyntaxError::new(format!(
                "dockerfile line greater than max allowed size of {MAX_LINE_BYTES}"
            ))
            .with_hint(
                "split the line with the escape character at its end and continue on the next",
            )
            .at(self.number)));
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return Some(Err(SyntaxError::new("the line is not UTF-8 text")
                .with_hint("save the Dockerfile in UTF-8")
                .at(self.number)));
        };
        Some(Ok(SourceLine {
            number: self.number,
            text,
        }))
    }
}

/// An instruction's line, joined from its physical lines.
#[derive(Debug)]
pub(crate) struct Joined {
    /// The joined text.
    pub text: String,
    /// The last physical line it took.
    pub end_line: usize,
    /// Whether an empty line sat inside the continuation (BuildKit warns about it).
    pub had_empty_line: bool,
}

// ANCHOR: join
/// Reads the rest of an instruction whose first line (newline and leading whitespace
/// already trimmed) is `first`. `None` when there is no instruction there: an empty line, a
/// comment.
pub(crate) fn join(
    first: &str,
    lines: &mut SourceLines,
    escape: char,
) -> Result<Option<Joined>, SyntaxError> {
    let (mut text, mut continues) = match trim_continuation(first, escape) {
        Some(before) => (before.to_owned(), true),
        None if first.is_empty() => return Ok(None),
        None => (first.to_owned(), false),
    };
    let mut had_empty_line = false;
    while continues {
        let Some(line) = lines.next() else { break };
        let line = line?;
        if is_comment(line.text) {
            continue;
        }
        let content = trim_newline(line.text);
        if content.trim_start().is_empty() {
            had_empty_line = true;
            continue;
        }
        match trim_continuation(content, escape) {
            Some(before) => text.push_str(before),
            None => {
                text.push_str(content);
                continues = false;
            }
        }
    }
    Ok(Some(Joined {
        text,
        end_line: lines.number(),
        had_empty_line,
    }))
}

/// If `line` continues on the next line, what comes before its escape character.
fn trim_continuation(line: &str, escape: char) -> Option<&str> {
    let before = line.trim_end_matches([' ', '\t']).strip_suffix(escape)?;
    // `\\` at the end is an escaped escape character, which does not continue the line.
    (!before.ends_with(escape)).then_some(before)
}
// ANCHOR_END: join

/// The line without its line ending (every `\r` and `\n` at its end, as BuildKit trims).
pub(crate) fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Whether the line is a comment: `#` after optional whitespace.
pub(crate) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// A comment line's text, as BuildKit keeps it: the line less its first character, trimmed
/// (so an indented `  # note` keeps its `#`).
pub(crate) fn comment_text(line: &str) -> &str {
    let mut chars = line.chars();
    chars.next();
    chars.as_str().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_keeps_what_precedes_the_escape() {
        assert_eq!(trim_continuation("RUN a  \\  \t", '\\'), Some("RUN a  "));
        assert_eq!(trim_continuation("\\", '\\'), Some(""));
        assert_eq!(trim_continuation("RUN a \\\\", '\\'), None);
        assert_eq!(trim_continuation("RUN a `", '`'), Some("RUN a "));
        assert_eq!(trim_continuation("RUN a \\", '`'), None);
        assert_eq!(trim_continuation("RUN a \\\r", '\\'), None);
    }

    #[test]
    fn lines_keep_their_endings_and_numbers() {
        let lines: Vec<_> = SourceLines::new(b"a\r\nb\n\nc")
            .map(|line| line.map(|line| (line.number, line.text)))
            .collect::<Result<_, _>>()
            .expect("text");
        assert_eq!(lines, [(1, "a\r\n"), (2, "b\n"), (3, "\n"), (4, "c")]);
    }

    #[test]
    fn a_line_may_have_65535_bytes_and_no_more() {
        let longest = "a".repeat(MAX_LINE_BYTES);
        assert!(SourceLines::new(longest.as_bytes()).all(|line| line.is_ok()));
        let source = format!("FROM a\n{longest}b\n");
        let error = SourceLines::new(source.as_bytes())
            .find_map(Result::err)
            .expect("too long");
        assert_eq!(error.line, 2);
    }
}
