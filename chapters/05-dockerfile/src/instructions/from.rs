//! `FROM [--platform=P] base [AS name]`: where a stage starts.
//!
//! `base` is an image reference (`busybox:1.36`), `scratch` (nothing), or the name of an
//! earlier stage; it may hold variables, expanded with the ARGs declared before the first
//! `FROM` (see [`crate::stages`]). `AS name` names the stage, for `COPY --from=name` and
//! `FROM name` to refer to it. Names are case-insensitive: BuildKit lowercases them, and
//! after lowercasing a name must start with a letter and hold only letters, digits, `-`,
//! `_` and `.`.

use super::flags::{FlagKind, read_flags};
use super::{InstructionError, Parsed};
use crate::parser::{Node, text};

/// `FROM`: the base of a stage, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The base as written: an image, `scratch`, or a stage's name; unexpanded.
    pub base: String,
    /// The stage's name, lowercased (`AS Build` names it `build`).
    pub name: Option<String>,
    /// The name as written, and the `AS` keyword as written, for the casing checks.
    pub written_name: Option<(String, String)>,
    /// `--platform`, unexpanded (`$BUILDPLATFORM`, `linux/arm64`).
    pub platform: Option<String>,
}

/// Parses a `FROM` node.
pub fn parse(node: &Node) -> Parsed<From> {
    let name = stage_name(&node.args)?;
    let flags = read_flags(&node.flags, &[("platform", FlagKind::String)])?;
    let written_name = match node.args.as_slice() {
        [_, as_keyword, name] => Some((name.clone(), as_keyword.clone())),
        _ => None,
    };
    Ok(From {
        base: node.args[0].clone(),
        name,
        written_name,
        platform: flags.string("platform").map(str::to_owned),
    })
}

/// The stage name of `base AS name`, lowercased and checked; none for `base` alone.
fn stage_name(args: &[String]) -> Parsed<Option<String>> {
    match args {
        [_] => Ok(None),
        [_, as_keyword, name] if as_keyword.eq_ignore_ascii_case("as") => {
            let lowered = text::to_lower(name);
            if !is_valid_stage_name(&lowered) {
                return Err(InstructionError::new(format!(
                    "invalid name for build stage: {}, name can't start with a number or \
                     contain symbols",
                    crate::parser::go_quote(name)
                ))
                .with_hint("a stage name starts with a letter, then letters, digits, -, _ or ."));
            }
            Ok(Some(lowered))
        }
        _ => Err(
            InstructionError::new("FROM requires either one or three arguments")
                .with_hint("write FROM image, or FROM image AS name"),
        ),
    }
}

/// BuildKit's `^[a-z][a-z0-9-_.]*$`.
pub fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_lowercased_and_checked() {
        let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(stage_name(&words("a")), Ok(None));
        assert_eq!(
            stage_name(&words("a As Build-1.x")),
            Ok(Some("build-1.x".into()))
        );
        let error = stage_name(&words("a AS 1st")).expect_err("a digit first");
        assert_eq!(
            error.message,
            "invalid name for build stage: \"1st\", name can't start with a number or contain symbols"
        );
        let error = stage_name(&words("a b")).expect_err("two words");
        assert_eq!(error.message, "FROM requires either one or three arguments");
        assert!(stage_name(&words("a IS b")).is_err());
        assert!(is_valid_stage_name("a_b") && !is_valid_stage_name("a/b"));
    }
}
