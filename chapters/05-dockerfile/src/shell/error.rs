//! What can be wrong with a word.
//!
//! The messages are BuildKit's, so that a failing build reads as it does under `docker
//! build`; [`Reason::hint`] adds what to do about it. A [`ShellError`] knows the word but not
//! its line: whoever expands an instruction wraps it with the line.

/// A word that cannot be expanded, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {word:?}: {reason}")]
pub struct ShellError {
    /// The word, as written.
    pub word: String,
    /// What is wrong with it.
    pub reason: Reason,
}

/// Why a word cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// `'abc`: a single quote is never closed.
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnclosedSingleQuote,
    /// `"abc`: a double quote is never closed.
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnclosedDoubleQuote,
    /// `${V`, `${V:-x`: the word ends inside `${`.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${V/x`: the word ends inside a substitution's pattern.
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    /// `${}`, `${:-x}`, `${{V}`: no name where one must be.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// `${V:Y}`, `${V=x}`, `${V:#x}`: an operator this language does not have.
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${V?message}` with `V` unset, or `${V:?message}` with `V` unset or empty.
    #[error("{name}: {message}")]
    Required {
        /// The variable.
        name: String,
        /// The word's message, or a default one.
        message: String,
    },
    /// `${A:-${B:-${C:-…}}}` nested deeper than [`super::MAX_NESTING`] levels.
    #[error("syntax error: ${{}} nested more than {0} levels deep")]
    TooDeep(usize),
    /// `${V#a\b}`: the pattern of `#`, `%` or `/` is not one.
    #[error("invalid pattern ({pattern}) in substitution: {problem}")]
    InvalidPattern {
        /// The pattern, expanded.
        pattern: String,
        /// What is wrong with it.
        problem: PatternError,
    },
}

/// What is wrong with a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// `\x`: in a pattern `\` only escapes `*`, `?`, `\`, `}` and `/`.
    #[error("invalid escape '\\{0}'")]
    InvalidEscape(char),
    /// `abc\`: nothing follows the last `\`.
    #[error("a trailing '\\' escapes nothing")]
    TrailingEscape,
}

impl Reason {
    /// What to do about it, where there is more to say than the message.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Reason::UnclosedSingleQuote | Reason::UnclosedDoubleQuote => {
                Some("close the quote, or escape it to mean the character itself")
            }
            Reason::MissingBrace => Some("close the ${ with a }, or escape the $"),
            Reason::MissingSlash => Some("a substitution is written ${VAR/pattern/replacement}"),
            Reason::BadSubstitution => Some("a variable's name goes between ${ and }"),
            Reason::UnsupportedModifier(_) => Some(
                "the operators are :- - :+ + :? ? # ## % %% / //; escape the $ to keep it literal",
            ),
            Reason::InvalidPattern { .. } => {
                Some("in a pattern, \\ may only escape *, ?, \\, } and /")
            }
            Reason::TooDeep(_) => Some("split the expression with ARG or ENV steps"),
            Reason::Required { .. } => None,
        }
    }
}
