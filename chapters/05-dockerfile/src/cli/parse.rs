//! `parse [-f FILE] [--dump | --check]`: a Dockerfile as BuildKit reads it.
//!
//! Without a flag, an outline: one line per instruction with its line numbers, the joined
//! text of continued lines, its heredocs, a line where each stage starts, and the parser's
//! warnings; the instructions are typed first, so an instruction BuildKit would refuse is
//! an error. With `--dump`, BuildKit's `Node.Dump()` text of the parser's nodes, byte for
//! byte. With `--check`, the build checks' findings, one a line, `Dockerfile:LINE: Rule:
//! message`, and exit status 1 if there are any (as `docker build --check`).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use ch04_images::ImageStore;
use ch04_images::cli::Globals;
use clap::Args;
use dockyard_support::FromIo;

use super::out;
use crate::check::{CheckOptions, Report, check};
use crate::error::{Error, Result};
use crate::parser::{self, Dockerfile, Node};
use crate::stages::{Base, ExpandedFrom, Platform, Stages, predefined_args};

/// The name errors give a Dockerfile read from standard input, as `docker build -f -` does.
const STDIN_NAME: &str = "Dockerfile";

/// `parse`'s arguments.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The Dockerfile; `-` reads standard input
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        default_value = "Dockerfile"
    )]
    file: PathBuf,
    /// Print BuildKit's dump of the AST instead of the outline
    #[arg(long, conflicts_with = "check")]
    dump: bool,
    /// Run the build checks (docker build --check): one finding a line, status 1 if any
    #[arg(long)]
    check: bool,
}

impl ParseArgs {
    /// Reads and parses the file, and prints the outline, the dump or the checks'
    /// findings; the exit status.
    pub fn execute(&self, program: &str, globals: &Globals) -> Result<ExitCode> {
        let (name, source) = self.read()?;
        let dockerfile = parser::parse(&name, &source)?;
        if self.dump {
            for warning in &dockerfile.warnings {
                eprintln!("[WARNING]: {}", warning.message);
            }
            out(format!("{}\n", dockerfile.dump()))?;
        } else if self.check {
            let options = CheckOptions {
                image_env: images_env(&globals.storage.root, &name, &dockerfile),
                build_args: Vec::new(),
            };
            let report = check(&name, &dockerfile, &options)?;
            out(findings(&name, &report))?;
            if let Some(failure) = report.failure {
                return Err(failure);
            }
            if let Some(message) = report.error_message() {
                eprintln!("{program}: {message}");
            }
            if !report.findings.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        } else {
            let stages = Stages::new(&name, &dockerfile)?;
            out(outline(&dockerfile, Some(&stages)))?;
        }
        Ok(ExitCode::SUCCESS)
    }

    /// The file's name (as the user gave it) and its bytes.
    fn read(&self) -> Result<(String, Vec<u8>)> {
        if self.file.as_os_str() == "-" {
            let mut source = Vec::new();
            std::io::stdin()
                .read_to_end(&mut source)
                .map_err(Error::io_op("read the Dockerfile from standard input"))?;
            return Ok((STDIN_NAME.to_owned(), source));
        }
        let source = std::fs::read(&self.file).map_err(Error::io("read", &self.file))?;
        Ok((self.file.display().to_string(), source))
    }
}

/// The environment of each base image the store has, by reference as the `FROM` lines
/// expand: what `UndefinedVar` must know (`$GOPATH` is defined by `FROM golang`). Images the
/// store lacks, or a store that is not there, just define nothing.
fn images_env(
    root: &std::path::Path,
    name: &str,
    dockerfile: &Dockerfile,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut env = std::collections::BTreeMap::new();
    // Reading only: no store is made where there is none.
    if !root.join("images.json").exists() {
        return env;
    }
    let (Ok(store), Ok(stages)) = (ImageStore::open(root), Stages::new(name, dockerfile)) else {
        return env;
    };
    let host = Platform::host();
    let Ok(global) = stages.global_args(name, predefined_args(&host, &host, ""), &[]) else {
        return env;
    };
    for index in 0..stages.stages.len() {
        if let Ok(ExpandedFrom {
            base: Base::Image(reference),
            ..
        }) = stages.expand_from(name, index, &global)
            && let Ok(image) = store.find_image(&reference)
        {
            let config = image.config.config.unwrap_or_default();
            env.insert(reference, config.env);
        }
    }
    env
}

/// `Dockerfile:12: JSONArgsRecommended: JSON arguments recommended for CMD…`, one a line.
pub fn findings(file: &str, report: &Report) -> String {
    report
        .findings
        .iter()
        .map(|finding| {
            format!(
                "{file}:{}: {}: {}\n",
                finding.line, finding.rule, finding.message
            )
        })
        .collect()
}

/// The outline: the directives, then each instruction as read (continuations joined) after
/// its line numbers, its heredocs beneath it, a line where each stage starts (when the
/// stages are given), then the warnings.
///
/// ```text
///    1  # syntax=docker/dockerfile:1
///       stage 0 (build), from busybox
///    3  FROM busybox AS build
///  4-6  RUN set -e;     echo building
///  7-9  COPY <<EOF /etc/motd
///         <<EOF: 1 line
/// ```
pub fn outline(dockerfile: &Dockerfile, stages: Option<&Stages>) -> String {
    let ranges: Vec<String> = dockerfile.nodes.iter().map(line_range).collect();
    let width = ranges.iter().map(String::len).max().unwrap_or(1);
    let mut text = String::new();
    for directive in &dockerfile.directives {
        let (line, name) = (directive.line, directive.kind.as_str());
        text.push_str(&format!("{line:>width$}  # {name}={}\n", directive.value));
    }
    for (node, range) in dockerfile.nodes.iter().zip(&ranges) {
        if let Some(header) = stages.and_then(|stages| stage_header(stages, node.start_line)) {
            text.push_str(&format!("{:width$}  {header}\n", ""));
        }
        text.push_str(&format!("{range:>width$}  {}\n", node.original.trim()));
        for heredoc in &node.heredocs {
            text.push_str(&format!("{:width$}    {}\n", "", heredoc_summary(heredoc)));
        }
    }
    for warning in &dockerfile.warnings {
        text.push_str(&format!(
            "warning: line {}: {}\n",
            warning.line, warning.message
        ));
    }
    text
}

/// `stage 1 (app), from stage 0 (build), for $BUILDPLATFORM`, for the stage whose `FROM`
/// is on `line`.
fn stage_header(stages: &Stages, line: usize) -> Option<String> {
    let index = stages
        .stages
        .iter()
        .position(|stage| stage.start_line == line)?;
    let stage = &stages.stages[index];
    let mut header = format!("stage {index}");
    if let Some(name) = &stage.name {
        header.push_str(&format!(" ({name})"));
    }
    match stages.base_stage(index, &stage.base) {
        Some(base) => {
            header.push_str(&format!(", from stage {base}"));
            if let Some(name) = &stages.stages[base].name {
                header.push_str(&format!(" ({name})"));
            }
        }
        None => header.push_str(&format!(", from {}", stage.base)),
    }
    if let Some(platform) = &stage.platform {
        header.push_str(&format!(", for {platform}"));
    }
    Some(header)
}

/// `7` or `7-9`.
fn line_range(node: &Node) -> String {
    if node.start_line == node.end_line {
        node.start_line.to_string()
    } else {
        format!("{}-{}", node.start_line, node.end_line)
    }
}

/// `<<EOF: 2 lines, tabs stripped, not expanded, on fd 3`.
fn heredoc_summary(heredoc: &parser::Heredoc) -> String {
    let lines = heredoc.content.lines().count();
    let mut summary = format!(
        "<<{}: {lines} line{}",
        heredoc.name,
        if lines == 1 { "" } else { "s" }
    );
    if heredoc.chomp {
        summary.push_str(", tabs stripped");
    }
    if !heredoc.expand {
        summary.push_str(", not expanded");
    }
    if heredoc.file_descriptor != 0 {
        summary.push_str(&format!(", on fd {}", heredoc.file_descriptor));
    }
    summary
}
