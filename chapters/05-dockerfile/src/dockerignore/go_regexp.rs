//! Reading moby's regular expressions as Go reads them, and writing them for the `regex` crate.
//!
//! moby hands its translated pattern ([`super::translate`]) to Go's `regexp` package, so what a
//! pattern means in the corners is what Go's regexp syntax makes of that text. Rust's `regex`
//! crate runs the same kind of engine (no backtracking, linear time) and reads almost the same
//! syntax, but not quite, and the corners are exactly where globs land:
//!
//! - **escapes**: Go reads `\d` `\s` `\w` (and `\b`) as ASCII classes, Rust as Unicode ones; Go
//!   knows `\Q...\E` and octal `\101`, Rust does not; Rust reads `\<` and `\>` as word
//!   boundaries where Go reads the characters themselves;
//! - **classes**: Rust lets a class hold a nested class and set operations (`[a[bc]]`,
//!   `[a&&b]`, `[a--b]`, `[a~~b]`), so a Go class holding a `[`, `&&`, `--` or `~~` means
//!   something else to it, or is an error.
//!
//! So this module reads the text with Go's rules and writes each piece in a form the `regex`
//! crate reads the same way: every literal escaped where Rust might see an operator, Go's ASCII
//! classes spelled out (`[0-9]`), Go's escapes turned into the characters they stand for. It only
//! needs the part of Go's syntax moby's translation can produce: `{` and `}` always arrive
//! escaped, so counted repetitions and the brace forms `\x{41}` and `\p{Greek}` never occur, and
//! `(`, `)`, `.`, `*`, `?` and `$` appear unescaped only where moby wrote them as operators.

use super::error::SyntaxProblem;

/// Rewrites a regexp in Go's syntax (as moby's translation writes it) for the `regex` crate.
pub(crate) fn to_rust(go: &str) -> Result<String, SyntaxProblem> {
    let mut text = go.chars();
    let mut rust = String::with_capacity(go.len() + 8);
    while let Some(c) = text.next() {
        match c {
            '[' => class(&mut text, &mut rust)?,
            '\\' => escape(&mut text, &mut rust)?,
            // Go reads a `]` outside a class as itself.
            ']' => rust.push_str(r"\]"),
            // moby's operators, and characters both dialects read as themselves (`^` included:
            // an anchor in both).
            _ => rust.push(c),
        }
    }
    Ok(rust)
}

/// An escape outside a class, after its `\`.
fn escape(text: &mut std::str::Chars<'_>, rust: &mut String) -> Result<(), SyntaxProblem> {
    let c = text.next().ok_or(SyntaxProblem::TrailingBackslash)?;
    match c {
        'A' => rust.push_str(r"\A"),
        'z' => rust.push_str(r"\z"),
        // Go's word boundaries look at ASCII word characters only.
        'b' => rust.push_str(r"(?-u:\b)"),
        'B' => rust.push_str(r"(?-u:\B)"),
        'Q' => {
            // Everything up to `\E` (or the end) is literal text.
            let rest = text.as_str();
            let (literal, after) = rest.split_once(r"\E").unwrap_or((rest, ""));
            literal.chars().for_each(|c| push_literal(rust, c));
            *text = after.chars();
        }
        'p' | 'P' => rust.push_str(&unicode_class(c, text)?),
        'd' | 'D' | 's' | 'S' | 'w' | 'W' => rust.push_str(perl_class(c)),
        _ => push_literal(rust, single_char_escape(c, text)?),
    }
    Ok(())
}

/// A class after its `[`, up to and including its `]`, read with Go's rules: a `]` right after
/// the `[` (or `[^`) is a literal, `[:name:]` is a POSIX class, `-` between two characters
/// makes a range and is a literal anywhere else.
fn class(text: &mut std::str::Chars<'_>, rust: &mut String) -> Result<(), SyntaxProblem> {
    rust.push('[');
    if text.as_str().starts_with('^') {
        text.next();
        rust.push('^');
    }
    let mut first = true;
    loop {
        let rest = text.as_str();
        if rest.is_empty() {
            return Err(SyntaxProblem::UnclosedClass);
        }
        if rest.starts_with(']') && !first {
            text.next();
            rust.push(']');
            return Ok(());
        }
        first = false;
        if let Some(name) = posix_class(rest)? {
            // Rust spells these the same, and gives them the same ASCII meaning.
            rust.push_str(name);
            *text = rest[name.len()..].chars();
            continue;
        }
        if let Some(kind @ ('p' | 'P' | 'd' | 'D' | 's' | 'S' | 'w' | 'W')) = rest
            .strip_prefix('\\')
            .and_then(|after| after.chars().next())
        {
            text.nth(1);
            let nested = match kind {
                'p' | 'P' => unicode_class(kind, text)?,
                _ => perl_class(kind).to_string(),
            };
            rust.push_str(&nested);
            continue;
        }
        let lo = class_char(text)?;
        push_literal(rust, lo);
        let rest = text.as_str();
        if rest.len() >= 2 && rest.starts_with('-') && !rest[1..].starts_with(']') {
            text.next();
            let hi = class_char(text)?;
            if hi < lo {
                return Err(SyntaxProblem::ReversedRange { lo, hi });
            }
            rust.push('-');
            push_literal(rust, hi);
        }
    }
}

/// `[:alpha:]` or `[:^alpha:]` at the start of `rest`, as Go finds it: from `[:` to the next
/// `:]`, wherever that is. `None` when there is no `:]` (the `[` is then a literal).
fn posix_class(rest: &str) -> Result<Option<&str>, SyntaxProblem> {
    const NAMES: [&str; 14] = [
        "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
        "space", "upper", "word", "xdigit",
    ];
    let Some(body) = rest.strip_prefix("[:").filter(|body| !body.is_empty()) else {
        return Ok(None);
    };
    let Some(end) = body.find(":]") else {
        return Ok(None);
    };
    let whole = &rest[..end + 4];
    let name = body[..end].strip_prefix('^').unwrap_or(&body[..end]);
    if NAMES.contains(&name) {
        Ok(Some(whole))
    } else {
        Err(SyntaxProblem::UnknownClass(whole.to_string()))
    }
}

/// `\pL` or `\PL` after its `\p`: a Unicode general category named by one letter (the only
/// form moby's escaped braces leave).
fn unicode_class(p: char, text: &mut std::str::Chars<'_>) -> Result<String, SyntaxProblem> {
    match text.next() {
        Some(category @ ('C' | 'L' | 'M' | 'N' | 'P' | 'S' | 'Z')) => {
            Ok(format!(r"\{p}{category}"))
        }
        Some(other) => Err(SyntaxProblem::UnknownClass(format!(r"\{p}{other}"))),
        None => Err(SyntaxProblem::UnknownClass(format!(r"\{p}"))),
    }
}

/// Go's Perl classes, which are ASCII only.
fn perl_class(kind: char) -> &'static str {
    match kind {
        'd' => "[0-9]",
        'D' => "[^0-9]",
        's' => r"[\t\n\x0C\r ]",
        'S' => r"[^\t\n\x0C\r ]",
        'w' => "[0-9A-Za-z_]",
        _ => "[^0-9A-Za-z_]",
    }
}

/// One character of a class, written as itself or escaped.
fn class_char(text: &mut std::str::Chars<'_>) -> Result<char, SyntaxProblem> {
    match text.next() {
        None => Err(SyntaxProblem::UnclosedClass),
        Some('\\') => {
            let c = text.next().ok_or(SyntaxProblem::TrailingBackslash)?;
            single_char_escape(c, text)
        }
        Some(c) => Ok(c),
    }
}

/// The character an escape stands for, after its `\` and its first character `c`: punctuation
/// for itself, C's control escapes, octal (`\0`, `\12`, `\101`) and two-digit hexadecimal
/// (`\x41`). Go refuses any other letter or digit, and anything outside ASCII.
fn single_char_escape(c: char, text: &mut std::str::Chars<'_>) -> Result<char, SyntaxProblem> {
    let unknown = || SyntaxProblem::UnknownEscape(format!(r"\{c}"));
    let octal_digit =
        |text: &std::str::Chars<'_>| text.as_str().chars().next().and_then(|d| d.to_digit(8));
    match c {
        // A lone `\1` to `\7` would be a backreference, which Go does not have.
        '1'..='7' if octal_digit(text).is_none() => Err(unknown()),
        '0'..='7' => {
            let mut value = c.to_digit(8).unwrap_or_default();
            for _ in 0..2 {
                let Some(digit) = octal_digit(text) else {
                    break;
                };
                text.next();
                value = value * 8 + digit;
            }
            char::from_u32(value).ok_or_else(unknown)
        }
        'x' => {
            let high = text.next().and_then(|h| h.to_digit(16));
            let low = text.next().and_then(|l| l.to_digit(16));
            match (high, low) {
                (Some(high), Some(low)) => char::from_u32(high * 16 + low).ok_or_else(unknown),
                _ => Err(unknown()),
            }
        }
        'a' => Ok('\x07'),
        'f' => Ok('\x0C'),
        'n' => Ok('\n'),
        'r' => Ok('\r'),
        't' => Ok('\t'),
        'v' => Ok('\x0B'),
        _ if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c),
        _ => Err(unknown()),
    }
}

/// Writes `c` so that the `regex` crate reads it as itself, in a class or out of one.
fn push_literal(rust: &mut String, c: char) {
    rust.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the Go regexp `go` matches `path`, through the `regex` crate.
    fn go_matches(go: &str, path: &str) -> bool {
        let rust = to_rust(go).unwrap_or_else(|problem| panic!("{go}: {problem}"));
        regex::Regex::new(&rust).unwrap().is_match(path)
    }

    #[test]
    fn moby_s_operators_pass_through() {
        assert_eq!(
            to_rust(r"^(.*/)?[^/]*\.txt$").unwrap(),
            r"^(.*/)?[^/]*\.txt$"
        );
        assert_eq!(to_rust(r"^a[b-d]e$").unwrap(), r"^a[b-d]e$");
        // Literals in a class are escaped wherever Rust might read an operator.
        assert_eq!(to_rust(r"^[a&&b-]$").unwrap(), r"^[a\&\&b\-]$");
    }

    #[test]
    fn escapes_mean_what_they_mean_to_go() {
        assert!(go_matches(r"^a\d$", "a5"));
        assert!(!go_matches(r"^a\d$", "ad"));
        // Go's classes are ASCII only; Rust's \d would take an Arabic-Indic digit.
        assert!(!go_matches(r"^a\d$", "a٣"));
        assert!(go_matches(r"^a\w$", "a_"));
        assert!(!go_matches(r"^a\w$", "aé"));
        assert!(go_matches(r"^a\<$", "a<"));
        assert!(go_matches(r"^\101$", "A"));
        assert!(go_matches(r"^\x41$", "A"));
        assert!(go_matches(r"^\Q[^/]*\E$", "[^/]*"));
        assert!(go_matches(r"^\Q[^/]*$", "[^/]*$"));
        assert!(go_matches(r"^a\b", "a-"));
        assert!(go_matches(r"^a\b", "aé"));
        assert!(go_matches(r"^\pL$", "é"));
    }

    #[test]
    fn classes_are_read_as_go_reads_them() {
        // `!` is no negation, and `[`, `&&`, `~~` are ordinary characters.
        assert!(go_matches("^a[!b]c$", "a!c"));
        assert!(go_matches("^[[]$", "["));
        assert!(go_matches("^[a&&b]$", "&"));
        assert!(go_matches("^[a~~b]$", "~"));
        assert!(go_matches("^[]a]$", "]"));
        assert!(go_matches("^[a-]$", "-"));
        assert!(go_matches("^[[:alpha:]]$", "q"));
        assert!(!go_matches("^[[:^alpha:]]$", "q"));
        assert!(go_matches(r"^[\d]$", "7"));
        assert!(go_matches(r"^[a\D]$", "x"));
        assert!(!go_matches(r"^[^\D]$", "x"));
        assert!(go_matches(r"^[a-ζ]$", "α"));
        // moby's `[*]` is `[[^/]*]`: a class of `[`, `^` and `/`, repeated, then a `]`.
        assert!(go_matches(r"^[[^/]*]$", "[^/]"));
        assert!(!go_matches(r"^[[^/]*]$", "*"));
    }

    #[test]
    fn go_s_refusals_are_kept() {
        let cases = [
            (r"^a\q$", SyntaxProblem::UnknownEscape(r"\q".to_string())),
            (r"^a\é$", SyntaxProblem::UnknownEscape(r"\é".to_string())),
            (r"^\1$", SyntaxProblem::UnknownEscape(r"\1".to_string())),
            (r"^\x4$", SyntaxProblem::UnknownEscape(r"\x".to_string())),
            (r"^\C$", SyntaxProblem::UnknownEscape(r"\C".to_string())),
            (r"^[\b]$", SyntaxProblem::UnknownEscape(r"\b".to_string())),
            (
                "^[Local-Only]/$",
                SyntaxProblem::ReversedRange { lo: 'l', hi: 'O' },
            ),
            (
                "^[[:nope:]]$",
                SyntaxProblem::UnknownClass("[:nope:]".to_string()),
            ),
            (r"^\pX$", SyntaxProblem::UnknownClass(r"\pX".to_string())),
            (r"^[[^/]*[]$", SyntaxProblem::UnclosedClass),
            ("^a\\", SyntaxProblem::TrailingBackslash),
        ];
        for (go, problem) in cases {
            assert_eq!(to_rust(go), Err(problem), "{go}");
        }
    }
}
