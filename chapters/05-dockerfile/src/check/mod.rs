//! Build checks: what `docker build --check` warns about.
//!
//! A Dockerfile can be valid and still be wrong in ways a reader would not see: a `CMD` in
//! shell form never receives `docker stop`'s SIGTERM, `$PAHT` is silently empty, the first
//! of two `CMD`s does nothing. BuildKit runs *checks* (its linter) while it reads a
//! Dockerfile, each a named rule with a message; this module runs the same rules, with
//! the same names and wording, and returns the findings as data.
//!
//! Some rules look at the text alone (casing, `MAINTAINER`, stage names, empty
//! continuation lines); the others follow the build as BuildKit would run it, stage by
//! stage, without running anything: which variables each instruction's words use and
//! which are defined at that point (`ENV`, `ARG`, the base stage's), whether a `SHELL`
//! came before a shell-form `CMD`, which `CMD` a later one overrides.
//!
//! - [`Rule`]: the rules and their names;
//! - [`CheckConfig`]: the `# check=skip=…;error=true` directive;
//! - `text_rules`: the rules about how the file is written;
//! - `walk`: the rules that follow the build, with the variables in scope.
//!
//! ## Where this differs from BuildKit
//!
//! BuildKit pulls each base image's configuration first, and knows the variables it
//! defines (`FROM golang` defines `GOPATH`). Without a registry at hand, an image here is
//! taken to define `PATH` only, unless [`CheckOptions::image_env`] says what it defines;
//! a variable only the image defines is then reported as undefined. Findings that are
//! identical (same rule, line and message) are reported once.
//!
//! ```
//! use ch05_dockerfile::check::{CheckOptions, Rule, check};
//! use ch05_dockerfile::parser::parse;
//!
//! let dockerfile = parse("Dockerfile", b"FROM alpine\nENV PATH=$PAHT:/app\nCMD app\n")?;
//! let report = check("Dockerfile", &dockerfile, &CheckOptions::default())?;
//! let rules: Vec<Rule> = report.findings.iter().map(|finding| finding.rule).collect();
//! assert_eq!(rules, [Rule::UndefinedVar, Rule::JSONArgsRecommended]);
//! assert_eq!(
//!     report.findings[0].message,
//!     "Usage of undefined variable '$PAHT' (did you mean $PATH?)"
//! );
//! # Ok::<(), ch05_dockerfile::Error>(())
//! ```

mod config;
mod rule;
mod text_rules;
mod walk;

pub use config::CheckConfig;
pub use rule::Rule;

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::parser::{DirectiveKind, Dockerfile};
use crate::stages::Stages;

// ANCHOR: finding
/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// The line it is about, from 1.
    pub line: usize,
    /// What was found, in BuildKit's words.
    pub message: String,
}

/// What the checks found.
#[derive(Debug)]
pub struct Report {
    /// The findings, by line.
    pub findings: Vec<Finding>,
    /// `# check=error=true`: findings make a build fail.
    pub error: bool,
    /// Why the build would fail, found while following it (a `FROM` whose base expands to
    /// nothing, a `COPY --from` a later stage…): the findings are those made before.
    pub failure: Option<Error>,
}

/// What the checks cannot know from the file.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The environment (`KEY=VALUE`) of base images, by reference as written after
    /// expansion (`golang:1.22`). An image not listed defines `PATH` only.
    pub image_env: BTreeMap<String, Vec<String>>,
    /// `--build-arg` values.
    pub build_args: Vec<(String, String)>,
}
// ANCHOR_END: finding

impl Report {
    /// BuildKit's error for a build that `error=true` fails: `lint violation found for
    /// rules: A, B`; none without findings or without `error=true`.
    pub fn error_message(&self) -> Option<String> {
        if !self.error || self.findings.is_empty() {
            return None;
        }
        let mut rules: Vec<&str> = Vec::new();
        for finding in &self.findings {
            if !rules.contains(&finding.rule.name()) {
                rules.push(finding.rule.name());
            }
        }
        Some(format!(
            "lint violation found for rules: {}",
            rules.join(", ")
        ))
    }
}

// ANCHOR: check
/// Runs every check on `dockerfile`; `file` names it in errors. Fails where reading the
/// file fails (an instruction BuildKit refuses, a `check` directive it cannot read); where
/// following the build fails, the report has the findings so far and the failure.
pub fn check(file: &str, dockerfile: &Dockerfile, options: &CheckOptions) -> Result<Report> {
    let config = match dockerfile.directive(DirectiveKind::Check) {
        None => CheckConfig::default(),
        Some(directive) => {
            CheckConfig::parse(&directive.value).map_err(|message| Error::Syntax {
                file: file.to_owned(),
                line: directive.line,
                message: format!("failed to parse check options: {message}"),
                source_line: Some(format!("# check={}", directive.value)),
                hint: Some("write # check=skip=Rule1,Rule2;error=true".to_owned()),
            })?
        }
    };
    let stages = Stages::new(file, dockerfile)?;
    let mut linter = Linter::new(&config);
    text_rules::check(&mut linter, dockerfile, &stages);
    let failure = walk::check(&mut linter, file, &stages, options).err();
    Ok(linter.finish(config.error, failure))
}
// ANCHOR_END: check

/// Collects findings, each rule run or skipped as the configuration says.
pub(crate) struct Linter<'a> {
    config: &'a CheckConfig,
    findings: Vec<Finding>,
}

impl<'a> Linter<'a> {
    fn new(config: &'a CheckConfig) -> Self {
        Linter {
            config,
            findings: Vec::new(),
        }
    }

    /// Reports a finding, unless the file's configuration skips the rule.
    pub fn report(&mut self, rule: Rule, line: usize, message: String) {
        self.report_under(&[], rule, line, message);
    }

    /// Reports a finding, unless the file's configuration or a `# check=` in `comments`
    /// (the instruction's) skips the rule.
    pub fn report_under(&mut self, comments: &[String], rule: Rule, line: usize, message: String) {
        let runs = if comments.is_empty() {
            self.config.runs(rule.name())
        } else {
            self.config.for_comments(comments).runs(rule.name())
        };
        let finding = Finding {
            rule,
            line,
            message,
        };
        if runs && !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    fn finish(self, error: bool, failure: Option<Error>) -> Report {
        let mut findings = self.findings;
        // By line; on one line, in the order found.
        findings.sort_by_key(|finding| finding.line);
        Report {
            findings,
            error,
            failure,
        }
    }
}
