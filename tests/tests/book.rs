//! The book cannot drift from the code: this test checks what `mdbook build` does not.
//!
//! * Every `{{#include path:anchor}}` resolves: mdbook 0.5 only logs a missing file and
//!   silently drops a missing anchor, so a renamed anchor would leave an empty listing.
//! * Every anchor in the sources is opened and closed once, and some page includes it.
//! * Every `console` transcript is run again against the real binaries and must print the same.
//!
//! A transcript is a fenced block tagged `console`: lines starting with `$ ` are commands (a
//! leading `sudo ` is dropped: the tests already run as root; `sudo` anywhere else is an
//! error), the lines after one are what it prints, stdout and stderr together. A page's blocks
//! run as a reader types them: in order, in one shell, in one directory, so a block sees the
//! files, variables and `$?` the ones before it left. The directory starts as the introduction
//! prepares it: `$DOCKYARD` set to the workspace, `rootfs/` from `scripts/busybox-rootfs.sh`,
//! with `/probe` from
//! `scripts/install-probe.sh`. Ids, pids and `\r` from terminals are normalized on both sides,
//! and a `…` in the book stands for any text within its line (CPU times, sizes).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use dockyard_tests::require_root;
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

/// The directory holding the workspace's binaries: this test runs from `deps/` beside them.
fn binaries() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// How long one step may run; a step that takes longer ends its page's run.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// What the shell prints after each step, followed by the step's exit status.
const STEP_DONE: &str = "<dockyard-book: step done, status>";

/// A shell function that prints [`STEP_DONE`] and the status of the step before it, and
/// returns that status again, so that a page's `echo $?` sees the status of its own command.
fn step_done_function() -> String {
    format!(
        "__dockyard_step_done() {{ __dockyard_status=$?; \
         printf '%s %d\\n' '{STEP_DONE}' \"$__dockyard_status\"; \
         return \"$__dockyard_status\"; }}\n"
    )
}

#[test]
fn every_transcript_matches_the_real_program() {
    require_root!();
    let bin = binaries();
    assert!(
        bin.join("ch01-namespaces").exists(),
        "{} has no ch01-namespaces: build every binary first (`cargo build --workspace`, or \
         run the tests with `cargo test --workspace`)",
        bin.display()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in book_pages() {
        let text = fs::read_to_string(&page).unwrap();
        let steps: Vec<Step> = transcripts(&text).into_iter().flatten().collect();
        if steps.is_empty() {
            continue;
        }
        checked += steps.len();
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        failures.extend(run_page(&name, &steps, &bin));
    }
    assert!(checked > 0, "the book shows no transcripts");
    assert!(
        failures.is_empty(),
        "transcripts that drifted:\n\n{}",
        failures.join("\n")
    );
}

/// Runs a page's steps in order, in one shell, in a fresh directory prepared as the
/// introduction tells the reader to; returns what differed from the book.
fn run_page(page: &str, steps: &[Step], bin: &Path) -> Vec<String> {
    let dir = tempfile::Builder::new()
        .prefix("dockyard-book-")
        .tempdir()
        .expect("create a temporary directory");
    let mut shell = Shell::start(dir.path(), bin);
    for setup in reader_setup() {
        match shell.run(&setup) {
            Ok((_, 0)) => {}
            Ok((output, status)) => {
                return vec![format!(
                    "{page}: preparing the directory: `{setup}` exited with {status}:\n{output}"
                )];
            }
            Err(why) => return vec![format!("{page}: preparing the directory: `{setup}` {why}")],
        }
    }
    let sudo_inside = Regex::new(r"(^|[\s;&|(`])sudo\s").unwrap();
    let mut failures = Vec::new();
    for step in steps {
        let command = step.command.strip_prefix("sudo ").unwrap_or(&step.command);
        if sudo_inside.is_match(command) {
            failures.push(format!(
                "{page}: `{}`\n--- `sudo` may only begin a command (where the test drops it)\n",
                step.command
            ));
        }
        let output = match shell.run(command) {
            Ok((output, _)) => output,
            Err(why) => {
                failures.push(format!("{page}: `{}` {why}", step.command));
                return failures;
            }
        };
        if !matches(&normalize(&step.expected), &normalize(&output)) {
            failures.push(format!(
                "{page}: `{}`\n--- the book says:\n{}--- the program printed:\n{}",
                step.command, step.expected, output
            ));
        }
    }
    failures
}

/// What the introduction has the reader do in a chapter's directory before its "try it":
/// a busybox root filesystem with the probe in it, made by the same scripts. (The reader puts
/// the tools where `sudo` finds them; the test puts their directory on the shell's `PATH`.)
///
/// The first step is the test's own: the shell runs in a network namespace of its own, whose
/// loopback starts down. (The registry page listens on a fixed loopback port; in its own
/// namespace that port is free, as on a reader's machine, whatever else runs on this one.)
fn reader_setup() -> Vec<String> {
    let workspace = workspace()
        .canonicalize()
        .expect("canonicalize the workspace");
    let scripts = workspace.join("scripts");
    vec![
        // busybox-static is needed anyway; iproute2 may be missing.
        "busybox ip link set lo up".to_string(),
        // The introduction has the reader set it: where Dockyard is cloned.
        format!("export DOCKYARD='{}'", workspace.display()),
        format!("'{}/busybox-rootfs.sh' rootfs", scripts.display()),
        format!("'{}/install-probe.sh' rootfs", scripts.display()),
    ]
}

/// One `bash` that a page's steps are typed into, one after the other, as a reader types
/// them: `cd`, variables, background jobs and files carry over from one step to the next.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    /// What the shell and its commands print, stdout and stderr on one pipe, as it arrives.
    output: Receiver<Vec<u8>>,
    /// What arrived and is not yet part of a finished step.
    pending: Vec<u8>,
}

impl Shell {
    /// Starts `bash` in `dir`, with the binaries first on its `PATH`, in a process group of
    /// its own (so that it can be killed with everything it started) and a network namespace
    /// of its own.
    fn start(dir: &Path, bin: &Path) -> Shell {
        let (reader, writer) = std::io::pipe().expect("create a pipe");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("bash");
        command
            .current_dir(dir)
            .env("PATH", path)
            // Where the build is, so that the probe script builds into (and reuses) it.
            .env("CARGO_TARGET_DIR", bin.parent().unwrap())
            .env_remove("BASH_ENV")
            .stdin(Stdio::piped())
            .stdout(writer.try_clone().expect("duplicate the pipe"))
            .stderr(writer)
            .process_group(0);
        // SAFETY: the closure runs in the child between fork and exec; it makes one system
        // call, which is async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(|| {
                if libc::unshare(libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        let mut child = command.spawn().expect("start bash");
        // The pipe's writing ends now belong to the shell alone: the reader sees the end of
        // the output when the shell and everything it started are gone.
        drop(command);
        let stdin = child.stdin.take().expect("the shell's stdin");
        let (sender, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = reader;
            let mut chunk = [0; 8192];
            while let Ok(n @ 1..) = reader.read(&mut chunk) {
                if sender.send(chunk[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut shell = Shell {
            child,
            stdin,
            output,
            pending: Vec::new(),
        };
        shell
            .stdin
            .write_all(step_done_function().as_bytes())
            .expect("define the step function");
        shell
    }

    /// Types one command, with its stdin from /dev/null and stderr with stdout, and returns
    /// what it printed and its exit status; `Err` says why there is neither (the step did not
    /// finish in time, or the shell ended), with what it printed so far.
    fn run(&mut self, command: &str) -> Result<(String, i32), String> {
        // The braces run the command in this shell (not a subshell, so `cd` and variables
        // stay); the newline before the closing one ends a trailing comment.
        let typed = format!("{{ {command}\n}} </dev/null 2>&1; __dockyard_step_done\n");
        let deadline = Instant::now() + STEP_TIMEOUT;
        if self.stdin.write_all(typed.as_bytes()).is_err() {
            return Err(format!(
                "could not be typed: the shell has ended\n{}",
                self.so_far()
            ));
        }
        loop {
            if let Some(done) = self.finished_step() {
                return Ok(done);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(chunk) => self.pending.extend(chunk),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "did not finish within {} s; it printed:\n{}",
                        STEP_TIMEOUT.as_secs(),
                        self.so_far()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("ended the shell; it printed:\n{}", self.so_far()));
                }
            }
        }
    }

    /// The output and status of the step, once its [`STEP_DONE`] line has arrived.
    fn finished_step(&mut self) -> Option<(String, i32)> {
        let marker = STEP_DONE.as_bytes();
        let at = self
            .pending
            .windows(marker.len())
            .position(|w| w == marker)?;
        let line_end = at + self.pending[at..].iter().position(|&b| b == b'\n')?;
        let status = String::from_utf8_lossy(&self.pending[at + marker.len()..line_end])
            .trim()
            .parse()
            .expect("the step function prints a number");
        let output = String::from_utf8_lossy(&self.pending[..at]).into_owned();
        self.pending.drain(..=line_end);
        Some((output, status))
    }

    fn so_far(&mut self) -> String {
        while let Ok(chunk) = self.output.try_recv() {
            self.pending.extend(chunk);
        }
        String::from_utf8_lossy(&self.pending).into_owned()
    }
}

impl Drop for Shell {
    /// Kills the shell's process group (the shell, and whatever it still runs in the
    /// background, such as a registry a failed step did not stop) before reaping the shell,
    /// so that the group's id cannot have been reused.
    fn drop(&mut self) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _reaped = self.child.wait();
    }
}
