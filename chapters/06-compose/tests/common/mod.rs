//! What chapter 06's tests share: a store holding a busybox image (with the probe), the tool
//! on it, and what a container's monitor wrote.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use dockyard_tests::{TestDir, busybox_rootfs, busybox_tar, wait_until};

/// The longest a command of a test may take.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A test's own store, holding the image `busybox`. Dropping it removes every container it
/// holds with `rm -f`, so a failed test leaves no monitor or container running.
#[derive(Debug)]
pub struct Bench {
    /// The test's directory (the store is `root/`).
    pub dir: TestDir,
}

impl Bench {
    /// A fresh store with `busybox` imported.
    pub fn new() -> Bench {
        let bench = Bench {
            dir: busybox_rootfs(),
        };
        bench
            .tool()
            .arg("import")
            .arg(busybox_tar(Path::new(env!("CARGO_TARGET_TMPDIR"))))
            .arg("busybox")
            .assert()
            .success();
        bench
    }

    /// The store.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `ch06-compose --root ROOT`, with a timeout.
    pub fn tool(&self) -> assert_cmd::Command {
        let mut command = cargo_bin_cmd!("ch06-compose");
        command.arg("--root").arg(self.root()).timeout(PATIENCE);
        command
    }

    /// Runs the tool with `args`; its stdout, asserting success.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.tool().args(args).output().expect("run the tool");
        assert!(
            output.status.success(),
            "{args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// Builds `dockerfile` (a context holding only it) as the image `tag`.
    pub fn build(&self, tag: &str, dockerfile: &str) {
        let context = self.dir.path().join(format!("context-{tag}"));
        fs::create_dir_all(&context).expect("create a build context");
        fs::write(context.join("Dockerfile"), dockerfile).expect("write the Dockerfile");
        self.ok(&[
            "build",
            "-q",
            "-t",
            tag,
            context.to_str().expect("a UTF-8 path"),
        ]);
    }

    /// `run -d ARGS…`: the new container's id.
    pub fn detach(&self, args: &[&str]) -> String {
        let mut all = vec!["run", "-d"];
        all.extend_from_slice(args);
        let id = self.ok(&all).trim().to_owned();
        assert_eq!(id.len(), 64, "an id: {id:?}");
        id
    }

    /// A container's directory.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.root().join("containers").join(id)
    }

    /// What the container's monitor last wrote.
    pub fn state(&self, id: &str) -> serde_json::Value {
        let path = self.container_dir(id).join("state.json");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("state.json is JSON")
    }

    /// Waits until the container's state satisfies `condition`; panics after the patience.
    pub fn wait_for(&self, id: &str, what: &str, condition: impl Fn(&serde_json::Value) -> bool) {
        let reached = wait_until(PATIENCE, || {
            fs::read_to_string(self.container_dir(id).join("state.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .is_some_and(|state| condition(&state))
        });
        assert!(reached, "{what}: state is {}", self.state(id));
    }

    /// The container's log, as the json-file lines' messages joined.
    pub fn log(&self, id: &str) -> String {
        let path = self.container_dir(id).join(format!("{id}-json.log"));
        let text = fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                entry["log"].as_str().expect("a log field").to_owned()
            })
            .collect()
    }

    /// The ids of the containers the store holds.
    pub fn containers(&self) -> Vec<String> {
        match fs::read_dir(self.root().join("containers")) {
            Ok(entries) => entries
                .map(|e| {
                    e.expect("an entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Bench {
    /// A project directory `name` beside the store, holding `compose.yaml`.
    pub fn project(&self, name: &str, compose_yaml: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        fs::create_dir_all(&dir).expect("a project directory");
        fs::write(dir.join("compose.yaml"), compose_yaml).expect("write compose.yaml");
        dir
    }

    /// `compose ARGS…` in the project directory `dir`: its output, whatever its status.
    pub fn compose(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        self.tool()
            .current_dir(dir)
            .arg("compose")
            .args(args)
            .output()
            .expect("run compose")
    }

    /// `compose ARGS…` in `dir`, asserting success: its stdout.
    pub fn compose_ok(&self, dir: &Path, args: &[&str]) -> String {
        let output = self.compose(dir, args);
        assert!(
            output.status.success(),
            "compose {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }
}

impl Drop for Bench {
    /// Removes the containers, then the networks (the default one included: its bridge and
    /// rules live on the host, not in the test's directory).
    fn drop(&mut self) {
        for id in self.containers() {
            let _ = self.tool().args(["rm", "-f", &id]).output();
        }
        for id in self.networks() {
            let _ = self.tool().args(["network", "rm", &id]).output();
        }
    }
}

impl Bench {
    /// The ids of the store's networks.
    pub fn networks(&self) -> Vec<String> {
        let Ok(output) = self
            .tool()
            .args(["network", "ls", "-q", "--no-trunc"])
            .output()
        else {
            return Vec::new();
        };
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Whether process `pid` exists.
pub fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The cgroup directories named after container `id`, on any hierarchy.
pub fn cgroups_of(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(hierarchies) = fs::read_dir("/sys/fs/cgroup") else {
        return found;
    };
    for hierarchy in hierarchies.flatten() {
        for candidate in [
            hierarchy.path().join("dockyard").join(id),
            Path::new("/sys/fs/cgroup/dockyard").join(id),
        ] {
            if candidate.exists() && !found.contains(&candidate) {
                found.push(candidate);
            }
        }
    }
    found
}
