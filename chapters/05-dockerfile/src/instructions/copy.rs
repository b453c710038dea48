//! `COPY` and `ADD`: files into the image.
//!
//! Both take sources and a destination, the last argument: `COPY a b /dst/`. A source may
//! be a heredoc (`COPY <<EOF /etc/motd`): a file written inline, named after its
//! delimiter, whose body the parser read. `COPY` copies from the build context, or with
//! `--from` from another stage or an image; `ADD` also fetches URLs and git repositories
//! and unpacks local archives.
//!
//! | flag               | COPY | ADD | meaning                                         |
//! |--------------------|------|-----|-------------------------------------------------|
//! | `--from=stage`     | ✓    |     | copy from a stage (name or index) or an image   |
//! | `--chown=user:grp` | ✓    | ✓   | owner of the copies (names or ids)              |
//! | `--chmod=mode`     | ✓    | ✓   | mode of the copies ([`Chmod`])                  |
//! | `--link`           | ✓    | ✓   | copy into a layer of its own, rebased later     |
//! | `--exclude=pat`    | ✓    | ✓   | leave out what matches (repeatable)             |
//! | `--parents`        | ✓    |     | keep the sources' directories under the target  |
//! | `--checksum=dgst`  |      | ✓   | verify a downloaded source                      |
//! | `--keep-git-dir`   |      | ✓   | keep `.git` of a repository source              |
//! | `--unpack`         |      | ✓   | unpack (or not) an archive source               |

use super::flags::{FlagKind, FlagValues, read_flags};
use super::{Chmod, InstructionError, Parsed, Word};
use crate::parser::heredoc::{chomp, parse_heredoc};
use crate::parser::{Heredoc, Node};

/// What to copy, and where to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The sources that are paths (or URLs, for `ADD`), unexpanded.
    pub paths: Vec<String>,
    /// The sources that are heredocs: files written inline.
    pub inline: Vec<InlineFile>,
    /// The destination, unexpanded.
    pub destination: String,
}

/// A file written inline with a heredoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineFile {
    /// Its name: the heredoc's delimiter.
    pub name: String,
    /// Its content (tabs already stripped for `<<-`).
    pub content: String,
    /// Whether `$VAR`s in the content are expanded (the delimiter was not quoted).
    pub expand: bool,
}

/// `COPY`: files from the context, another stage or an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// What, and where to.
    pub sources: Sources,
    /// `--from`: a stage's name or index, or an image.
    pub from: Option<String>,
    /// `--chown`, unexpanded.
    pub chown: Option<String>,
    /// `--chmod`.
    pub chmod: Option<Word<Chmod>>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
}

/// `ADD`: files, URLs, git repositories, archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    /// What, and where to.
    pub sources: Sources,
    /// `--chown`, unexpanded.
    pub chown: Option<String>,
    /// `--chmod`.
    pub chmod: Option<Word<Chmod>>,
    /// `--link`.
    pub link: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
    /// `--checksum`, unexpanded.
    pub checksum: Option<String>,
    /// `--keep-git-dir`, if given.
    pub keep_git_dir: Option<bool>,
    /// `--unpack`, if given.
    pub unpack: Option<bool>,
}

/// Parses a `COPY` node.
pub fn parse_copy(node: &Node) -> Parsed<Copy> {
    at_least_two_arguments(node, "COPY")?;
    let flags = read_flags(
        &node.flags,
        &[
            ("chown", FlagKind::String),
            ("from", FlagKind::String),
            ("chmod", FlagKind::String),
            ("link", FlagKind::Bool),
            ("exclude", FlagKind::Strings),
            ("parents", FlagKind::Bool),
        ],
    )?;
    Ok(Copy {
        sources: sources(node, "COPY")?,
        from: non_empty(&flags, "from"),
        chown: non_empty(&flags, "chown"),
        chmod: chmod(&flags)?,
        link: flags.bool("link").unwrap_or(false),
        parents: flags.bool("parents").unwrap_or(false),
        exclude: flags.strings("exclude").to_vec(),
    })
}

/// Parses an `ADD` node.
pub fn parse_add(node: &Node) -> Parsed<Add> {
    at_least_two_arguments(node, "ADD")?;
    let flags = read_flags(
        &node.flags,
        &[
            ("chown", FlagKind::String),
            ("chmod", FlagKind::String),
            ("link", FlagKind::Bool),
            ("keep-git-dir", FlagKind::Bool),
            ("checksum", FlagKind::String),
            ("unpack", FlagKind::Bool),
            ("exclude", FlagKind::Strings),
        ],
    )?;
    Ok(Add {
        sources: sources(node, "ADD")?,
        chown: non_empty(&flags, "chown"),
        chmod: chmod(&flags)?,
        link: flags.bool("link").unwrap_or(false),
        exclude: flags.strings("exclude").to_vec(),
        checksum: non_empty(&flags, "checksum"),
        keep_git_dir: flags.bool("keep-git-dir"),
        unpack: flags.bool("unpack"),
    })
}

fn at_least_two_arguments(node: &Node, keyword: &str) -> Parsed<()> {
    if node.args.len() >= 2 {
        return Ok(());
    }
    Err(InstructionError::new(format!(
        "{keyword} requires at least two arguments, but only one was provided. Destination \
         could not be determined"
    ))
    .with_hint(format!(
        "name the destination last, as in {keyword} app.conf /etc/app/"
    )))
}

/// A string flag's value; empty is the same as not given.
fn non_empty(flags: &FlagValues, name: &str) -> Option<String> {
    flags
        .string(name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn chmod(flags: &FlagValues) -> Parsed<Option<Word<Chmod>>> {
    non_empty(flags, "chmod")
        .map(|value| Word::new(&value, Chmod::parse))
        .transpose()
}

/// The sources and destination, heredoc sources matched with the bodies the parser read.
fn sources(node: &Node, keyword: &str) -> Parsed<Sources> {
    let (destination, sources) = node.args.split_last().expect("two arguments or more");
    if heredoc_word(destination).is_some() {
        return Err(InstructionError::new(format!(
            "{keyword} cannot accept a heredoc as a destination"
        ))
        .with_hint("heredocs are sources; name the destination file after them"));
    }
    let mut paths = Vec::new();
    let mut inline = Vec::new();
    for source in sources {
        let Some(word) = heredoc_word(source) else {
            paths.push(source.clone());
            continue;
        };
        // The last body read for that name (none: an empty file).
        let body = node
            .heredocs
            .iter()
            .rfind(|heredoc| heredoc.name == word.name)
            .map_or("", |heredoc| heredoc.content.as_str());
        let content = if word.chomp {
            chomp(body)
        } else {
            body.to_owned()
        };
        inline.push(InlineFile {
            name: word.name,
            content,
            expand: word.expand,
        });
    }
    Ok(Sources {
        paths,
        inline,
        destination: destination.clone(),
    })
}

/// The heredoc an argument opens, if it is one (a word that cannot be read opens none).
fn heredoc_word(word: &str) -> Option<Heredoc> {
    parse_heredoc(word).ok().flatten()
}
