//! What can go wrong with an ignore file and its patterns.

use dockyard_support::{EngineError, ErrorKind, IoError};

/// A pattern list that cannot become a matcher, or a match that cannot be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A `!` with nothing after it: an exception to nothing. (moby's message, word for word.)
    #[error("illegal exclusion pattern: \"!\"")]
    LoneExclamation,
    /// A pattern Go's `filepath.Match` refuses, or whose regular expression does not compile
    /// (moby's `filepath.ErrBadPattern`, "syntax error in pattern").
    #[error("syntax error in pattern {pattern:?}: {problem}")]
    Syntax {
        /// The pattern, cleaned, with its `!` if it has one.
        pattern: String,
        /// What is wrong with it.
        problem: SyntaxProblem,
    },
    /// A [`MatchInfo`](super::MatchInfo) that came from another matcher (moby: "wrong number
    /// of values in parentMatched").
    #[error(
        "the parent's match info holds {given} results, but the matcher has {expected} patterns"
    )]
    MatchInfoLength {
        /// How many patterns the matcher has.
        expected: usize,
        /// How many results the match info holds.
        given: usize,
    },
}

/// Why a pattern is not a pattern. The first four are Go's `filepath.Match` rules, checked when
/// the matcher is made; the others come from the regular expression moby turns the pattern
/// into, and show when the pattern is first used, as in Docker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxProblem {
    /// A `[` without its `]`.
    #[error("unclosed character class: a `[` without its `]`")]
    UnclosedClass,
    /// `[]a]` or `[^]a]`: Go's globs have no way to put a bare `]` first.
    #[error("a character class cannot begin with `]` (write `\\]`)")]
    ClassStartsWithBracket,
    /// `[-]`, `[x-]`, `[-x]`, `[a-b-c]`: a `-` that is neither between two characters nor
    /// escaped.
    #[error("a `-` in a character class must sit between two characters (write `\\-` for a dash)")]
    MisplacedDash,
    /// A `\` at the very end, escaping nothing.
    #[error("a trailing `\\` escapes nothing")]
    TrailingBackslash,
    /// `[z-a]`: Go's glob check lets it through, Go's regexp does not.
    #[error("reversed range `{lo}-{hi}` in a character class")]
    ReversedRange {
        /// The start of the range.
        lo: char,
        /// The end, which comes before the start.
        hi: char,
    },
    /// A backslash before a letter or digit that Go's regexp does not know (`\q`, `\é`).
    #[error(
        "`{0}` is not an escape Go's regexp knows (a backslash before a letter makes a regexp escape, `\\d` a digit)"
    )]
    UnknownEscape(String),
    /// `[[:nope:]]`, or `\p` followed by something other than a Unicode category letter.
    #[error("unknown character class `{0}`")]
    UnknownClass(String),
    /// The translated expression is beyond what the regex engine takes (its size limit).
    #[error("the regular expression cannot be compiled: {0}")]
    Regexp(String),
}

impl EngineError for PatternError {
    fn kind(&self) -> ErrorKind {
        match self {
            PatternError::MatchInfoLength { .. } => ErrorKind::Internal,
            _ => ErrorKind::InvalidInput,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            PatternError::LoneExclamation => Some(
                "write the path the exception takes back after the `!`, as in `!README.md`"
                    .to_string(),
            ),
            PatternError::Syntax { .. } => Some(
                "to match `[`, `]`, `*`, `?` or `\\` literally, put a `\\` before it".to_string(),
            ),
            PatternError::MatchInfoLength { .. } => None,
        }
    }
}

/// An ignore file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A line longer than Docker's line reader takes (Go's `bufio.Scanner`, which fails with
    /// "token too long").
    #[error(
        "line {line} of the ignore file is {length} bytes long; Docker reads lines of at most {max} bytes"
    )]
    LineTooLong {
        /// The line, from 1.
        line: usize,
        /// Its length in bytes, without the newline.
        length: usize,
        /// The longest line Docker reads.
        max: usize,
    },
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl EngineError for ReadError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReadError::LineTooLong { .. } => ErrorKind::InvalidInput,
            ReadError::Io(io) => io.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ReadError::LineTooLong { .. } => {
                Some("split the pattern, or use a wildcard for part of it".to_string())
            }
            ReadError::Io(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_errors_say_what_is_wrong() {
        assert_eq!(
            PatternError::LoneExclamation.to_string(),
            r#"illegal exclusion pattern: "!""#
        );
        assert_eq!(
            PatternError::MatchInfoLength {
                expected: 2,
                given: 3
            }
            .to_string(),
            "the parent's match info holds 3 results, but the matcher has 2 patterns"
        );
        let syntax = PatternError::Syntax {
            pattern: "!a[".to_string(),
            problem: SyntaxProblem::UnclosedClass,
        };
        assert_eq!(
            syntax.to_string(),
            r#"syntax error in pattern "!a[": unclosed character class: a `[` without its `]`"#
        );
        assert_eq!(syntax.kind(), ErrorKind::InvalidInput);
        assert!(syntax.hint().unwrap().contains("put a `\\` before it"));
        assert!(
            PatternError::LoneExclamation
                .hint()
                .unwrap()
                .contains("!README.md")
        );
    }

    #[test]
    fn syntax_problems_name_the_rule() {
        let cases = [
            (
                SyntaxProblem::UnclosedClass,
                "unclosed character class: a `[` without its `]`",
            ),
            (
                SyntaxProblem::ClassStartsWithBracket,
                "a character class cannot begin with `]` (write `\\]`)",
            ),
            (
                SyntaxProblem::MisplacedDash,
                "a `-` in a character class must sit between two characters (write `\\-` for a dash)",
            ),
            (
                SyntaxProblem::TrailingBackslash,
                "a trailing `\\` escapes nothing",
            ),
            (
                SyntaxProblem::ReversedRange { lo: 'l', hi: 'O' },
                "reversed range `l-O` in a character class",
            ),
            (
                SyntaxProblem::UnknownEscape("\\q".to_string()),
                "`\\q` is not an escape Go's regexp knows (a backslash before a letter makes a regexp escape, `\\d` a digit)",
            ),
            (
                SyntaxProblem::UnknownClass("[:nope:]".to_string()),
                "unknown character class `[:nope:]`",
            ),
            (
                SyntaxProblem::Regexp("too big".to_string()),
                "the regular expression cannot be compiled: too big",
            ),
        ];
        for (problem, message) in cases {
            assert_eq!(problem.to_string(), message);
        }
    }

    #[test]
    fn read_errors_name_the_line_or_the_file() {
        let long = ReadError::LineTooLong {
            line: 3,
            length: 70_000,
            max: 65_535,
        };
        assert_eq!(
            long.to_string(),
            "line 3 of the ignore file is 70000 bytes long; Docker reads lines of at most 65535 bytes"
        );
        assert_eq!(long.kind(), ErrorKind::InvalidInput);
        let io = ReadError::Io(IoError {
            action: "read the ignore file".to_string(),
            path: Some("/ctx/.dockerignore".into()),
            source: std::io::ErrorKind::PermissionDenied.into(),
        });
        assert!(
            io.to_string()
                .starts_with("read the ignore file /ctx/.dockerignore: ")
        );
        assert_eq!(io.kind(), ErrorKind::Permission);
    }
}
