//! # Word expansion: what a builder does to an instruction's arguments
//!
//! Before a builder uses an argument of `ENV`, `WORKDIR`, `COPY`, `EXPOSE`, `USER`, `LABEL`…,
//! it *expands* it: quotes are taken off, escapes resolved and variables (the stage's `ENV`s
//! and `ARG`s) replaced by their values. `WORKDIR "$HOME/my app"` names the directory
//! `/root/my app`. This module does that expansion exactly as BuildKit's `shell` lexer does.
//!
//! ## A word
//!
//! A *word* is one argument as the parser cut it from the line: `"$HOME/my app"` above, or
//! `src/${NAME}.c` in `COPY src/${NAME}.c /app/`. Expansion walks it character by character:
//!
//! - outside quotes, the escape character (`\`, or `` ` `` after `` # escape=` ``) makes the
//!   next character ordinary, and whitespace separates words;
//! - between single quotes nothing is special, not even the escape character;
//! - between double quotes only `$` is, and the escape character before `"`, `$` or itself;
//! - `$NAME` or `${NAME}` is replaced by the variable's value (nothing if it is unset), and
//!   `${NAME<operator>…}` by what the operator makes of it.
//!
//! The result is either one string ([`Lexer::process_word`]: `ENV`, `WORKDIR`, `USER`, a
//! `COPY` source the parser already cut out) or that string split at its unquoted whitespace
//! ([`Lexer::process_words`]: `EXPOSE $PORTS` may name several ports).
//!
//! ## Why it is not a shell
//!
//! The syntax is the shell's, but a Dockerfile only borrows the part of it that computes
//! strings, and nothing that runs or looks at anything:
//!
//! - no command substitution: `$(date)` and `` `date` `` stay as written (`RUN` hands its
//!   command to a real shell in the container, which does that);
//! - no file globbing: `COPY *.txt /` keeps the `*`; the copier matches it later, against the
//!   build context, not against the builder's disk;
//! - no splitting of a value in a one-word place: `ENV A=$B` keeps `B`'s spaces, quoted or not;
//! - no tilde, arithmetic, arrays, `$#`-style parameters (they are never set), `${V:=x}` or
//!   `${#V}`; the patterns of `#`, `%` and `/` know `*` and `?` but no `[…]`;
//! - a mistake is an error, not a guess: `${}`, `${V:Y}` or an unclosed quote stop the build.
//!
//! ## Examples
//!
//! With `FILE=archive.tar.gz`, `EMPTY=` and `NOPE` unset:
//!
//! | word                    | expands to           | because                                        |
//! |-------------------------|----------------------|------------------------------------------------|
//! | `$FILE.sig`             | `archive.tar.gz.sig` | a name ends where a name character cannot be   |
//! | `${FILE}s`              | `archive.tar.gzs`    | braces say where it ends                       |
//! | `'$FILE'`               | `$FILE`              | single quotes: nothing is special              |
//! | `"$FILE"`               | `archive.tar.gz`     | double quotes: `$` still is                    |
//! | `\$FILE`                | `$FILE`              | the escape character                           |
//! | `$NOPE`                 | (empty)              | unset is empty, not an error                   |
//! | `${NOPE:-none}`         | `none`               | a default, if unset or empty                   |
//! | `${EMPTY-none}`         | (empty)              | without `:`, only unset counts                 |
//! | `${FILE:+-s}`           | `-s`                 | an alternative, if set and not empty           |
//! | `${NOPE:?is needed}`    | error `NOPE: is needed` | a required variable                         |
//! | `${FILE#*.}`            | `tar.gz`             | remove the shortest prefix matching `*.`       |
//! | `${FILE##*.}`           | `gz`                 | … the longest                                  |
//! | `${FILE%.*}`            | `archive.tar`        | remove the shortest suffix matching `.*`       |
//! | `${FILE%%.*}`           | `archive`            | … the longest                                  |
//! | `${FILE/.gz/.zst}`      | `archive.tar.zst`    | replace the first match                        |
//! | `${FILE//a/A}`          | `Archive.tAr.gz`     | … every match                                  |
//! | `$(date)`, `*.txt`, `~` | themselves           | no commands, no globbing, no tilde             |
//! | `a "b  c"`              | words `a`, `b  c`    | [`Lexer::process_words`]: quotes group         |
//!
//! ## Modes
//!
//! Besides the escape character, a [`Lexer`] has the switches BuildKit's has, for the places
//! that expand without meaning the usual thing: keeping quotes or escapes in the result (the
//! parser looks for heredocs that way), treating quotes as ordinary characters (a heredoc's
//! body), leaving unset variables as written. An [`Env`] can ignore the case of names, as
//! Windows does.
//!
//! ## Where this differs from BuildKit
//!
//! Every word expands as under BuildKit, except in a few corners, on purpose:
//!
//! - BuildKit's split words lose the text before a `${V…}` that has an operator:
//!   `80/${P:-tcp}` gives the one word `tcp` (its nested reads share one buffer); here it
//!   gives `80/tcp`;
//! - with [`Lexer::keep_unset`], an unset `${V//p/r}` is written back with both slashes
//!   (BuildKit drops one, which turns it into `${V/p/r}`);
//! - with [`Lexer::raw_escapes`], an escape before an ordinary character inside double
//!   quotes is kept once (BuildKit keeps it twice);
//! - `${}` operands nest at most [`MAX_NESTING`] deep (BuildKit has no limit);
//! - an unclosed `${V` is reported as a missing `}` (BuildKit: "unsupported modifier").

mod env;
mod error;
mod expander;
mod fields;
mod pattern;
#[cfg(test)]
mod tests;
mod variable;

pub use env::{Env, KeyCase};
pub use error::{PatternError, Reason, ShellError};
pub use variable::MAX_NESTING;

use expander::Expander;

/// The escape character of a Dockerfile without an `# escape=` directive.
pub const DEFAULT_ESCAPE: char = '\\';

/// How to expand words: the escape character, and BuildKit's modes (all off by default).
///
/// ```
/// use ch05_dockerfile::shell::{Env, Lexer};
///
/// let env = Env::new(["HOME=/root", "PORTS=80 443"]);
/// let lexer = Lexer::new('\\');
/// assert_eq!(lexer.process_word(r#""$HOME/my app""#, &env)?, "/root/my app");
/// assert_eq!(lexer.process_words("$PORTS 8080", &env)?, ["80", "443", "8080"]);
/// # Ok::<(), ch05_dockerfile::shell::ShellError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexer {
    /// The escape character: `\`, or `` ` `` after `` # escape=` ``.
    pub escape: char,
    /// Keep the quote characters in the result (they still group and protect what is
    /// between them). BuildKit's `RawQuotes`.
    pub raw_quotes: bool,
    /// Keep the escape characters in the result (they still protect what follows).
    /// BuildKit's `RawEscapes`.
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters, for text whose quotes belong to something else
    /// (a heredoc's body). BuildKit's `SkipProcessQuotes`.
    pub ignore_quotes: bool,
    /// Leave a reference to an unset variable as written (`$NOPE` stays `$NOPE`) instead of
    /// making it empty. BuildKit's `SkipUnsetEnv`.
    pub keep_unset: bool,
}

/// What expanding a word gave, and which variables it looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The word, expanded: what [`Lexer::process_word`] returns.
    pub value: String,
    /// The same text cut into words at unquoted whitespace: what [`Lexer::process_words`]
    /// returns. Empty words (`""`) are dropped, as BuildKit drops them.
    pub words: Vec<String>,
    /// Every variable the word referred to, set or not, in the order of first use
    /// (`${A:-$B}` uses `A` and `B`).
    pub used: Vec<String>,
    /// Those of [`used`](Self::used) that were unset: what a linter reports as undefined.
    pub unset: Vec<String>,
}

impl Lexer {
    /// A lexer with this escape character and every mode off.
    pub fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            ignore_quotes: false,
            keep_unset: false,
        }
    }

    /// Expands `word` against `env`: its value, its words, and the variables it used.
    pub fn expand(&self, word: &str, env: &Env) -> Result<Expansion, ShellError> {
        Expander::new(self, env, word)
            .expand()
            .map_err(|reason| ShellError {
                word: word.to_string(),
                reason,
            })
    }

    /// Expands `word` into one string, as `ENV`, `WORKDIR`, `USER`… use it.
    pub fn process_word(&self, word: &str, env: &Env) -> Result<String, ShellError> {
        self.expand(word, env).map(|expansion| expansion.value)
    }

    /// Expands `word` and splits the result into words at unquoted whitespace, as `EXPOSE`
    /// uses it.
    pub fn process_words(&self, word: &str, env: &Env) -> Result<Vec<String>, ShellError> {
        self.expand(word, env).map(|expansion| expansion.words)
    }
}

impl Default for Lexer {
    fn default() -> Lexer {
        Lexer::new(DEFAULT_ESCAPE)
    }
}
