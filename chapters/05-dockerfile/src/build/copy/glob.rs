//! Wildcards in `COPY` sources, as Go's `filepath.Match` reads them, one path element at a
//! time.
//!
//! `*` is any run of characters, `?` one character, `[a-z]` / `[^a-z]` one character in (or
//! not in) a class of characters and ranges, and `\` takes the next character literally, also
//! inside a class. None of them crosses a `/`: `COPY src/*.rs` matches `src/main.rs`, not
//! `src/bin/x.rs`. (Go's own `filepath.Match` lets a negated class match a `/`; matching
//! element by element, as here, it cannot.)
//!
//! A source is a wildcard pattern when it holds `*`, `?` or `[` that no `\` escapes (docker's
//! `containsWildcards`); otherwise it is a plain path, backslashes and all. A malformed
//! pattern (`a[`, a trailing `\`) matches nothing, which docker reports as "no source files
//! were specified".

/// Whether `source` holds a wildcard (`*`, `?` or `[` not escaped by `\`).
pub fn has_wildcards(source: &str) -> bool {
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// A pattern element without its escapes: what a wildcard-free element names.
pub fn unescape(element: &str) -> String {
    let mut out = String::with_capacity(element.len());
    let mut chars = element.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// Whether `name` (one path element) matches `pattern` (one pattern element); `false` for a
/// malformed pattern.
///
/// ```
/// use ch05_dockerfile::build::copy::glob::matches;
///
/// assert!(matches("*.rs", "main.rs"));
/// assert!(matches("file?.[a-c]", "file1.b"));
/// assert!(matches("[^a-c]*", "dist"));
/// assert!(matches(r"\*.txt", "*.txt"));
/// assert!(!matches(r"\*.txt", "a.txt"));
/// assert!(!matches("a[", "a["));
/// ```
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name).unwrap_or(false)
}

/// Matches `pattern` against all of `name`; `None` when the pattern is malformed.
fn match_from(pattern: &[char], name: &[char]) -> Option<bool> {
    match pattern.split_first() {
        None => Some(name.is_empty()),
        // `*`: try every length, shortest first; the rest of the pattern decides.
        Some(('*', rest)) => {
            for start in 0..=name.len() {
                if match_from(rest, &name[start..])? {
                    return Some(true);
                }
            }
            Some(false)
        }
        Some(('?', rest)) => match name.split_first() {
            Some((_, name_rest)) => match_from(rest, name_rest),
            None => check_rest(rest),
        },
        Some(('[', rest)) => {
            let (matched, after) = match_class(rest, name.first().copied())?;
            if matched {
                match_from(after, &name[1..])
            } else {
                check_rest(after)
            }
        }
        Some(('\\', rest)) => {
            let (&literal, rest) = rest.split_first()?;
            match name.split_first() {
                Some((&c, name_rest)) if c == literal => match_from(rest, name_rest),
                _ => check_rest(rest),
            }
        }
        Some((&literal, rest)) => match name.split_first() {
            Some((&c, name_rest)) if c == literal => match_from(rest, name_rest),
            _ => check_rest(rest),
        },
    }
}

/// The match failed: `false`, unless the rest of the pattern is malformed (Go reports a bad
/// pattern even when the name already failed to match).
fn check_rest(pattern: &[char]) -> Option<bool> {
    let mut rest = pattern;
    while let Some((&c, after)) = rest.split_first() {
        rest = match c {
            '[' => match_class(after, None)?.1,
            '\\' => after.split_first()?.1,
            _ => after,
        };
    }
    Some(false)
}

/// Reads the class after a `[`: whether `c` is in it (`false` for no character), and the
/// pattern after its `]`. `None` when the class is malformed.
fn match_class(pattern: &[char], c: Option<char>) -> Option<(bool, &[char])> {
    let (negated, mut rest) = match pattern.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, pattern),
    };
    let mut found = false;
    let mut first = true;
    loop {
        match rest.split_first() {
            None => return None,
            Some((']', after)) if !first => {
                rest = after;
                break;
            }
            _ => {}
        }
        first = false;
        let (lo, after) = class_char(rest)?;
        rest = after;
        let hi = match rest.split_first() {
            Some(('-', after)) => {
                let (hi, after) = class_char(after)?;
                rest = after;
                hi
            }
            _ => lo,
        };
        if c.is_some_and(|c| lo <= c && c <= hi) {
            found = true;
        }
    }
    Some((c.is_some() && found != negated, rest))
}

/// One character of a class, `\`-escaped or not; `-` and `]` must be escaped (Go's rule).
fn class_char(pattern: &[char]) -> Option<(char, &[char])> {
    match pattern.split_first()? {
        ('\\', rest) => rest.split_first().map(|(&c, rest)| (c, rest)),
        ('-' | ']', _) => None,
        (&c, rest) => Some((c, rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_unescaped_stars_questions_and_brackets() {
        assert!(has_wildcards("*.txt"));
        assert!(has_wildcards("src/?"));
        assert!(has_wildcards("a[bc]"));
        assert!(!has_wildcards(r"a\*b"));
        assert!(!has_wildcards("plain/path.txt"));
        assert!(has_wildcards(r"a\\*"));
        assert_eq!(unescape(r"a\*b\\c"), r"a*b\c");
    }

    #[test]
    fn go_filepath_match_cases() {
        // Cases from Go's own tests of filepath.Match (those within one element).
        let cases: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*b*c*d*e*", "axbxcxdxe", true),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "x", true),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
        ];
        for &(pattern, name, expected) in cases {
            assert_eq!(matches(pattern, name), expected, "{pattern} on {name}");
        }
    }

    #[test]
    fn malformed_patterns_match_nothing() {
        for (pattern, name) in [
            ("[]a]", "]"),
            ("[-]", "-"),
            ("[x-]", "x"),
            ("[-x]", "x"),
            ("\\", "a"),
            ("[a-b-c]", "a"),
            ("[", "a"),
            ("[^", "a"),
            ("[^bc", "a"),
            ("a[", "a"),
            ("a[", "ab"),
            ("*x[", "xxx"),
        ] {
            assert!(!matches(pattern, name), "{pattern} on {name}");
        }
    }
}
