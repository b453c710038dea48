//! The instructions that set one thing in the image's configuration: `WORKDIR`, `USER`,
//! `EXPOSE`, `VOLUME`, `STOPSIGNAL`, `MAINTAINER`; and `ONBUILD`, which keeps an
//! instruction for later.
//!
//! Their values are words the builder expands (`WORKDIR $HOME/app`), so little can be
//! checked before: the number of arguments, and that no flag is given (`STOPSIGNAL`, as
//! in BuildKit, does not even look at its flags).
//!
//! `ONBUILD` holds an instruction that is not run now but stored in the image; every build
//! `FROM` that image runs it first. It cannot hold `ONBUILD` (chains), `FROM` or
//! `MAINTAINER`. Only its keyword is checked here: the trigger is parsed again, fully, by
//! the build that runs it.

use super::flags::read_flags;
use super::{InstructionError, Parsed, at_least_one_argument, exactly_one_argument, node_args};
use crate::parser::{Node, text};

/// `WORKDIR`: the working directory of the next instructions and of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workdir {
    /// The path, unexpanded; relative to the current working directory if relative.
    pub path: String,
}

/// `USER`: `user[:group]`, names or ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user, unexpanded.
    pub user: String,
}

/// `EXPOSE`: `port[/protocol]` or ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expose {
    /// The ports as written, unexpanded, sorted (as BuildKit sorts them).
    pub ports: Vec<String>,
}

/// `VOLUME`: directories that are volumes in containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// The paths, unexpanded.
    pub paths: Vec<String>,
}

/// `STOPSIGNAL`: what `docker stop` sends (`SIGTERM` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopSignal {
    /// The signal, a name or a number, unexpanded.
    pub signal: String,
}

/// `MAINTAINER`: the image's author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintainer {
    /// The author, as written.
    pub name: String,
}

/// `ONBUILD`: an instruction for the builds that start from this image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onbuild {
    /// The trigger's keyword, uppercase (`RUN`).
    pub trigger: String,
    /// The trigger as stored in the image: the line without `ONBUILD`, heredoc bodies
    /// appended.
    pub expression: String,
}

/// Parses a `WORKDIR` node.
pub fn parse_workdir(node: &Node) -> Parsed<Workdir> {
    let path = the_one_argument(node, "WORKDIR")?;
    read_flags(&node.flags, &[])?;
    Ok(Workdir { path })
}

/// Parses a `USER` node.
pub fn parse_user(node: &Node) -> Parsed<User> {
    let user = the_one_argument(node, "USER")?;
    read_flags(&node.flags, &[])?;
    Ok(User { user })
}

/// Parses a `MAINTAINER` node.
pub fn parse_maintainer(node: &Node) -> Parsed<Maintainer> {
    let name = the_one_argument(node, "MAINTAINER")?;
    read_flags(&node.flags, &[])?;
    Ok(Maintainer { name })
}

/// Parses a `STOPSIGNAL` node (its flags are ignored, as BuildKit ignores them).
pub fn parse_stop_signal(node: &Node) -> Parsed<StopSignal> {
    let signal = the_one_argument(node, "STOPSIGNAL")?;
    Ok(StopSignal { signal })
}

fn the_one_argument(node: &Node, keyword: &str) -> Parsed<String> {
    match node.args.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(exactly_one_argument(keyword)),
    }
}

/// Parses an `EXPOSE` node.
pub fn parse_expose(node: &Node) -> Parsed<Expose> {
    if node.args.is_empty() {
        return Err(at_least_one_argument("EXPOSE").with_hint("name a port: EXPOSE 80/tcp"));
    }
    read_flags(&node.flags, &[])?;
    let mut ports = node.args.clone();
    ports.sort();
    Ok(Expose { ports })
}

/// Parses a `VOLUME` node.
pub fn parse_volume(node: &Node) -> Parsed<Volume> {
    if node.args.is_empty() {
        return Err(at_least_one_argument("VOLUME").with_hint("name a path: VOLUME /data"));
    }
    read_flags(&node.flags, &[])?;
    let paths = node
        .args
        .iter()
        .map(|path| match path.trim() {
            "" => Err(InstructionError::new(
                "VOLUME specified can not be an empty string",
            )),
            path => Ok(path.to_owned()),
        })
        .collect::<Parsed<_>>()?;
    Ok(Volume { paths })
}

/// Parses an `ONBUILD` node.
pub fn parse_onbuild(node: &Node) -> Parsed<Onbuild> {
    let args = node_args(node);
    let Some(trigger) = args.first() else {
        return Err(at_least_one_argument("ONBUILD").with_hint("write ONBUILD RUN …"));
    };
    read_flags(&node.flags, &[])?;
    let trigger = trigger.trim().to_uppercase();
    match trigger.as_str() {
        "ONBUILD" => {
            return Err(InstructionError::new(
                "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
            ));
        }
        "MAINTAINER" | "FROM" => {
            return Err(InstructionError::new(format!(
                "{trigger} isn't allowed as an ONBUILD trigger"
            )));
        }
        _ => {}
    }
    let mut expression = without_onbuild(&node.original).to_owned();
    for heredoc in &node.heredocs {
        expression.push('\n');
        expression.push_str(&heredoc.content);
        expression.push_str(&heredoc.name);
    }
    Ok(Onbuild {
        trigger,
        expression,
    })
}

/// The line without its leading `ONBUILD` keyword and the whitespace around it.
fn without_onbuild(line: &str) -> &str {
    let line = line.trim_start_matches(text::is_regex_space);
    match line.get(..7) {
        Some(keyword) if keyword.eq_ignore_ascii_case("onbuild") => {
            line[7..].trim_start_matches(text::is_regex_space)
        }
        _ => line,
    }
}
