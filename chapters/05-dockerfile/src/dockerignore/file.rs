//! Reading an ignore file into its list of patterns, as Docker's `ignorefile.ReadAll`.
//!
//! The rules, line by line:
//!
//! - Lines end with LF or CRLF; the last one needs no newline. A UTF-8 byte order mark is
//!   removed from the first line (on any other line it stays part of the pattern).
//! - A line whose very first character is `#` is a comment. Only the first: `  # x` is the
//!   pattern `# x`.
//! - Whitespace around the line is removed, and a line left empty is skipped.
//! - A leading `!` (one) marks an exception; whitespace after it goes too: `! /a` is `!a`,
//!   and `!!a` stays `!!a`.
//! - The rest is cleaned (Go's `filepath.Clean`: `./a/../b/` is `b`), and a leading `/` is
//!   removed, because patterns are relative to the context root anyway: `/a/b` is `a/b`,
//!   `//x` is `x`, but `/` stays `/` and `../x` stays `../x`.
//!
//! A lone `!` is returned as `!`: it is [`PatternMatcher::new`](super::PatternMatcher::new)
//! that refuses it.

use std::path::Path;

use dockyard_support::FromIo;

use super::error::ReadError;
use super::path::clean;

/// The buffer Docker's line reader (Go's `bufio.Scanner`) reads a line into: a line and its
/// newline must fit, so the longest line is one byte shorter.
const SCANNER_BUFFER: usize = 64 * 1024;

/// The longest line Docker reads from an ignore file, in bytes: without its newline, but with
/// the CR of a CRLF (Go drops that only once the line is read).
pub const MAX_LINE: usize = SCANNER_BUFFER - 1;

/// The UTF-8 byte order mark some editors put at the start of a file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

// ANCHOR: read_ignore_file
/// The patterns of an ignore file's `contents`, in order, exceptions with their `!`.
///
/// ```
/// use ch05_dockerfile::dockerignore::parse;
///
/// let file = b"# build outputs\ntarget/\n/.git\n\n!target/keep.txt\r\n*.md\n";
/// assert_eq!(parse(file)?, ["target", ".git", "!target/keep.txt", "*.md"]);
/// # Ok::<(), ch05_dockerfile::dockerignore::ReadError>(())
/// ```
pub fn parse(contents: &[u8]) -> Result<Vec<String>, ReadError> {
    let mut patterns = Vec::new();
    for (index, line) in lines(contents).enumerate() {
        if line.len() > MAX_LINE {
            return Err(ReadError::LineTooLong {
                line: index + 1,
                length: line.len(),
                max: MAX_LINE,
            });
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if index == 0 {
            line.strip_prefix(UTF8_BOM).unwrap_or(line)
        } else {
            line
        };
        // Go keeps a line's bytes whatever they are; matching is on text here, so a byte that
        // is not UTF-8 becomes U+FFFD (as Go's regexp reads it).
        if let Some(pattern) = pattern_of_line(&String::from_utf8_lossy(line)) {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

/// The pattern one line holds, if any.
fn pattern_of_line(line: &str) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let (bang, rest) = match line.strip_prefix('!') {
        Some(rest) => ("!", rest.trim()),
        None => ("", line),
    };
    if rest.is_empty() {
        return Some(bang.to_string());
    }
    let cleaned = clean(rest);
    let relative = match cleaned.strip_prefix('/') {
        Some(relative) if !relative.is_empty() => relative,
        _ => &cleaned,
    };
    Some(format!("{bang}{relative}"))
}
// ANCHOR_END: read_ignore_file

/// The lines of `contents` as Go's `bufio.ScanLines` cuts them, before it drops a CR at
/// their end: at each LF, and a last line without a newline if it is not empty.
fn lines(contents: &[u8]) -> impl Iterator<Item = &[u8]> {
    let contents = contents.strip_suffix(b"\n").unwrap_or(contents);
    let mut lines = contents.split(|&byte| byte == b'\n');
    // An empty file has no lines (not one empty line).
    if contents.is_empty() {
        lines.next();
    }
    lines
}

/// The patterns of the ignore file at `path`; none if there is no such file, as Docker reads
/// a context without `.dockerignore`.
pub fn read(path: &Path) -> Result<Vec<String>, ReadError> {
    match std::fs::read(path) {
        Ok(contents) => parse(&contents),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(ReadError::io("read the ignore file", path)(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(contents: &str) -> Vec<String> {
        parse(contents.as_bytes()).unwrap()
    }

    #[test]
    fn comments_blank_lines_and_whitespace_go() {
        assert_eq!(
            patterns("# comment\n\n  \t\nfoo  \n  # not a comment\n"),
            ["foo", "# not a comment"]
        );
    }

    #[test]
    fn lines_end_with_lf_or_crlf_and_the_last_needs_none() {
        assert_eq!(patterns("a\r\nb\nc"), ["a", "b", "c"]);
        assert_eq!(patterns("a\r\n"), ["a"]);
        assert!(patterns("").is_empty());
        assert!(patterns("\n").is_empty());
        // A lone CR does not end a line.
        assert_eq!(patterns("a\rb"), ["a\rb"]);
    }

    #[test]
    fn a_byte_order_mark_goes_from_the_first_line_only() {
        assert_eq!(patterns("\u{FEFF}# comment\nx"), ["x"]);
        assert_eq!(patterns("\u{FEFF}a\n\u{FEFF}b"), ["a", "\u{FEFF}b"]);
    }

    #[test]
    fn exceptions_keep_one_bang_and_lose_the_space_after_it() {
        assert_eq!(
            patterns("! /a\n!!a\n!\n! \n!  ./b/../c/"),
            ["!a", "!!a", "!", "!", "!c"]
        );
    }

    #[test]
    fn patterns_are_cleaned_and_relative_to_the_root() {
        assert_eq!(
            patterns("/a/b\n//x\n./a/../b/\n../x\n/\n/..\n."),
            ["a/b", "x", "b", "../x", "/", "/", "."]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        assert_eq!(parse(b"a\xFFb").unwrap(), ["a\u{FFFD}b"]);
    }

    #[test]
    fn a_line_longer_than_docker_s_buffer_is_refused() {
        let longest = "x".repeat(MAX_LINE);
        assert_eq!(patterns(&format!("{longest}\n")), [longest.as_str()]);
        assert_eq!(patterns(&longest), [longest.as_str()]);
        // The CR counts: Go drops it only once the line is read.
        let crlf = format!("ok\r\n{longest}\r\n");
        for file in [format!("ok\n{longest}x\n"), format!("ok\n{longest}x"), crlf] {
            let error = parse(file.as_bytes()).unwrap_err();
            assert!(
                matches!(
                    error,
                    ReadError::LineTooLong {
                        line: 2,
                        length: 65_536,
                        max: 65_535
                    }
                ),
                "{error}"
            );
        }
    }

    #[test]
    fn a_missing_file_holds_no_patterns_and_a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join(".dockerignore")).unwrap().is_empty());
        std::fs::write(dir.path().join(".dockerignore"), "*.log\n").unwrap();
        assert_eq!(read(&dir.path().join(".dockerignore")).unwrap(), ["*.log"]);
        let error = read(dir.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("read the ignore file {}: ", dir.path().display())),
            "{error}"
        );
    }
}
