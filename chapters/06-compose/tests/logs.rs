//! `logs`: a container's json-file log, read back as docker shows it. The log is written by
//! the library's writer into a container made with chapter 03's store, as the monitor
//! writes it; the command is the real binary.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch03_union_fs::{Driver, Record, State, Store};
use ch06_compose::container::{LogOptions, Paths, RunState, Status, write_json};
use ch06_compose::log::writer::rotated_path;
use ch06_compose::log::{LogWriter, Stream};
use dockyard_tests::{wait_until, with_redactions};

/// The longest any step of a test may take.
const PATIENCE: Duration = Duration::from_secs(20);

/// 2026-12-03T17:52:16Z, in nanoseconds: when the test containers write.
const T: u64 = 1_796_320_336_000_000_000;
const SECOND: u64 = 1_000_000_000;

/// A store under a temporary directory holding one container, `web`.
struct Bench {
    dir: tempfile::TempDir,
    paths: Paths,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(dir.path().join("root")).expect("open the store");
        let record = Record {
            id: "0123456789abcdef".repeat(4),
            name: Some("web".to_owned()),
            created_ns: T,
            command: vec!["sh".to_owned()],
            layers: Vec::new(),
            image: Some("busybox".to_owned()),
            config: None,
            driver: Driver::Vfs,
            state: State::Created,
        };
        store.create(&record).expect("create the container");
        let paths = Paths::new(&store, &record.id);
        Bench { dir, paths }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn writer(&self, options: LogOptions) -> LogWriter {
        LogWriter::open(&self.paths.log(), options).expect("open the log")
    }

    /// Records what a monitor would: the container's status and the monitor's pid.
    fn set_state(&self, status: Status, monitor_pid: Option<u32>) {
        let state = RunState {
            status,
            monitor_pid,
            ..RunState::default()
        };
        write_json(&self.paths.state(), &state).expect("write the state");
    }

    /// `ch06-compose --root ROOT logs ARGS…`, bounded.
    fn logs(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = cargo_bin_cmd!("ch06-compose");
        command
            .arg("--root")
            .arg(self.root())
            .arg("logs")
            .args(args)
            .timeout(PATIENCE);
        command
    }

    /// `logs ARGS…` running, its stdout piped.
    fn spawn_logs(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_ch06-compose"))
            .arg("--root")
            .arg(self.root())
            .arg("logs")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start logs -f")
    }

    /// The command line, its stdout, its stderr and its status, for a snapshot.
    fn transcript(&self, args: &[&str]) -> String {
        let output = self.logs(args).output().expect("run logs");
        format!(
            "$ logs {}\n--- stdout\n{}--- stderr\n{}--- status {}\n\n",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            output.status.code().unwrap_or(-1),
        )
    }
}

/// Lines on both streams, the last one cut by the container's exit, and rotation: files of
/// two entries, three kept, so the first two lines are gone.
fn write_a_session(bench: &Bench) {
    let mut log = bench.writer(LogOptions {
        max_size: Some(150),
        max_file: 3,
    });
    let lines: [(Stream, &[u8]); 6] = [
        (Stream::Stdout, b"dropped by rotation\n"),
        (Stream::Stdout, b"also dropped\n"),
        (Stream::Stdout, b"starting <web> & friends\n"),
        (Stream::Stderr, b"warning: \"disk\" at 91%\n"),
        (Stream::Stdout, b"listening on :80\n"),
        (Stream::Stdout, b"GET / 200\tbad \xff byte\n"),
    ];
    // Line n at T + n seconds + n microseconds.
    for (n, (stream, line)) in (0u64..).zip(lines) {
        log.write(stream, line, T + n * SECOND + n * 1000)
            .expect("log");
    }
    log.write(Stream::Stderr, b"shutting down", T + 6 * SECOND)
        .expect("log");
    log.flush_partial(Stream::Stderr, T + 9 * SECOND)
        .expect("log the last piece");
    assert!(rotated_path(&bench.paths.log(), 2).exists());
    bench.set_state(Status::Exited, None);
}

#[test]
fn logs_show_each_stream_where_docker_shows_it() {
    let bench = Bench::new();
    write_a_session(&bench);
    let transcript: String = [
        &["web"][..],
        &["-t", "web"],
        &["--tail", "2", "web"],
        &["-n", "3", "012345"],
        // From line 3 (T + 3 s) up to line 4 (T + 4 s + 4 µs) included.
        &[
            "--since",
            "1796320339",
            "--until",
            "2026-12-03T17:52:20.000004Z",
            "web",
        ],
        // A stopped container: -f prints and ends.
        &["--since", "1796320341.000005", "-f", "web"],
    ]
    .iter()
    .map(|args| bench.transcript(args))
    .collect();
    with_redactions(bench.dir.path(), || {
        insta::assert_snapshot!("logs_views", transcript)
    });
}

#[test]
fn a_container_that_never_ran_has_no_log() {
    let bench = Bench::new();
    assert!(!bench.paths.log().exists());
    bench
        .logs(&["web"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    bench
        .logs(&["-f", "web"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn mistakes_are_refused_as_docker_refuses_them() {
    let bench = Bench::new();
    let transcript: String = [
        &["nosuch"][..],
        &["--since", "yesterday", "web"],
        &["--until", "2026-13-01", "web"],
    ]
    .iter()
    .map(|args| bench.transcript(args))
    .collect();
    with_redactions(bench.dir.path(), || {
        insta::assert_snapshot!("logs_refused", transcript)
    });
}

#[test]
fn follow_prints_lines_as_they_come_until_the_container_exits() {
    let bench = Bench::new();
    let options = LogOptions {
        max_size: Some(300),
        max_file: 3,
    };
    let mut log = bench.writer(options);
    log.write(Stream::Stdout, b"line 0\nline 1\n", T)
        .expect("log");
    // This test process stands for the monitor: alive as long as the test runs.
    bench.set_state(Status::Running, Some(std::process::id()));
    let mut logs = bench.spawn_logs(&["-f", "--tail", "1", "web"]);
    let (lines_out, lines) = mpsc::channel();
    let stdout = logs.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines_out.send(line.expect("a line of output")).is_err() {
                return;
            }
        }
    });
    let next_line = || {
        lines
            .recv_timeout(PATIENCE)
            .expect("logs -f printed the next line in time")
    };
    assert_eq!(next_line(), "line 1");
    // Another thread appends, as the monitor's pump does: bursts of lines that rotate the
    // file, each burst once the previous one was seen.
    let (bursts_out, bursts) = mpsc::channel::<std::ops::Range<u64>>();
    let writer = std::thread::spawn(move || {
        while let Ok(range) = bursts.recv_timeout(PATIENCE) {
            for n in range {
                let line = format!("line {n}\n");
                log.write(Stream::Stdout, line.as_bytes(), T + n * SECOND)
                    .expect("log");
            }
        }
        log
    });
    for burst in [2..3, 3..9, 9..12] {
        let last = burst.end - 1;
        bursts_out.send(burst.clone()).expect("the writer waits");
        for n in burst {
            assert_eq!(next_line(), format!("line {n}"), "up to line {last}");
        }
    }
    drop(bursts_out);
    let mut log = writer.join().expect("the writer thread");
    assert!(
        rotated_path(&bench.paths.log(), 2).exists(),
        "the log was rotated twice"
    );
    // The last lines, then the container exits: logs -f prints them and ends.
    log.write(Stream::Stdout, b"last words\n", T + 20 * SECOND)
        .expect("log");
    bench.set_state(Status::Exited, None);
    assert_eq!(next_line(), "last words");
    assert!(
        wait_until(PATIENCE, || logs.try_wait().expect("wait").is_some()),
        "logs -f ended once the container exited"
    );
    assert!(logs.wait().expect("its status").success());
    reader.join().expect("the reader thread");
    assert!(lines.try_recv().is_err(), "nothing after the last line");
}

#[test]
fn follow_ends_when_the_monitor_is_gone() {
    let bench = Bench::new();
    let mut log = bench.writer(LogOptions::default());
    log.write(Stream::Stdout, b"still here\n", T).expect("log");
    // A monitor killed before it could record the end: its state still says running.
    let mut monitor = Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("start a stand-in monitor");
    bench.set_state(Status::Running, Some(monitor.id()));
    monitor.kill().expect("kill the monitor");
    monitor.wait().expect("reap the monitor");
    bench
        .logs(&["-f", "web"])
        .assert()
        .success()
        .stdout("still here\n");
}
