//! BuildKit's own parser tests, run through this crate's parser.
//!
//! The corpus (`shared/conformance/buildkit`, beside the workspace) holds BuildKit's parser
//! test files: 33 Dockerfiles with the `Node.Dump()` text they must give, 4 that must fail,
//! one whose instructions' lines are checked, and (in `derived/`) the heredoc cases of
//! BuildKit's Go tests transcribed as data. The tests written inline in BuildKit's Go
//! (warnings, the line limit, `parseWords`, directives) are here as Rust.

use std::path::{Path, PathBuf};

use ch05_dockerfile::Error;
use ch05_dockerfile::parser::heredoc::{chomp, heredocs_from_line, parse_heredoc};
use ch05_dockerfile::parser::{self, DirectiveKind, Dockerfile, Heredoc};
use serde_json::Value;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/buildkit"
);

/// The corpus, or `None` (after saying so) when it is missing outside CI.
fn corpus() -> Option<PathBuf> {
    let corpus = PathBuf::from(CORPUS);
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the BuildKit conformance corpus is missing: {CORPUS}"
        );
        println!("SKIPPED BuildKit parser conformance: no corpus at {CORPUS}");
        return None;
    }
    Some(corpus)
}

fn parser_dir(corpus: &Path) -> PathBuf {
    corpus.join("frontend/dockerfile/parser")
}

/// The case directories under `dir`, sorted.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("listing {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    cases
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

fn parse(source: &[u8]) -> Dockerfile {
    parser::parse("Dockerfile", source).unwrap_or_else(|err| panic!("parsing: {err}"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn every_case_dumps_to_its_result() {
    let Some(corpus) = corpus() else { return };
    let cases = cases(&parser_dir(&corpus).join("testfiles"));
    let mut failures = Vec::new();
    for case in &cases {
        let dockerfile = parse(&read(&case.join("Dockerfile")));
        // Upstream compares with CRLF turned into LF on the expected side.
        let expected = String::from_utf8(read(&case.join("result")))
            .expect("UTF-8 result")
            .replace("\r\n", "\n");
        if dockerfile.dump() + "\n" != expected {
            failures.push(case.display().to_string());
        }
    }
    assert_eq!(cases.len(), 33, "the corpus has 33 parser cases");
    assert!(
        failures.is_empty(),
        "dumps differ from `result`: {failures:#?}"
    );
}

#[test]
fn every_negative_case_fails() {
    let Some(corpus) = corpus() else { return };
    let cases = cases(&parser_dir(&corpus).join("testfiles-negative"));
    assert_eq!(cases.len(), 4, "the corpus has 4 negative cases");
    for case in &cases {
        let name = case.file_name().and_then(|n| n.to_str()).expect("a name");
        let error = parser::parse("Dockerfile", &read(&case.join("Dockerfile"))).expect_err(name);
        // Where a line makes sense, the error names it.
        let expected = match name {
            "empty_dockerfile" | "only_comments" => None,
            "env_no_value" => Some((3, "ENV must have two arguments")),
            "shykes-nested-json" => Some((
                1,
                "when using JSON array syntax, arrays must be comprised of strings only",
            )),
            other => panic!("an unexpected negative case: {other}"),
        };
        match (expected, error) {
            (None, Error::NoInstructions { file }) => assert_eq!(file, "Dockerfile"),
            (Some((want_line, want_message)), Error::Syntax { line, message, .. }) => {
                assert_eq!(
                    (line, message.as_str()),
                    (want_line, want_message),
                    "{name}"
                );
            }
            (_, error) => panic!("{name}: unexpected error {error}"),
        }
    }
}

#[test]
fn instructions_keep_their_lines() {
    let Some(corpus) = corpus() else { return };
    let expected = read_json(&corpus.join("derived/testfile-line.expected.json"));
    let dockerfile = parse(&read(&parser_dir(&corpus).join("testfile-line/Dockerfile")));
    let root = (dockerfile.start_line(), dockerfile.end_line());
    let want_root = (
        expected["root"]["start_line"].as_u64(),
        expected["root"]["end_line"].as_u64(),
    );
    assert_eq!((Some(root.0 as u64), Some(root.1 as u64)), want_root);
    let lines: Vec<Value> = dockerfile
        .nodes
        .iter()
        .map(|node| serde_json::json!([node.start_line, node.end_line]))
        .collect();
    assert_eq!(Value::Array(lines), expected["children"]);
}

/// A heredoc as the derived JSON spells it.
fn heredoc_json(heredoc: &Heredoc) -> Value {
    serde_json::json!({
        "Name": heredoc.name,
        "Content": heredoc.content,
        "Expand": heredoc.expand,
        "Chomp": heredoc.chomp,
        "FileDescriptor": heredoc.file_descriptor,
    })
}

#[test]
fn heredocs_are_extracted_as_buildkit_extracts_them() {
    let Some(corpus) = corpus() else { return };
    let expected = read_json(&corpus.join("derived/heredoc_extract.expected.json"));
    let dockerfile = parse(&read(&corpus.join("derived/heredoc_extract.Dockerfile")));
    let cases = expected["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 27, "27 heredoc cases");
    for case in cases {
        let index = case["ast_child_index"].as_u64().expect("an index") as usize;
        let node = &dockerfile.nodes[index];
        let got = if node.heredocs.is_empty() {
            Value::Null
        } else {
            Value::Array(node.heredocs.iter().map(heredoc_json).collect())
        };
        assert_eq!(got, case["expected"], "child {index}: {}", case["comment"]);
    }
}

#[test]
fn heredoc_words_are_read_as_buildkit_reads_them() {
    let Some(corpus) = corpus() else { return };
    let helpers = read_json(&corpus.join("derived/heredoc_helpers.json"));
    let words = |key: &str| -> Vec<String> {
        serde_json::from_value(helpers[key].clone()).expect("a list of words")
    };
    for word in words("valid_name_is_EOF") {
        let heredoc = parse_heredoc(&word).expect(&word).expect(&word);
        assert_eq!(heredoc.name, "EOF", "{word}");
    }
    for word in words("invalid_error") {
        assert!(parse_heredoc(&word).is_err(), "{word} must fail");
    }
    for word in words("not_heredoc_nil") {
        assert_eq!(parse_heredoc(&word), Ok(None), "{word}");
    }
    let chomped = &helpers["chomp"];
    assert_eq!(
        chomp(chomped["input"].as_str().expect("input")),
        chomped["expected"].as_str().expect("expected")
    );
    // Upstream checks that each heredoc found has the expected name at its index (finding
    // none passes, and `RUN <<- EOF` finds none: `<<-` and `EOF` are two words).
    for case in helpers["heredocs_from_line"]["cases"]
        .as_array()
        .expect("cases")
    {
        let line = case["line"].as_str().expect("a line");
        let names: Vec<String> =
            serde_json::from_value(case["heredocNames"].clone()).unwrap_or_default();
        let found = heredocs_from_line(line).expect(line);
        assert!(found.len() <= names.len(), "{line}: too many heredocs");
        for (heredoc, name) in found.iter().zip(&names) {
            assert_eq!(&heredoc.name, name, "{line}");
        }
    }
    assert!(heredocs_from_line("RUN <<- EOF").expect("valid").is_empty());
}

#[test]
fn json_heredoc_words_are_not_heredocs() {
    // Upstream's TestParseJSONHeredoc: JSON form never opens heredocs.
    let dockerfile = parse(b"FROM busybox\nRUN [\"<<EOF\"]\nCMD <<EOF\n");
    assert!(dockerfile.nodes.iter().all(|node| node.heredocs.is_empty()));
    assert_eq!(dockerfile.nodes.len(), 3);
}

#[test]
fn empty_continuation_lines_are_warned_about() {
    // Upstream's TestParseWarnsOnEmptyContinutationLine.
    let source = "
FROM alpine:3.6

RUN valid \\
    continuation

RUN something \\

    following \\

    more

RUN another \\

    thing

RUN non-indented \\
# this is a comment
   after-comment

RUN indented \\
    # this is an indented comment
    comment
\t";
    let dockerfile = parse(source.as_bytes());
    let warnings = &dockerfile.warnings;
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0]
            .message
            .starts_with("Empty continuation line found in")
    );
    assert!(
        warnings[0]
            .message
            .contains("RUN something     following     more")
    );
    assert!(warnings[1].message.contains("RUN another     thing"));
    assert!(
        warnings[0]
            .detail
            .contains("will become errors in a future release")
    );
    assert_eq!((warnings[0].line, warnings[1].line), (11, 15));
}

#[test]
fn lines_over_64_kib_are_refused() {
    // Upstream's TestParseReturnsScannerErrors: a 65536-byte label value.
    let label = "a".repeat(65536);
    let source = format!("\n\t\tFROM image\n\t\tLABEL test={label}\n");
    let error = parser::parse("Dockerfile", source.as_bytes()).expect_err("too long");
    let Error::Syntax { line, message, .. } = error else {
        panic!("not a syntax error: {error}")
    };
    assert_eq!(
        message,
        "dockerfile line greater than max allowed size of 65535"
    );
    assert_eq!(line, 3);
}

#[test]
fn directives_are_case_insensitive_and_recorded() {
    // Upstream's TestDirectives, through the whole parser.
    let dockerfile = parse(b"# EScape=`\n# KEY = FOO bar\n\n# smth\nFROM a `\n  b\n");
    let escape = dockerfile.directive(DirectiveKind::Escape).expect("escape");
    assert_eq!((escape.value.as_str(), escape.line), ("`", 1));
    assert_eq!(dockerfile.directives.len(), 1);
    assert_eq!(dockerfile.escape, '`');
    assert_eq!(dockerfile.dump(), r#"(from "a" "b")"#);

    let dockerfile = parse(b"# syntax = docker/dockerfile:1 // opts\n#check=skip=all\nFROM a\n");
    let syntax = dockerfile.directive(DirectiveKind::Syntax).expect("syntax");
    assert_eq!(syntax.value, "docker/dockerfile:1 // opts");
    let check = dockerfile.directive(DirectiveKind::Check).expect("check");
    assert_eq!((check.value.as_str(), check.line), ("skip=all", 2));
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_file() {
    let dockerfile = parse(b"\xef\xbb\xbf# syntax = myfrontend\nFROM busybox\n");
    assert_eq!(dockerfile.directives.len(), 1);
    assert_eq!(dockerfile.dump(), r#"(from "busybox")"#);
}
