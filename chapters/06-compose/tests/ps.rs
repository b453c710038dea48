//! `ps`, `inspect`, `top`, `stats` and `rename`, driven through the binary on stores whose
//! containers are made by hand: chapter 03's record, and the `hostconfig.json` and
//! `state.json` a monitor would write. A container that "runs" names a real process as its
//! monitor (a `sleep` this test starts), so that the liveness checks are real; `top` and
//! `stats` get a real cgroup with real processes in it (as root).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch01_namespaces::{Mount, Narrator, ProcessOptions};
use ch02_cgroups::{CGROUP_ROOT, Cgroup, CgroupOptions, DEFAULT_PARENT, Features, Limits};
use ch03_union_fs::{Driver, Record, State, Store};
use ch04_images::oci::Healthcheck;
use ch06_compose::container::{
    Health, HealthResult, HealthStatus, HostConfig, LogOptions, Paths, RestartPolicy, RunState,
    Status, VolumeUse, write_json,
};
use dockyard_support::clock::now_ns;
use dockyard_tests::{busybox_rootfs, require_root, with_redactions};
use insta::assert_snapshot;
use serde_json::json;

/// The longest a command of these tests may take.
const PATIENCE: Duration = Duration::from_secs(60);

const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// A pid no process can have: above the kernel's largest `pid_max` (2^22).
const NO_PROCESS: u32 = 1 << 23;

/// A container to write into the store.
#[derive(Debug, Default)]
struct Made {
    name: &'static str,
    command: &'static [&'static str],
    /// How long ago it was created.
    created_ago: u64,
    /// Its `state.json`; none for a container of an earlier chapter (or just created).
    state: Option<RunState>,
    /// Its `hostconfig.json`.
    host: Option<HostConfig>,
    /// Its image config, as chapter 04 records it.
    config: Option<serde_json::Value>,
    /// Its layers, bottom first.
    layers: Vec<PathBuf>,
    /// Chapter 03's state of its record.
    record_state: Option<State>,
}

/// A test's store, and the processes and cgroups it started: stopped and removed on drop.
struct Bench {
    dir: tempfile::TempDir,
    store: Store,
    processes: Vec<Child>,
    groups: Vec<Cgroup>,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::Builder::new()
            .prefix("dockyard-ps-")
            .tempdir()
            .expect("a temporary directory");
        let store = Store::open(dir.path().join("root")).expect("open the store");
        Bench {
            dir,
            store,
            processes: Vec::new(),
            groups: Vec::new(),
        }
    }

    fn root(&self) -> &Path {
        self.store.root()
    }

    /// `ch06-compose --root ROOT`, with a timeout.
    fn tool(&self) -> assert_cmd::Command {
        let mut command = cargo_bin_cmd!("ch06-compose");
        command.arg("--root").arg(self.root()).timeout(PATIENCE);
        command
    }

    /// Writes a container's record and files; returns its id (random, as real ids are).
    fn make(&self, made: Made) -> String {
        let id = random_id();
        let record = Record {
            id: id.clone(),
            name: (!made.name.is_empty()).then(|| made.name.to_string()),
            created_ns: now_ns() - made.created_ago,
            command: made.command.iter().map(|s| s.to_string()).collect(),
            layers: made.layers,
            image: Some("busybox".into()),
            config: made.config.or_else(|| Some(json!({ "Cmd": made.command }))),
            driver: Driver::Vfs,
            state: made.record_state.unwrap_or(State::Created),
        };
        self.store.create(&record).expect("create the record");
        let paths = Paths::new(&self.store, &id);
        if let Some(state) = &made.state {
            write_json(&paths.state(), state).expect("write state.json");
        }
        if let Some(host) = &made.host {
            write_json(&paths.host_config(), host).expect("write hostconfig.json");
        }
        id
    }

    /// A live process, standing for a monitor or for a container's process.
    fn process(&mut self) -> u32 {
        let child = Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .spawn()
            .expect("start sleep");
        let pid = child.id();
        self.processes.push(child);
        pid
    }

    /// A real cgroup for container `id` (with every counter and the freezer), and `count`
    /// processes in it; returns their pids.
    fn cgroup(&mut self, id: &str, limits: Limits, count: usize) -> Vec<u32> {
        let features = Features {
            stats: true,
            freezer: true,
        };
        let n = Narrator::silent();
        let group = Cgroup::create(
            Path::new(CGROUP_ROOT),
            DEFAULT_PARENT,
            id,
            &limits,
            features,
            &n,
        )
        .expect("create the cgroup");
        let pids: Vec<u32> = (0..count).map(|_| self.process()).collect();
        for pid in &pids {
            group.attach(*pid as i32, &n).expect("move a process in");
        }
        self.groups.push(group);
        pids
    }

    /// What each command prints (stdout then stderr) and its status when not 0, as a
    /// transcript.
    fn transcript(&self, commands: &[&[&str]]) -> String {
        let mut text = String::new();
        for args in commands {
            let output = self.tool().args(*args).output().expect("run the tool");
            text.push_str(&format!("$ {}\n", args.join(" ")));
            text.push_str(&String::from_utf8_lossy(&output.stdout));
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            if !output.status.success() {
                text.push_str(&format!("[exit {}]\n", output.status.code().unwrap_or(-1)));
            }
        }
        text
    }

    /// Runs `body` with the redactions of ids, the test's directory and times.
    fn snapshot(&self, body: impl FnOnce()) {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"20\d\d-\d\d-\d\dT[0-9:.]+Z", "[TIME]");
        settings.add_filter(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC", "[TIME]");
        settings.add_filter(r#""Pid": [1-9]\d*"#, r#""Pid": [PID]"#);
        // As wide as a short id, so that tables stay aligned.
        settings.add_filter(r"\b[0-9a-f]{12}\b", "[ SHORT ID ]");
        settings.bind(|| with_redactions(self.dir.path(), body));
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _already_gone = child.kill();
            let _reaped = child.wait();
        }
        for group in &self.groups {
            let _best_effort = group.remove(&Narrator::silent());
        }
    }
}

/// 64 random hex digits.
fn random_id() -> String {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A run state: the monitor `monitor`, the container's first process `pid`.
fn running(monitor: u32, pid: Option<u32>, up_for: u64) -> RunState {
    RunState {
        status: Status::Running,
        monitor_pid: Some(monitor),
        pid,
        started_ns: Some(now_ns() - up_for),
        ..RunState::default()
    }
}

fn exited(code: i32, ago: u64) -> RunState {
    RunState {
        status: Status::Exited,
        started_ns: Some(now_ns() - ago - HOUR),
        finished_ns: Some(now_ns() - ago),
        exit_code: Some(code),
        ..RunState::default()
    }
}

fn healthy(status: HealthStatus) -> Option<Health> {
    Some(Health {
        status,
        failing_streak: 0,
        log: Vec::new(),
    })
}

/// A store with one container in each state a monitor can leave.
fn every_state(bench: &mut Bench) {
    let monitor = bench.process();
    bench.make(Made {
        name: "created",
        command: &["true"],
        created_ago: 3 * HOUR,
        ..Made::default()
    });
    bench.make(Made {
        name: "db",
        command: &["/bin/sh", "-c", "echo a long command line; exit 3"],
        created_ago: 2 * HOUR + 2 * MINUTE,
        state: Some(exited(3, 5 * MINUTE)),
        config: Some(json!({ "Labels": { "tier": "back" } })),
        ..Made::default()
    });
    bench.make(Made {
        name: "lost",
        command: &["sleep", "1000"],
        created_ago: 2 * HOUR + MINUTE,
        state: Some(running(NO_PROCESS, Some(NO_PROCESS), HOUR)),
        ..Made::default()
    });
    bench.make(Made {
        name: "flaky",
        command: &["false"],
        created_ago: 2 * HOUR,
        state: Some(RunState {
            status: Status::Restarting,
            monitor_pid: Some(monitor),
            restart_count: 4,
            ..exited(1, 2 * MINUTE)
        }),
        ..Made::default()
    });
    bench.make(Made {
        name: "checking",
        command: &["sleep", "1000"],
        created_ago: 90 * MINUTE,
        state: Some(RunState {
            health: healthy(HealthStatus::Starting),
            ..running(monitor, None, 5 * MINUTE)
        }),
        ..Made::default()
    });
    bench.make(Made {
        name: "web",
        command: &["httpd", "-f", "-p", "8080"],
        created_ago: 80 * MINUTE,
        state: Some(RunState {
            health: healthy(HealthStatus::Healthy),
            ..running(monitor, None, 75 * MINUTE)
        }),
        config: Some(json!({ "Labels": { "tier": "front", "version": "2" } })),
        ..Made::default()
    });
    // A container of chapter 04: no monitor's files, its record says how it ended.
    bench.make(Made {
        name: "older",
        command: &["echo", "hi"],
        created_ago: 30 * MINUTE,
        record_state: Some(State::Exited {
            code: 0,
            finished: dockyard_support::clock::now() - 20 * 60,
        }),
        ..Made::default()
    });
}

#[test]
fn ps_shows_running_containers_by_default_and_every_one_with_a() {
    let mut bench = Bench::new();
    every_state(&mut bench);
    let transcript = bench.transcript(&[&["ps"], &["ps", "-a"], &["ps", "-a", "-s", "-n", "2"]]);
    bench.snapshot(|| assert_snapshot!("ps_default_and_all", transcript));
}

#[test]
fn ps_filters_and_formats_as_docker() {
    let mut bench = Bench::new();
    every_state(&mut bench);
    let transcript = bench.transcript(&[
        &["ps", "--filter", "status=exited", "--filter", "status=dead"],
        &[
            "ps",
            "--filter",
            "status=restarting",
            "--format",
            "{{.Names}} {{.Status}}",
        ],
        &["ps", "-a", "--filter", "exited=3", "--format", "{{.Names}}"],
        &["ps", "--filter", "exited=3", "--format", "{{.Names}}"],
        &[
            "ps",
            "--filter",
            "name=^web$",
            "--filter",
            "label=tier=front",
            "-q",
        ],
        &[
            "ps",
            "-a",
            "--filter",
            "label=tier",
            "--format",
            "table {{.Names}}\\t{{.Label \"tier\"}}\\t{{.Labels}}",
        ],
        &[
            "ps",
            "--filter",
            "health=starting",
            "--format",
            "{{.Names}}: {{.State}}",
        ],
        &[
            "ps",
            "-a",
            "--filter",
            "health=none",
            "--format",
            "{{.Names}}",
        ],
        &[
            "ps",
            "-l",
            "--format",
            "{{.Names}} {{.RunningFor}} {{.CreatedAt}}",
        ],
        &["ps", "-a", "-n", "1", "--format", "json"],
        &[
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            "name=db",
            "--format",
            "{{.ID}} {{.Command}}",
        ],
        &["ps", "--filter", "status=sleeping"],
        &["ps", "--filter", "colour=red"],
        &["ps", "--format", "{{.Nope}}"],
    ]);
    bench.snapshot(|| assert_snapshot!("ps_filters_and_formats", transcript));
}

#[test]
fn inspect_shows_dockers_document_and_its_fields() {
    let mut bench = Bench::new();
    let monitor = bench.process();
    let host = HostConfig {
        process: ProcessOptions {
            hostname: Some("webhost".into()),
            init: true,
            cap_add: vec!["NET_ADMIN".into()],
            mounts: vec![
                Mount::bind("/srv/site", "/usr/share/site", true),
                Mount::tmpfs("/run"),
            ],
            ..ProcessOptions::default()
        },
        cgroup: CgroupOptions {
            limits: Limits {
                memory: Some(64 << 20),
                cpus: Some(0.5),
                pids: Some(100),
                ..Limits::default()
            },
            ..CgroupOptions::default()
        },
        restart: RestartPolicy::OnFailure {
            max_retries: Some(3),
        },
        log: LogOptions {
            max_size: Some(10 << 20),
            max_file: 3,
        },
        healthcheck: Some(Healthcheck {
            test: vec!["CMD-SHELL".into(), "nc -z localhost 8080".into()],
            interval: 30 * SECOND as i64,
            retries: 3,
            ..Healthcheck::default()
        }),
        stop_signal: Some("SIGINT".into()),
        stop_timeout: Some(5),
        volumes: vec![VolumeUse {
            name: "data".into(),
            target: "/data".into(),
            read_only: false,
            anonymous: false,
            no_copy: false,
        }],
        ..HostConfig::default()
    };
    let started = now_ns() - HOUR;
    bench.make(Made {
        name: "web",
        command: &["httpd", "-f", "-p", "8080"],
        created_ago: 2 * HOUR,
        state: Some(RunState {
            restart_count: 1,
            health: Some(Health {
                status: HealthStatus::Healthy,
                failing_streak: 0,
                log: vec![HealthResult {
                    start_ns: started,
                    end_ns: started + 12_500_000,
                    exit_code: 0,
                    output: "open\n".into(),
                }],
            }),
            ..running(monitor, Some(monitor), HOUR)
        }),
        host: Some(host),
        config: Some(json!({
            "User": "www",
            "Env": ["PATH=/usr/bin:/bin", "MODE=prod"],
            "Entrypoint": ["httpd"],
            "Cmd": ["-f", "-p", "8080"],
            "WorkingDir": "/srv",
            "Volumes": { "/data": {} },
            "Labels": { "tier": "front" },
        })),
        ..Made::default()
    });
    bench.make(Made {
        name: "db",
        command: &["false"],
        created_ago: HOUR,
        state: Some(exited(1, MINUTE)),
        ..Made::default()
    });
    let transcript = bench.transcript(&[
        &["inspect", "web"],
        &[
            "inspect",
            "-f",
            "{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{json .State.Health}}",
            "web",
            "db",
        ],
        &["inspect", "-f", "{{index .Config.Labels \"tier\"}}|{{.HostConfig.Binds}}|{{.State.Nope}}", "web"],
        &["inspect", "--format", "{{.State.FinishedAt}} {{.State.Pid}} {{.State.Health}}", "db"],
        &["inspect", "db", "nothing"],
        &["inspect", "--type", "image", "db"],
        &["inspect", "-f", "{{range .Mounts}}", "db"],
    ]);
    bench.snapshot(|| assert_snapshot!("inspect", transcript));
}

#[test]
fn rename_moves_the_name_atomically() {
    let mut bench = Bench::new();
    every_state(&mut bench);
    let transcript = bench.transcript(&[
        &["rename", "web", "front"],
        &[
            "ps",
            "--filter",
            "name=front",
            "--format",
            "{{.Names}} {{.Status}}",
        ],
        &["inspect", "-f", "{{.Name}}", "front"],
        &["rename", "front", "db"],
        &["rename", "front", "front"],
        &["rename", "nothing", "x2"],
        &["rename", "front", "bad name"],
        &["ps", "-a", "--format", "{{.Names}}"],
    ]);
    let links: Vec<String> = fs::read_dir(bench.root().join("names"))
        .expect("list names")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    bench.snapshot(|| {
        assert_snapshot!(
            "rename",
            format!("{transcript}names/: {}\n", links.join(" "))
        )
    });
}

#[test]
fn a_container_whose_monitor_died_runs_on_if_its_process_does() {
    require_root!();
    let mut bench = Bench::new();
    let orphan = random_id();
    let pids = bench.cgroup(&orphan, Limits::default(), 1);
    // Written by hand with this id, so that its process is in its cgroup.
    let record = Record {
        id: orphan.clone(),
        name: Some("orphan".into()),
        created_ns: now_ns() - HOUR,
        command: vec!["sleep".into(), "1000".into()],
        layers: Vec::new(),
        image: Some("busybox".into()),
        config: None,
        driver: Driver::Vfs,
        state: State::Created,
    };
    bench.store.create(&record).expect("create the record");
    let paths = Paths::new(&bench.store, &orphan);
    write_json(&paths.state(), &running(NO_PROCESS, Some(pids[0]), HOUR)).expect("state");
    // A stranger's pid (this test's own process is in no container's group) is not believed.
    let stranger = bench.make(Made {
        name: "stranger",
        command: &["sleep", "1000"],
        created_ago: HOUR,
        state: Some(running(NO_PROCESS, Some(std::process::id()), HOUR)),
        ..Made::default()
    });
    assert!(!stranger.is_empty());
    let before = bench.transcript(&[&["ps", "-a", "--format", "{{.Names}}: {{.Status}}"]]);
    let group = bench.groups.last().expect("the group");
    group.freeze(&Narrator::silent()).expect("freeze");
    let frozen = bench.transcript(&[
        &["ps", "--format", "{{.Names}}: {{.Status}} {{.State}}"],
        &[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Paused}} {{.State.Running}}",
            "orphan",
        ],
        &["ps", "--filter", "status=paused", "-q"],
    ]);
    group.thaw(&Narrator::silent()).expect("thaw");
    bench.snapshot(|| assert_snapshot!("orphaned_and_paused", format!("{before}{frozen}")));
}

#[test]
fn top_shows_the_processes_in_the_containers_cgroup() {
    require_root!();
    let mut bench = Bench::new();
    let id = random_id();
    let mut pids = bench.cgroup(&id, Limits::default(), 2);
    pids.sort_unstable();
    let record = Record {
        id: id.clone(),
        name: Some("web".into()),
        created_ns: now_ns() - HOUR,
        command: vec!["sleep".into(), "1000".into()],
        layers: Vec::new(),
        image: Some("busybox".into()),
        config: None,
        driver: Driver::Vfs,
        state: State::Created,
    };
    bench.store.create(&record).expect("create the record");
    let monitor = bench.process();
    write_json(
        &Paths::new(&bench.store, &id).state(),
        &running(monitor, Some(pids[0]), MINUTE),
    )
    .expect("state");
    bench.make(Made {
        name: "db",
        command: &["false"],
        created_ago: HOUR,
        state: Some(exited(1, MINUTE)),
        ..Made::default()
    });

    let output = bench
        .tool()
        .args(["top", "web", "-eo", "pid"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    // Each row is what the host's procps prints for that pid.
    for (line, pid) in text.lines().skip(1).zip(&pids) {
        let ps = Command::new("ps")
            .args(["-o", "user=,pid=,ppid=,c=,stime=,tty=,time=,args=", "-p"])
            .arg(pid.to_string())
            .output()
            .expect("run ps");
        let expected: Vec<String> = String::from_utf8_lossy(&ps.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let row: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(row, expected, "top's row for pid {pid}");
    }
    assert_eq!(text.lines().count(), 1 + pids.len(), "{text}");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b\d\d:\d\d:\d\d\b", "[TIME]  ");
    settings.add_filter(r"\b\d\d:\d\d\b", "[HH:MM]");
    // A pid with its column's padding: pids of 4 and 5 digits make columns of other widths.
    for pid in pids.iter().chain([&std::process::id()]) {
        settings.add_filter(&format!(r"\b{pid}\b *"), "[PID] ");
    }
    let not_running = bench.transcript(&[&["top", "db"]]);
    settings.bind(|| bench.snapshot(|| assert_snapshot!("top", format!("{text}{not_running}"))));
}

#[test]
fn stats_reads_what_the_cgroup_counts() {
    require_root!();
    let mut bench = Bench::new();
    let id = random_id();
    let limits = Limits {
        memory: Some(64 << 20),
        pids: Some(50),
        ..Limits::default()
    };
    let pids = bench.cgroup(&id, limits, 2);
    let monitor = bench.process();
    let record = Record {
        id: id.clone(),
        name: Some("web".into()),
        created_ns: now_ns() - HOUR,
        command: vec!["sleep".into(), "1000".into()],
        layers: Vec::new(),
        image: Some("busybox".into()),
        config: None,
        driver: Driver::Vfs,
        state: State::Created,
    };
    bench.store.create(&record).expect("create the record");
    write_json(
        &Paths::new(&bench.store, &id).state(),
        &running(monitor, Some(pids[0]), MINUTE),
    )
    .expect("state");
    bench.make(Made {
        name: "db",
        command: &["false"],
        created_ago: HOUR,
        state: Some(exited(1, MINUTE)),
        ..Made::default()
    });
    let transcript = bench.transcript(&[
        &["stats", "--no-stream"],
        &[
            "stats",
            "--no-stream",
            "--format",
            "{{.Container}} {{.Name}} {{.MemUsage}} {{.PIDs}}",
            "web",
            "db",
        ],
        &["stats", "--no-stream", "nothing"],
    ]);
    let mut settings = insta::Settings::clone_current();
    // CPU use and memory in use vary; the limit and the counts do not.
    settings.add_filter(r"\d+\.\d\d%", "[PERCENT]");
    settings.add_filter(r"\b\d+(\.\d+)?(B|KiB|MiB) / 64MiB", "[USED] / 64MiB");
    settings.bind(|| bench.snapshot(|| assert_snapshot!("stats", transcript)));
}

#[test]
fn inspect_falls_back_to_images_and_ancestor_finds_their_containers() {
    require_root!();
    let bench = Bench::new();
    let rootfs = busybox_rootfs();
    let tar = rootfs.path().join("busybox.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(rootfs.rootfs())
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(status.success());
    bench
        .tool()
        .arg("import")
        .arg(&tar)
        .arg("busybox")
        .assert()
        .success();
    let images = ch04_images::ImageStore::open(bench.root()).expect("the image store");
    let image = images.find_image("busybox").expect("busybox");
    let layers: Vec<PathBuf> = image
        .chain_ids()
        .iter()
        .map(|c| images.layer_dir(c))
        .collect();
    bench.make(Made {
        name: "from-busybox",
        command: &["true"],
        created_ago: HOUR,
        layers: layers.clone(),
        ..Made::default()
    });
    bench.make(Made {
        name: "built-on-busybox",
        command: &["true"],
        created_ago: HOUR - MINUTE,
        layers: layers
            .into_iter()
            .chain([PathBuf::from("/elsewhere")])
            .collect(),
        ..Made::default()
    });
    bench.make(Made {
        name: "unrelated",
        command: &["true"],
        created_ago: HOUR - 2 * MINUTE,
        layers: vec![PathBuf::from("/elsewhere")],
        ..Made::default()
    });
    let transcript = bench.transcript(&[
        &[
            "ps",
            "-a",
            "--filter",
            "ancestor=busybox",
            "--format",
            "{{.Names}}",
        ],
        &[
            "ps",
            "-a",
            "--filter",
            "ancestor=nothing",
            "--format",
            "{{.Names}}",
        ],
        &["inspect", "-f", "{{.Image}}", "from-busybox"],
        &["inspect", "-f", "{{.Id}} {{.RepoTags}}", "busybox"],
        &["inspect", "--type", "container", "-f", "{{.Id}}", "busybox"],
    ]);
    assert!(
        transcript.contains(&image.id.to_string()),
        "the container's image is the image's id: {transcript}"
    );
    bench.snapshot(|| assert_snapshot!("images_and_ancestors", transcript));
}
