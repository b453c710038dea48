//! `ENV`, `LABEL` and `ARG`: names and values.
//!
//! `ENV` and `LABEL` set pairs, written `K=V K2="v 2"` or, the legacy way, `K the rest of
//! the line` (one pair, the value everything after the first space). The parser already
//! split them into `name, value, separator` triples; here they become [`KeyValue`]s, the
//! legacy form remembered for the checker (`LegacyKeyValueFormat`).
//!
//! `ARG` declares build arguments, each `NAME` or `NAME=default`: the value comes from
//! `--build-arg NAME=…`, else the default, else the argument is declared but unset. An
//! `ARG` before the first `FROM` is a *meta* argument, usable only in `FROM` lines (and in
//! a stage that declares it again without a value).

use super::flags::read_flags;
use super::{InstructionError, Parsed, at_least_one_argument};
use crate::parser::Node;

/// One `name=value` of an `ENV` or a `LABEL`, unexpanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The name.
    pub key: String,
    /// The value, quotes and escapes still in it.
    pub value: String,
    /// Written the legacy way, `ENV NAME value`.
    pub legacy: bool,
}

/// `ENV`: variables set in the image and for the rest of the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// The pairs, in order.
    pub pairs: Vec<KeyValue>,
}

/// `LABEL`: the image's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The pairs, in order.
    pub pairs: Vec<KeyValue>,
}

/// `ARG`: build arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The arguments declared, in order.
    pub args: Vec<ArgDefinition>,
}

/// One build argument: `NAME` or `NAME=default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDefinition {
    /// The name.
    pub name: String,
    /// The default, unexpanded, if one was written (`NAME=` has the empty one).
    pub default: Option<String>,
}

/// Parses an `ENV` node.
pub fn parse_env(node: &Node) -> Parsed<Env> {
    read_flags(&node.flags, &[])?;
    Ok(Env {
        pairs: pairs(&node.args, "ENV")?,
    })
}

/// Parses a `LABEL` node.
pub fn parse_label(node: &Node) -> Parsed<Label> {
    read_flags(&node.flags, &[])?;
    Ok(Label {
        pairs: pairs(&node.args, "LABEL")?,
    })
}

/// The parser's `name, value, separator` triples as pairs.
fn pairs(args: &[String], keyword: &str) -> Parsed<Vec<KeyValue>> {
    if args.is_empty() {
        return Err(at_least_one_argument(keyword)
            .with_hint(format!("give it a name and a value: {keyword} NAME=value")));
    }
    if !args.len().is_multiple_of(3) {
        return Err(InstructionError::new(format!(
            "Bad input to {keyword}, too many arguments"
        )));
    }
    args.chunks_exact(3)
        .map(|triple| {
            let [key, value, separator] = triple else {
                unreachable!("chunks of three")
            };
            if key.is_empty() {
                return Err(blank_name(keyword));
            }
            Ok(KeyValue {
                key: key.clone(),
                value: value.clone(),
                legacy: separator.is_empty(),
            })
        })
        .collect()
}

/// `ENV names can not be blank`.
fn blank_name(keyword: &str) -> InstructionError {
    InstructionError::new(format!("{keyword} names can not be blank"))
        .with_hint("write a name before the =, as in NAME=value")
}

/// Parses an `ARG` node. It reads no flags: BuildKit ignores any written.
pub fn parse_arg(node: &Node) -> Parsed<Arg> {
    if node.args.is_empty() {
        return Err(at_least_one_argument("ARG").with_hint("name the argument: ARG NAME"));
    }
    let args = node
        .args
        .iter()
        .map(|arg| match arg.split_once('=') {
            Some(("", _)) => Err(blank_name("ARG")),
            Some((name, default)) => Ok(ArgDefinition {
                name: name.to_owned(),
                default: Some(default.to_owned()),
            }),
            None => Ok(ArgDefinition {
                name: arg.clone(),
                default: None,
            }),
        })
        .collect::<Parsed<_>>()?;
    Ok(Arg { args })
}
