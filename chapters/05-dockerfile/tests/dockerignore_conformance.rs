//! moby's own `.dockerignore` test tables, run through this crate's matcher and reader.
//!
//! The corpus (`shared/conformance/dockerignore`, beside the workspace) holds every case of
//! `moby/patternmatcher` v0.6.1's tests (what BuildKit vendors) as one JSON object per line;
//! its SOURCES.md says what upstream calls for each and how it compares. Each case is run
//! through the forms of this crate that answer the same question:
//!
//! - `Matches(path, patterns)`, the deprecated package-level function that tries a single
//!   parent directory, is answered by [`is_excluded`], which tries them all (moby's
//!   `MatchesOrParentMatches`): the cases never tell the two apart, and this test would say so;
//! - `MatchesOrParentMatches`, `MatchesUsingParentResults` (fed the parent directories first,
//!   as upstream's test does) and `MatchesUsingParentResults(MatchInfo{})` each run as named;
//! - `MatchesUsingParentResult` (singular, deprecated for getting exceptions wrong) is not part
//!   of the library; this test writes it over the public [`Pattern`](ch05_dockerfile::dockerignore::Pattern) API (the same loop, with
//!   one flag for the parent), so its subtests run too;
//! - `New` is [`PatternMatcher::new`], `ReadAll` is [`parse`] (and [`read`] of a missing file
//!   for `ReadAll(nil)`);
//! - `compile` (TestCompile) is [`translate`] of the cleaned pattern: its shape is moby's
//!   `matchType`, and its regexp text is compared with `compiledRegexp` (this crate writes the
//!   same regexps). `windowsCompiledRegexp` is for a `\` separator, which Dockyard (Linux only)
//!   does not have.
//!
//! The rows upstream skips on Windows (`skip_on`) run here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ch05_dockerfile::dockerignore::path::{clean, dir, prefixes};
use ch05_dockerfile::dockerignore::{
    MatchInfo, PatternError, PatternMatcher, Translation, is_excluded, parse, read, translate,
};
use serde_json::Value;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/dockerignore"
);

/// How many cases SOURCES.md says the corpus holds.
const CASES: usize = 167;

/// One line of `cases.jsonl`.
struct Case {
    json: Value,
}

impl Case {
    /// `patternmatcher_test.go:TestMatches` → `TestMatches`.
    fn test(&self) -> &str {
        let source = self.json["source"].as_str().unwrap_or_default();
        source.rsplit(':').next().unwrap_or_default()
    }

    /// Where the case is upstream, for messages.
    fn location(&self) -> String {
        format!(
            "{}:{}",
            self.json["source"].as_str().unwrap_or("?"),
            self.json["line"]
        )
    }

    fn apis(&self) -> Vec<&str> {
        self.strings("api")
    }

    fn strings(&self, field: &str) -> Vec<&str> {
        self.json[field]
            .as_array()
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    fn text(&self, field: &str) -> &str {
        self.json[field]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no {field}", self.location()))
    }

    fn flag(&self, field: &str) -> Option<bool> {
        self.json.get(field).and_then(Value::as_bool)
    }
}

/// The cases, or `None` (after saying so) when the corpus is missing outside CI.
fn cases() -> Option<Vec<Case>> {
    let corpus = PathBuf::from(CORPUS);
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the dockerignore conformance corpus is missing: {CORPUS}"
        );
        println!("SKIPPED dockerignore conformance: no corpus at {CORPUS}");
        return None;
    }
    let text = std::fs::read_to_string(corpus.join("cases.jsonl")).expect("reading cases.jsonl");
    let cases: Vec<Case> = text
        .lines()
        .map(|line| Case {
            json: serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}")),
        })
        .collect();
    assert_eq!(cases.len(), CASES, "cases.jsonl should hold {CASES} cases");
    Some(cases)
}

/// Checks one case; `Err` says how this crate disagrees with moby.
fn check(case: &Case) -> Result<(), String> {
    match case.test() {
        "TestCompile" => check_compile(case),
        "TestReadAll" => check_read_all(case),
        "TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall" => {
            check_repeated_bad_match(case)
        }
        "TestMatches" => check_matcher_forms(case),
        _ if case.apis() == ["New"] => check_new(case),
        _ if case.apis() == ["Matches"] => check_package_matches(case),
        other => Err(format!("no check for {other} (api {:?})", case.apis())),
    }
}

/// `Matches(path, patterns)`: the verdict and the error, where the case states them.
fn check_package_matches(case: &Case) -> Result<(), String> {
    let result = is_excluded(case.text("path"), case.strings("patterns"));
    if let Some(expected) = case.flag("matches") {
        let got = *result.as_ref().unwrap_or(&false);
        expect("matches", expected, got)?;
    }
    check_error(case, &result)
}

/// The error fields: `error` (any error), and `error_is` (Go's `filepath.ErrBadPattern`, which
/// is this crate's syntax error).
fn check_error<T>(case: &Case, result: &Result<T, PatternError>) -> Result<(), String> {
    if let Some(expected) = case.flag("error") {
        expect("error", expected, result.is_err())?;
    }
    match (case.json.get("error_is").and_then(Value::as_str), result) {
        (None, _) => Ok(()),
        (Some("filepath.ErrBadPattern"), Err(PatternError::Syntax { .. })) => Ok(()),
        (Some(expected), Err(error)) => Err(format!("expected {expected}, got: {error}")),
        (Some(expected), Ok(_)) => Err(format!("expected {expected}, got no error")),
    }
}

/// The TestMatches tables: each form named in `api` must give `matches`.
fn check_matcher_forms(case: &Case) -> Result<(), String> {
    let matcher = PatternMatcher::new(case.strings("patterns"))
        .map_err(|error| format!("New must succeed: {error}"))?;
    let path = case.text("path");
    let expected = case.flag("matches").ok_or("no `matches`")?;
    for api in case.apis() {
        let got = match api {
            "MatchesOrParentMatches" => matcher.matches_or_parent_matches(path).unwrap_or(false),
            "MatchesUsingParentResults" => walked_to(&matcher, path),
            "MatchesUsingParentResults(MatchInfo{})" => matcher
                .matches_using_parent_results(path, &MatchInfo::default())
                .is_ok_and(|(excluded, _)| excluded),
            "MatchesUsingParentResult" => walked_to_with_one_flag(&matcher, path),
            other => return Err(format!("no form for {other}")),
        };
        expect(api, expected, got)?;
    }
    Ok(())
}

/// `MatchesUsingParentResults` as upstream's test drives it: each directory above `path`
/// first, top down, each with the results of the one before.
fn walked_to(matcher: &PatternMatcher, path: &str) -> bool {
    let parent = dir(path);
    let mut info = MatchInfo::default();
    if parent != "." {
        for ancestor in prefixes(&parent) {
            info = matcher
                .matches_using_parent_results(ancestor, &info)
                .map(|(_, info)| info)
                .unwrap_or_default();
        }
    }
    matcher
        .matches_using_parent_results(path, &info)
        .is_ok_and(|(excluded, _)| excluded)
}

/// moby's deprecated `MatchesUsingParentResult`, driven as upstream's test drives it: the
/// verdict starts at the parent directory's, and each pattern that could change it is tried
/// on the path alone.
fn walked_to_with_one_flag(matcher: &PatternMatcher, path: &str) -> bool {
    let using_parent_result = |path: &str, parent_excluded: bool| {
        let mut excluded = parent_excluded;
        for pattern in matcher.patterns() {
            if pattern.is_exclusion() == excluded && pattern.matches(path).unwrap_or(false) {
                excluded = !pattern.is_exclusion();
            }
        }
        excluded
    };
    let parent = dir(path);
    let mut excluded = false;
    if parent != "." {
        for ancestor in prefixes(&parent) {
            excluded = using_parent_result(ancestor, excluded);
        }
    }
    using_parent_result(path, excluded)
}

/// `New(patterns)`: its error, how many patterns it keeps, whether it has exceptions.
fn check_new(case: &Case) -> Result<(), String> {
    let result = PatternMatcher::new(case.strings("patterns"));
    check_error(case, &result)?;
    if let Ok(matcher) = &result {
        if let Some(count) = case.json.get("pattern_count").and_then(Value::as_u64) {
            expect("pattern_count", count, matcher.patterns().len() as u64)?;
        }
        if let Some(exclusions) = case.flag("exclusions") {
            expect("exclusions", exclusions, matcher.has_exceptions())?;
        }
    }
    Ok(())
}

/// TestCompile: the shape of the cleaned pattern, and its regexp text.
fn check_compile(case: &Case) -> Result<(), String> {
    let cleaned = clean(case.text("pattern"));
    let translation = translate(&cleaned);
    let shape = match &translation {
        Translation::Exact => "exactMatch",
        Translation::Prefix => "prefixMatch",
        Translation::Suffix => "suffixMatch",
        Translation::Regexp(_) => "regexpMatch",
    };
    expect("matchType", case.text("matchType"), shape)?;
    if let Translation::Regexp(regexp) = &translation {
        expect(
            "compiledRegexp",
            case.text("compiledRegexp"),
            regexp.as_str(),
        )?;
    }
    // And the pattern compiles for the `regex` crate, and matches what it should not refuse.
    let matcher = PatternMatcher::new([&*cleaned]).map_err(|error| error.to_string())?;
    matcher
        .matches_or_parent_matches("x")
        .map_err(|error| error.to_string())?;
    Ok(())
}

/// The `[Local-Only]/` regression: `New` succeeds, and every match fails the same way.
fn check_repeated_bad_match(case: &Case) -> Result<(), String> {
    let matcher = PatternMatcher::new(case.strings("patterns"));
    expect(
        "new_error",
        case.flag("new_error").unwrap_or(false),
        matcher.is_err(),
    )?;
    let matcher = matcher.map_err(|error| error.to_string())?;
    let calls = case.json["calls"].as_u64().ok_or("no `calls`")?;
    for _ in 0..calls {
        check_error(case, &matcher.matches_or_parent_matches(case.text("path")))?;
    }
    Ok(())
}

/// `ReadAll`: the patterns, in order; a nil reader is a context without an ignore file.
fn check_read_all(case: &Case) -> Result<(), String> {
    let read_result = match case.json["file"].as_str() {
        Some(file) => parse(file.as_bytes()),
        None => read(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/.dockerignore")),
    };
    expect(
        "error",
        case.flag("error").unwrap_or(false),
        read_result.is_err(),
    )?;
    let patterns = read_result.map_err(|error| error.to_string())?;
    expect(
        "patterns",
        case.strings("patterns"),
        patterns.iter().map(String::as_str).collect(),
    )
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, expected: T, got: T) -> Result<(), String> {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, got {got:?}"))
    }
}

#[test]
fn every_case_agrees_with_moby() {
    let Some(cases) = cases() else { return };
    let mut passed: BTreeMap<&str, usize> = BTreeMap::new();
    let forms: usize = cases
        .iter()
        .filter(|case| case.test() == "TestMatches")
        .map(|case| case.apis().len())
        .sum();
    let mut failures = Vec::new();
    for case in &cases {
        match check(case) {
            Ok(()) => *passed.entry(case.test()).or_default() += 1,
            Err(why) => failures.push(format!(
                "{} patterns={} path={}: {why}",
                case.location(),
                case.json
                    .get("patterns")
                    .or(case.json.get("pattern"))
                    .unwrap_or(&Value::Null),
                case.json.get("path").unwrap_or(&Value::Null),
            )),
        }
    }
    for (test, count) in &passed {
        println!("{count:3} {test}");
    }
    println!(
        "{} of {} cases agree (TestMatches: {forms} forms of the matcher checked)",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_deprecated_single_parent_form_is_not_what_is_excluded_means() {
    // Why the `Matches` rows can run through `is_excluded`: the two differ only when the
    // matching parent is not the one with as many elements as the pattern, which no row has.
    // moby's `Matches(["**/dir2"], "a/b/dir2/file")` is false; every parent is tried here.
    assert!(is_excluded("a/b/dir2/file", ["**/dir2"]).unwrap());
}
