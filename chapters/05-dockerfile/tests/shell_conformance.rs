//! BuildKit's own word-expansion cases, run through [`ch05_dockerfile::shell`].
//!
//! The corpus (`shared/conformance/buildkit`, beside the workspace) holds the two tables of
//! BuildKit's `frontend/dockerfile/shell` tests, read here as upstream reads them (their
//! format is in the corpus's `SOURCES.md`):
//!
//! - `envVarTest`: `PLATFORM|WORD|EXPECTED`, one word expanded against a fixed environment;
//!   `A` rows hold on every platform, `U` rows on Linux (names compare exactly), `W` rows on
//!   Windows (names compare ignoring case); `error` means the expansion must fail;
//! - `wordsTest`: `WORD | WORD1,WORD2…`, a word expanded and split into words, against an
//!   environment that the `ENV name=value` lines before it build up.

use std::path::Path;

use ch05_dockerfile::shell::{Env, KeyCase, Lexer};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/buildkit/frontend/dockerfile/shell"
);

/// The environment of every `envVarTest` line.
const ENV_VAR_TEST_ENV: [&str; 4] = ["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="];

/// The text of one corpus file, or `None` (after saying so) when the corpus is missing
/// outside CI.
fn corpus_file(name: &str) -> Option<String> {
    let path = Path::new(CORPUS).join(name);
    if !path.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the BuildKit shell conformance corpus is missing: {}",
            path.display()
        );
        println!("SKIPPED BuildKit shell conformance: no {}", path.display());
        return None;
    }
    Some(std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("reading {path:?}: {err}")))
}

/// One `envVarTest` line.
#[derive(Debug)]
struct EnvVarCase {
    line: usize,
    platform: char,
    word: String,
    /// `None`: the expansion must fail.
    expected: Option<String>,
}

fn env_var_cases(text: &str) -> Vec<EnvVarCase> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        // Upstream skips comments before trimming, and blank lines after.
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        let [platform, word, expected] = parts[..] else {
            panic!(
                "envVarTest:{}: not PLATFORM|WORD|EXPECTED: {line:?}",
                index + 1
            );
        };
        let platform = match platform {
            "A" => 'A',
            "U" => 'U',
            "W" => 'W',
            other => panic!("envVarTest:{}: unknown platform {other:?}", index + 1),
        };
        cases.push(EnvVarCase {
            line: index + 1,
            platform,
            word: word.to_string(),
            expected: (expected != "error").then(|| expected.to_string()),
        });
    }
    cases
}

/// How `case` fails under `env`, if it does.
fn env_var_mismatch(case: &EnvVarCase, env: &Env, label: &str) -> Option<String> {
    let result = Lexer::new('\\').process_word(&case.word, env);
    let line = case.line;
    match (&case.expected, result) {
        (Some(expected), Ok(value)) if &value == expected => None,
        (None, Err(_)) => None,
        (Some(expected), Ok(value)) => Some(format!(
            "envVarTest:{line} ({label}) {:?}: expected {expected:?}, got {value:?}",
            case.word
        )),
        (Some(expected), Err(err)) => Some(format!(
            "envVarTest:{line} ({label}) {:?}: expected {expected:?}, got the error: {err}",
            case.word
        )),
        (None, Ok(value)) => Some(format!(
            "envVarTest:{line} ({label}) {:?}: expected an error, got {value:?}",
            case.word
        )),
    }
}

#[test]
fn every_env_var_test_line_expands_as_upstream_expects() {
    let Some(text) = corpus_file("envVarTest") else {
        return;
    };
    let cases = env_var_cases(&text);
    assert_eq!(cases.len(), 230, "envVarTest has changed");
    let linux = Env::new(ENV_VAR_TEST_ENV);
    let windows = Env::new(ENV_VAR_TEST_ENV).with_key_case(KeyCase::Insensitive);

    let mut mismatches = Vec::new();
    let (mut on_linux, mut on_windows) = (0, 0);
    for case in &cases {
        // `A` rows hold on both platforms, so they are checked under both lookups.
        if matches!(case.platform, 'A' | 'U') {
            on_linux += 1;
            mismatches.extend(env_var_mismatch(case, &linux, "linux"));
        }
        if matches!(case.platform, 'A' | 'W') {
            on_windows += 1;
            mismatches.extend(env_var_mismatch(case, &windows, "windows"));
        }
    }
    println!(
        "envVarTest: {} lines, {on_linux} checked as on Linux, {on_windows} as on Windows",
        cases.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// One `wordsTest` line, with the environment the `ENV` lines before it built.
#[derive(Debug)]
struct WordsCase {
    line: usize,
    env: Vec<String>,
    word: String,
    /// `["error"]`: the expansion must fail.
    expected: Vec<String>,
}

fn words_cases(text: &str) -> Vec<WordsCase> {
    let mut env = Vec::new();
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(entry) = line.strip_prefix("ENV ") {
            env.push(entry.trim_start_matches(' ').to_string());
            continue;
        }
        let Some((word, expected)) = line.split_once('|').filter(|(_, e)| !e.contains('|')) else {
            panic!("wordsTest:{}: not exactly one | in {line:?}", index + 1);
        };
        cases.push(WordsCase {
            line: index + 1,
            env: env.clone(),
            word: word.trim().to_string(),
            // Trailing spaces are part of the expected words.
            expected: expected
                .trim_start_matches(' ')
                .split(',')
                .map(str::to_string)
                .collect(),
        });
    }
    cases
}

#[test]
fn every_words_test_line_splits_as_upstream_expects() {
    let Some(text) = corpus_file("wordsTest") else {
        return;
    };
    let cases = words_cases(&text);
    // 30 lines: 24 cases, 4 `ENV` lines and 2 comments.
    assert_eq!(text.lines().count(), 30, "wordsTest has changed");
    assert_eq!(cases.len(), 24, "wordsTest has changed");
    let mut mismatches = Vec::new();
    for case in &cases {
        let words = Lexer::new('\\')
            .process_words(&case.word, &Env::new(&case.env))
            .unwrap_or_else(|_| vec!["error".to_string()]);
        if words != case.expected {
            mismatches.push(format!(
                "wordsTest:{} {:?} (env {:?}): expected {:?}, got {words:?}",
                case.line, case.word, case.env, case.expected
            ));
        }
    }
    println!("wordsTest: {} cases checked", cases.len());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
