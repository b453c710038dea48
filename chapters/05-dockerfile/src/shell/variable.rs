//! Variables: `$NAME`, `${NAME}`, and `${NAME<operator><operand>}`.
//!
//! After a `$` comes a name; braces say where it ends (`${A}B` against `$AB`). Inside
//! braces, an operator may follow the name, and an operand up to the closing `}`. The
//! operand is itself a word, expanded by the same walk: it may hold quotes, escapes and
//! other variables, which is how defaults nest (`${A:-${B:-none}}`). The operators:
//!
//! | operator            | gives                                                       |
//! |---------------------|-------------------------------------------------------------|
//! | `${V:-w}` `${V-w}`  | `V`'s value, or `w` if `V` is unset (`:`: or empty)         |
//! | `${V:+w}` `${V+w}`  | `w` if `V` is set (`:`: and not empty), or nothing          |
//! | `${V:?w}` `${V?w}`  | `V`'s value, or the error `V: w` if unset (`:`: or empty)   |
//! | `${V#p}` `${V##p}`  | the value without its shortest (longest) prefix matching `p`|
//! | `${V%p}` `${V%%p}`  | the value without its shortest (longest) suffix matching `p`|
//! | `${V/p/r}` `${V//p/r}` | the value with its first (every) match of `p` replaced by `r` |
//!
//! The patterns are [`super::pattern`]'s. Their operands keep their escape characters, so
//! that `\*` reaches the pattern as an escaped, literal star.

use super::error::{PatternError, Reason};
use super::expander::{Expander, Until};
use super::pattern::Pattern;

/// How deep `${…}` operands may nest (`${A:-${B:-…}}`). BuildKit sets no limit (Go's stacks
/// grow as needed); a word nested this deep is a mistake or an attack, not a Dockerfile.
pub const MAX_NESTING: usize = 64;

impl<'a> Expander<'a> {
    /// Expands what starts at a `$`. A `$` that no name follows is itself: `$.`, `$(date)`.
    pub(super) fn dollar(&mut self) -> Result<String, Reason> {
        self.input.next();
        if self.input.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(self.value_or_kept(&name, |name| format!("${name}")));
        }
        self.input.next();
        self.braced()
    }

    // ANCHOR: braced
    /// After `${`: a name, then `}` or an operator.
    fn braced(&mut self) -> Result<String, Reason> {
        match self.input.peek() {
            None => return Err(Reason::MissingBrace),
            Some('{' | '}' | ':') => return Err(Reason::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        match self.input.next() {
            None => Err(Reason::MissingBrace),
            Some('}') => Ok(self.value_or_kept(&name, |name| format!("${{{name}}}"))),
            Some(':') => match self.input.next() {
                None => Err(Reason::MissingBrace),
                Some(operator) => self.operator(&name, Modifier::with_colon(operator)),
            },
            Some(operator @ ('-' | '+' | '?' | '#' | '%')) => {
                self.operator(&name, Modifier::plain(operator))
            }
            Some('/') => self.substitution(&name),
            Some(other) => Err(Reason::UnsupportedModifier(other.to_string())),
        }
    }

    /// `${NAME<modifier><operand>}`, after the modifier.
    fn operator(&mut self, name: &Name, modifier: Modifier) -> Result<String, Reason> {
        if modifier.colon && modifier.is_pattern() {
            return Err(Reason::UnsupportedModifier(modifier.to_string()));
        }
        let operand = self.operand(Until::Brace, modifier.is_pattern())?;
        let value = self.lookup(name);
        if value.is_none() && self.lexer.keep_unset {
            return Ok(format!("${{{}{modifier}{operand}}}", name.text));
        }
        modifier.apply(&name.text, value, operand)
    }

    /// `${NAME/pattern/replacement}` or `${NAME//pattern/replacement}`, after the first `/`.
    fn substitution(&mut self, name: &Name) -> Result<String, Reason> {
        let every = self.input.peek() == Some('/');
        if every {
            self.input.next();
        }
        let pattern = self.operand(Until::Slash, true)?;
        let replacement = self.operand(Until::Brace, true)?;
        let value = self.lookup(name);
        if value.is_none() && self.lexer.keep_unset {
            let slashes = if every { "//" } else { "/" };
            let name = &name.text;
            return Ok(format!("${{{name}{slashes}{pattern}/{replacement}}}"));
        }
        let pattern = parse_pattern(&pattern, Pattern::parse)?;
        let value = value.unwrap_or("");
        Ok(match every {
            true => pattern.replace_all(value, &replacement),
            false => pattern.replace_first(value, &replacement),
        })
    }
    // ANCHOR_END: braced

    /// An operand, up to `until`. If the word runs out inside it, whatever failed, the
    /// mistake to report is the missing `}` (or `/`).
    fn operand(&mut self, until: Until, raw_escapes: bool) -> Result<String, Reason> {
        // Each level of nesting is a few calls deeper on a stack that does not grow.
        if self.depth == MAX_NESTING {
            return Err(Reason::TooDeep(MAX_NESTING));
        }
        self.depth += 1;
        let operand = self.walk(until, raw_escapes);
        self.depth -= 1;
        match operand {
            Ok(text) => Ok(text.joined),
            Err(_) if self.input.at_end() => Err(until.missing()),
            Err(reason) => Err(reason),
        }
    }

    /// A name: letters, digits and `_`, not starting with a digit; or a run of digits (a
    /// positional parameter, `$1`); or one special parameter's character (`$@`, `$?`…).
    /// A Dockerfile never sets the last two kinds, but they are names: `$1x` is `x`.
    ///
    /// Letters and digits are Unicode's (`$안녕`): BuildKit asks Go for letters and decimal
    /// digits, Rust's `is_alphabetic` and `is_numeric` are a little wider (they also take
    /// `²` or a combining vowel sign), which only moves where an exotic name ends.
    fn name(&mut self) -> Name {
        let at = self.input.offset();
        let mut text = String::new();
        match self.input.peek() {
            Some(c) if c.is_numeric() => {
                while let Some(digit) = self.input.peek().filter(|c| c.is_numeric()) {
                    self.input.next();
                    text.push(digit);
                }
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => {
                self.input.next();
                text.push(c);
            }
            _ => {
                while let Some(c) = self
                    .input
                    .peek()
                    .filter(|c| c.is_alphanumeric() || *c == '_')
                {
                    self.input.next();
                    text.push(c);
                }
            }
        }
        Name { text, at }
    }

    /// A variable's value, noting that the word used it (and whether it was set).
    fn lookup(&mut self, name: &Name) -> Option<&'a str> {
        let value = self.env.get(&name.text);
        // `${/a/b}` looks up no name: there is nothing to report.
        if !name.text.is_empty() {
            let used = (name.at, name.text.clone(), value.is_some());
            self.lookups.push(used);
        }
        value
    }

    /// The value of `name`, empty if unset, or if unset and the lexer keeps those, `kept`.
    fn value_or_kept(&mut self, name: &Name, kept: impl FnOnce(&str) -> String) -> String {
        match self.lookup(name) {
            Some(value) => value.to_string(),
            None if self.lexer.keep_unset => kept(&name.text),
            None => String::new(),
        }
    }
}

/// A variable's name as written, and where it starts in the word.
#[derive(Debug)]
struct Name {
    text: String,
    at: usize,
}

impl Name {
    fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// An operator after a name: its character, and whether a `:` came before it.
#[derive(Debug, Clone, Copy)]
struct Modifier {
    colon: bool,
    operator: char,
}

impl Modifier {
    fn plain(operator: char) -> Modifier {
        Modifier {
            colon: false,
            operator,
        }
    }

    fn with_colon(operator: char) -> Modifier {
        Modifier {
            colon: true,
            operator,
        }
    }

    fn is_pattern(self) -> bool {
        matches!(self.operator, '#' | '%')
    }

    // ANCHOR: operators
    /// What `${name<self><operand>}` gives, `value` being the variable's (`None`: unset).
    fn apply(self, name: &str, value: Option<&str>, operand: String) -> Result<String, Reason> {
        // With a colon, set-but-empty counts as unset.
        let usable = value.filter(|value| !(self.colon && value.is_empty()));
        match self.operator {
            '-' => Ok(usable.map_or(operand, str::to_string)),
            '+' => Ok(usable.map_or(String::new(), |_| operand)),
            '?' => match usable {
                Some(value) => Ok(value.to_string()),
                None => Err(Reason::Required {
                    name: name.to_string(),
                    message: required_message(value, operand),
                }),
            },
            '#' | '%' => self.trim(value.unwrap_or(""), &operand),
            _ => Err(Reason::UnsupportedModifier(self.to_string())),
        }
    }

    /// `#` removes the shortest prefix matching the pattern, `%` the shortest suffix; written
    /// twice (`##`, `%%`), the longest.
    fn trim(self, value: &str, operand: &str) -> Result<String, Reason> {
        let (longest, pattern) = match operand.strip_prefix(self.operator) {
            Some(pattern) => (true, pattern),
            None => (false, operand),
        };
        Ok(match self.operator {
            '#' => parse_pattern(pattern, Pattern::parse)?
                .strip_prefix(value, longest)
                .to_string(),
            _ => parse_pattern(pattern, Pattern::parse_backwards)?.strip_suffix(value, longest),
        })
    }
    // ANCHOR_END: operators
}

impl std::fmt::Display for Modifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.colon {
            f.write_str(":")?;
        }
        write!(f, "{}", self.operator)
    }
}

/// `${V?message}`'s message, or what to say when the word gives none.
fn required_message(value: Option<&str>, operand: String) -> String {
    match (operand.is_empty(), value) {
        (false, _) => operand,
        (true, None) => "is not allowed to be unset".to_string(),
        (true, Some(_)) => "is not allowed to be empty".to_string(),
    }
}

fn parse_pattern(
    pattern: &str,
    parse: fn(&str) -> Result<Pattern, PatternError>,
) -> Result<Pattern, Reason> {
    parse(pattern).map_err(|problem| Reason::InvalidPattern {
        pattern: pattern.to_string(),
        problem,
    })
}
