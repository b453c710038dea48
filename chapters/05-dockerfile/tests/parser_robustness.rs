//! No input makes the parser panic or run long: random bytes, text made of Dockerfile
//! fragments, and BuildKit's conformance Dockerfiles mutated, each parsed to `Ok` or `Err`,
//! and what parses typed into stages and checked. Then a few inputs built to hurt: deep
//! nesting, endless continuations, many heredocs.

use std::sync::LazyLock;

use ch05_dockerfile::check::{CheckOptions, check};
use ch05_dockerfile::cli::parse::outline;
use ch05_dockerfile::parser;
use ch05_dockerfile::stages::Stages;
use proptest::prelude::*;
use proptest::sample::Index;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/buildkit"
);

/// Pieces Dockerfiles are made of, and the characters the parser treats specially.
const FRAGMENTS: &[&str] = &[
    "FROM ",
    "RUN ",
    "CMD ",
    "COPY ",
    "ADD ",
    "ENV ",
    "LABEL ",
    "ARG ",
    "ONBUILD ",
    "HEALTHCHECK ",
    "EXPOSE ",
    "VOLUME ",
    "USER ",
    "WORKDIR ",
    "SHELL ",
    "ENTRYPOINT ",
    "MAINTAINER ",
    "STOPSIGNAL ",
    "NONE",
    "CMD",
    "busybox",
    "a=b ",
    "k v",
    "=",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\\",
    "\\\n",
    "`",
    "`\n",
    "'",
    "\"",
    "#",
    "# escape=`\n",
    "# escape=\\\n",
    "# syntax=x\n",
    "# check=y\n",
    "<<",
    "<<-",
    "<<EOF",
    "<<'EOF'",
    "<<\"EOF\"",
    "3<<EOF",
    "EOF\n",
    "\tEOF\n",
    "$",
    "${",
    "${a:-",
    "${a/",
    "}",
    "[",
    "]",
    "\"a\"",
    ",",
    "1",
    "null",
    "{}",
    "--from=x ",
    "--mount=type=cache ",
    "-- ",
    " AS ",
    " as b",
    "--platform=$TARGETPLATFORM ",
    "--chmod=",
    "--chown=1 ",
    "--link ",
    "--exclude=*.md ",
    "--mount=type=cache,target=/c ",
    "--mount=type=secret,id=$X ",
    "--network=none ",
    "--interval=",
    "--retries=",
    "0.5ms ",
    "30s ",
    "u+x ",
    "0755 ",
    "# check=skip=all\n",
    "# check=error=true\n",
    "$PATH",
    "${A:-$B}",
    "é",
    "\u{a0}",
    "\u{85}",
    "à",
    "ࠀ",
    "\u{2028}",
    "\u{feff}",
    "İ",
    "\0",
    "\x7f",
];

/// BuildKit's Dockerfiles, to mutate (a small built-in one when the corpus is absent).
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut seeds = vec![b"FROM busybox\nRUN <<EOF\necho hi\nEOF\nENV A=1 B=\"2 3\"\n".to_vec()];
    let dirs = ["testfiles", "testfiles-negative"];
    for dir in dirs.map(|dir| format!("{CORPUS}/frontend/dockerfile/parser/{dir}")) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seeds.extend(std::fs::read(entry.path().join("Dockerfile")));
        }
    }
    seeds.extend(std::fs::read(format!(
        "{CORPUS}/derived/heredoc_extract.Dockerfile"
    )));
    seeds
});

/// Parses, and on success dumps, outlines, types into stages and checks: none of it may
/// panic.
fn parse_anything(source: &[u8]) -> Result<(), TestCaseError> {
    match parser::parse("Dockerfile", source) {
        Ok(dockerfile) => {
            let _dump = dockerfile.dump();
            let stages = Stages::new("Dockerfile", &dockerfile).ok();
            let _outline = outline(&dockerfile, stages.as_ref());
            if let Ok(report) = check("Dockerfile", &dockerfile, &CheckOptions::default()) {
                for finding in &report.findings {
                    prop_assert!(finding.line <= dockerfile.end_line().max(1));
                }
            }
            let mut last = 0;
            for node in &dockerfile.nodes {
                prop_assert!(last < node.start_line && node.start_line <= node.end_line);
                last = node.end_line;
            }
        }
        Err(error) => {
            let _message = error.to_string();
        }
    }
    Ok(())
}

/// One change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(Index, &'static str),
    Delete(Index, usize),
    Replace(Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), prop::sample::select(FRAGMENTS))
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
        (any::<Index>(), 1..16usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Replace(at, b)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        match mutation {
            Mutation::Insert(at, text) => {
                let at = at.index(len + 1);
                bytes.splice(at..at, text.bytes());
            }
            Mutation::Delete(at, n) if len > 0 => {
                let at = at.index(len);
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Replace(at, b) if len > 0 => bytes[at.index(len)] = *b,
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_parse_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        parse_anything(&bytes)?;
    }

    #[test]
    fn dockerfile_fragments_parse_or_fail(
        parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80)
    ) {
        parse_anything(parts.concat().as_bytes())?;
    }

    #[test]
    fn mutated_conformance_files_parse_or_fail(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..10),
    ) {
        let source = SEEDS[seed.index(SEEDS.len())].clone();
        parse_anything(&mutate(source, &mutations))?;
    }
}

#[test]
fn inputs_built_to_hurt_finish() {
    let hurtful = [
        // ONBUILD in ONBUILD, joined from continuation lines far past any line limit.
        format!("FROM a\n{}RUN x\n", "ONBUILD \\\n".repeat(100_000)),
        // `${a:-` nested deeper than any stack would like, on a heredoc line.
        format!("FROM a\nRUN <<EOF {}\nEOF\n", "${a:-".repeat(50_000)),
        // JSON nested deeply.
        format!("FROM a\nCMD {}{}\n", "[".repeat(60_000), "]".repeat(5_000)),
        // A megabyte of continuation lines, and thousands of heredocs on one line.
        format!("FROM a\nRUN {}x\n", "a \\\n".repeat(250_000)),
        format!(
            "FROM a\nRUN {}\n{}",
            "<<E ".repeat(10_000),
            "E\n".repeat(10_000)
        ),
        // Only comments, and only escapes.
        "# c\n".repeat(100_000),
        "\\\n".repeat(100_000),
    ];
    for source in hurtful {
        if let Err(failure) = parse_anything(source.as_bytes()) {
            panic!("{failure}");
        }
    }
}
