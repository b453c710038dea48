//! A flag value that may still hold variables.
//!
//! BuildKit checks some flag values only after expanding them (`--chmod=$MODE` means
//! nothing until `MODE` is known), so it cannot refuse `--chmod=999` before the build
//! starts. Most values are written out, though, and then there is nothing to wait for: a
//! value without `$`, quotes or escape characters expands to itself. Such a value is parsed
//! at once (a [`Word::Literal`], its mistakes reported with the line); any other is kept as
//! written (a [`Word::Expandable`]) for the builder to expand and then parse.

use crate::shell::ShellError;

// ANCHOR: word
/// A value parsed now, or kept to be parsed after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word<T> {
    /// Written out: already parsed.
    Literal(T),
    /// Holds variables, quotes or escapes: as written, to expand first.
    Expandable(String),
}

impl<T: Clone> Word<T> {
    /// Parses `text` now if expansion cannot change it.
    pub(crate) fn new<E>(text: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<Self, E> {
        if is_literal(text) {
            parse(text).map(Word::Literal)
        } else {
            Ok(Word::Expandable(text.to_owned()))
        }
    }

    /// The value: the literal one, or `text` expanded by `expand` and then parsed.
    pub fn resolve<E: From<ShellError>>(
        &self,
        expand: impl FnOnce(&str) -> Result<String, ShellError>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Word::Literal(value) => Ok(value.clone()),
            Word::Expandable(text) => parse(&expand(text)?),
        }
    }
}

/// Whether word expansion leaves `text` as it is: no variable, no quote, no escape
/// character (either of the two an `# escape=` directive may choose).
pub fn is_literal(text: &str) -> bool {
    !text.contains(['$', '\'', '"', '\\', '`'])
}
// ANCHOR_END: word

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_text_is_literal() {
        assert!(is_literal("0644") && is_literal("u+x,g-w") && is_literal(""));
        for text in ["$MODE", "'644'", "\"644\"", "6\\44", "`644"] {
            assert!(!is_literal(text), "{text}");
        }
        let word = Word::new("7", |text| text.parse::<u32>()).expect("a number");
        assert_eq!(word, Word::Literal(7));
        let word = Word::new("$N", |text| text.parse::<u32>()).expect("kept");
        assert_eq!(word, Word::Expandable("$N".to_owned()));
    }
}
