//! Splitting a line into shell words without expanding anything, to find heredoc words.
//!
//! BuildKit finds `<<EOF` words with its shell lexer, run with no variables at all and told
//! to leave unset variables as written. Under those settings the lexer expands nothing; what
//! remains is its word splitting: quotes group, `\` escapes, `$NAME` and `${...}` pass
//! through as text, and `<<` followed by spaces sticks to the next word (`<< EOF` is one
//! word). Two switches decide what the words keep: *raw quotes* keeps the quote characters,
//! *raw escapes* keeps the backslashes. The heredoc reader compares the words it gets with
//! and without raw quotes to tell a quoted delimiter (no expansion of the body) from a bare
//! one.
//!
//! This is that lexer's splitting only, quirks included: a `${VAR:-...}` forgets the part of
//! the word before it, as BuildKit's does. The shell module expands words without that bug,
//! which is why heredoc detection does not use it: `RUN cat <<${X:-EOF}` opens no heredoc for
//! BuildKit, and a parser that found one would refuse a file BuildKit accepts.

use crate::parser::text;

/// How deeply `${...}` may nest before the lexer gives up on the line (BuildKit's lexer, in
/// Go, has no limit; this bounds the recursion).
const MAX_NESTING: usize = 256;

/// The escape character of BuildKit's heredoc lexer, whatever the file's escape directive.
const ESCAPE: char = '\\';

/// Splits `source` into words as BuildKit's lexer does with no variables set.
pub(super) fn split(
    source: &str,
    raw_quotes: bool,
    raw_escapes: bool,
) -> Result<Vec<String>, String> {
    let mut lexer = Lexer {
        // Go's text scanner skips a byte order mark at the very start.
        chars: source
            .strip_prefix('\u{feff}')
            .unwrap_or(source)
            .chars()
            .peekable(),
        raw_quotes,
        raw_escapes,
        words_buffer: String::new(),
        depth: 0,
    };
    lexer
        .process_until(None, raw_escapes)
        .map(|(_, words)| words)
        .map_err(|error| {
            format!(
                "failed to process {}: {error}",
                crate::parser::go_quote(source)
            )
        })
}

/// The words being collected, around a buffer that is the lexer's (see [`Lexer`]).
#[derive(Default)]
struct Words {
    list: Vec<String>,
    in_word: bool,
}

impl Words {
    /// A character that splits words where it is whitespace.
    fn add_char(&mut self, buffer: &mut String, c: char) {
        if c.is_whitespace() {
            if self.in_word && !buffer.is_empty() {
                self.list.push(std::mem::take(buffer));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(buffer, c);
        }
    }

    fn add_raw_char(&mut self, buffer: &mut String, c: char) {
        buffer.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, buffer: &mut String, s: &str) {
        for c in s.chars() {
            self.add_char(buffer, c);
        }
    }

    fn add_raw_string(&mut self, buffer: &mut String, s: &str) {
        buffer.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self, buffer: &mut String) -> Vec<String> {
        if !buffer.is_empty() {
            self.list.push(std::mem::take(buffer));
        }
        self.list
    }
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    raw_quotes: bool,
    raw_escapes: bool,
    /// The word being built. BuildKit's lexer shares one buffer between a word and the
    /// `${...}` inside it, and clears it when it starts on the inside: that is how the start
    /// of a word is lost before a `${VAR:-...}`.
    words_buffer: String,
    depth: usize,
}

impl Lexer<'_> {
    /// Reads up to `stop` (consumed) or the end: the text, and the words it splits into.
    fn process_until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err("substitutions nested too deeply".to_owned());
        }
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.process_until_inner(stop);
        self.raw_escapes = saved;
        self.depth -= 1;
        result
    }

    fn process_until_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        self.words_buffer.clear();
        let mut words = Words::default();
        while let Some(&c) = self.chars.peek() {
            if Some(c) == stop {
                self.chars.next();
                return Ok((result, words.finish(&mut self.words_buffer)));
            }
            let special = match c {
                '$' => Some(self.dollar()?),
                '<' => Some(self.heredoc_marker()),
                '\'' => Some(self.single_quoted()?),
                '"' => Some(self.double_quoted()?),
                _ => None,
            };
            if let Some(text) = special {
                result.push_str(&text);
                if c == '$' {
                    words.add_string(&mut self.words_buffer, &text);
                } else {
                    words.add_raw_string(&mut self.words_buffer, &text);
                }
                continue;
            }
            self.chars.next();
            if c == ESCAPE {
                if self.raw_escapes {
                    words.add_raw_char(&mut self.words_buffer, c);
                    result.push(c);
                }
                let Some(escaped) = self.chars.next() else {
                    break;
                };
                words.add_raw_char(&mut self.words_buffer, escaped);
                result.push(escaped);
            } else {
                words.add_char(&mut self.words_buffer, c);
                result.push(c);
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish(&mut self.words_buffer)))
    }

    /// `'...'`: everything literal up to the next `'`.
    fn single_quoted(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let quote = self.chars.next();
        if self.raw_quotes {
            result.extend(quote);
        }
        loop {
            match self.chars.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .to_owned(),
                    );
                }
                Some('\'') => {
                    if self.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    /// `"..."`: literal but for `$`, and `\` before `"`, `$` or `\`.
    fn double_quoted(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let quote = self.chars.next();
        if self.raw_quotes {
            result.extend(quote);
        }
        loop {
            match self.chars.peek().copied() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .to_owned(),
                    );
                }
                Some('"') => {
                    self.chars.next();
                    if self.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => result.push_str(&self.dollar()?),
                Some(_) => {
                    let mut c = self.chars.next().unwrap_or_default();
                    if c == ESCAPE {
                        if self.raw_escapes {
                            result.push(c);
                        }
                        match self.chars.peek().copied() {
                            None => continue,
                            Some(next @ ('"' | '$' | ESCAPE)) => {
                                self.chars.next();
                                c = next;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(c);
                }
            }
        }
    }

    /// `<<` and the spaces after it, which stay with the following word.
    fn heredoc_marker(&mut self) -> String {
        self.chars.next();
        if self.chars.peek() != Some(&'<') {
            return "<".to_owned();
        }
        self.chars.next();
        let mut marker = "<<".to_owned();
        while let Some(&c @ ('\t' | '\r' | ' ')) = self.chars.peek() {
            marker.push(c);
            self.chars.next();
        }
        marker
    }

    /// `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME/pattern/replacement}`: with no
    /// variable set, each is given back as written (its inner words lexed).
    fn dollar(&mut self) -> Result<String, String> {
        self.chars.next();
        if self.chars.peek() != Some(&'{') {
            let name = self.name();
            return Ok(format!("${name}"));
        }
        self.chars.next();
        match self.chars.peek() {
            None => return Err("syntax error: missing '}'".to_owned()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".to_owned()),
            Some(_) => {}
        }
        let name = self.name();
        // Go turns "no character" into U+FFFD when it names the modifier.
        let mut modifier_char = self.chars.next();
        let mut modifier: String = modifier_char.unwrap_or('\u{fffd}').to_string();
        match modifier_char {
            Some('}') => Ok(format!("${{{name}}}")),
            Some(':' | '+' | '-' | '?' | '#' | '%') => {
                let null_is_unset = modifier_char == Some(':');
                if null_is_unset {
                    modifier_char = self.chars.next();
                    modifier.push(modifier_char.unwrap_or('\u{fffd}'));
                }
                let raw_escapes = matches!(modifier_char, Some('#' | '%'));
                if null_is_unset && raw_escapes {
                    return Err(format!("unsupported modifier ({modifier}) in substitution"));
                }
                let (word, _) = self.inner(Some('}'), raw_escapes, "syntax error: missing '}'")?;
                Ok(format!("${{{name}{modifier}{word}}}"))
            }
            Some('/') => {
                if self.chars.peek() == Some(&'/') {
                    self.chars.next();
                }
                let missing_slash = "syntax error: missing '/' in ${}";
                let (pattern, _) = self.inner(Some('/'), true, missing_slash)?;
                let missing_brace = "syntax error: missing '}'";
                let (replacement, _) = self.inner(Some('}'), true, missing_brace)?;
                Ok(format!("${{{name}/{pattern}/{replacement}}}"))
            }
            _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    /// The inside of a `${...}`, up to `stop`; at the end of the line, `at_end` is the error.
    fn inner(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
        at_end: &str,
    ) -> Result<(String, Vec<String>), String> {
        self.process_until(stop, raw_escapes).map_err(|error| {
            if self.chars.peek().is_none() {
                at_end.to_owned()
            } else {
                error
            }
        })
    }

    /// A variable name: digits, one special parameter (`$@`, `$?`...), or a letter or `_`
    /// followed by letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(&c) = self.chars.peek() {
            if name.is_empty() && text::is_digit(c) {
                while let Some(&digit) = self.chars.peek() {
                    if !text::is_digit(digit) {
                        break;
                    }
                    name.push(digit);
                    self.chars.next();
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.chars.next();
                return c.to_string();
            }
            if !text::is_letter(c) && !text::is_digit(c) && c != '_' {
                break;
            }
            name.push(c);
            self.chars.next();
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(source: &str, raw: bool) -> Vec<String> {
        split(source, raw, raw).expect("lexes")
    }

    #[test]
    fn words_split_as_buildkit_splits_them() {
        assert_eq!(words("RUN <<EOF <<EOF2", true), ["RUN", "<<EOF", "<<EOF2"]);
        assert_eq!(words("RUN << EOF x", true), ["RUN", "<< EOF", "x"]);
        assert_eq!(words("RUN '<<EOF'", true), ["RUN", "'<<EOF'"]);
        assert_eq!(words("'one two'", false), ["one two"]);
        assert_eq!(words(r"eo\'f", false), ["eo'f"]);
        assert_eq!(words(r"eo\'f", true), [r"eo\'f"]);
        assert_eq!(words("$EOF ${A:-x y}", true), ["$EOF", "${A:-x", "y}"]);
        assert_eq!(words("''", false), Vec::<String>::new());
    }

    #[test]
    fn a_substitution_forgets_the_start_of_its_word() {
        assert_eq!(words("<<${X:-EOF}", true), ["${X:-EOF}"]);
    }

    #[test]
    fn unterminated_quotes_fail() {
        let error = split("'EOF", false, false).expect_err("unterminated");
        assert_eq!(
            error,
            "failed to process \"'EOF\": unexpected end of statement while looking for matching single-quote"
        );
        assert!(split("${", true, true).is_err());
        assert!(split("${a=b}", true, true).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "${a:-".repeat(10_000);
        assert!(split(&deep, true, true).is_err());
    }
}
