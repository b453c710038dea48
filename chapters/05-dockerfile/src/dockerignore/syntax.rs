//! The syntax a pattern must have: Go's `filepath.Match` rules, which Docker checks each pattern
//! against before it keeps it.
//!
//! A glob has three special forms: `*` and `?` (always fine), `\c` (`c` literally, so a `\` may
//! not end the pattern), and the character class `[...]`: an optional `^` to negate it, then one
//! or more items, each a character or a range `a-z`, then `]`. Inside a class a `]` or `-` must
//! be escaped unless it closes the class or makes a range, so `[]a]`, `[-]`, `[x-]`, `[-x]` and
//! `[a-b-c]` are all refused. A reversed range (`[z-a]`) passes here: Go only finds out when
//! it builds the regular expression (see [`super::go_regexp`]).

use super::error::SyntaxProblem;

/// Checks `pattern` (cleaned, without its `!`) against Go's glob syntax.
pub(crate) fn check(pattern: &str) -> Result<(), SyntaxProblem> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next().ok_or(SyntaxProblem::TrailingBackslash)?;
            }
            '[' => check_class(&mut chars)?,
            _ => {}
        }
    }
    Ok(())
}

/// Checks a character class after its `[`, up to and including its `]`.
fn check_class(chars: &mut std::str::Chars<'_>) -> Result<(), SyntaxProblem> {
    if chars.as_str().starts_with('^') {
        chars.next();
    }
    let mut items = 0;
    loop {
        if items > 0 && chars.as_str().starts_with(']') {
            chars.next();
            return Ok(());
        }
        match class_char(chars)? {
            ClassChar::Bracket => return Err(SyntaxProblem::ClassStartsWithBracket),
            ClassChar::Dash => return Err(SyntaxProblem::MisplacedDash),
            ClassChar::Plain => {}
        }
        if chars.as_str().starts_with('-') {
            chars.next();
            // The end of a range may be neither `-` nor `]` either: `[x-]` is refused.
            if !matches!(class_char(chars)?, ClassChar::Plain) {
                return Err(SyntaxProblem::MisplacedDash);
            }
        }
        items += 1;
    }
}

/// What one character of a class is, to the syntax check.
enum ClassChar {
    /// A character written as itself or escaped.
    Plain,
    /// An unescaped `-`, which only a range may hold.
    Dash,
    /// An unescaped `]`, which only the end of the class may be.
    Bracket,
}

/// Reads one character of a class. After a plain one the class must go on: nothing left means
/// no `]`.
fn class_char(chars: &mut std::str::Chars<'_>) -> Result<ClassChar, SyntaxProblem> {
    let item = match chars.next() {
        None => return Err(SyntaxProblem::UnclosedClass),
        Some('-') => ClassChar::Dash,
        Some(']') => ClassChar::Bracket,
        Some('\\') => {
            chars.next().ok_or(SyntaxProblem::UnclosedClass)?;
            ClassChar::Plain
        }
        Some(_) => ClassChar::Plain,
    };
    if matches!(item, ClassChar::Plain) && chars.as_str().is_empty() {
        return Err(SyntaxProblem::UnclosedClass);
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_globs_pass() {
        for pattern in [
            "abc",
            "*",
            "a*/b",
            "ab[c]",
            "ab[^b-d]",
            "[\\]a]",
            "[\\-]",
            "[x\\-]",
            "[\\-x]",
            "[a-ζ]*",
            "[*]",
            "[[]",
            "a\\*b",
            "a\\\\",
            // Go's glob check does not look at the order of a range's ends.
            "[Local-Only]",
            "a[!b]c",
            "]",
        ] {
            assert_eq!(check(pattern), Ok(()), "{pattern:?}");
        }
    }

    #[test]
    fn each_rule_has_its_own_message() {
        let cases = [
            ("[", SyntaxProblem::UnclosedClass),
            ("[^", SyntaxProblem::UnclosedClass),
            ("[^bc", SyntaxProblem::UnclosedClass),
            ("a[", SyntaxProblem::UnclosedClass),
            ("[a\\", SyntaxProblem::UnclosedClass),
            ("[a\\]", SyntaxProblem::UnclosedClass),
            ("[]a]", SyntaxProblem::ClassStartsWithBracket),
            ("[^]a]", SyntaxProblem::ClassStartsWithBracket),
            ("[]", SyntaxProblem::ClassStartsWithBracket),
            ("[-]", SyntaxProblem::MisplacedDash),
            ("[x-]", SyntaxProblem::MisplacedDash),
            ("[-x]", SyntaxProblem::MisplacedDash),
            ("[a-b-c]", SyntaxProblem::MisplacedDash),
            ("[a--]", SyntaxProblem::MisplacedDash),
            ("\\", SyntaxProblem::TrailingBackslash),
            ("a/b\\", SyntaxProblem::TrailingBackslash),
        ];
        for (pattern, problem) in cases {
            assert_eq!(check(pattern), Err(problem), "{pattern:?}");
        }
    }
}
