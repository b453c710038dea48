//! Typed instructions and stages: every validation message once (through the binary), the
//! stages of a real multi-stage Dockerfile, and BuildKit's parser conformance files through
//! the typed layer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch05_dockerfile::instructions::{
    Chmod, Command, CommandLine, Healthcheck, Mount, MountType, Network, Word,
};
use ch05_dockerfile::parser::parse;
use ch05_dockerfile::stages::{Base, Platform, Source, Stages, predefined_args};

const PATIENCE: Duration = Duration::from_secs(30);

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/buildkit/frontend/dockerfile/parser/testfiles"
);

/// The conformance cases BuildKit's *parser* reads but its instructions layer refuses,
/// and why: flags no instruction has, a HEALTHCHECK without arguments, and files that
/// start with CMD (parser tests of JSON forms, with no FROM).
const REFUSED_BY_THE_INSTRUCTIONS_LAYER: [(&str, &str); 8] = [
    ("flags", "3: unknown flag: --user"),
    ("health", "4: HEALTHCHECK requires at least one argument"),
    (
        "jeztah-invalid-json-json-inside-string",
        "1: no build stage in current context",
    ),
    (
        "jeztah-invalid-json-json-inside-string-double",
        "1: no build stage in current context",
    ),
    (
        "jeztah-invalid-json-single-quotes",
        "1: no build stage in current context",
    ),
    (
        "jeztah-invalid-json-unterminated-bracket",
        "1: no build stage in current context",
    ),
    (
        "jeztah-invalid-json-unterminated-string",
        "1: no build stage in current context",
    ),
    ("json", "1: no build stage in current context"),
];

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dockyard-ch05-instructions-")
        .tempdir()
        .expect("a temporary directory")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn stages(source: &str) -> Stages {
    let dockerfile = parse("Dockerfile", source.as_bytes()).expect("parses");
    Stages::new("Dockerfile", &dockerfile).expect("typed")
}

/// One Dockerfile per message of the typed layer.
fn bad_dockerfiles() -> Vec<(&'static str, String)> {
    let stage = |body: &str| format!("FROM busybox\n{body}\n");
    vec![
        ("instruction before FROM", "RUN true\nFROM busybox\n".into()),
        ("only ARGs", "ARG A=1\nARG B\n".into()),
        ("unknown instruction", stage("RUNN true")),
        ("unknown instruction, nothing close", stage("XYZZY plugh")),
        ("FROM with a bad stage name", "FROM busybox AS 1st\n".into()),
        ("FROM with two words", "FROM busybox AS\n".into()),
        (
            "FROM with an unknown flag",
            "FROM --plaform=linux/amd64 busybox\n".into(),
        ),
        ("ENV with a blank name", stage("ENV =value")),
        ("LABEL without arguments", stage("LABEL")),
        ("ARG without arguments", stage("ARG")),
        ("ARG with a blank name", stage("ARG =1")),
        ("COPY with one argument", stage("COPY app")),
        ("ADD with one argument", stage("ADD app")),
        ("COPY to a heredoc", stage("COPY a <<EOF\nbody\nEOF")),
        ("COPY with an unknown flag", stage("COPY --chmown=1:1 a /b")),
        (
            "COPY with a flag twice",
            stage("COPY --from=a --from=b x /y"),
        ),
        ("COPY with a flag without value", stage("COPY --from a /b")),
        ("COPY with a bad boolean", stage("COPY --link=yes a /b")),
        ("COPY with a bad octal mode", stage("COPY --chmod=999 a /b")),
        (
            "COPY with a bad symbolic mode",
            stage("COPY --chmod=u+q a /b"),
        ),
        ("COPY --from a variable", stage("COPY --from=$STAGE a /b")),
        ("RUN with a flag it does not have", stage("RUN --foo true")),
        ("RUN with a bad network", stage("RUN --network=bridge true")),
        (
            "RUN with a bad security",
            stage("RUN --security=privileged true"),
        ),
        (
            "RUN with a bad mount type",
            stage("RUN --mount=type=bindd,target=/a true"),
        ),
        (
            "RUN with a mount from a variable",
            stage("RUN --mount=from=$X,target=/a true"),
        ),
        (
            "RUN with a bad secret mount",
            stage("RUN --mount=type=secret true"),
        ),
        ("CMD with a flag", stage("CMD --doit true")),
        ("SHELL in shell form", stage("SHELL /bin/bash -c")),
        ("SHELL empty", stage("SHELL []")),
        ("HEALTHCHECK without arguments", stage("HEALTHCHECK")),
        (
            "HEALTHCHECK NONE with arguments",
            stage("HEALTHCHECK NONE x"),
        ),
        (
            "HEALTHCHECK of an unknown type",
            stage("HEALTHCHECK CONNECT tcp"),
        ),
        ("HEALTHCHECK CMD without command", stage("HEALTHCHECK CMD")),
        (
            "HEALTHCHECK interval too short",
            stage("HEALTHCHECK --interval=500us CMD true"),
        ),
        (
            "HEALTHCHECK duration without unit",
            stage("HEALTHCHECK --timeout=5 CMD true"),
        ),
        (
            "HEALTHCHECK negative retries",
            stage("HEALTHCHECK --retries=-1 CMD true"),
        ),
        (
            "HEALTHCHECK retries not a number",
            stage("HEALTHCHECK --retries=x CMD true"),
        ),
        ("ONBUILD alone", stage("ONBUILD")),
        ("ONBUILD ONBUILD", stage("ONBUILD ONBUILD RUN true")),
        ("ONBUILD FROM", stage("ONBUILD FROM busybox")),
        ("ONBUILD MAINTAINER", stage("ONBUILD MAINTAINER me")),
        ("WORKDIR without a path", stage("WORKDIR")),
        ("USER without a user", stage("USER")),
        ("MAINTAINER without a name", stage("MAINTAINER")),
        ("STOPSIGNAL without a signal", stage("STOPSIGNAL")),
        ("EXPOSE without ports", stage("EXPOSE")),
        ("VOLUME without paths", stage("VOLUME")),
        ("VOLUME with an empty path", stage(r#"VOLUME ["/a", " "]"#)),
    ]
}

#[test]
fn every_validation_message() {
    let mut report = String::new();
    for (label, source) in bad_dockerfiles() {
        let dir = temp_dir();
        std::fs::write(dir.path().join("Dockerfile"), source).expect("write the Dockerfile");
        let output = cargo_bin_cmd!("ch05-dockerfile")
            .arg("parse")
            .current_dir(dir.path())
            .timeout(PATIENCE)
            .assert()
            .code(1);
        let output = output.get_output();
        assert!(output.stdout.is_empty(), "{label}: nothing on stdout");
        report.push_str(&format!("== {label}\n{}", text(&output.stderr)));
    }
    insta::assert_snapshot!("validation_errors", report);
}

/// A multi-stage Dockerfile as projects write them: a pinned toolchain chosen by a meta
/// argument, a cross-compiling build stage on the build platform, a test stage on top of
/// it, and a small final stage copying the binary.
const REAL: &str = r#"# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG ALPINE=alpine:3.20

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS Build
WORKDIR /src
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,source=.,target=/src \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app

FROM build AS test
RUN --network=none go test ./...

FROM ${ALPINE}
RUN apk add --no-cache ca-certificates
COPY --from=build --chmod=0755 /out/app /usr/local/bin/app
COPY <<-EOF /etc/app.conf
	listen = ":8080"
	EOF
USER 65534:65534
EXPOSE 8080/tcp
HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD ["app", "-health"]
ENTRYPOINT ["app"]
"#;

#[test]
fn the_stages_of_a_real_multi_stage_dockerfile() {
    let stages = stages(REAL);
    let meta: Vec<&str> = stages
        .meta_args
        .iter()
        .flat_map(|arg| arg.value.args.iter().map(|arg| arg.name.as_str()))
        .collect();
    assert_eq!(meta, ["GO_VERSION", "ALPINE"]);
    let names: Vec<Option<&str>> = stages.stages.iter().map(|s| s.name.as_deref()).collect();
    assert_eq!(names, [Some("build"), Some("test"), None]);
    let lines: Vec<(usize, usize)> = stages
        .stages
        .iter()
        .map(|stage| (stage.start_line, stage.end_line))
        .collect();
    assert_eq!(lines, [(5, 10), (12, 13), (15, 24)]);
    let build = &stages.stages[0];
    assert_eq!(build.base, "golang:${GO_VERSION}-alpine");
    assert_eq!(build.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(build.from.keyword, "FROM");
    let Command::Run(run) = &build.instructions[2].value else {
        panic!("a RUN")
    };
    let [Word::Literal(cache), Word::Literal(bind)] = run.mounts.as_slice() else {
        panic!("two mounts written out: {:?}", run.mounts)
    };
    assert_eq!((cache.kind, cache.read_only), (MountType::Cache, false));
    assert_eq!(
        (bind.kind, bind.source.as_deref()),
        (MountType::Bind, Some("."))
    );
    assert!(run.command.is_shell());

    let test = &stages.stages[1];
    let Command::Run(run) = &test.instructions[0].value else {
        panic!("a RUN")
    };
    assert_eq!(run.network, Network::None);

    let last = &stages.stages[2];
    let kinds: Vec<&str> = last
        .instructions
        .iter()
        .map(|i| i.keyword.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "RUN",
            "COPY",
            "COPY",
            "USER",
            "EXPOSE",
            "HEALTHCHECK",
            "ENTRYPOINT"
        ]
    );
    let Command::Copy(copy) = &last.instructions[1].value else {
        panic!("a COPY")
    };
    assert_eq!(copy.chmod, Some(Word::Literal(Chmod::Octal(0o755))));
    assert_eq!(
        stages.copy_source(2, copy.from.as_deref().expect("--from")),
        Ok(Source::Stage(0))
    );
    let Command::Copy(inline) = &last.instructions[2].value else {
        panic!("a COPY")
    };
    assert_eq!(inline.sources.inline[0].content, "listen = \":8080\"\n");
    assert!(inline.sources.inline[0].expand);
    let Command::Healthcheck(Healthcheck::Check(health)) = &last.instructions[5].value else {
        panic!("a HEALTHCHECK")
    };
    assert_eq!(health.interval, Some(Duration::from_secs(30)));
    assert_eq!(health.retries, 2);
    assert_eq!(
        health.command,
        CommandLine::Exec(vec!["app".into(), "-health".into()])
    );

    // The FROM lines expand with the meta arguments before anything is built.
    let host = Platform::host();
    let global = stages
        .global_args("Dockerfile", predefined_args(&host, &host, ""), &[])
        .expect("the global arguments");
    let from = |index| {
        stages
            .expand_from("Dockerfile", index, &global)
            .expect("expands")
    };
    assert_eq!(from(0).base, Base::Image("golang:1.22-alpine".into()));
    assert_eq!(from(0).platform, Some(host.format()));
    assert_eq!(from(1).base, Base::Stage(0));
    assert_eq!(from(2).base, Base::Image("alpine:3.20".into()));
}

#[test]
fn a_mount_with_variables_waits_for_the_builder() {
    let stages = stages("FROM busybox\nRUN --mount=type=cache,target=$CACHE,uid=$UID true\n");
    let Command::Run(run) = &stages.stages[0].instructions[0].value else {
        panic!("a RUN")
    };
    let Word::Expandable(spec) = &run.mounts[0] else {
        panic!("kept as written")
    };
    let mount = Mount::parse(spec, &mut |value| {
        Ok(value.replace("$CACHE", "/cache").replace("$UID", "1000"))
    })
    .expect("valid once expanded");
    assert_eq!(
        (mount.target.as_deref(), mount.uid),
        (Some("/cache"), Some(1000))
    );
}

#[test]
fn the_conformance_files_the_instructions_layer_accepts() {
    let corpus = PathBuf::from(CORPUS);
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the BuildKit conformance corpus is missing: {CORPUS}"
        );
        println!("SKIPPED typed conformance: no corpus at {CORPUS}");
        return;
    }
    let mut accepted = 0;
    let mut refused = Vec::new();
    for entry in std::fs::read_dir(&corpus).expect("list the cases") {
        let case = entry.expect("a case").path();
        let name = case
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read(case.join("Dockerfile")).expect("read the Dockerfile");
        let dockerfile = parse("Dockerfile", &source).expect("the parser accepts every case");
        match Stages::new("Dockerfile", &dockerfile) {
            Ok(stages) => {
                let typed: usize = stages.meta_args.len()
                    + stages
                        .stages
                        .iter()
                        .map(|s| 1 + s.instructions.len())
                        .sum::<usize>();
                assert_eq!(typed, dockerfile.nodes.len(), "{name}: every node typed");
                accepted += 1;
            }
            Err(error) => {
                let message = error.to_string();
                let line = message.trim_start_matches("Dockerfile:").to_owned();
                refused.push((name, line));
            }
        }
    }
    refused.sort();
    let expected: Vec<(String, String)> = REFUSED_BY_THE_INSTRUCTIONS_LAYER
        .iter()
        .map(|(name, line)| (name.to_string(), line.to_string()))
        .collect();
    assert_eq!(refused, expected);
    assert_eq!(accepted, 33 - expected.len());
}

#[test]
fn the_outline_shows_the_stages() {
    let output = cargo_bin_cmd!("ch05-dockerfile")
        .args(["parse", "-f", "-"])
        .current_dir(Path::new("."))
        .write_stdin(REAL)
        .timeout(PATIENCE)
        .assert()
        .success();
    insta::assert_snapshot!("outline_real", text(&output.get_output().stdout));
}
