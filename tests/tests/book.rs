//! The book cannot drift from the code: this test checks what `mdbook build` does not.
//!
//! * Every `{{#include path:anchor}}` resolves: mdbook 0.5 only logs a missing file and
//!   silently drops a missing anchor, so a renamed anchor would leave an empty listing.
//! * Every anchor in the sources is opened and closed once, and some page includes it.
//! * Every `console` transcript is run again against the real binaries and must print the same.
//!
//! A transcript is a fenced block tagged `console`: lines starting with `$ ` are commands (a
//! leading `sudo ` is dropped: the tests already run as root), the lines after one are what it
//! prints, stdout and stderr together. `echo $?` prints the previous command's status. Each
//! block runs in a fresh directory holding `rootfs/` (busybox and `/probe`), as the book tells
//! the reader to prepare it. Ids, pids and `\r` from terminals are normalized on both sides,
//! and a `…` in the book stands for any text within its line (CPU times, sizes).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dockyard_tests::{busybox_rootfs, require_root};
use regex::Regex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn book_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = fs::read_dir(workspace().join("book/src"))
        .expect("read book/src")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "no pages in book/src");
    pages
}

/// mdbook's `{{#include FILE:SELECTOR}}` (and `rustdoc_include`); the first group is the
/// argument.
fn include_pattern() -> Regex {
    Regex::new(r"\{\{#(?:include|rustdoc_include)\s+([^}\s]+)\s*\}\}").unwrap()
}

/// Whether an include's selector names lines (`10`, `10:20`, `:20`) or the whole file, rather
/// than an anchor.
fn selects_lines(selector: &str) -> bool {
    selector
        .split(':')
        .all(|p| p.is_empty() || p.parse::<usize>().is_ok())
}

#[test]
fn every_include_resolves_to_a_file_and_anchor() {
    let include = include_pattern();
    let mut problems = Vec::new();
    let mut count = 0;
    for page in book_pages() {
        let text = fs::read_to_string(&page).unwrap();
        for cap in include.captures_iter(&text) {
            count += 1;
            let spec = &cap[1];
            let (file, selector) = spec.split_once(':').unwrap_or((spec, ""));
            let path = page.parent().unwrap().join(file);
            let Ok(source) = fs::read_to_string(&path) else {
                problems.push(format!("{}: {spec}: no such file", page.display()));
                continue;
            };
            if selects_lines(selector) {
                let lines = source.lines().count();
                let too_far = selector
                    .split(':')
                    .filter_map(|p| p.parse::<usize>().ok())
                    .any(|n| n > lines);
                if too_far {
                    problems.push(format!(
                        "{}: {spec}: beyond the file's {lines} lines",
                        page.display()
                    ));
                }
                continue;
            }
            let opens = source.matches(&format!("ANCHOR: {selector}\n")).count();
            let closes = source.matches(&format!("ANCHOR_END: {selector}\n")).count();
            if opens != 1 || closes != 1 {
                problems.push(format!(
                    "{}: {spec}: anchor opened {opens} and closed {closes} times",
                    page.display()
                ));
            }
        }
    }
    assert!(count > 0, "the book includes no code at all");
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

#[test]
fn anchors_in_the_sources_are_balanced() {
    let anchor = Regex::new(r"ANCHOR(_END)?: (\w+)").unwrap();
    for file in anchored_sources() {
        let text = fs::read_to_string(&file).unwrap();
        let mut open: BTreeMap<String, usize> = BTreeMap::new();
        for cap in anchor.captures_iter(&text) {
            let counter = open.entry(cap[2].to_string()).or_default();
            if cap.get(1).is_some() {
                assert!(
                    *counter > 0,
                    "{}: ANCHOR_END: {} before its ANCHOR",
                    file.display(),
                    &cap[2]
                );
                *counter -= 1;
            } else {
                *counter += 1;
            }
        }
        let unclosed: Vec<_> = open.iter().filter(|(_, n)| **n != 0).collect();
        assert!(
            unclosed.is_empty(),
            "{}: unclosed anchors {unclosed:?}",
            file.display()
        );
    }
}

/// Some page includes every anchor: an anchor that no page shows is a listing a page stopped
/// showing or never did, and whoever edits the code around it keeps its markers for nothing.
#[test]
fn every_anchor_is_included_by_a_page() {
    let include = include_pattern();
    let mut included: BTreeSet<(PathBuf, String)> = BTreeSet::new();
    for page in book_pages() {
        let text = fs::read_to_string(&page).unwrap();
        for cap in include.captures_iter(&text) {
            let (file, selector) = cap[1].split_once(':').unwrap_or((&cap[1], ""));
            // A file that is missing is the include test's to report.
            if let Ok(file) = page.parent().unwrap().join(file).canonicalize() {
                included.insert((file, selector.to_string()));
            }
        }
    }
    let anchor = Regex::new(r"^\s*//\s*ANCHOR:\s*([\w-]+)").unwrap();
    let workspace = workspace().canonicalize().unwrap();
    let mut unshown = Vec::new();
    for file in anchored_sources() {
        let file = file.canonicalize().unwrap();
        // A whole-file include shows every anchor in it (mdbook drops the marker lines).
        if included.contains(&(file.clone(), String::new())) {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let Some(cap) = anchor.captures(line) else {
                continue;
            };
            if !included.contains(&(file.clone(), cap[1].to_string())) {
                unshown.push(format!(
                    "{}:{}: {}",
                    file.strip_prefix(&workspace).unwrap_or(&file).display(),
                    number + 1,
                    &cap[1]
                ));
            }
        }
    }
    assert!(
        unshown.is_empty(),
        "anchors no page includes (include each in a page, or remove its two marker lines):\n{}",
        unshown.join("\n")
    );
}

/// The sources that may hold anchors: the chapters, the probe and the tests.
fn anchored_sources() -> Vec<PathBuf> {
    ["chapters", "probe", "tests"]
        .iter()
        .flat_map(|dir| rust_sources(&workspace().join(dir)))
        .collect()
}

fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
            files.extend(rust_sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// One command of a transcript and what the book says it prints.
#[derive(Debug)]
struct Step {
    command: String,
    expected: String,
}

/// The `console` blocks of a page, each a list of steps.
fn transcripts(page: &str) -> Vec<Vec<Step>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Step>> = None;
    for line in page.lines() {
        match &mut current {
            None if line.trim_start() == "```console" => current = Some(Vec::new()),
            None => {}
            Some(_) if line.trim_start() == "```" => blocks.push(current.take().unwrap()),
            Some(steps) => {
                if let Some(command) = line.strip_prefix("$ ") {
                    steps.push(Step {
                        command: command.to_string(),
                        expected: String::new(),
                    });
                } else if let Some(step) = steps.last_mut() {
                    step.expected.push_str(line);
                    step.expected.push('\n');
                }
            }
        }
    }
    blocks
}

/// Makes volatile parts comparable: container ids, pids, terminal line endings.
fn normalize(text: &str) -> String {
    let rules = [
        (r"\b[0-9a-f]{64}\b", "<id>"),
        (r"\b[0-9a-f]{12}\b", "<short-id>"),
        // The pids the engine narrates (`clone(...) = pid 4242`), not a container's own pid 1.
        (r"= pid \d+", "= pid <n>"),
        (r"to pid \d+", "to pid <n>"),
        // The pid the engine writes into a cgroup.
        (
            r#""\d+" > (\S+)/cgroup\.procs"#,
            r#""<n>" > $1/cgroup.procs"#,
        ),
    ];
    let mut text = text.replace("\r\n", "\n");
    for (pattern, replacement) in rules {
        text = Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// Whether `actual` is what the book shows, where each `…` matches any text within a line.
fn matches(expected: &str, actual: &str) -> bool {
    if !expected.contains('…') {
        return expected == actual;
    }
    let pattern = expected
        .split('…')
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join("[^\n]*");
    Regex::new(&format!("^{pattern}$"))
        .unwrap()
        .is_match(actual)
}

#[test]
fn an_ellipsis_matches_within_a_line_only() {
    assert!(matches("cpu: … user\n", "cpu: 0.12s user\n"));
    assert!(!matches("cpu: … user\n", "cpu: 1\n2 user\n"));
    assert!(!matches("a\n", "b\n"));
}

/// The directory holding the workspace's binaries (next to this test's `deps/`).
fn binaries() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

#[test]
fn every_transcript_matches_the_real_program() {
    require_root!();
    let bin = binaries();
    assert!(
        bin.join("ch01-namespaces").exists(),
        "{} has no ch01-namespaces: run the tests with `cargo test --workspace`",
        bin.display()
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in book_pages() {
        let text = fs::read_to_string(&page).unwrap();
        for block in transcripts(&text) {
            let dir = busybox_rootfs();
            let mut last_status = 0;
            for step in block {
                checked += 1;
                let command = step.command.strip_prefix("sudo ").unwrap_or(&step.command);
                let (output, status) = if command == "echo $?" {
                    (format!("{last_status}\n"), 0)
                } else {
                    run_shell(command, dir.path(), &path)
                };
                last_status = status;
                if !matches(&normalize(&step.expected), &normalize(&output)) {
                    failures.push(format!(
                        "{}: `{}`\n--- the book says:\n{}--- the program printed:\n{}",
                        page.file_name().unwrap().to_string_lossy(),
                        step.command,
                        step.expected,
                        output
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "the book shows no transcripts");
    assert!(
        failures.is_empty(),
        "transcripts that drifted:\n\n{}",
        failures.join("\n")
    );
}

/// Runs one transcript line with `sh`, stdout and stderr merged as a terminal shows them.
fn run_shell(command: &str, dir: &Path, path: &str) -> (String, i32) {
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1; {command}"))
        .current_dir(dir)
        .env("PATH", path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start sh");
    let pid = child.id() as i32;
    // Read the output on another thread so that a long output cannot fill the pipe while this
    // one waits, and so that the wait can be bounded.
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match result.recv_timeout(Duration::from_secs(20)) {
        Ok(output) => {
            let output = output.expect("wait for sh");
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            (text, output.status.code().unwrap_or(-1))
        }
        Err(_) => {
            // SAFETY: kill has no memory-safety preconditions; the panic is the report.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("transcript command `{command}` did not finish within 20 s");
        }
    }
}
