//! The builder checked against Docker: each case under `tests/docker-build/` is a build context
//! that Docker 20.10 built (`scripts/compare-docker-build.sh --record`); its image is summarized
//! in `expected.json` by `scripts/image-summary.py` (config, history, the files above the base
//! image). This test builds the same context with `ch05-dockerfile build`, saves the image,
//! summarizes it with the same script and compares. Cases with a `case.bust` file also compare
//! the legacy builder's output of a first build, an unchanged rebuild and a rebuild after that
//! file changed (`expected-output.txt`).
//!
//! The harness files of a case (`case.*`, `expected*`) are not part of its context:
//! - `case.args`: more `build` arguments, one a line;
//! - `case.requires`: cases built (and tagged `dockyard-case-NAME`) first, in the same store;
//! - `case.setup.sh`: run in the copied context (symbolic links, modes, owners git cannot hold);
//! - `case.buildkit`: Docker needed BuildKit for it (recorded with `DOCKER_BUILDKIT=1`);
//! - `case.bust`: the context file changed for the output's third build.
//!
//! A program of its own (`harness = false`): one line per case, `ch05-dockerfile` builds run a
//! few at a time, every failure's diff printed at the end. `cargo test --test docker_build
//! -- NAME` runs the cases whose name contains NAME.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use dockyard_tests::images::{ImageFixture, busybox_docker_archive, busybox_oci_layout};
use regex::Regex;

/// Cases whose history is not compared, only their config and files, and why.
const HISTORY_NOT_COMPARED: &[(&str, &str)] = &[(
    "chmod-buildkit",
    "the legacy builder refuses --chmod, so Docker recorded it with BuildKit, whose \
     created_by (`COPY file.txt /chmod/file # buildkit`, comment buildkit.dockerfile.v0) \
     differs from the legacy form the builder writes everywhere",
)];

/// The base image every case builds on (or `scratch`), under the name the Dockerfiles use.
const BASE_NAME: &str = "dockyard-base:latest";

/// The longest one `ch05-dockerfile` command may take.
const PATIENCE: Duration = Duration::from_secs(300);

/// How many cases build at once.
const WORKERS: usize = 2;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker-build")
}

fn summary_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/image-summary.py")
}

/// The busybox fixture image as a docker-save archive, built once for every case (the same
/// bytes `scripts/compare-docker-build.sh` gave Docker, as long as busybox and the probe are
/// the same; the summaries leave the base's files out, so they need not be).
fn base_archive() -> &'static Path {
    static BASE: OnceLock<(ImageFixture, PathBuf)> = OnceLock::new();
    &BASE
        .get_or_init(|| {
            let fixture = busybox_oci_layout("latest");
            let archive = busybox_docker_archive(&fixture, BASE_NAME);
            (fixture, archive)
        })
        .1
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !dockyard_tests::root_or_skip("docker_build")
        || !dockyard_tests::images::image_tools_or_skip("docker_build")
    {
        return;
    }
    let mut names: Vec<String> = fs::read_dir(cases_dir())
        .expect("list tests/docker-build")
        .map(|e| e.expect("read a case").path())
        .filter(|path| path.join("Dockerfile").exists())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|name| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())))
        .collect();
    names.sort();
    base_archive();

    let queue = Mutex::new(names.clone());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(name) = queue.lock().unwrap().pop() {
                    match std::panic::catch_unwind(|| check_case(&name)) {
                        Ok(Ok(())) => println!("case {name} ... ok"),
                        Ok(Err(report)) => {
                            println!("case {name} ... FAILED");
                            failures.lock().unwrap().push((name, report));
                        }
                        Err(_) => {
                            println!("case {name} ... FAILED (panicked, see above)");
                            failures.lock().unwrap().push((name, "panicked".into()));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    for (name, report) in &failures {
        println!("\n---- case {name} ----\n{report}");
    }
    let failed: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Docker: {failed:?}",
        failures.len(),
        names.len()
    );
    println!("docker_build: {} cases ok", names.len());
}

/// Builds case `name` (after the cases it requires) in a store of its own and compares the
/// summary, and the output where recorded, with Docker's. Err holds the readable differences.
fn check_case(name: &str) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("dockyard-docker-build-")
        .tempdir()
        .expect("create a temporary directory");
    let root = dir.path().join("root");
    let archive = base_archive().to_string_lossy().into_owned();
    tool(&root, &["load", "-i", &archive])?;
    for required in lines(&cases_dir().join(name).join("case.requires")) {
        let context = context(&required, &dir.path().join(format!("context-{required}")));
        build(&root, &required, &context)?;
    }
    let context = context(name, &dir.path().join(format!("context-{name}")));
    let first = build(&root, name, &context)?;
    let mut report = String::new();

    let saved = dir.path().join("image.tar");
    let image = format!("dockyard-case-{name}");
    tool(&root, &["save", "-o", &saved.to_string_lossy(), &image])?;
    let mut summary = summarize(&saved);
    let mut expected = fs::read_to_string(cases_dir().join(name).join("expected.json"))
        .expect("read expected.json (record it with scripts/compare-docker-build.sh --record)");
    if HISTORY_NOT_COMPARED.iter().any(|(case, _)| *case == name) {
        let without_history = |text: &str| {
            let kept: Vec<&str> = text
                .lines()
                .filter(|line| !line.contains("\"created_by\""))
                .collect();
            kept.join("\n")
        };
        summary = without_history(&summary);
        expected = without_history(&expected);
    }
    if summary != expected {
        report += &diff(
            dir.path(),
            "docker (expected.json)",
            &expected,
            "dockyard",
            &summary,
        );
    }

    let bust = cases_dir().join(name).join("case.bust");
    if bust.exists() {
        let changed = fs::read_to_string(&bust).expect("read case.bust");
        let mut output = format!("# first build\n{}", normalize_output(&first));
        output += "# rebuild, nothing changed\n";
        output += &normalize_output(&build(&root, name, &context)?);
        let file = context.join(changed.trim());
        let mut text = fs::read_to_string(&file).expect("read the file to change");
        text.push_str("changed\n");
        fs::write(&file, text).expect("change a context file");
        output += &format!("# rebuild after {} changed\n", changed.trim());
        output += &normalize_output(&build(&root, name, &context)?);
        let recorded = fs::read_to_string(cases_dir().join(name).join("expected-output.txt"))
            .expect("read expected-output.txt");
        let expected = without_daemon_lines(&recorded);
        let output = without_daemon_lines(&output);
        if output != expected {
            report += &diff(
                dir.path(),
                "docker (expected-output.txt)",
                &expected,
                "dockyard",
                &output,
            );
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

/// Copies case `name`'s context (not its harness files) to `to` and runs its setup there.
fn context(name: &str, to: &Path) -> PathBuf {
    let case = cases_dir().join(name);
    copy_tree(&case, to, true);
    let setup = case.join("case.setup.sh");
    if setup.exists() {
        let status = Process::new("sh")
            .arg(&setup)
            .current_dir(to)
            .status()
            .expect("run case.setup.sh");
        assert!(status.success(), "{}: {status}", setup.display());
    }
    to.to_path_buf()
}

/// Copies `from` to `to`: symbolic links as links, modes kept; at the top, without the
/// harness files when `top` is set.
fn copy_tree(from: &Path, to: &Path, top: bool) {
    fs::create_dir_all(to).expect("create a context directory");
    for entry in fs::read_dir(from).expect("list a case directory") {
        let entry = entry.expect("read a case entry");
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if top && (text.starts_with("case.") || text.starts_with("expected")) {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        let meta = fs::symlink_metadata(&source).expect("stat a case entry");
        if meta.file_type().is_symlink() {
            symlink(fs::read_link(&source).expect("read a link"), &target).expect("copy a link");
        } else if meta.is_dir() {
            copy_tree(&source, &target, false);
            fs::set_permissions(
                &target,
                fs::Permissions::from_mode(meta.permissions().mode()),
            )
            .expect("keep a directory's mode");
        } else {
            fs::copy(&source, &target).expect("copy a context file");
        }
    }
}

/// `ch05-dockerfile --root ROOT build -t dockyard-case-NAME ARGS .` in `context`; its output
/// (stdout, then stderr).
fn build(root: &Path, name: &str, context: &Path) -> Result<String, String> {
    let mut args = vec![
        "build".to_string(),
        "-t".into(),
        format!("dockyard-case-{name}"),
    ];
    args.extend(lines(&cases_dir().join(name).join("case.args")));
    args.push(".".into());
    let out = cargo_bin_cmd!("ch05-dockerfile")
        .arg("--root")
        .arg(root)
        .args(&args)
        .current_dir(context)
        .timeout(PATIENCE)
        .output()
        .expect("run ch05-dockerfile build");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("build of {name} failed ({}):\n{text}", out.status))
    }
}

/// `ch05-dockerfile --root ROOT ARGS`, Err with its output if it fails.
fn tool(root: &Path, args: &[&str]) -> Result<(), String> {
    let out = cargo_bin_cmd!("ch05-dockerfile")
        .arg("--root")
        .arg(root)
        .args(args)
        .timeout(PATIENCE)
        .output()
        .expect("run ch05-dockerfile");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "ch05-dockerfile {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// The summary `scripts/image-summary.py` prints for a saved image, above the base.
fn summarize(archive: &Path) -> String {
    let out = Process::new("python3")
        .arg(summary_script())
        .arg("--base")
        .arg(base_archive())
        .arg(archive)
        .output()
        .expect("run python3 scripts/image-summary.py");
    assert!(
        out.status.success(),
        "image-summary.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a UTF-8 summary")
}

/// The legacy builder's output with what changes from run to run written `<id>` and
/// `<size>`, line by line as `scripts/compare-docker-build.sh` normalizes Docker's: a line
/// redrawn with carriage returns is its last drawing.
/// Output without the lines that come from Docker's daemon, which Dockyard has not:
/// `Sending build context to Docker daemon` (the context is read where it is), and a
/// container made and removed without a word of output (the legacy builder makes one for
/// every config-only step, `ENV`, `LABEL`…, and for the triggers that are; Dockyard edits
/// the config without one). Applied to both sides: a `RUN` that prints still shows its
/// container around its output. The book says so too.
fn without_daemon_lines(output: &str) -> String {
    let mut kept = String::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("Sending build context to Docker daemon") {
            continue;
        }
        if line.starts_with(" ---> Running in ")
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("Removing intermediate container"))
        {
            lines.next();
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

fn normalize_output(output: &str) -> String {
    static RULES: OnceLock<Vec<(Regex, &str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (
                r"^(Sending build context to Docker daemon ).*",
                "${1} <size>",
            ),
            (r"^( ---> (Running in )?)[0-9a-f]{12}$", "${1}<id>"),
            (
                r"^(Removing intermediate container |Successfully built )[0-9a-f]{12}$",
                "${1}<id>",
            ),
        ]
        .into_iter()
        .map(|(pattern, replacement)| (Regex::new(pattern).unwrap(), replacement))
        .collect()
    });
    let mut normalized = String::new();
    for line in output.lines() {
        let line = line.trim_end_matches('\r');
        let mut line = line.rsplit('\r').next().unwrap_or(line).to_string();
        for (pattern, replacement) in rules {
            line = pattern.replace(&line, *replacement).into_owned();
        }
        normalized.push_str(&line);
        normalized.push('\n');
    }
    normalized
}

/// The lines of a harness file, none if it is absent.
fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `diff -u` of two texts, labelled.
fn diff(dir: &Path, left_label: &str, left: &str, right_label: &str, right: &str) -> String {
    let (left_file, right_file) = (dir.join("left"), dir.join("right"));
    fs::write(&left_file, left).expect("write a diff side");
    fs::write(&right_file, right).expect("write a diff side");
    let out = Process::new("diff")
        .args(["-u", "--label", left_label, "--label", right_label])
        .arg(&left_file)
        .arg(&right_file)
        .output()
        .expect("run diff");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
