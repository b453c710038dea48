//! Characters as Go sees them.
//!
//! BuildKit is written in Go, and where its parser asks "is this a space?", "is this a
//! letter?" or "can this be printed as it is?", the answer comes from Go's `unicode` package.
//! Rust's standard library asks slightly different questions (`char::is_alphabetic` takes in
//! more than Go's letters, `str::to_lowercase` knows about Greek final sigma), so the
//! questions the parser depends on are answered here, once, the way Go answers them.

use std::sync::LazyLock;

use regex::Regex;

/// Go's `unicode.IsSpace`: the Unicode `White_Space` property, which is exactly what
/// `char::is_whitespace` implements (tab, newline, vertical tab, form feed, carriage return,
/// space, U+0085, U+00A0 and the wider Unicode spaces).
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `unicode.IsSpace(rune(b))` on a single byte, as BuildKit's flag and HEALTHCHECK
/// scanners ask it: they walk a line byte by byte, so the bytes 0x85 and 0xA0 (which are
/// U+0085 and U+00A0 when read as Latin-1) count as spaces even inside a UTF-8 character.
pub(crate) fn is_space_byte(b: u8) -> bool {
    is_space(char::from(b))
}

/// The whitespace BuildKit's regular expressions split on: `[\t\v\f\r ]`, ASCII only.
pub(crate) fn is_split_space(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// Go's regular-expression class `\s`: `[\t\n\f\r ]` (no vertical tab).
pub(crate) fn is_regex_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// Matches one character of a Unicode general category, for the non-ASCII cases below.
fn category(class: &str) -> Regex {
    Regex::new(&format!("^{class}$")).expect("a valid Unicode class")
}

/// Go's `unicode.IsLetter`: general category L.
pub(crate) fn is_letter(c: char) -> bool {
    static LETTER: LazyLock<Regex> = LazyLock::new(|| category(r"\p{L}"));
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        LETTER.is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// Go's `unicode.IsDigit`: general category Nd (decimal digits of every script).
pub(crate) fn is_digit(c: char) -> bool {
    static DIGIT: LazyLock<Regex> = LazyLock::new(|| category(r"\p{Nd}"));
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        DIGIT.is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII
/// space; every other space, control and format character, and unassigned code points,
/// are not printable.
pub(crate) fn is_printable(c: char) -> bool {
    static PRINTABLE: LazyLock<Regex> = LazyLock::new(|| category(r"[\p{L}\p{M}\p{N}\p{P}\p{S}]"));
    if c.is_ascii() {
        (' '..='~').contains(&c)
    } else {
        PRINTABLE.is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// Go's `strings.ToLower`: each character mapped on its own. Rust's `str::to_lowercase`
/// differs in two places: it turns a word-final `Σ` into `ς`, and it maps `İ` (U+0130) to
/// two characters where Go gives a plain `i`.
pub(crate) fn to_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{130}' => 'i',
            // Every other character has a lowercase form of exactly one character.
            _ => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// Bytes cut out of a line at byte offsets BuildKit chose, as text. BuildKit's byte-wise
/// scanners can cut a UTF-8 character in two (see [`is_space_byte`]); Go keeps the broken
/// bytes, a Rust `String` cannot, so they become U+FFFD.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_go() {
        assert!(is_space('\u{a0}') && is_space('\u{85}') && is_space('\u{3000}'));
        assert!(!is_space('\u{200b}'));
        assert!(is_space_byte(0xa0) && !is_space_byte(0xc3));
        assert!(is_letter('é') && !is_letter('Ⅷ') && !is_letter('_'));
        assert!(is_digit('٣') && !is_digit('½'));
        assert!(is_printable('♥') && is_printable('é') && is_printable(' '));
        assert!(!is_printable('\u{a0}') && !is_printable('\u{200b}') && !is_printable('\x7f'));
        assert_eq!(to_lower("ΟΔΟΣ İ RUN"), "οδοσ i run");
    }
}
