//! The rules about how the file is written: casing, stage names, `MAINTAINER`, empty
//! continuation lines. They need no knowledge of the build, only the instructions.

use super::{Linter, Rule};
use crate::instructions::{Command, From, Located};
use crate::parser::{Dockerfile, text};
use crate::stages::Stages;

/// Stage names BuildKit keeps for itself: the empty image, and the build context.
const RESERVED_STAGE_NAMES: [&str; 2] = ["context", "scratch"];

/// Runs the text rules, in the order BuildKit runs them.
pub(super) fn check(linter: &mut Linter, dockerfile: &Dockerfile, stages: &Stages) {
    for warning in &dockerfile.warnings {
        linter.report(
            Rule::NoEmptyContinuation,
            warning.line,
            "Empty continuation line".to_owned(),
        );
    }
    for stage in &stages.stages {
        from_casing(linter, &stage.from);
        for instruction in &stage.instructions {
            if let Command::Maintainer(_) = instruction.value {
                linter.report_under(
                    &instruction.comments,
                    Rule::MaintainerDeprecated,
                    instruction.start_line,
                    "Maintainer instruction is deprecated in favor of using label".to_owned(),
                );
            }
        }
    }
    stage_names(linter, stages);
    instruction_casing(linter, stages);
}

/// `StageNameCasing` and `FromAsCasing`, on one `FROM`.
fn from_casing(linter: &mut Linter, from: &Located<From>) {
    let Some((name, as_keyword)) = &from.value.written_name else {
        return;
    };
    if *name != text::to_lower(name) {
        linter.report_under(
            &from.comments,
            Rule::StageNameCasing,
            from.start_line,
            format!("Stage name '{name}' should be lowercase"),
        );
    }
    // A FROM of mixed case is ConsistentInstructionCasing's business, not this rule's.
    let keyword = &from.keyword;
    let matches = if *keyword == keyword.to_lowercase() {
        *as_keyword == as_keyword.to_lowercase()
    } else if *keyword == keyword.to_uppercase() {
        *as_keyword == as_keyword.to_uppercase()
    } else {
        true
    };
    if !matches {
        linter.report_under(
            &from.comments,
            Rule::FromAsCasing,
            from.start_line,
            format!("'{as_keyword}' and '{keyword}' keywords' casing do not match"),
        );
    }
}

/// `ReservedStageName` and `DuplicateStageName`.
fn stage_names(linter: &mut Linter, stages: &Stages) {
    let mut seen: Vec<&str> = Vec::new();
    for stage in &stages.stages {
        let Some(name) = stage.name.as_deref() else {
            continue;
        };
        if RESERVED_STAGE_NAMES.contains(&name) {
            linter.report(
                Rule::ReservedStageName,
                stage.start_line,
                format!(
                    "Stage name should not use the same name as reserved stage {}",
                    crate::parser::go_quote(name)
                ),
            );
        }
        if seen.contains(&name) {
            linter.report(
                Rule::DuplicateStageName,
                stage.start_line,
                format!(
                    "Duplicate stage name {}, stage names should be unique",
                    crate::parser::go_quote(name)
                ),
            );
        }
        seen.push(name);
    }
}

/// `ConsistentInstructionCasing`: keywords of mixed case (`Run`), and keywords cased
/// against the majority, which counts only the keywords all lower or all upper case. The
/// `ARG`s before the first `FROM` are not counted, as in BuildKit.
fn instruction_casing(linter: &mut Linter, stages: &Stages) {
    let keywords: Vec<(&str, usize)> = stages
        .stages
        .iter()
        .flat_map(|stage| {
            let from = (stage.from.keyword.as_str(), stage.from.start_line);
            let rest = stage
                .instructions
                .iter()
                .map(|instruction| (instruction.keyword.as_str(), instruction.start_line));
            std::iter::once(from).chain(rest)
        })
        .collect();
    let lower = keywords
        .iter()
        .filter(|(keyword, _)| *keyword == keyword.to_lowercase())
        .count();
    let upper = keywords
        .iter()
        .filter(|(keyword, _)| *keyword == keyword.to_uppercase())
        .count();
    let majority_lower = lower > upper;
    for (keyword, line) in keywords {
        let casing = if majority_lower && keyword != keyword.to_lowercase() {
            "lowercase"
        } else if !majority_lower && keyword != keyword.to_uppercase() {
            "uppercase"
        } else {
            continue;
        };
        linter.report(
            Rule::ConsistentInstructionCasing,
            line,
            format!("Command '{keyword}' should match the case of the command majority ({casing})"),
        );
    }
}
