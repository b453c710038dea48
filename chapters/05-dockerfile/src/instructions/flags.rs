//! An instruction's `--flags`, read as BuildKit's `BFlags` reads them.
//!
//! The parser took the `--name=value` words off the front of the line without knowing
//! which names an instruction accepts. Each instruction's parser *declares* its flags here,
//! with their kind, and then reads the words against the declaration:
//!
//! | kind        | written                          | value                           |
//! |-------------|----------------------------------|---------------------------------|
//! | boolean     | `--link`, `--link=true`, `=false` (any case) | `true` or `false`   |
//! | string      | `--from=build` (`--from` alone is an error) | the text after `=`, once |
//! | strings     | `--mount=…` repeated             | every value, in order           |
//!
//! A name that is not declared is `unknown flag: --name`, with a "did you mean" when a
//! declared one is close; a string or boolean flag given twice is an error, a strings flag
//! may repeat. An instruction that takes no flags declares none, so any flag is unknown.

use super::suggest;
use super::{InstructionError, Parsed};

/// What a flag holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `--link` or `--link=false`.
    Bool,
    /// `--from=build`, at most once.
    String,
    /// `--mount=…`, as many times as wanted.
    Strings,
}

/// The values read for the declared flags.
#[derive(Debug, Default)]
pub struct FlagValues {
    /// Each used flag's name and values, in the order first used.
    used: Vec<(&'static str, Vec<String>)>,
}

// ANCHOR: read_flags
/// Reads `words` (the node's flags) against the declared `(name, kind)` pairs.
pub fn read_flags(words: &[String], declared: &[(&'static str, FlagKind)]) -> Parsed<FlagValues> {
    let mut values = FlagValues::default();
    for word in words {
        if word == "--" {
            // The end of the flags, as for POSIX utilities.
            break;
        }
        let Some(spelled) = word.strip_prefix("--") else {
            return Err(InstructionError::new(format!(
                "arg should start with -- : {word}"
            )));
        };
        let (name, value) = match spelled.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (spelled, None),
        };
        let Some(&(name, kind)) = declared.iter().find(|(known, _)| *known == name) else {
            return Err(unknown_flag(name, declared));
        };
        let value = flag_value(name, kind, value)?;
        match values.used.iter_mut().find(|(seen, _)| *seen == name) {
            Some(_) if kind != FlagKind::Strings => {
                return Err(InstructionError::new(format!(
                    "duplicate flag specified: --{name}"
                )));
            }
            Some((_, seen)) => seen.push(value),
            None => values.used.push((name, vec![value])),
        }
    }
    Ok(values)
}

/// A flag's value as its kind reads it.
fn flag_value(name: &str, kind: FlagKind, value: Option<&str>) -> Parsed<String> {
    let missing = || InstructionError::new(format!("missing a value on flag: --{name}"));
    match (kind, value) {
        (FlagKind::Bool, None) => Ok("true".to_owned()),
        (FlagKind::Bool, Some("")) => Err(missing()),
        (FlagKind::Bool, Some(value)) => match value.to_ascii_lowercase().as_str() {
            "true" => Ok("true".to_owned()),
            "false" => Ok("false".to_owned()),
            _ => Err(InstructionError::new(format!(
                "expecting boolean value for flag --{name}, not: {value}"
            ))),
        },
        (_, None) => Err(missing()),
        (_, Some(value)) => Ok(value.to_owned()),
    }
}
// ANCHOR_END: read_flags

/// `unknown flag: --chmown (did you mean chown?)`.
fn unknown_flag(name: &str, declared: &[(&'static str, FlagKind)]) -> InstructionError {
    let names: Vec<&str> = declared.iter().map(|(name, _)| *name).collect();
    let mut message = format!("unknown flag: --{name}");
    if let Some(close) = suggest::closest(name, &names, true) {
        message.push_str(&format!(" (did you mean {close}?)"));
    }
    let hint = if names.is_empty() {
        "this instruction takes no flags".to_owned()
    } else {
        format!("its flags are --{}", names.join(", --"))
    };
    InstructionError::new(message).with_hint(hint)
}

impl FlagValues {
    /// Whether the flag was given.
    pub fn is_used(&self, name: &str) -> bool {
        self.used.iter().any(|(used, _)| *used == name)
    }

    /// A string flag's value, if given.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.strings(name).last().map(String::as_str)
    }

    /// A boolean flag's value, if given.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).map(|value| value == "true")
    }

    /// A strings flag's values, in order (none if not given).
    pub fn strings(&self, name: &str) -> &[String] {
        self.used
            .iter()
            .find(|(used, _)| *used == name)
            .map_or(&[], |(_, values)| values.as_slice())
    }

    /// The names of the flags given, in the order first given.
    pub fn names(&self) -> Vec<String> {
        self.used
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPY: &[(&str, FlagKind)] = &[
        ("chown", FlagKind::String),
        ("link", FlagKind::Bool),
        ("exclude", FlagKind::Strings),
    ];

    fn read(words: &[&str]) -> Parsed<FlagValues> {
        let words: Vec<String> = words.iter().map(|word| word.to_string()).collect();
        read_flags(&words, COPY)
    }

    fn message(words: &[&str]) -> String {
        read(words).expect_err("an error").message
    }

    #[test]
    fn values_by_kind() {
        let values = read(&["--chown=1:1", "--link", "--exclude=a", "--exclude=b"]).expect("valid");
        assert_eq!(values.string("chown"), Some("1:1"));
        assert_eq!(values.bool("link"), Some(true));
        assert_eq!(values.strings("exclude"), ["a", "b"]);
        assert_eq!(values.bool("missing"), None);
        assert_eq!(
            read(&["--link=FALSE"]).expect("valid").bool("link"),
            Some(false)
        );
        assert_eq!(
            read(&["--chown="]).expect("valid").string("chown"),
            Some("")
        );
    }

    #[test]
    fn mistakes_have_buildkits_messages() {
        assert_eq!(
            message(&["--chmown=1"]),
            "unknown flag: --chmown (did you mean chown?)"
        );
        assert_eq!(message(&["--foo"]), "unknown flag: --foo");
        assert_eq!(message(&["--chown"]), "missing a value on flag: --chown");
        assert_eq!(message(&["--link="]), "missing a value on flag: --link");
        assert_eq!(
            message(&["--link=yes"]),
            "expecting boolean value for flag --link, not: yes"
        );
        assert_eq!(
            message(&["--chown=a", "--chown=b"]),
            "duplicate flag specified: --chown"
        );
    }
}
