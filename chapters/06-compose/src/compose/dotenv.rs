//! # `.env` files: variables for a Compose project
//!
//! Compose reads variables from a `.env` file beside the Compose file (and from every
//! `env_file:` a service names). The format has no formal specification; Compose follows
//! compose-go's `dotenv` package, a fork of `godotenv`, and so does this parser:
//!
//! ```text
//! # a comment line                      blank lines and comment lines are skipped
//! PLAIN=value # inline comment          unquoted: to the end of the line, a " #" starts a comment,
//!                                       trailing spaces dropped
//! export SHELL_STYLE=1                  a leading `export ` is ignored
//! YAML_STYLE: 1                         `:` works like `=`; spaces around either are ignored
//! SINGLE='no $EXPANSION, no \n escape'  single quotes: the text as written (only \' is special)
//! DOUBLE="tab\there, ${PLAIN}"          double quotes: \n \t \\ \" \$ ... escapes, then ${VAR}
//! MULTI="first line                     quoted values may span lines
//! second line"
//! FROM_SHELL                            a name alone: the value from the environment, if any
//! ```
//!
//! Unquoted and double-quoted values go through the same substitution as the Compose file
//! ([`super::interpolate`]): a variable is looked up in the environment first and then among
//! the keys earlier in the file, so a shell variable overrides what the file says (that is
//! how `OPTION_A=5 docker compose up` beats `OPTION_A=1` in `.env` when another value reads
//! `${OPTION_A}`). `\$` and `$$` give a literal `$`.
//!
//! A key is made of letters, digits and `_ . - [ ]`; a later line with the same key replaces
//! the value (it keeps the place of the first). [`read_file`] drops keys that start with a
//! digit, as compose-go's file reader does; [`parse`] keeps them.

use std::path::{Path, PathBuf};

use super::interpolate::{InterpolationError, substitute};

/// Why a `.env` text could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DotenvError {
    /// A character that can't be in a variable name (`lol$wut`).
    #[error("line {line}: unexpected character {character:?} in variable name {statement:?}")]
    UnexpectedCharacter {
        /// 1-based line of the statement.
        line: usize,
        /// The offending character.
        character: char,
        /// The statement's first line, as written.
        statement: String,
    },
    /// `INVALID LINE`: a name alone, with a space in it.
    #[error("line {line}: key cannot contain a space (write KEY=value)")]
    KeyWithSpace {
        /// 1-based line of the key.
        line: usize,
    },
    /// A quoted value with no closing quote.
    #[error(
        "line {line}: unterminated quoted value {value} (close the quote, or escape it with \\)"
    )]
    UnterminatedQuote {
        /// 1-based line where the value starts.
        line: usize,
        /// The value's first line, as written.
        value: String,
    },
    /// A `${...}` in a value that could not be expanded.
    #[error("line {line}: {key}: {source}")]
    Interpolation {
        /// 1-based line of the key.
        line: usize,
        /// The key whose value failed.
        key: String,
        /// What went wrong.
        source: InterpolationError,
    },
    /// The file could not be read.
    #[error("cannot read env file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A syntax error in a file, with the file's name.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error in its text.
        source: Box<DotenvError>,
    },
}

/// Parses `.env` text into its `(key, value)` pairs, in the order the keys first appear.
/// `lookup` is the environment: it wins over earlier keys in `${VAR}`, and gives the value
/// of a key written alone.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    // Some editors start a UTF-8 file with a byte order mark; it is not part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        text,
        pos: 0,
        pairs: Vec::new(),
    };
    while parser.next_statement() {
        parser.statement(lookup)?;
    }
    Ok(parser.pairs)
}

/// Reads and parses a `.env` file (see [`parse`]); keys starting with a digit are dropped.
pub fn read_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, DotenvError> {
    let text = std::fs::read_to_string(path).map_err(|source| DotenvError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut pairs = parse(&text, lookup).map_err(|source| DotenvError::InFile {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    pairs.retain(|(key, _)| !key.starts_with(|c: char| c.is_ascii_digit()));
    Ok(pairs)
}

/// Spaces that separate tokens on one line (godotenv's set: never a line break).
fn is_inline_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    pairs: Vec<(String, String)>,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn line(&self, pos: usize) -> usize {
        1 + self.text[..pos].matches('\n').count()
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        let skipped = self.rest().find(|c| !keep(c)).unwrap_or(self.rest().len());
        self.pos += skipped;
    }

    /// Skips blank space and comment lines; false at the end of the text.
    fn next_statement(&mut self) -> bool {
        loop {
            self.skip_while(char::is_whitespace);
            if !self.rest().starts_with('#') {
                return !self.rest().is_empty();
            }
            self.skip_while(|c| c != '\n');
        }
    }

    fn set(&mut self, key: String, value: String) {
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((key, value)),
        }
    }

    /// One `KEY=value`, `KEY: value` or `KEY` statement.
    fn statement(&mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), DotenvError> {
        let start = self.pos;
        let line = self.line(start);
        // `export` followed by space is the shell's keyword, not the start of a key (`exportFOO`).
        if let Some(after) = self.rest().strip_prefix("export")
            && after.starts_with(['\t', '\n', '\u{c}', '\r', ' '])
        {
            self.pos += "export".len();
            self.skip_while(is_inline_space);
        }

        let mut separator = None;
        for (offset, c) in self.rest().char_indices() {
            match c {
                '=' | ':' | '\n' => {
                    separator = Some((offset, c));
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if is_inline_space(c) || c.is_alphanumeric() => {}
                character => {
                    return Err(DotenvError::UnexpectedCharacter {
                        line,
                        character,
                        statement: first_line(&self.text[start..]).to_owned(),
                    });
                }
            }
        }
        // A name at the very end of the text, without a newline, is a name alone too.
        let (key_len, separator) = separator.unwrap_or((self.rest().len(), '\n'));
        let key = self.rest()[..key_len].trim_end().to_owned();
        self.pos = (self.pos + key_len + 1).min(self.text.len());
        if key.contains(' ') {
            return Err(DotenvError::KeyWithSpace { line });
        }

        if separator == '\n' {
            if let Some(value) = lookup(&key) {
                self.set(key, value);
            }
            return Ok(());
        }

        self.skip_while(is_inline_space);
        let value = match self.rest().chars().next() {
            Some(quote @ ('"' | '\'')) => self.quoted(quote)?,
            _ => self.unquoted(),
        };
        let value = match value {
            Quoted::Literal(value) => value,
            Quoted::Template(template) => {
                let pairs = &self.pairs;
                let find = |name: &str| {
                    lookup(name).or_else(|| {
                        pairs
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                    })
                };
                substitute(&template, &find).map_err(|source| DotenvError::Interpolation {
                    line,
                    key: key.clone(),
                    source,
                })?
            }
        };
        self.set(key, value);
        Ok(())
    }

    /// An unquoted value: the rest of the line, up to an inline comment.
    fn unquoted(&mut self) -> Quoted {
        let line = first_line(self.rest());
        self.pos = (self.pos + line.len() + 1).min(self.text.len());
        // Only a `#` after a space starts a comment: `FOO=123#456` keeps its `#`.
        let value = line.split(" #").next().unwrap_or_default().trim_end();
        Quoted::Template(value.to_owned())
    }

    /// A value in `quote`s, which may span lines; `\` makes the next character plain.
    fn quoted(&mut self, quote: char) -> Result<Quoted, DotenvError> {
        let start = self.pos;
        let mut value = String::new();
        let mut escaped = false;
        for (offset, c) in self.rest().char_indices().skip(1) {
            if c == quote && !escaped {
                self.pos += offset + 1;
                return Ok(if quote == '"' {
                    Quoted::Template(expand_escapes(&value))
                } else {
                    Quoted::Literal(value)
                });
            }
            if escaped {
                escaped = false;
                // `\"` inside "..." (or `\'` inside '...') is the quote; other escapes stay
                // for the escape pass (double quotes) or as written (single quotes).
                if c != quote {
                    value.push('\\');
                }
                value.push(c);
            } else if c == '\\' {
                escaped = true;
            } else {
                value.push(c);
            }
        }
        Err(DotenvError::UnterminatedQuote {
            line: self.line(start),
            value: first_line(&self.text[start..]).to_owned(),
        })
    }
}

/// A value before substitution: single-quoted text is final, the rest is a template.
enum Quoted {
    Literal(String),
    Template(String),
}

fn first_line(text: &str) -> &str {
    text.split('\n').next().unwrap_or_default()
}

/// Replaces the shell escapes of a double-quoted value: `\a \b \f \n \r \t \v \\ \"`, octal
/// `\0NNN`, and `\$`, which becomes `$$` so that substitution keeps a literal `$`. Any other
/// backslash (`\x41`, `\ `) stays as written.
fn expand_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(backslash) = rest.find('\\') {
        out.push_str(&rest[..backslash]);
        let after = &rest[backslash + 1..];
        let mut chars = after.chars();
        let replacement = match chars.next() {
            Some('a') => Some("\u{7}"),
            Some('b') => Some("\u{8}"),
            Some('f') => Some("\u{c}"),
            Some('n') => Some("\n"),
            Some('r') => Some("\r"),
            Some('t') => Some("\t"),
            Some('v') => Some("\u{b}"),
            Some('\\') => Some("\\"),
            Some('"') => Some("\""),
            Some('$') => Some("$$"),
            _ => None,
        };
        if let Some(replacement) = replacement {
            out.push_str(replacement);
            rest = &after[1..];
        } else if let Some(digits) = after.strip_prefix('0') {
            // `\0` and up to three digits: exactly three octal digits make a character.
            let count = digits
                .bytes()
                .take(3)
                .take_while(u8::is_ascii_digit)
                .count();
            match u8::from_str_radix(&digits[..count], 8) {
                Ok(code) if count == 3 => out.push(char::from(code)),
                _ => {
                    out.push_str("\\0");
                    out.push_str(&digits[..count]);
                }
            }
            rest = &digits[count..];
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn later_key_replaces_value_in_place() {
        let pairs = parse("A=1\nB=2\nA=3\n", &no_env).unwrap();
        assert_eq!(
            pairs,
            [("A".into(), "3".into()), ("B".into(), "2".into())] as [(String, String); 2]
        );
    }

    #[test]
    fn name_alone_at_end_of_text_reads_the_environment() {
        let env = |name: &str| (name == "HOME").then(|| "/root".to_owned());
        assert_eq!(
            parse("A=1\nHOME", &env).unwrap(),
            [("A".into(), "1".into()), ("HOME".into(), "/root".into())] as [(String, String); 2]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let error = parse("A=1\n\nB=\"open\nstill", &no_env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3: unterminated quoted value \"open (close the quote, or escape it with \\)"
        );
        let error = parse("A=${B:?needed}", &no_env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 1: A: required variable B is missing a value: needed"
        );
    }

    #[test]
    fn octal_escapes_need_three_digits() {
        assert_eq!(expand_escapes(r"\0101\012\09"), "A\\012\\09");
    }
}
