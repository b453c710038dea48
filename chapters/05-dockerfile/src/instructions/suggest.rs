//! "Did you mean …?": the closest known name to a mistyped one.
//!
//! BuildKit adds a suggestion to an unknown instruction (`RUNN`), flag (`--chmown`) or
//! variable when a known name is within two edits of it: the Levenshtein distance, where
//! inserting, deleting or replacing one character is one edit. Three edits away is another
//! word, not a typo, and nothing is suggested.

/// The largest distance that still counts as a typo, plus one.
const TOO_FAR: usize = 3;

/// The option closest to `value`, if one is less than [`TOO_FAR`] edits away and none is
/// `value` itself (then the mistake is elsewhere). Ignoring case, the suggestion takes the
/// case of `value` when it is all lower or all upper case, and is lowercase otherwise.
pub fn closest(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let fold = |s: &str| {
        if case_sensitive {
            s.to_owned()
        } else {
            crate::parser::text::to_lower(s)
        }
    };
    let wanted = fold(value);
    let mut best: Option<(usize, String)> = None;
    for option in options {
        let option = fold(option);
        if option == wanted {
            return None;
        }
        let distance = levenshtein(&wanted, &option);
        if distance < best.as_ref().map_or(TOO_FAR, |(least, _)| *least) {
            best = Some((distance, option));
        }
    }
    let (_, found) = best?;
    Some(if case_sensitive {
        found
    } else {
        same_case(&found, value)
    })
}

/// `found` (lowercase) in the case `written` is in, when it is in one.
fn same_case(found: &str, written: &str) -> String {
    if written == crate::parser::text::to_lower(written) {
        found.to_owned()
    } else if written == written.to_uppercase() {
        found.to_uppercase()
    } else {
        found.to_owned()
    }
}

/// The number of single-character insertions, deletions and replacements that turn `a`
/// into `b`, one row of the classic table at a time.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // previous[j]: the distance between the part of `a` read so far and b[..j].
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let replace = previous[j] + usize::from(ca != *cb);
            let delete = previous[j + 1] + 1;
            let insert = current[j] + 1;
            current.push(replace.min(delete).min(insert));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("run", "runn"), 1);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("chmown", "chown"), 1);
        assert_eq!(levenshtein("é", "e"), 1);
    }

    #[test]
    fn suggestions_follow_buildkit() {
        let keywords = ["RUN", "CMD", "COPY"];
        assert_eq!(closest("RUNN", &keywords, false).as_deref(), Some("RUN"));
        assert_eq!(closest("runn", &keywords, false).as_deref(), Some("run"));
        assert_eq!(closest("Runn", &keywords, false).as_deref(), Some("run"));
        assert_eq!(closest("FOO", &keywords, false), None);
        assert_eq!(closest("copy", &keywords, false), None);
        let flags = ["chown", "chmod", "from"];
        assert_eq!(closest("chmown", &flags, true).as_deref(), Some("chown"));
        assert_eq!(closest("FROM", &flags, true), None);
    }
}
