//! Heredocs: a file's or a script's text written inline, `<<EOF` ... `EOF`.
//!
//! `RUN`, `COPY` and `ADD` (in shell form, also behind `ONBUILD`) may open heredocs the way
//! a shell does:
//!
//! ```dockerfile
//! COPY <<EOF /etc/motd
//! Welcome to $HOSTNAME
//! EOF
//! ```
//!
//! The body is the lines after the instruction, up to a line that is exactly the delimiter.
//! A line may open several (`COPY <<A <<B /dst/`), whose bodies follow one after the other.
//! The delimiter word decides how the body is used later:
//!
//! - `<<-EOF` *chomps*: leading tabs are stripped from the body's lines (and the delimiter
//!   line may be indented with tabs);
//! - a quoted delimiter, even partly (`<<'EOF'`, `<<"EOF"`, `<<E"OF"`), turns *expansion* of
//!   the body off: `$HOME` stays `$HOME`;
//! - `3<<EOF` feeds the body on file descriptor 3 instead of standard input.
//!
//! The parser keeps bodies as written; chomping and expansion happen when the instruction
//! runs. The dump shows the `<<EOF` word only, never the body.

mod words;

// ANCHOR: heredoc
/// A heredoc an instruction opened, and its body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heredoc {
    /// The delimiter, quotes removed: the body ends at a line that is exactly this.
    pub name: String,
    /// The file descriptor the body goes to (`3<<EOF`); 0, standard input, by default.
    pub file_descriptor: u64,
    /// Whether variables in the body are expanded: false when the delimiter was quoted.
    pub expand: bool,
    /// Whether leading tabs are stripped from the body's lines (`<<-`); the body here is
    /// still unchomped, see [`chomp`].
    pub chomp: bool,
    /// The body, each line with its line ending, as written.
    pub content: String,
}
// ANCHOR_END: heredoc

/// A heredoc word that cannot be read (an unterminated quote in the delimiter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeredocError(pub String);

// ANCHOR: parse_heredoc
/// The heredoc a single word opens (`<<EOF`, `<<-'EOF'`, `3<<EOF`, `<< EOF`), if it opens
/// one: BuildKit's `ParseHeredoc`.
///
/// ```
/// use ch05_dockerfile::parser::heredoc::parse_heredoc;
///
/// let heredoc = parse_heredoc("<<-'EOF'")?.expect("a heredoc");
/// assert_eq!((heredoc.name.as_str(), heredoc.chomp, heredoc.expand), ("EOF", true, false));
/// assert_eq!(parse_heredoc("<<EOF sh")?, None);
/// # Ok::<(), ch05_dockerfile::parser::heredoc::HeredocError>(())
/// ```
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, HeredocError> {
    // The shape is `^(\d*)<<(-?)\s*([^<]*)$`.
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (fd, rest) = word.split_at(digits);
    let Some(rest) = rest.strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let delimiter = rest.trim_start_matches(super::text::is_regex_space);
    if delimiter.is_empty() || delimiter.contains('<') {
        return Ok(None);
    }
    // The delimiter is read twice, without and with its quotes: if they differ in quote
    // characters, some part of it was quoted.
    let bare = words::split(delimiter, false, false).map_err(HeredocError)?;
    let [name] = bare.as_slice() else {
        return Ok(None);
    };
    let raw = words::split(delimiter, true, false).map_err(HeredocError)?;
    let [raw_name] = raw.as_slice() else {
        return Err(HeredocError(format!(
            "internal lexing of heredoc produced inconsistent results: {delimiter}"
        )));
    };
    let quotes = |s: &str| s.chars().filter(|c| matches!(c, '\'' | '"')).count();
    Ok(Some(Heredoc {
        name: name.clone(),
        // Go's ParseUint gives its largest value when the number is too large.
        file_descriptor: if fd.is_empty() {
            0
        } else {
            fd.parse().unwrap_or(u64::MAX)
        },
        expand: quotes(name) == quotes(raw_name),
        chomp,
        content: String::new(),
    }))
}
// ANCHOR_END: parse_heredoc

/// The heredocs an instruction's line opens, in order, bodies still empty: BuildKit's
/// `heredocsFromLine`. Words in quotes (`'<<EOF'`) open none; a line whose words cannot be
/// split (an unterminated quote) opens none.
pub fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, HeredocError> {
    let words = words::split(line, true, true).unwrap_or_default();
    let mut heredocs = Vec::new();
    for word in words {
        heredocs.extend(parse_heredoc(&word)?);
    }
    Ok(heredocs)
}

/// A `<<-` body with the leading tabs of every line removed: BuildKit's
/// `ChompHeredocContent`.
pub fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|line| line.trim_start_matches('\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_descriptors_and_forms() {
        let heredoc = parse_heredoc("3<<EOF").expect("valid").expect("heredoc");
        assert_eq!((heredoc.file_descriptor, heredoc.chomp), (3, false));
        let huge = parse_heredoc("99999999999999999999<<EOF")
            .expect("valid")
            .expect("heredoc");
        assert_eq!(huge.file_descriptor, u64::MAX);
        assert_eq!(parse_heredoc("<<<EOF"), Ok(None));
        assert_eq!(parse_heredoc("<<-"), Ok(None));
    }

    #[test]
    fn delimiters_that_lex_differently_with_quotes_fail() {
        let error = parse_heredoc("<<'' a").expect_err("inconsistent");
        assert_eq!(
            error.0,
            "internal lexing of heredoc produced inconsistent results: '' a"
        );
    }

    #[test]
    fn chomping_strips_leading_tabs_only() {
        assert_eq!(chomp("\t\thello\n\t world\t\n\n"), "hello\n world\t\n\n");
    }
}
