//! How Docker turns a glob into a test on a path.
//!
//! moby reads a cleaned pattern one character at a time and writes a regular expression for Go's
//! `regexp` package as it goes. Along the way it notes whether a regexp is needed at all: most
//! patterns are plain names (`node_modules`, `.git`), and those are compared as strings.
//!
//! | in the pattern | in the regexp | why |
//! |---|---|---|
//! | `*` | `[^/]*` | any run of characters within one path element |
//! | `?` | `[^/]` | one character, never the separator |
//! | `**` (and a `/` right after it) | `(.*/)?` | any number of whole directories, none included |
//! | `**` at the end | `.*` | anything at all, separators included |
//! | `.` `+` `(` `)` `\|` `{` `}` `$` | escaped | characters a glob takes literally but a regexp would not |
//! | `\c` | `\c` | copied: `\*` is a literal `*`, but `\d` becomes Go's digit class |
//! | `[` `]` | copied | classes are left for the regexp to read |
//! | anything else (`^` too) | copied | so `^` outside a class is a regexp anchor |
//!
//! The result is anchored, `^...$`, and tested against the whole path. Three shapes skip the
//! regexp: no wildcard at all is an exact comparison ([`Translation::Exact`]); a literal
//! followed by a final `**` is a prefix test (`dir/**`, [`Translation::Prefix`]); and a leading
//! `**` followed by literals only is a suffix test (`**/foo`, [`Translation::Suffix`]).
//!
//! This is the text of moby's regexps, character for character: the conformance tests compare
//! it with the expressions moby's own tests expect. [`super::go_regexp`] then reads it as Go
//! would and writes it for the `regex` crate.

/// How a cleaned pattern is tested against a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Translation {
    /// No wildcard, class or escape: the path must equal the pattern (`abc.def`).
    Exact,
    /// Literals and a final `**`: the path must start with the pattern minus that `**`. So
    /// `dir/**` matches everything below `dir/` but not `dir` itself.
    Prefix,
    /// A leading `**` and literals only: the path must end with the pattern minus that `**`
    /// (as plain text: `**file` matches `dir/myfile`), or, when what is left starts with `/`,
    /// equal it without that `/` (`**/foo` matches `foo`).
    Suffix,
    /// Anything else: the path must match this regular expression, in Go's dialect.
    Regexp(String),
}

/// The shape a pattern is found to have while it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Exact,
    Prefix,
    Suffix,
    Regexp,
}

// ANCHOR: translate_pattern
/// Translates a cleaned pattern (without its `!`) as moby does.
///
/// ```
/// use ch05_dockerfile::dockerignore::{Translation, translate};
///
/// assert_eq!(translate("**/*.txt"), Translation::Regexp(r"^(.*/)?[^/]*\.txt$".to_string()));
/// assert_eq!(translate("dir/**"), Translation::Prefix);
/// assert_eq!(translate("abc.def"), Translation::Exact);
/// ```
pub fn translate(pattern: &str) -> Translation {
    // Go's text/scanner, which moby reads the pattern with, drops a byte order mark at the
    // very start (an ignore file keeps one at the start of any line but the first).
    let pattern = pattern.strip_prefix('\u{FEFF}').unwrap_or(pattern);
    let mut regexp = String::from("^");
    let mut shape = Shape::Exact;
    let mut chars = pattern.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.next_if_eq(&'*').is_some() => {
                // `**/` is read as `**`.
                chars.next_if_eq(&'/');
                shape = double_star(&mut regexp, shape, chars.peek().is_none(), at_start);
            }
            '*' => {
                regexp.push_str("[^/]*");
                shape = Shape::Regexp;
            }
            '?' => {
                regexp.push_str("[^/]");
                shape = Shape::Regexp;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                regexp.push('\\');
                regexp.push(c);
            }
            '\\' => match chars.next() {
                Some(escaped) => {
                    regexp.push('\\');
                    regexp.push(escaped);
                    shape = Shape::Regexp;
                }
                // Refused by the syntax check before it gets here; moby keeps it as is.
                None => regexp.push('\\'),
            },
            '[' | ']' => {
                regexp.push(c);
                shape = Shape::Regexp;
            }
            _ => regexp.push(c),
        }
        at_start = false;
    }
    match shape {
        Shape::Exact => Translation::Exact,
        Shape::Prefix => Translation::Prefix,
        Shape::Suffix => Translation::Suffix,
        Shape::Regexp => Translation::Regexp(regexp + "$"),
    }
}
// ANCHOR_END: translate_pattern

/// `**`: any number of directories. At the end of a pattern that was literal until then it
/// makes a prefix test, and at the very start a suffix test (which a later wildcard still
/// turns into a regexp); anywhere else it is a regexp.
fn double_star(regexp: &mut String, shape: Shape, at_end: bool, at_start: bool) -> Shape {
    let shape = if at_end && shape == Shape::Exact {
        Shape::Prefix
    } else {
        regexp.push_str(if at_end { ".*" } else { "(.*/)?" });
        Shape::Regexp
    };
    if at_start { Shape::Suffix } else { shape }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regexp(text: &str) -> Translation {
        Translation::Regexp(text.to_string())
    }

    #[test]
    fn wildcards_become_regexps() {
        assert_eq!(translate("*"), regexp("^[^/]*$"));
        assert_eq!(translate("a*/b"), regexp("^a[^/]*/b$"));
        assert_eq!(translate("abc?def"), regexp("^abc[^/]def$"));
        assert_eq!(translate("**/**"), regexp("^(.*/)?.*$"));
        assert_eq!(translate("**/dir2/**"), regexp("^(.*/)?dir2/.*$"));
        assert_eq!(translate(".*"), regexp(r"^\.[^/]*$"));
        assert_eq!(translate("a[b-d]e"), regexp("^a[b-d]e$"));
    }

    #[test]
    fn escapes_and_classes_are_copied_for_the_regexp_to_read() {
        assert_eq!(translate(r"a\*b"), regexp(r"^a\*b$"));
        assert_eq!(translate(r"a\d"), regexp(r"^a\d$"));
        assert_eq!(translate("a[!b]c"), regexp("^a[!b]c$"));
        // `^` is copied, so the regexp reads it as an anchor.
        assert_eq!(translate("a*^"), regexp("^a[^/]*^$"));
        // Inside a class too, `*` becomes `[^/]*`: the regexp sees a class that closes early.
        assert_eq!(translate("[*]"), regexp("^[[^/]*]$"));
    }

    #[test]
    fn literal_shapes_skip_the_regexp() {
        assert_eq!(translate("a(b)c/def"), Translation::Exact);
        assert_eq!(translate("a.|)$(}+{bc"), Translation::Exact);
        assert_eq!(translate("dir/**"), Translation::Prefix);
        assert_eq!(translate("dir**"), Translation::Prefix);
        assert_eq!(translate("a.b/**"), Translation::Prefix);
        assert_eq!(translate("**"), Translation::Suffix);
        assert_eq!(translate("**/foo/bar"), Translation::Suffix);
        assert_eq!(translate("**file"), Translation::Suffix);
        // `^` and `.` need no regexp of their own: a suffix stays a suffix.
        assert_eq!(translate("**/.foo"), Translation::Suffix);
    }

    #[test]
    fn a_leading_byte_order_mark_is_not_part_of_the_regexp() {
        assert_eq!(translate("\u{FEFF}*.go"), regexp(r"^[^/]*\.go$"));
        assert_eq!(translate("\u{FEFF}**/x"), Translation::Suffix);
    }
}
