//! The walk through a word: quotes, escapes, and where `$` hands over to [`super::variable`].
//!
//! The walk reads one character at a time and never looks back. It produces the expanded
//! text twice at once, as one string and as split words ([`Fields`]), because only it knows
//! which characters were quoted. The same walk also reads the operands inside `${…}`
//! (`${V:-default}`), stopping at the `}` (or at the `/` of a substitution's pattern): that is
//! how defaults nest (`${A:-${B:-c}}`) and how quotes and escapes work inside them.

use std::collections::HashSet;

use super::error::Reason;
use super::fields::Fields;
use super::{Env, Expansion, Lexer};

/// Where a walk ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    /// At the end of the word.
    End,
    /// At an unescaped `}`, which it consumes: the end of `${…}`.
    Brace,
    /// At an unescaped `/`, which it consumes: the end of `${V/pattern/…}`'s pattern.
    Slash,
}

impl Until {
    fn stop(self) -> Option<char> {
        match self {
            Until::End => None,
            Until::Brace => Some('}'),
            Until::Slash => Some('/'),
        }
    }

    /// The error of a word that ends before this stop (the end itself cannot be missed).
    pub(super) fn missing(self) -> Reason {
        match self {
            Until::Slash => Reason::MissingSlash,
            Until::End | Until::Brace => Reason::MissingBrace,
        }
    }
}

/// What a walk produced: the text, and the same text as words.
#[derive(Debug, Default)]
pub(super) struct Text {
    pub(super) joined: String,
    fields: Fields,
}

impl Text {
    fn push_literal(&mut self, c: char) {
        self.joined.push(c);
        self.fields.push_literal(c);
    }

    fn push_splittable(&mut self, c: char) {
        self.joined.push(c);
        self.fields.push_splittable(c);
    }

    fn push_literal_str(&mut self, text: &str) {
        self.joined.push_str(text);
        self.fields.push_literal_str(text);
    }

    fn push_splittable_str(&mut self, text: &str) {
        self.joined.push_str(text);
        self.fields.push_splittable_str(text);
    }
}

/// The characters of a word, read one at a time with one of look-ahead.
#[derive(Debug, Clone)]
pub(super) struct Cursor<'a> {
    rest: std::str::Chars<'a>,
    length: usize,
}

impl Cursor<'_> {
    /// Where the next character is, in bytes from the start.
    pub(super) fn offset(&self) -> usize {
        self.length - self.rest.as_str().len()
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest.clone().next()
    }

    pub(super) fn next(&mut self) -> Option<char> {
        self.rest.next()
    }

    pub(super) fn at_end(&self) -> bool {
        self.rest.as_str().is_empty()
    }
}

/// One expansion in progress.
#[derive(Debug)]
pub(super) struct Expander<'a> {
    pub(super) lexer: &'a Lexer,
    pub(super) env: &'a Env,
    pub(super) input: Cursor<'a>,
    /// Whether escape characters are kept: the lexer's mode, but always inside the
    /// patterns of `#`, `%` and `/`, whose own escapes are read later.
    pub(super) raw_escapes: bool,
    /// How many `${…}` operands the walk is inside.
    pub(super) depth: usize,
    /// Every variable looked up: where its name is in the word, the name, whether it was set.
    pub(super) lookups: Vec<(usize, String, bool)>,
}

impl<'a> Expander<'a> {
    pub(super) fn new(lexer: &'a Lexer, env: &'a Env, word: &'a str) -> Expander<'a> {
        // BuildKit reads words with Go's text scanner, which skips a byte-order mark at the
        // very start.
        let word = word.strip_prefix('\u{FEFF}').unwrap_or(word);
        Expander {
            lexer,
            env,
            input: Cursor {
                rest: word.chars(),
                length: word.len(),
            },
            raw_escapes: lexer.raw_escapes,
            depth: 0,
            lookups: Vec::new(),
        }
    }

    /// Expands the whole word.
    pub(super) fn expand(mut self) -> Result<Expansion, Reason> {
        let text = self.walk(Until::End, self.lexer.raw_escapes)?;
        let (used, unset) = variables(self.lookups);
        Ok(Expansion {
            value: text.joined,
            words: text.fields.finish(),
            used,
            unset,
        })
    }

    /// Expands up to `until`, escapes kept if `raw_escapes`.
    pub(super) fn walk(&mut self, until: Until, raw_escapes: bool) -> Result<Text, Reason> {
        let outer = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let text = self.walk_to(until);
        self.raw_escapes = outer;
        text
    }

    // ANCHOR: walk
    /// The loop of [`walk`](Self::walk): one character, quote or `$…` at a time.
    fn walk_to(&mut self, until: Until) -> Result<Text, Reason> {
        let mut text = Text::default();
        while let Some(c) = self.input.peek() {
            if Some(c) == until.stop() {
                self.input.next();
                return Ok(text);
            }
            match c {
                // An unquoted variable's value is split like unquoted text.
                '$' => text.push_splittable_str(&self.dollar()?),
                '\'' if !self.lexer.ignore_quotes => text.push_literal_str(&self.single_quoted()?),
                '"' if !self.lexer.ignore_quotes => text.push_literal_str(&self.double_quoted()?),
                '<' => text.push_literal_str(&self.heredoc_arrows()),
                _ => {
                    self.input.next();
                    if c == self.lexer.escape {
                        self.escaped(&mut text);
                    } else {
                        text.push_splittable(c);
                    }
                }
            }
        }
        match until {
            Until::End => Ok(text),
            _ => Err(until.missing()),
        }
    }

    /// After an unquoted escape character: the next character, whatever it is, is ordinary.
    /// At the very end the escape escapes nothing and disappears.
    fn escaped(&mut self, text: &mut Text) {
        if self.raw_escapes {
            text.push_literal(self.lexer.escape);
        }
        if let Some(c) = self.input.next() {
            text.push_literal(c);
        }
    }
    // ANCHOR_END: walk

    /// `'…'`: everything up to the next `'` as it is; there is no way to escape a `'`.
    fn single_quoted(&mut self) -> Result<String, Reason> {
        let mut quoted = String::new();
        self.open_quote(&mut quoted);
        loop {
            match self.input.next() {
                None => return Err(Reason::UnclosedSingleQuote),
                Some('\'') => return Ok(self.close_quote(quoted, '\'')),
                Some(c) => quoted.push(c),
            }
        }
    }

    /// `"…"`: variables expand; the escape character escapes only `"`, `$` and itself, and
    /// before anything else is an ordinary character.
    fn double_quoted(&mut self) -> Result<String, Reason> {
        let mut quoted = String::new();
        self.open_quote(&mut quoted);
        loop {
            match self.input.peek() {
                None => return Err(Reason::UnclosedDoubleQuote),
                Some('"') => {
                    self.input.next();
                    return Ok(self.close_quote(quoted, '"'));
                }
                Some('$') => quoted.push_str(&self.dollar()?),
                Some(c) => {
                    self.input.next();
                    if c == self.lexer.escape {
                        self.escaped_in_double_quotes(&mut quoted);
                    } else {
                        quoted.push(c);
                    }
                }
            }
        }
    }

    fn escaped_in_double_quotes(&mut self, quoted: &mut String) {
        let escape = self.lexer.escape;
        if self.raw_escapes {
            quoted.push(escape);
        }
        match self.input.peek() {
            Some(c) if c == '"' || c == '$' || c == escape => {
                self.input.next();
                quoted.push(c);
            }
            // Not an escape after all: the escape character stands for itself (once: a kept
            // one is already there).
            Some(_) if !self.raw_escapes => quoted.push(escape),
            // At the end, the next turn of the loop reports the unclosed quote.
            Some(_) | None => {}
        }
    }

    fn open_quote(&mut self, quoted: &mut String) {
        if let Some(quote) = self.input.next().filter(|_| self.lexer.raw_quotes) {
            quoted.push(quote);
        }
    }

    fn close_quote(&self, mut quoted: String, quote: char) -> String {
        if self.lexer.raw_quotes {
            quoted.push(quote);
        }
        quoted
    }

    /// `<`, or `<<` with the blanks after it: a heredoc's `<< EOF` stays one word, so that
    /// the parser, which looks for heredocs in the split words, finds it.
    fn heredoc_arrows(&mut self) -> String {
        self.input.next();
        if self.input.peek() != Some('<') {
            return "<".to_string();
        }
        self.input.next();
        let mut arrows = "<<".to_string();
        while let Some(blank) = self.input.peek().filter(|c| matches!(c, ' ' | '\t' | '\r')) {
            self.input.next();
            arrows.push(blank);
        }
        arrows
    }
}

/// The variables looked up, each once in the order they are written, and those unset.
/// (`${A:-$B}` looks `B` up first: an operand is expanded before the operator reads it.)
fn variables(mut lookups: Vec<(usize, String, bool)>) -> (Vec<String>, Vec<String>) {
    lookups.sort_by_key(|(at, _, _)| *at);
    let mut seen = HashSet::new();
    let (mut used, mut unset) = (Vec::new(), Vec::new());
    for (_, name, set) in lookups {
        if seen.insert(name.clone()) {
            if !set {
                unset.push(name.clone());
            }
            used.push(name);
        }
    }
    (used, unset)
}
