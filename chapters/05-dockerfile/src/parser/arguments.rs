//! From an instruction's line to a [`Node`]: the keyword, the flags, the arguments.
//!
//! The line is cut in three: the keyword (up to the first whitespace), the `--flags` that
//! follow it, and the rest. How the rest splits depends on the keyword, and BuildKit has one
//! small line parser per kind of instruction:
//!
//! | instructions                     | the arguments                                        |
//! |----------------------------------|------------------------------------------------------|
//! | `FROM`, `EXPOSE`                 | whitespace-separated words                           |
//! | `COPY`, `ADD`, `VOLUME`          | a JSON array of strings, else whitespace-separated   |
//! | `RUN`, `CMD`, `ENTRYPOINT`, `SHELL` | a JSON array of strings, else the whole rest as one string (shell form) |
//! | `ENV`, `LABEL`                   | `K=V` pairs (quotes kept), or the legacy `K V`       |
//! | `ARG`                            | words, each `NAME` or `NAME=VALUE`                   |
//! | `USER`, `WORKDIR`, `MAINTAINER`, `STOPSIGNAL` | the whole rest as one string            |
//! | `HEALTHCHECK`                    | a type word (`CMD`, `NONE`), then as `CMD`           |
//! | `ONBUILD`                        | another instruction, parsed the same way             |
//!
//! "JSON, else shell form" is lenient: anything that is not valid JSON (single quotes, a
//! missing bracket) silently becomes shell form. Only *valid* JSON with something other
//! than strings in it is an error.

use super::node::{Keyword, Node};
use super::{SyntaxError, text};

/// How deeply `ONBUILD` may hold `ONBUILD`. BuildKit's parser has no limit (its builder
/// refuses even one level); this one refuses absurd depths, to bound its recursion.
const MAX_ONBUILD_NESTING: usize = 64;

/// An instruction's arguments as its line parser splits them.
#[derive(Debug, Default)]
struct Arguments {
    args: Vec<String>,
    json: bool,
    nested: Option<Box<Node>>,
}

impl Arguments {
    fn words(args: Vec<String>) -> Self {
        Arguments {
            args,
            ..Arguments::default()
        }
    }
}

// ANCHOR: node_from_line
/// Parses one instruction's (joined) line into a node; lines and heredocs are the caller's.
pub(crate) fn node_from_line(line: &str, escape: char) -> Result<Node, SyntaxError> {
    node_at_depth(line, escape, 0)
}

fn node_at_depth(line: &str, escape: char, depth: usize) -> Result<Node, SyntaxError> {
    let (instruction, flags, rest) = split_command(line, escape);
    let keyword = Keyword::from_name(&instruction);
    let arguments = match keyword {
        Some(Keyword::From | Keyword::Expose) => Arguments::words(whitespace_separated(&rest)),
        Some(Keyword::Copy | Keyword::Add | Keyword::Volume) => maybe_json_or_words(&rest)?,
        Some(Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell) => {
            maybe_json(&rest)?
        }
        Some(Keyword::Env | Keyword::Label) => {
            let key = if keyword == Some(Keyword::Env) {
                "ENV"
            } else {
                "LABEL"
            };
            Arguments::words(name_values(&rest, key, escape)?)
        }
        Some(Keyword::Arg) => Arguments::words(parse_words(&rest, escape)),
        Some(Keyword::User | Keyword::Workdir | Keyword::Maintainer | Keyword::StopSignal) => {
            Arguments::words(whole(&rest))
        }
        Some(Keyword::Healthcheck) => health_config(&rest)?,
        Some(Keyword::Onbuild) => sub_command(&rest, escape, depth)?,
        // An unknown instruction is kept, without arguments, for later stages to refuse.
        None => Arguments::default(),
    };
    Ok(Node {
        instruction,
        flags,
        args: arguments.args,
        nested: arguments.nested,
        json: arguments.json,
        original: line.to_owned(),
        ..Node::default()
    })
}
// ANCHOR_END: node_from_line

/// The keyword, the flags, and the rest of the line (trimmed).
fn split_command(line: &str, escape: char) -> (String, Vec<String>, String) {
    let line = line.trim();
    match line.split_once(text::is_split_space) {
        None => (line.to_owned(), Vec::new(), String::new()),
        Some((keyword, after)) => {
            let after = after.trim_start_matches(text::is_split_space);
            let (rest, flags) = extract_flags(after, escape);
            (keyword.to_owned(), flags, rest.trim().to_owned())
        }
    }
}

/// Takes the `--flag` words off the front of `line`: the rest, and the flags with their
/// quotes and escapes removed. A lone `--` ends the flags.
///
/// Like BuildKit's, this reads the line a *byte* at a time and takes each byte for a
/// character: a flag holding `ö` comes out as `Ã¶`, exactly as BuildKit stores it.
fn extract_flags(line: &str, escape: char) -> (String, Vec<String>) {
    let bytes = line.as_bytes();
    let escape = u8::try_from(escape).unwrap_or(b'\\');
    let mut flags = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && text::is_space_byte(bytes[pos]) {
            pos += 1;
        }
        if !bytes[pos..].starts_with(b"--") {
            return (text::lossy(&bytes[pos..]), flags);
        }
        let (word, quoted, end) = flag_word(bytes, pos, escape);
        pos = end;
        if word == "--" {
            return (text::lossy(&bytes[pos.min(bytes.len())..]), flags);
        }
        if quoted || !word.is_empty() {
            flags.push(word);
        }
        if pos >= bytes.len() {
            return (String::new(), flags);
        }
    }
}

/// One flag word starting at `start`: its text, whether it had quotes, where it ended.
fn flag_word(bytes: &[u8], start: usize, escape: u8) -> (String, bool, usize) {
    let mut word = String::new();
    let mut quote = None;
    let mut quoted = false;
    let mut pos = start;
    while pos < bytes.len() {
        let b = bytes[pos];
        match quote {
            None if text::is_space_byte(b) => break,
            None if b == b'\'' || b == b'"' => {
                quote = Some(b);
                quoted = true;
            }
            Some(q) if b == q => quote = None,
            _ if b == escape => {
                if pos + 1 == bytes.len() {
                    // An escape character at the very end is dropped.
                    pos += 1;
                    break;
                }
                pos += 1;
                word.push(char::from(bytes[pos]));
            }
            _ => word.push(char::from(b)),
        }
        pos += 1;
    }
    (word, quoted, pos)
}

/// Words separated by runs of `[\t\v\f\r ]`.
fn whitespace_separated(rest: &str) -> Vec<String> {
    rest.split(text::is_split_space)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The whole rest as one argument, none if empty.
fn whole(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        Vec::new()
    } else {
        vec![rest.to_owned()]
    }
}

// ANCHOR: json
/// The arguments of a JSON array of strings, if `rest` is valid JSON for one. `Ok(None)`
/// when it is not JSON at all (the caller falls back to shell form); an error when it is
/// valid JSON with something else than strings in it.
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, SyntaxError> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(rest) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|value| match value {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(SyntaxError::new(
                "when using JSON array syntax, arrays must be comprised of strings only",
            )
            .with_hint(r#"quote every element, as in ["echo", "1"], or write the shell form"#)),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// RUN, CMD, ENTRYPOINT, SHELL: JSON form, or the rest as one shell-form string.
fn maybe_json(rest: &str) -> Result<Arguments, SyntaxError> {
    if rest.is_empty() {
        return Ok(Arguments::default());
    }
    Ok(match parse_json(rest)? {
        Some(args) => Arguments {
            args,
            json: true,
            nested: None,
        },
        None => Arguments::words(vec![rest.to_owned()]),
    })
}

/// COPY, ADD, VOLUME: JSON form, or whitespace-separated words.
fn maybe_json_or_words(rest: &str) -> Result<Arguments, SyntaxError> {
    Ok(match parse_json(rest)? {
        Some(args) => Arguments {
            args,
            json: true,
            nested: None,
        },
        None => Arguments::words(whitespace_separated(rest)),
    })
}
// ANCHOR_END: json

// ANCHOR: name_values
/// ENV and LABEL: `K=V K2="v 2"` as triples `K, V, "="`, or the legacy `K V` (the value is
/// the whole rest of the line) as `K, V, ""`. Quotes and escapes stay: they are removed when
/// the value is expanded.
fn name_values(rest: &str, key: &str, escape: char) -> Result<Vec<String>, SyntaxError> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let Some((name, value)) = rest.split_once(text::is_split_space) else {
            return Err(SyntaxError::new(format!("{key} must have two arguments"))
                .with_hint(format!("give it a value: {key} {first}=VALUE")));
        };
        let value = value.trim_start_matches(text::is_split_space);
        return Ok(vec![name.to_owned(), value.to_owned(), String::new()]);
    }
    let mut triples = Vec::with_capacity(words.len() * 3);
    for word in &words {
        let Some((name, value)) = word.split_once('=') else {
            return Err(SyntaxError::new(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                super::go_quote(word)
            ))
            .with_hint("write every pair as name=value, quoting values that hold spaces"));
        };
        triples.extend([name.to_owned(), value.to_owned(), "=".to_owned()]);
    }
    Ok(triples)
}
// ANCHOR_END: name_values

/// Splits at whitespace outside quotes, keeping the quotes and escapes in the words
/// (BuildKit's `parseWords`): `a "b c" d\ e` is `a`, `"b c"`, `d\ e`.
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A quoted empty string (`""`) is a word, even though it adds no characters.
    let mut quoted = false;
    let mut quote: Option<char> = None;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            None if text::is_space(c) => {
                if quoted || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                quoted = false;
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    quoted = true;
                }
                if c == escape {
                    // The escape character and the one it escapes both stay; one at the
                    // very end is dropped.
                    let Some(escaped) = chars.next() else { break };
                    word.push(c);
                    word.push(escaped);
                } else {
                    word.push(c);
                }
            }
            Some(q) => {
                if c == q {
                    quote = None;
                }
                // In double quotes the escape character escapes; in single quotes nothing
                // does.
                if c == escape && q != '\'' {
                    // One at the very end is dropped, and ends the quote.
                    let Some(escaped) = chars.next() else { break };
                    word.push(c);
                    word.push(escaped);
                } else {
                    word.push(c);
                }
            }
        }
    }
    if quoted || !word.is_empty() {
        words.push(word);
    }
    words
}

/// HEALTHCHECK: the type word, then the rest as RUN's arguments. Like BuildKit, the type
/// ends at the first byte that is a space in Latin-1.
fn health_config(rest: &str) -> Result<Arguments, SyntaxError> {
    let bytes = rest.as_bytes();
    let type_end = bytes
        .iter()
        .position(|&b| text::is_space_byte(b))
        .unwrap_or(bytes.len());
    if type_end == 0 {
        return Ok(Arguments::default());
    }
    let command_start = bytes[type_end..]
        .iter()
        .position(|&b| !text::is_space_byte(b))
        .map_or(bytes.len(), |at| type_end + at);
    let mut arguments = maybe_json(&text::lossy(&bytes[command_start..]))?;
    arguments.args.insert(0, text::lossy(&bytes[..type_end]));
    Ok(arguments)
}

/// ONBUILD: the rest is an instruction of its own.
fn sub_command(rest: &str, escape: char, depth: usize) -> Result<Arguments, SyntaxError> {
    if rest.is_empty() {
        return Ok(Arguments::default());
    }
    if depth >= MAX_ONBUILD_NESTING {
        return Err(SyntaxError::new(format!(
            "ONBUILD nested more than {MAX_ONBUILD_NESTING} deep"
        ))
        .with_hint("ONBUILD takes an instruction other than ONBUILD"));
    }
    let nested = node_at_depth(rest, escape, depth + 1)?;
    Ok(Arguments {
        nested: Some(Box::new(nested)),
        ..Arguments::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes_and_escapes() {
        let words = |s| parse_words(s, '\\');
        assert_eq!(words("foo"), ["foo"]);
        assert_eq!(words("foo bar"), ["foo", "bar"]);
        assert_eq!(words("foo\\ bar"), ["foo\\ bar"]);
        assert_eq!(words("foo=bar"), ["foo=bar"]);
        assert_eq!(words("foo bar 'abc xyz'"), ["foo", "bar", "'abc xyz'"]);
        assert_eq!(
            words(r#"foo bar "abc xyz""#),
            ["foo", "bar", r#""abc xyz""#]
        );
        assert_eq!(words("àöû"), ["àöû"]);
        assert_eq!(
            words(r#"föo bàr "âbc xÿz""#),
            ["föo", "bàr", r#""âbc xÿz""#]
        );
        assert_eq!(words("a= b=\"\""), ["a=", "b=\"\""]);
    }

    #[test]
    fn name_values_in_both_forms() {
        let old = name_values("foo bar", "LABEL", '\\').expect("valid");
        assert_eq!(old, ["foo", "bar", ""]);
        let new = name_values("foo=bar thing=star", "LABEL", '\\').expect("valid");
        assert_eq!(new, ["foo", "bar", "=", "thing", "star", "="]);
        let error = name_values("foo", "ENV", '\\').expect_err("no value");
        assert_eq!(error.message, "ENV must have two arguments");
        let error = name_values("a=b c", "ENV", '\\').expect_err("no =");
        assert_eq!(
            error.message,
            r#"Syntax error - can't find = in "c". Must be of the form: name=value"#
        );
    }

    #[test]
    fn json_arrays_of_strings() {
        let valid = [
            ("[]", vec![]),
            (r#"[""]"#, vec![""]),
            (r#"[ "a", "b" ]"#, vec!["a", "b"]),
            ("\t[\t\"a\",\t\"b\"\t]\t", vec!["a", "b"]),
            (
                r#"["\" \\ \/ \b \f \n \r \t \u0000"]"#,
                vec!["\" \\ / \u{8} \u{c} \n \r \t \0"],
            ),
        ];
        for (json, expected) in valid {
            assert_eq!(
                parse_json(json).expect("valid"),
                Some(expected.iter().map(|s| s.to_string()).collect())
            );
        }
        for json in [
            r#"["a",42,"b"]"#,
            r#"["a",{},"b"]"#,
            r#"["a",["c"],"b"]"#,
            r#"["a",null]"#,
            "[true]",
        ] {
            assert!(parse_json(json).is_err(), "{json}");
        }
        for json in ["['a']", r#"["a""#, r#"["a"] x"#, "a"] {
            assert_eq!(parse_json(json).expect("not JSON"), None, "{json}");
        }
    }

    #[test]
    fn flags_come_off_the_front() {
        let (rest, flags) = extract_flags("--from=build --chown='a b' src dst", '\\');
        assert_eq!(
            (rest.as_str(), flags),
            (
                "src dst",
                vec!["--from=build".to_owned(), "--chown=a b".to_owned()]
            )
        );
        let (rest, flags) = extract_flags("--a -- --b c", '\\');
        assert_eq!((rest.as_str(), flags), (" --b c", vec!["--a".to_owned()]));
        let (_, flags) = extract_flags("--x=ö y", '\\');
        assert_eq!(flags, ["--x=Ã¶"]);
    }

    #[test]
    fn onbuild_nesting_is_bounded() {
        let line = format!("{}RUN x", "ONBUILD ".repeat(1000));
        assert!(node_from_line(&line, '\\').is_err());
        let node = node_from_line("ONBUILD ONBUILD RUN x", '\\').expect("two levels");
        assert_eq!(node.dump(), r#"onbuild (onbuild (run "x"))"#);
    }
}
