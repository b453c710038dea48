//! `ch05-dockerfile parse`: the outline, BuildKit's dump, and the errors, through the binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;

const PATIENCE: Duration = Duration::from_secs(30);

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/buildkit/frontend/dockerfile/parser/testfiles"
);

/// A multi-stage Dockerfile that shows most of what the parser reads: directives, `ARG`
/// before `FROM`, a heredoc, a continuation with a comment and an empty line in it, flags,
/// JSON form, `ONBUILD`.
const MULTI_STAGE: &str = r#"# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended
ARG VERSION=1.36

# Build the tool in a throwaway stage.
FROM busybox:${VERSION} AS build
WORKDIR /src
COPY <<EOF hello.sh
#!/bin/sh
echo "hello from $HOSTNAME"
EOF
RUN chmod +x hello.sh && \
    # a comment inside a continuation is left out
    mkdir -p /out && \

    cp hello.sh /out/

FROM busybox:${VERSION}
LABEL org.opencontainers.image.title="hello" version=1
ENV PATH=/usr/local/bin:$PATH
COPY --from=build /out/hello.sh /usr/local/bin/hello
HEALTHCHECK --interval=30s CMD ["hello"]
ONBUILD RUN echo "built from hello"
CMD ["hello"]
"#;

/// `ch05-dockerfile parse ARGS...` in `dir`.
fn parse_in(dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("ch05-dockerfile");
    command
        .arg("parse")
        .args(args)
        .current_dir(dir)
        .timeout(PATIENCE);
    command
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dockyard-ch05-parse-")
        .tempdir()
        .expect("a temporary directory")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn the_outline_shows_instructions_with_their_lines() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("Dockerfile"), MULTI_STAGE).expect("write the Dockerfile");
    // No -f: ./Dockerfile.
    let output = parse_in(dir.path(), &[]).assert().success();
    insta::assert_snapshot!("outline_multi_stage", text(&output.get_output().stdout));
}

#[test]
fn the_dump_is_buildkits() {
    let output = parse_in(Path::new("."), &["-f", "-", "--dump"])
        .write_stdin(MULTI_STAGE)
        .assert()
        .success();
    insta::assert_snapshot!("dump_multi_stage", text(&output.get_output().stdout));
    let stderr = text(&output.get_output().stderr);
    assert!(
        stderr.starts_with("[WARNING]: Empty continuation line found in: RUN chmod +x hello.sh"),
        "{stderr}"
    );
}

#[test]
fn every_conformance_case_dumps_through_the_binary() {
    let corpus = PathBuf::from(CORPUS);
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the BuildKit conformance corpus is missing: {CORPUS}"
        );
        println!("SKIPPED parse --dump conformance: no corpus at {CORPUS}");
        return;
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(&corpus).expect("list the cases") {
        let case = entry.expect("a case").path();
        let dockerfile = case.join("Dockerfile");
        let dockerfile = dockerfile.to_str().expect("a UTF-8 path");
        let output = parse_in(Path::new("."), &["-f", dockerfile, "--dump"])
            .assert()
            .success();
        let expected = std::fs::read_to_string(case.join("result"))
            .expect("read the result")
            .replace("\r\n", "\n");
        let dumped = text(&output.get_output().stdout);
        assert_eq!(dumped, expected, "{}", case.display());
        checked += 1;
    }
    assert_eq!(checked, 33);
}

/// One bad Dockerfile for each message the parser has.
fn bad_dockerfiles() -> Vec<(&'static str, Vec<u8>)> {
    let long_line = format!("FROM busybox\nRUN echo {}\n", "a".repeat(70_000));
    let deep_onbuild = format!("FROM busybox\n{}RUN true\n", "ONBUILD ".repeat(70));
    vec![
        ("empty", b"".to_vec()),
        ("env without a value", b"FROM busybox\nENV PATH\n".to_vec()),
        ("a pair without =", b"FROM busybox\nENV A=1 B\n".to_vec()),
        (
            "json with a number",
            b"FROM busybox\nCMD [\"sleep\", 1]\n".to_vec(),
        ),
        ("a line over 64 KiB", long_line.into_bytes()),
        (
            "unterminated heredoc",
            b"FROM busybox\nRUN <<END\necho hi\n".to_vec(),
        ),
        ("bad escape", b"# escape=x\nFROM busybox\n".to_vec()),
        (
            "two syntax directives",
            b"# syntax=a\n# syntax=b\nFROM busybox\n".to_vec(),
        ),
        ("onbuild in onbuild", deep_onbuild.into_bytes()),
        ("not utf-8", b"FROM busybox\nLABEL name=caf\xe9\n".to_vec()),
    ]
}

#[test]
fn errors_name_the_file_and_the_line() {
    let mut report = String::new();
    for (label, source) in bad_dockerfiles() {
        let dir = temp_dir();
        std::fs::write(dir.path().join("Dockerfile"), source).expect("write the Dockerfile");
        let output = parse_in(dir.path(), &["-f", "Dockerfile"]).assert().code(1);
        let output = output.get_output();
        assert!(output.stdout.is_empty(), "{label}: nothing on stdout");
        report.push_str(&format!("== {label}\n{}", text(&output.stderr)));
    }
    let dir = temp_dir();
    let output = parse_in(dir.path(), &["-f", "Dockerfile.missing"])
        .assert()
        .code(1);
    let stderr = text(&output.get_output().stderr);
    report.push_str(&format!("== missing file\n{stderr}"));
    insta::assert_snapshot!("parse_errors", report);
}
