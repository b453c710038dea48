//! The build checks: every rule firing and not firing, `# check=` directives and comments,
//! and `parse --check` through the binary.

use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch05_dockerfile::check::{CheckOptions, Report, Rule, check};
use ch05_dockerfile::parser::parse;

const PATIENCE: Duration = Duration::from_secs(30);

fn report(source: &str) -> Report {
    let dockerfile = parse("Dockerfile", source.as_bytes()).expect("parses");
    check("Dockerfile", &dockerfile, &CheckOptions::default()).expect("checks")
}

/// The findings of one rule: line and message.
fn found(source: &str, rule: Rule) -> Vec<(usize, String)> {
    let report = report(source);
    assert!(report.failure.is_none(), "{:?}", report.failure);
    report
        .findings
        .into_iter()
        .filter(|finding| finding.rule == rule)
        .map(|finding| (finding.line, finding.message))
        .collect()
}

/// Asserts `rule` finds exactly `expected` (line, message) in `source`.
fn assert_finds(rule: Rule, source: &str, expected: &[(usize, &str)]) {
    let expected: Vec<(usize, String)> = expected
        .iter()
        .map(|(line, message)| (*line, message.to_string()))
        .collect();
    assert_eq!(found(source, rule), expected, "{rule} in:\n{source}");
}

fn assert_quiet(rule: Rule, source: &str) {
    assert_finds(rule, source, &[]);
}

#[test]
fn json_args_recommended() {
    let message = |keyword: &str| {
        format!(
            "JSON arguments recommended for {keyword} to prevent unintended behavior related to OS signals"
        )
    };
    let found = found(
        "FROM a\nCMD app --serve\nentrypoint app\n",
        Rule::JSONArgsRecommended,
    );
    assert_eq!(found, [(2, message("CMD")), (3, message("entrypoint"))]);
    assert_quiet(
        Rule::JSONArgsRecommended,
        "FROM a\nCMD [\"app\"]\nRUN app\n",
    );
    assert_quiet(
        Rule::JSONArgsRecommended,
        "FROM a\nSHELL [\"bash\", \"-c\"]\nCMD app\n",
    );
    // A SHELL in the base stage counts too.
    assert_quiet(
        Rule::JSONArgsRecommended,
        "FROM a AS base\nSHELL [\"bash\", \"-c\"]\nFROM base\nCMD app\n",
    );
}

#[test]
fn stage_name_casing() {
    assert_finds(
        Rule::StageNameCasing,
        "FROM a AS Build\n",
        &[(1, "Stage name 'Build' should be lowercase")],
    );
    assert_quiet(Rule::StageNameCasing, "FROM a AS build\n");
}

#[test]
fn from_as_casing() {
    assert_finds(
        Rule::FromAsCasing,
        "FROM a as b\nfrom c AS d\n",
        &[
            (1, "'as' and 'FROM' keywords' casing do not match"),
            (2, "'AS' and 'from' keywords' casing do not match"),
        ],
    );
    // A FROM of mixed case is left to ConsistentInstructionCasing.
    assert_quiet(
        Rule::FromAsCasing,
        "FROM a AS b\nfrom c as d\nFrom e as f\n",
    );
}

#[test]
fn maintainer_deprecated() {
    assert_finds(
        Rule::MaintainerDeprecated,
        "FROM a\nMAINTAINER me <me@example.com>\n",
        &[(
            2,
            "Maintainer instruction is deprecated in favor of using label",
        )],
    );
    assert_quiet(
        Rule::MaintainerDeprecated,
        "FROM a\nLABEL org.opencontainers.image.authors=me\n",
    );
}

#[test]
fn undefined_var_fires() {
    assert_finds(
        Rule::UndefinedVar,
        "FROM a\nENV PATH=$PAHT:/app\n",
        &[(
            2,
            "Usage of undefined variable '$PAHT' (did you mean $PATH?)",
        )],
    );
    // An ENV's pairs are expanded before any is set.
    assert_finds(
        Rule::UndefinedVar,
        "FROM a\nENV B=1 A=$B\n",
        &[(2, "Usage of undefined variable '$B'")],
    );
    // A meta argument is not a stage's variable until the stage declares it.
    assert_finds(
        Rule::UndefinedVar,
        "ARG V=1\nFROM a\nENV X=$V\n",
        &[(3, "Usage of undefined variable '$V'")],
    );
    // Every word BuildKit expands: COPY paths, --chown, heredoc bodies, mounts, ARG defaults.
    let source = "FROM a\nCOPY --chown=$OWNER $SRC /dst/\nCOPY <<EOF /f\n$BODY\nEOF\n\
                  RUN --mount=type=cache,target=$CACHE true\nARG X=$DEFAULT\n";
    let names: Vec<String> = found(source, Rule::UndefinedVar)
        .into_iter()
        .map(|(line, message)| format!("{line} {message}"))
        .collect();
    assert_eq!(
        names,
        [
            "2 Usage of undefined variable '$OWNER'",
            "2 Usage of undefined variable '$SRC'",
            "3 Usage of undefined variable '$BODY'",
            "6 Usage of undefined variable '$CACHE'",
            "7 Usage of undefined variable '$DEFAULT'",
        ]
    );
}

#[test]
fn undefined_var_stays_quiet() {
    for source in [
        // Declared by ARG (with no value), set by ENV, set in the base stage.
        "FROM a\nARG B\nENV A=$B\n",
        "FROM a\nENV B=1\nENV A=$B\n",
        "FROM a AS base\nENV X=1\nFROM base\nWORKDIR /$X\n",
        "ARG V=1\nFROM a\nARG V\nENV X=$V\n",
        // Every stage has PATH; shell-form commands are the shell's business.
        "FROM scratch\nENV PATH=/app:$PATH\n",
        "FROM a\nRUN echo $NOPE\nCMD echo $NOPE\n",
        // A quoted heredoc does not expand; escaped dollars are not variables.
        "FROM a\nCOPY <<'EOF' /f\n$BODY\nEOF\nENV A=\\$NOPE\n",
    ] {
        assert_quiet(Rule::UndefinedVar, source);
    }
}

#[test]
fn the_environment_of_an_image_can_be_given() {
    let source = "FROM golang:1.22\nWORKDIR $GOPATH/src\n";
    let dockerfile = parse("Dockerfile", source.as_bytes()).expect("parses");
    let mut options = CheckOptions::default();
    let unknown = check("Dockerfile", &dockerfile, &options).expect("checks");
    assert_eq!(unknown.findings.len(), 1);
    options
        .image_env
        .insert("golang:1.22".into(), vec!["GOPATH=/go".into()]);
    let known = check("Dockerfile", &dockerfile, &options).expect("checks");
    assert_eq!(known.findings, []);
}

#[test]
fn duplicate_and_reserved_stage_names() {
    assert_finds(
        Rule::DuplicateStageName,
        "FROM a AS build\nFROM b AS BUILD\n",
        &[(
            2,
            "Duplicate stage name \"build\", stage names should be unique",
        )],
    );
    assert_quiet(
        Rule::DuplicateStageName,
        "FROM a AS build\nFROM b AS test\n",
    );
    assert_finds(
        Rule::ReservedStageName,
        "FROM a AS scratch\nFROM b AS context\n",
        &[
            (
                1,
                "Stage name should not use the same name as reserved stage \"scratch\"",
            ),
            (
                2,
                "Stage name should not use the same name as reserved stage \"context\"",
            ),
        ],
    );
    assert_quiet(Rule::ReservedStageName, "FROM scratch AS base\n");
}

#[test]
fn consistent_instruction_casing() {
    assert_finds(
        Rule::ConsistentInstructionCasing,
        "FROM a\nrun x\nRUN y\nCmd [\"z\"]\n",
        &[
            (
                2,
                "Command 'run' should match the case of the command majority (uppercase)",
            ),
            (
                4,
                "Command 'Cmd' should match the case of the command majority (uppercase)",
            ),
        ],
    );
    assert_quiet(
        Rule::ConsistentInstructionCasing,
        "from a\nrun x\ncmd [\"z\"]\n",
    );
    // ARGs before the first FROM do not count.
    assert_quiet(Rule::ConsistentInstructionCasing, "arg V\nARG W\nFROM a\n");
}

#[test]
fn no_empty_continuation() {
    assert_finds(
        Rule::NoEmptyContinuation,
        "FROM a\nRUN a \\\n\n    b\n",
        &[(4, "Empty continuation line")],
    );
    assert_quiet(Rule::NoEmptyContinuation, "FROM a\nRUN a \\\n    b\n");
}

#[test]
fn multiple_instructions_disallowed() {
    let message = |keyword: &str| {
        format!(
            "Multiple {keyword} instructions should not be used in the same stage because only the last one will be used"
        )
    };
    let source = "FROM a\nCMD [\"a\"]\nENTRYPOINT [\"b\"]\nCMD [\"c\"]\n\
                  HEALTHCHECK NONE\nHEALTHCHECK CMD true\n";
    let found = found(source, Rule::MultipleInstructionsDisallowed);
    assert_eq!(found, [(2, message("CMD")), (5, message("HEALTHCHECK"))]);
    assert_quiet(
        Rule::MultipleInstructionsDisallowed,
        "FROM a AS one\nCMD [\"a\"]\nFROM one\nCMD [\"b\"]\n",
    );
}

#[test]
fn legacy_key_value_format() {
    assert_finds(
        Rule::LegacyKeyValueFormat,
        "FROM a\nENV A b c\nlabel k v\n",
        &[
            (
                2,
                "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format",
            ),
            (
                3,
                "\"label key=value\" should be used instead of legacy \"label key value\" format",
            ),
        ],
    );
    assert_quiet(Rule::LegacyKeyValueFormat, "FROM a\nENV A=b\nLABEL k=v\n");
}

#[test]
fn workdir_relative_path() {
    assert_finds(
        Rule::WorkdirRelativePath,
        "FROM a\nWORKDIR app\nWORKDIR sub\n",
        &[(
            2,
            "Relative workdir \"app\" can have unexpected results if the base image changes",
        )],
    );
    assert_quiet(
        Rule::WorkdirRelativePath,
        "FROM a\nWORKDIR /app\nWORKDIR sub\n",
    );
    assert_quiet(
        Rule::WorkdirRelativePath,
        "FROM a AS base\nWORKDIR /app\nFROM base\nWORKDIR sub\n",
    );
}

#[test]
fn secrets_used_in_arg_or_env() {
    assert_finds(
        Rule::SecretsUsedInArgOrEnv,
        "FROM a\nARG API_KEY\nENV DB_PASSWORD=x\n",
        &[
            (
                2,
                "Do not use ARG or ENV instructions for sensitive data (ARG \"API_KEY\")",
            ),
            (
                3,
                "Do not use ARG or ENV instructions for sensitive data (ENV \"DB_PASSWORD\")",
            ),
        ],
    );
    assert_quiet(
        Rule::SecretsUsedInArgOrEnv,
        "FROM a\nARG PUBLIC_KEY\nENV KEYBOARD=us GPG_KEY_FILE=/k\n",
    );
}

#[test]
fn undefined_arg_in_from() {
    assert_finds(
        Rule::UndefinedArgInFrom,
        "ARG VERSION=3\nFROM alpine:${VERSON:-3}\n",
        &[(
            2,
            "FROM argument 'VERSON' is not declared (did you mean VERSION?)",
        )],
    );
    assert_quiet(
        Rule::UndefinedArgInFrom,
        "ARG TAG\nFROM alpine:${TAG:-3}\nFROM --platform=$BUILDPLATFORM alpine\n",
    );
}

#[test]
fn redundant_target_platform() {
    assert_finds(
        Rule::RedundantTargetPlatform,
        "FROM --platform=${TARGETPLATFORM} alpine\n",
        &[(
            1,
            "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior",
        )],
    );
    assert_quiet(
        Rule::RedundantTargetPlatform,
        "FROM --platform=$BUILDPLATFORM alpine\n",
    );
}

#[test]
fn check_directives_and_comments() {
    let noisy = "FROM a AS Build\nMAINTAINER me\nCMD app\n";
    assert_eq!(report(noisy).findings.len(), 3);
    let skipped = report(&format!(
        "# check=skip=StageNameCasing,MaintainerDeprecated\n{noisy}"
    ));
    let rules: Vec<Rule> = skipped
        .findings
        .iter()
        .map(|finding| finding.rule)
        .collect();
    assert_eq!(rules, [Rule::JSONArgsRecommended]);
    assert!(
        report(&format!("# check=skip=all\n{noisy}"))
            .findings
            .is_empty()
    );
    // A comment above an instruction skips rules for it alone.
    let commented = report("FROM a\n# check=skip=JSONArgsRecommended\nCMD one\nENTRYPOINT two\n");
    let lines: Vec<usize> = commented
        .findings
        .iter()
        .map(|finding| finding.line)
        .collect();
    assert_eq!(lines, [4]);
    // error=true: findings fail the build.
    let error = report(&format!("# check=error=true\n{noisy}"));
    assert_eq!(
        error.error_message().as_deref(),
        Some(
            "lint violation found for rules: StageNameCasing, MaintainerDeprecated, JSONArgsRecommended"
        )
    );
    assert_eq!(report(noisy).error_message(), None);
    let dockerfile = parse("Dockerfile", b"# check=skip\nFROM a\n").expect("parses");
    let failure = check("Dockerfile", &dockerfile, &CheckOptions::default()).expect_err("bad");
    assert_eq!(
        failure.to_string(),
        "Dockerfile:1: failed to parse check options: invalid check option \"skip\""
    );
}

/// A Dockerfile that breaks one rule on most lines.
const NOISY: &str = r#"# check=error=true
ARG VERSION=3.20
FROM alpine:${VERSION} as Base
MAINTAINER someone@example.com
ENV APP_HOME /app
WORKDIR app
run echo $APP_HOME
CMD start
CMD ["start"]
COPY config/$FLAVOUR.conf /etc/app.conf
"#;

#[test]
fn parse_check_prints_the_findings() {
    let output = cargo_bin_cmd!("ch05-dockerfile")
        .args(["parse", "--check", "-f", "-"])
        .write_stdin(NOISY)
        .timeout(PATIENCE)
        .assert()
        .code(1);
    let output = output.get_output();
    let stdout = String::from_utf8(output.stdout.clone()).expect("UTF-8");
    let stderr = String::from_utf8(output.stderr.clone()).expect("UTF-8");
    insta::assert_snapshot!("check_noisy", format!("{stdout}-- stderr\n{stderr}"));

    cargo_bin_cmd!("ch05-dockerfile")
        .args(["parse", "--check", "-f", "-"])
        .write_stdin("FROM alpine\nCMD [\"true\"]\n")
        .timeout(PATIENCE)
        .assert()
        .success()
        .stdout("");
}

#[test]
fn parse_check_reports_a_failure_after_the_findings() {
    let output = cargo_bin_cmd!("ch05-dockerfile")
        .args(["parse", "--check", "-f", "-"])
        .write_stdin("FROM a AS Base\nFROM $IMAGE\n")
        .timeout(PATIENCE)
        .assert()
        .code(1);
    let output = output.get_output();
    let stdout = String::from_utf8(output.stdout.clone()).expect("UTF-8");
    let stderr = String::from_utf8(output.stderr.clone()).expect("UTF-8");
    assert_eq!(
        stdout,
        "Dockerfile:1: StageNameCasing: Stage name 'Base' should be lowercase\n\
         Dockerfile:2: UndefinedArgInFrom: FROM argument 'IMAGE' is not declared\n"
    );
    assert!(
        stderr.starts_with("ch05-dockerfile: Dockerfile:2: base name ($IMAGE) should not be blank"),
        "{stderr}"
    );
}
