//! One pattern of an ignore list: how Docker normalises it, and how it is tested against one
//! path.

use std::fmt;

use regex::Regex;

use super::error::{PatternError, SyntaxProblem};
use super::path::clean;
use super::translate::{Translation, translate};
use super::{go_regexp, syntax};

/// One pattern, cleaned and compiled: a path to exclude, or (with `!`) an exception that takes
/// paths back.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The cleaned pattern, without its `!`.
    text: String,
    /// Whether the pattern began with `!`.
    exclusion: bool,
    /// How to test a path, or why this pattern cannot test one (a regexp Go would refuse:
    /// Docker only finds out on the first match, and so do we).
    test: Result<Test, SyntaxProblem>,
}

/// A pattern's compiled form (see [`Translation`]).
#[derive(Debug, Clone)]
enum Test {
    Exact,
    Prefix,
    Suffix,
    Regexp(Regex),
}

impl Pattern {
    // ANCHOR: clean_pattern
    /// Reads one entry of a pattern list as moby's `New` does, `None` for a blank one.
    ///
    /// The entry is trimmed and cleaned *as a whole*, `!` included, and only then loses its
    /// `!`: so `!./foo` keeps `./foo`, which no path ever equals, while `./foo` becomes `foo`.
    /// A leading `/` stays (it is the ignore file reader that removes it).
    pub(crate) fn parse(entry: &str) -> Result<Option<Pattern>, PatternError> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Ok(None);
        }
        let cleaned = clean(entry);
        let (exclusion, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err(PatternError::LoneExclamation),
            Some(rest) => (true, rest),
            None => (false, &*cleaned),
        };
        let syntax_error = |problem| PatternError::Syntax {
            pattern: cleaned.to_string(),
            problem,
        };
        syntax::check(text).map_err(syntax_error)?;
        Ok(Some(Pattern {
            text: text.to_string(),
            exclusion,
            test: compile(text),
        }))
    }
    // ANCHOR_END: clean_pattern

    /// The cleaned pattern, without its `!`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is an exception (`!pattern`), which takes matching paths back.
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    // ANCHOR: match_one_pattern
    /// Whether this pattern matches `path` itself (a slash-separated path relative to the
    /// context root, used as given). The parent directories are the matcher's business.
    ///
    /// The prefix and suffix tests compare bytes: a byte order mark that moby's reader skipped
    /// may leave the pattern's text cut inside a character, as in Go.
    pub fn matches(&self, path: &str) -> Result<bool, PatternError> {
        let test = self.test.as_ref().map_err(|problem| PatternError::Syntax {
            pattern: self.to_string(),
            problem: problem.clone(),
        })?;
        let (path_bytes, text) = (path.as_bytes(), self.text.as_bytes());
        Ok(match test {
            Test::Exact => path_bytes == text,
            // `dir/**`: everything that starts with `dir/`.
            Test::Prefix => path_bytes.starts_with(&text[..text.len() - 2]),
            // `**/foo` and `**foo`: everything that ends with `/foo` (or `foo`), and `foo`.
            Test::Suffix => {
                let suffix = &text[2..];
                path_bytes.ends_with(suffix)
                    || suffix.first() == Some(&b'/') && path_bytes == &suffix[1..]
            }
            Test::Regexp(regexp) => regexp.is_match(path),
        })
    }
    // ANCHOR_END: match_one_pattern
}

impl fmt::Display for Pattern {
    /// The pattern as a list holds it: `!` first for an exception.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bang = if self.exclusion { "!" } else { "" };
        write!(f, "{bang}{}", self.text)
    }
}

/// Compiles a checked pattern: moby's translation, then its regexp (if it needs one) read with
/// Go's rules and compiled by the `regex` crate.
fn compile(text: &str) -> Result<Test, SyntaxProblem> {
    Ok(match translate(text) {
        Translation::Exact => Test::Exact,
        Translation::Prefix => Test::Prefix,
        Translation::Suffix => Test::Suffix,
        Translation::Regexp(go) => {
            let rust = go_regexp::to_rust(&go)?;
            let regexp = Regex::new(&rust).map_err(|error| {
                // The crate's message ends with the reason, after a drawing of where it is.
                let reason = error.to_string();
                SyntaxProblem::Regexp(reason.lines().last().unwrap_or_default().to_string())
            })?;
            Test::Regexp(regexp)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(entry: &str) -> Pattern {
        Pattern::parse(entry).unwrap().unwrap()
    }

    #[test]
    fn entries_are_trimmed_cleaned_and_lose_their_bang_last() {
        assert!(Pattern::parse("  \t ").unwrap().is_none());
        let docs = pattern("  ./docs//api/ ");
        assert_eq!((docs.as_str(), docs.is_exclusion()), ("docs/api", false));
        let exception = pattern("!docs/README.md  ");
        assert_eq!(exception.as_str(), "docs/README.md");
        assert!(exception.is_exclusion());
        assert_eq!(exception.to_string(), "!docs/README.md");
        // Cleaned with its `!`, so `!.` is a name and `./foo` stays.
        assert_eq!(pattern("!./foo").as_str(), "./foo");
        assert!(!pattern("!./foo").matches("foo").unwrap());
        // A space after `!` stays part of the pattern (only the file reader trims it).
        assert_eq!(pattern("! foo").as_str(), " foo");
        // No leading `/` is removed here.
        assert!(!pattern("/foo").matches("foo").unwrap());
    }

    #[test]
    fn a_lone_bang_is_refused() {
        assert_eq!(
            Pattern::parse("!").unwrap_err(),
            PatternError::LoneExclamation
        );
        assert_eq!(
            Pattern::parse(" !/ ").unwrap_err(),
            PatternError::LoneExclamation
        );
    }

    #[test]
    fn glob_syntax_errors_are_refused_with_the_pattern_named() {
        let error = Pattern::parse("!src/[a-").unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"syntax error in pattern "!src/[a-": unclosed character class: a `[` without its `]`"#
        );
    }

    #[test]
    fn regexp_errors_wait_for_the_first_match_and_stay() {
        let local = pattern("[Local-Only]/");
        for _ in 0..2 {
            assert_eq!(
                local.matches("x").unwrap_err(),
                PatternError::Syntax {
                    pattern: "[Local-Only]".to_string(),
                    problem: SyntaxProblem::ReversedRange { lo: 'l', hi: 'O' },
                }
            );
        }
        assert_eq!(
            pattern(r"a\q").matches("aq").unwrap_err().to_string(),
            r#"syntax error in pattern "a\\q": `\q` is not an escape Go's regexp knows (a backslash before a letter makes a regexp escape, `\d` a digit)"#
        );
    }

    #[test]
    fn the_semantics_that_live_in_moby_s_code() {
        let cases = [
            ("a[!b]c", "a!c", true),
            ("a[!b]c", "abc", true),
            ("a[!b]c", "axc", false),
            (r"a\*b", "a*b", true),
            (r"a\d", "a5", true),
            (r"a\d", "ad", false),
            ("a*^", "ab^", false),
            ("**^", "x/a^", true),
            ("dir/**", "dir", false),
            ("dir/**", "dir/x", true),
            ("dir**", "dirx/y", true),
            ("**file", "dir/myfile", true),
            ("**/foo", "foo", true),
            ("**/foo", "a/foo", true),
            ("**/foo", "xfoo", false),
            ("**", "/", true),
            ("*", "a/b", false),
            ("**/*.go", "a/b/c.go", true),
        ];
        for (text, path, expected) in cases {
            assert_eq!(
                pattern(text).matches(path).unwrap(),
                expected,
                "{text} on {path}"
            );
        }
    }

    #[test]
    fn a_byte_order_mark_inside_a_pattern_follows_go() {
        // Compared as text: only a name with the mark matches.
        assert!(pattern("\u{FEFF}foo").matches("\u{FEFF}foo").unwrap());
        assert!(!pattern("\u{FEFF}foo").matches("foo").unwrap());
        // Skipped by the regexp: `*.go` again.
        assert!(pattern("\u{FEFF}*.go").matches("main.go").unwrap());
        // A suffix test that cuts the mark: neither panics nor matches a plain name.
        assert!(!pattern("\u{FEFF}**/x").matches("x").unwrap());
    }
}
