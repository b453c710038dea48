//! Compose's interpolation and `.env` parsing against cases transcribed from compose-go's own
//! tests (`/work/shared/conformance/compose/`, see its `SOURCES.md`).
//!
//! Every line of each case file is checked; each test counts the cases it checked and
//! compares the count with the file's line count, so no case can be skipped silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ch06_compose::compose::{dotenv, interpolate};
use serde_json::Value;

/// The Compose corpus (see `dockyard_tests::conformance_corpus`).
fn corpus() -> Option<PathBuf> {
    dockyard_tests::conformance_corpus("compose")
}

/// The cases of one `.jsonl` file, with their line numbers.
fn cases(dir: &Path, file: &str) -> Vec<(usize, Value)> {
    let path = dir.join("compose-go-derived").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let cases: Vec<_> = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, serde_json::from_str(line).unwrap()))
        .collect();
    assert_eq!(cases.len(), text.lines().count());
    cases
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn lookup_in(env: &BTreeMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
    |name| env.get(name).cloned()
}

/// Compares a parse result with a case's `expected` (all keys, or exactly these keys),
/// `absent_keys`, `error` and `error_contains`; returns what differs.
fn check_dotenv(
    case: &Value,
    result: Result<Vec<(String, String)>, dotenv::DotenvError>,
) -> Result<(), String> {
    let wants_error = case.get("error").is_some() || case.get("error_contains").is_some();
    let pairs = match (result, wants_error) {
        (Err(error), true) => {
            let message = error.to_string();
            return match case["error_contains"].as_str() {
                Some(part) if !message.contains(part) => {
                    Err(format!("error {message:?} lacks {part:?}"))
                }
                _ => Ok(()),
            };
        }
        (Err(error), false) => return Err(format!("unexpected error: {error}")),
        (Ok(pairs), true) => return Err(format!("expected an error, got {pairs:?}")),
        (Ok(pairs), false) => pairs,
    };
    let got: BTreeMap<String, String> = pairs.iter().cloned().collect();
    if got.len() != pairs.len() {
        return Err(format!("a key appears twice: {pairs:?}"));
    }
    let expected = string_map(&case["expected"]);
    for (key, value) in &expected {
        if got.get(key) != Some(value) {
            return Err(format!("{key}: expected {value:?}, got {:?}", got.get(key)));
        }
    }
    if case["exact_keys"].as_bool() == Some(true) && got.len() != expected.len() {
        return Err(format!("expected exactly {expected:?}, got {got:?}"));
    }
    for key in case["absent_keys"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap();
        if got.contains_key(key) {
            return Err(format!("{key} should be absent, got {got:?}"));
        }
    }
    Ok(())
}

/// Runs `check` on every case of `file`; fails listing every failing case, and prints
/// how many cases were checked.
fn run_all(file: &str, check: impl Fn(&Path, &Value) -> Result<(), String>) {
    let Some(dir) = corpus() else { return };
    let cases = cases(&dir, file);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (line, case) in &cases {
        if let Err(why) = check(&dir, case) {
            failures.push(format!("{file}:{line}: {why}\n    case: {case}"));
        }
        checked += 1;
    }
    eprintln!("{file}: {checked} cases checked, {} failed", failures.len());
    assert_eq!(checked, cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn interpolation_template_cases() {
    run_all("interpolation_template_cases.jsonl", |_, case| {
        let env = string_map(&case["env"]);
        let template = case["template"].as_str().unwrap();
        let result = interpolate::substitute(template, &lookup_in(&env));
        match (result, &case["expected"], case["error_contains"].as_str()) {
            (Ok(got), Value::String(expected), None) if got == *expected => Ok(()),
            (Err(error), Value::Null, Some(part)) if error.to_string().contains(part) => Ok(()),
            (result, expected, part) => Err(format!(
                "got {result:?}, expected {expected} / error containing {part:?}"
            )),
        }
    });
}

#[test]
fn dotenv_parse_cases() {
    run_all("dotenv_parse_cases.jsonl", |_, case| {
        let input = case["input"].as_str().unwrap();
        check_dotenv(case, dotenv::parse(input, &|_| None))
    });
}

#[test]
fn dotenv_fixture_expectations() {
    run_all("dotenv_fixture_expectations.jsonl", |dir, case| {
        let path = dir.join("compose-go").join(case["file"].as_str().unwrap());
        let env = string_map(&case["os_env"]);
        check_dotenv(case, dotenv::read_file(&path, &lookup_in(&env)))
    });
}
