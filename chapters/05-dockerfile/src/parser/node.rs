//! One instruction as the parser leaves it: a [`Node`].
//!
//! BuildKit's parser does not understand instructions; it only cuts each one into the pieces
//! the later stages need: the keyword as written, the `--flags` in front, the arguments split
//! the way that keyword splits them (see [`super::arguments`]), any heredoc bodies, and where
//! in the file it was. Nothing is expanded yet: `$HOME` is still `$HOME`, quotes are still
//! there in shell form. Deciding what `COPY --chown=$USER a b` *means* is the job of the typed
//! instructions built on top of these nodes.

use super::heredoc::Heredoc;
use super::text;

// ANCHOR: node
/// One instruction of a Dockerfile, as BuildKit's parser stores it.
///
/// ```
/// use ch05_dockerfile::parser::{Keyword, parse};
///
/// let dockerfile = parse("Dockerfile", b"FROM busybox\nCOPY --chown=1:1 a b /dst/\n")?;
/// let copy = &dockerfile.nodes[1];
/// assert_eq!(copy.keyword(), Some(Keyword::Copy));
/// assert_eq!(copy.flags, ["--chown=1:1"]);
/// assert_eq!(copy.args, ["a", "b", "/dst/"]);
/// assert_eq!(copy.dump(), r#"copy ["--chown=1:1"] "a" "b" "/dst/""#);
/// # Ok::<(), ch05_dockerfile::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The keyword as written (`RUN`, `from`, or a word no Dockerfile knows: the parser
    /// keeps unknown instructions and leaves them to the later stages to refuse).
    pub instruction: String,
    /// The `--name=value` words in front of the arguments, quotes removed
    /// (`["--from=build", "--chown=1:1"]`).
    pub flags: Vec<String>,
    /// The arguments, split as this keyword splits them, unexpanded. ENV and LABEL give
    /// triples `name, value, separator`, where the separator is `"="` for `K=V` and `""` for
    /// the legacy `K V` form; HEALTHCHECK gives its type (`CMD`, `NONE`) first.
    pub args: Vec<String>,
    /// The instruction an `ONBUILD` holds.
    pub nested: Option<Box<Node>>,
    /// Whether the arguments came from JSON form (`["a", "b"]`) rather than shell form. For
    /// an `ONBUILD` it is its nested instruction's that says.
    pub json: bool,
    /// The heredocs the instruction opened, in order, with their bodies.
    pub heredocs: Vec<Heredoc>,
    /// The instruction's line as the parser read it: continuation lines joined, comments
    /// inside the continuation left out, heredoc bodies not included.
    pub original: String,
    /// The line it starts on, from 1.
    pub start_line: usize,
    /// The line it ends on: its last continuation line, or its last heredoc's terminator.
    pub end_line: usize,
    /// The comment lines just above it (their text after `#`), for tools that document
    /// instructions from their comments.
    pub comments: Vec<String>,
}
// ANCHOR_END: node

impl Node {
    /// The instruction's keyword, if it is one a Dockerfile knows (in any case: `run`,
    /// `RUN`, `Run`).
    pub fn keyword(&self) -> Option<Keyword> {
        Keyword::from_name(&self.instruction)
    }

    /// The instruction whose arguments decide this node's form: an `ONBUILD`'s nested
    /// instruction, or the node itself.
    pub fn innermost(&self) -> &Node {
        let mut node = self;
        while let Some(nested) = &node.nested {
            node = nested;
        }
        node
    }

    /// Whether heredocs are looked for on this instruction's line: RUN, COPY and ADD (also
    /// behind an ONBUILD) in shell form.
    pub(crate) fn can_contain_heredoc(&self) -> bool {
        let node = match (self.keyword(), &self.nested) {
            (Some(Keyword::Onbuild), Some(nested)) => nested.as_ref(),
            _ => self,
        };
        matches!(
            node.keyword(),
            Some(Keyword::Run | Keyword::Copy | Keyword::Add)
        ) && !node.json
    }
}

/// The instructions a Dockerfile knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// `ADD`: copy files, URLs and archives into the image.
    Add,
    /// `ARG`: a build argument.
    Arg,
    /// `CMD`: the default command.
    Cmd,
    /// `COPY`: copy files into the image.
    Copy,
    /// `ENTRYPOINT`: the command the image runs.
    Entrypoint,
    /// `ENV`: environment variables.
    Env,
    /// `EXPOSE`: ports the image listens on.
    Expose,
    /// `FROM`: start a stage from an image.
    From,
    /// `HEALTHCHECK`: how to tell the container is healthy.
    Healthcheck,
    /// `LABEL`: metadata.
    Label,
    /// `MAINTAINER`: the author (deprecated for a label).
    Maintainer,
    /// `ONBUILD`: an instruction for images built from this one.
    Onbuild,
    /// `RUN`: run a command in a new layer.
    Run,
    /// `SHELL`: the shell for shell form.
    Shell,
    /// `STOPSIGNAL`: the signal that stops the container.
    StopSignal,
    /// `USER`: the user to run as.
    User,
    /// `VOLUME`: directories to mount volumes on.
    Volume,
    /// `WORKDIR`: the working directory.
    Workdir,
}

impl Keyword {
    /// Every keyword, in alphabetical order.
    pub const ALL: [Keyword; 18] = [
        Keyword::Add,
        Keyword::Arg,
        Keyword::Cmd,
        Keyword::Copy,
        Keyword::Entrypoint,
        Keyword::Env,
        Keyword::Expose,
        Keyword::From,
        Keyword::Healthcheck,
        Keyword::Label,
        Keyword::Maintainer,
        Keyword::Onbuild,
        Keyword::Run,
        Keyword::Shell,
        Keyword::StopSignal,
        Keyword::User,
        Keyword::Volume,
        Keyword::Workdir,
    ];

    /// The keyword as Dockerfiles conventionally write it: `RUN`, `STOPSIGNAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Add => "ADD",
            Keyword::Arg => "ARG",
            Keyword::Cmd => "CMD",
            Keyword::Copy => "COPY",
            Keyword::Entrypoint => "ENTRYPOINT",
            Keyword::Env => "ENV",
            Keyword::Expose => "EXPOSE",
            Keyword::From => "FROM",
            Keyword::Healthcheck => "HEALTHCHECK",
            Keyword::Label => "LABEL",
            Keyword::Maintainer => "MAINTAINER",
            Keyword::Onbuild => "ONBUILD",
            Keyword::Run => "RUN",
            Keyword::Shell => "SHELL",
            Keyword::StopSignal => "STOPSIGNAL",
            Keyword::User => "USER",
            Keyword::Volume => "VOLUME",
            Keyword::Workdir => "WORKDIR",
        }
    }

    /// The keyword a word names, in any case (lowercased as Go lowercases it).
    pub fn from_name(name: &str) -> Option<Keyword> {
        let lower = text::to_lower(name);
        Keyword::ALL
            .into_iter()
            .find(|keyword| keyword.as_str().eq_ignore_ascii_case(&lower))
    }
}

impl std::fmt::Display for Keyword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
