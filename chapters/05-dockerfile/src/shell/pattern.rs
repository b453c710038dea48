//! The patterns of `${V#p}`, `${V%p}` and `${V/p/r}`: the shell's, without brackets.
//!
//! `*` matches any run of characters (none included), `?` any one character, and anything
//! else itself; `\` makes `*`, `?` or `\` literal (and may stand before the `}` or `/` that
//! would otherwise end the operand). A pattern is matched against a variable's value, not
//! against files: this is string surgery, not globbing.
//!
//! Which match counts matters: `*.` matches `archive.` and `archive.tar.` at the start of
//! `archive.tar.gz`; `#` wants the shortest, `##` the longest. BuildKit turns the pattern
//! into a Go regular expression (`*` as `.*?` or `.*`) and takes the match Go's regexp
//! prefers, which for these patterns is the shortest or the longest; a suffix is matched as
//! a prefix of the reversed value. One consequence is kept here on purpose: a regular
//! expression's `.` does not match a newline, so neither `*` nor `?` crosses one.
//!
//! The search is a small dynamic program over (position in the value, position in the
//! pattern), so no pattern can make it take more than their product in steps.

use super::error::PatternError;

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// This character.
    Char(char),
    /// `?`: any one character.
    AnyChar,
    /// `*`: any run of characters.
    AnyRun,
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Reads a pattern, refusing a `\` before anything but `*`, `?`, `\`, `}` or `/`.
    pub(super) fn parse(text: &str) -> Result<Pattern, PatternError> {
        let mut tokens = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyChar,
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '?' | '\\' | '}' | '/')) => Token::Char(escaped),
                    Some(other) => return Err(PatternError::InvalidEscape(other)),
                    None => return Err(PatternError::TrailingEscape),
                },
                other => Token::Char(other),
            });
        }
        Ok(Pattern { tokens })
    }

    /// `value` without the shortest (or `longest`) prefix that the pattern matches; all of
    /// `value` if none does.
    pub(super) fn strip_prefix<'v>(&self, value: &'v str, longest: bool) -> &'v str {
        let chars: Vec<char> = value.chars().collect();
        match self.preferred_ends(&chars, longest)[0] {
            Some(end) => &value[byte_offset(value, end)..],
            None => value,
        }
    }

    /// Reads a pattern backwards, for [`strip_suffix`](Self::strip_suffix): a suffix is
    /// matched as a prefix of the reversed value. BuildKit reverses the pattern's *text*,
    /// keeping each `\x` pair in order, and reads that; for a well-formed pattern it is the
    /// same as reading it backwards, but a lone `\` at the end lands in front and escapes
    /// what was the last character (`*\` means a literal `*`). Read the same way here, so
    /// that the two agree on such patterns too; an error is reported on the text as written.
    pub(super) fn parse_backwards(text: &str) -> Result<Pattern, PatternError> {
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let length = if chars[at] == '\\' && at + 1 < chars.len() {
                2
            } else {
                1
            };
            pieces.push(&chars[at..at + length]);
            at += length;
        }
        let reversed: String = pieces.iter().rev().flat_map(|piece| piece.iter()).collect();
        Pattern::parse(&reversed)
            .map_err(|backwards| Pattern::parse(text).err().unwrap_or(backwards))
    }

    /// `value` without the shortest (or `longest`) suffix that this pattern, read with
    /// [`parse_backwards`](Self::parse_backwards), matches.
    pub(super) fn strip_suffix(&self, value: &str, longest: bool) -> String {
        let value: String = value.chars().rev().collect();
        self.strip_prefix(&value, longest).chars().rev().collect()
    }

    /// `value` with the pattern's first (leftmost, then longest) match replaced.
    pub(super) fn replace_first(&self, value: &str, replacement: &str) -> String {
        let chars: Vec<char> = value.chars().collect();
        let ends = self.preferred_ends(&chars, true);
        match first_match(&ends, 0) {
            Some((start, end)) => {
                let mut replaced: String = chars[..start].iter().collect();
                replaced.push_str(replacement);
                replaced.extend(&chars[end..]);
                replaced
            }
            None => value.to_string(),
        }
    }

    /// `value` with every match replaced, left to right, as Go's `ReplaceAllString` does it
    /// for BuildKit: after a match the search goes on where it ended, an empty match right
    /// after a match replaces nothing, and `$` in the replacement is read as a reference to
    /// the match (see [`expand_template`]).
    pub(super) fn replace_all(&self, value: &str, replacement: &str) -> String {
        let chars: Vec<char> = value.chars().collect();
        let ends = self.preferred_ends(&chars, true);
        let mut replaced = String::new();
        let (mut copied, mut search) = (0, 0);
        while let Some((start, end)) = first_match(&ends, search) {
            replaced.extend(&chars[copied..start]);
            if end > copied || start == 0 {
                let matched: String = chars[start..end].iter().collect();
                replaced.push_str(&expand_template(replacement, &matched));
            }
            copied = end;
            search = if end > search { end } else { search + 1 };
        }
        replaced.extend(&chars[copied..]);
        replaced
    }

    // ANCHOR: pattern_match
    /// For every start in `text`, where the preferred match beginning there ends (`None`:
    /// no match starts there). Preferred: each `*` as short as it can be, or with `greedy`
    /// as long as it can be, the earlier stars deciding first, as a regexp engine prefers.
    ///
    /// `best[p]` is the preferred end for the pattern from token `p` on, at the current
    /// position; it is computed from the end of the text backwards, from the column one
    /// position further on (`next`), so a pass costs (text length × pattern length) steps.
    fn preferred_ends(&self, text: &[char], greedy: bool) -> Vec<Option<usize>> {
        let tokens = &self.tokens;
        let mut ends = vec![None; text.len() + 1];
        let mut next: Vec<Option<usize>> = vec![None; tokens.len() + 1];
        let mut best: Vec<Option<usize>> = vec![None; tokens.len() + 1];
        for at in (0..=text.len()).rev() {
            let here = text.get(at).copied();
            // A regexp's `.`, which `*` and `?` become, stops at a newline.
            let any = here.is_some_and(|c| c != '\n');
            best[tokens.len()] = Some(at);
            for p in (0..tokens.len()).rev() {
                best[p] = match tokens[p] {
                    Token::Char(c) if here == Some(c) => next[p + 1],
                    Token::Char(_) => None,
                    Token::AnyChar if any => next[p + 1],
                    Token::AnyChar => None,
                    Token::AnyRun => {
                        let take_one = if any { next[p] } else { None };
                        let stop_here = best[p + 1];
                        match greedy {
                            true => take_one.or(stop_here),
                            false => stop_here.or(take_one),
                        }
                    }
                };
            }
            ends[at] = best[0];
            std::mem::swap(&mut next, &mut best);
        }
        ends
    }
    // ANCHOR_END: pattern_match
}

/// The leftmost match starting at `from` or after, from [`Pattern::preferred_ends`]'s
/// answer: its start and end.
fn first_match(ends: &[Option<usize>], from: usize) -> Option<(usize, usize)> {
    (from..ends.len()).find_map(|start| Some(start).zip(ends[start]))
}

/// The byte offset of the `chars`-th character of `text`.
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(offset, _)| offset)
}

/// A replacement as Go's regexp reads it: `$0` or `${0}` is the match, `$$` is `$`, any
/// other `$name` or `${name}` names a group the pattern does not have and is nothing, and a
/// `$` that starts no name is itself. Only `${V//p/r}` reads its replacement this way
/// (BuildKit's `${V/p/r}` pastes it as it is); the `$` can come from a variable's value or
/// an escaped `\$` (whose `\` a pattern operand keeps).
fn expand_template(template: &str, matched: &str) -> String {
    let mut expanded = String::new();
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        expanded.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            expanded.push('$');
            rest = after;
            continue;
        }
        match group_reference(rest) {
            Some((group, after)) => {
                if group == "0" {
                    expanded.push_str(matched);
                }
                rest = after;
            }
            None => expanded.push('$'),
        }
    }
    expanded.push_str(rest);
    expanded
}

/// The name after a `$` in a replacement (`1x` in `$1x`, `x` in `${x}y`), and what follows.
fn group_reference(text: &str) -> Option<(&str, &str)> {
    let (braced, text) = match text.strip_prefix('{') {
        Some(inner) => (true, inner),
        None => (false, text),
    };
    let length = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    if length == 0 {
        return None;
    }
    let (name, after) = text.split_at(length);
    match braced {
        true => after.strip_prefix('}').map(|after| (name, after)),
        false => Some((name, after)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        Pattern::parse(text).unwrap()
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        use Token::*;
        assert_eq!(
            pattern(r"\*\?\\\}\/a*?").tokens,
            [
                Char('*'),
                Char('?'),
                Char('\\'),
                Char('}'),
                Char('/'),
                Char('a'),
                AnyRun,
                AnyChar
            ]
        );
    }

    #[test]
    fn any_other_escape_is_refused() {
        assert_eq!(
            Pattern::parse(r"a\x"),
            Err(PatternError::InvalidEscape('x'))
        );
        assert_eq!(Pattern::parse(r"a\"), Err(PatternError::TrailingEscape));
        assert_eq!(Pattern::parse(r"\\\"), Err(PatternError::TrailingEscape));
    }

    #[test]
    fn prefixes_shortest_and_longest() {
        assert_eq!(pattern("*.").strip_prefix("a.b.c", false), "b.c");
        assert_eq!(pattern("*.").strip_prefix("a.b.c", true), "c");
        assert_eq!(pattern("*x*y").strip_prefix("xxyy", false), "y");
        assert_eq!(pattern("*x*y").strip_prefix("xxyy", true), "");
        assert_eq!(pattern("*").strip_prefix("abc", false), "abc");
        assert_eq!(pattern("*").strip_prefix("abc", true), "");
        assert_eq!(pattern("b").strip_prefix("abc", true), "abc");
    }

    fn backwards(text: &str) -> Pattern {
        Pattern::parse_backwards(text).unwrap()
    }

    #[test]
    fn suffixes_shortest_and_longest() {
        assert_eq!(backwards(".*").strip_suffix("a.b.c", false), "a.b");
        assert_eq!(backwards(".*").strip_suffix("a.b.c", true), "a");
        assert_eq!(backwards(r"\**\*").strip_suffix("a***yy*", true), "a");
        assert_eq!(backwards("?").strip_suffix("한국어", false), "한국");
    }

    #[test]
    fn a_pattern_read_backwards_keeps_its_escapes() {
        use Token::*;
        assert_eq!(backwards(r"a\*b").tokens, [Char('b'), Char('*'), Char('a')]);
        // A lone `\` at the end escapes what was the last character, as in BuildKit.
        assert_eq!(backwards(r"a*\").tokens, [Char('*'), Char('a')]);
        assert_eq!(backwards(r"a\*\").tokens, [Char('\\'), AnyRun, Char('a')]);
        // Otherwise errors are those of the pattern as written.
        assert_eq!(
            Pattern::parse_backwards(r"ab\"),
            Err(PatternError::TrailingEscape)
        );
        assert_eq!(
            Pattern::parse_backwards(r"\xb"),
            Err(PatternError::InvalidEscape('x'))
        );
    }

    #[test]
    fn wildcards_do_not_cross_a_newline() {
        assert_eq!(pattern("*b").strip_prefix("a\nb", true), "a\nb");
        assert_eq!(pattern("a?b").strip_prefix("a\nb", true), "a\nb");
        assert_eq!(pattern("a\nb").strip_prefix("a\nbc", true), "c");
    }

    #[test]
    fn the_first_match_is_leftmost_then_longest() {
        assert_eq!(pattern("b*").replace_first("abcb", "X"), "aX");
        assert_eq!(pattern("/?/").replace_first("/a/foo/b/c", "/"), "/foo/b/c");
        assert_eq!(pattern("z").replace_first("abc", "X"), "abc");
    }

    #[test]
    fn every_match_is_replaced_without_overlap() {
        assert_eq!(pattern("/?/").replace_all("/a/foo/b/c", "/"), "/foo/c");
        assert_eq!(pattern("aa").replace_all("aaaaa", "b"), "bba");
    }

    #[test]
    fn an_empty_pattern_matches_between_every_character() {
        assert_eq!(pattern("").replace_first("xy", "-"), "-xy");
        assert_eq!(pattern("").replace_all("xy", "-"), "-x-y-");
        assert_eq!(pattern("").replace_all("", "-"), "-");
    }

    #[test]
    fn an_empty_match_right_after_a_match_replaces_nothing() {
        // `*` matches all of `xa`, then the empty string after it, which is skipped.
        assert_eq!(pattern("*").replace_all("xa", "-"), "-");
    }

    #[test]
    fn a_replacement_of_every_match_reads_dollar_references() {
        assert_eq!(expand_template("<$0>", "m"), "<m>");
        assert_eq!(expand_template("<${0}>", "m"), "<m>");
        assert_eq!(expand_template("$$0", "m"), "$0");
        assert_eq!(expand_template("$1 ${x}y $00", "m"), " y ");
        assert_eq!(expand_template("$ $. ${ ${x $", "m"), "$ $. ${ ${x $");
        assert_eq!(pattern("b").replace_all("abc", r"\$0"), r"a\bc");
        assert_eq!(pattern("b").replace_first("abc", r"\$0"), r"a\$0c");
    }
}
