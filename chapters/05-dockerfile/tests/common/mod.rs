//! What the build tests share: a store holding a busybox image, and a way to run the tool
//! on it.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use dockyard_tests::{TestDir, busybox_rootfs, busybox_tar};

/// The longest a build in a test may take.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A test's own store, holding the image `busybox`, and a context directory.
#[derive(Debug)]
pub struct Bench {
    /// The test's directory (the store is `root/`, the context `context/`).
    pub dir: TestDir,
}

impl Bench {
    /// A fresh store with `busybox` imported, and an empty context.
    pub fn new() -> Bench {
        let dir = busybox_rootfs();
        let bench = Bench { dir };
        fs::create_dir_all(bench.context()).expect("create the context");
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

    /// The build context.
    pub fn context(&self) -> PathBuf {
        self.dir.path().join("context")
    }

    /// Writes a file of the context (parents created).
    pub fn write(&self, path: &str, content: &str) -> &Bench {
        let path = self.context().join(path);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create parents");
        fs::write(path, content).expect("write a context file");
        self
    }

    /// `ch05-dockerfile --root ROOT`, with a timeout.
    pub fn tool(&self) -> assert_cmd::Command {
        let mut command = cargo_bin_cmd!("ch05-dockerfile");
        command.arg("--root").arg(self.root()).timeout(PATIENCE);
        command
    }

    /// `build ARGS... CONTEXT`.
    pub fn build(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = self.tool();
        command.arg("build").args(args).arg(self.context());
        command
    }

    /// The image id `build -q ARGS` prints.
    pub fn build_quiet(&self, args: &[&str]) -> String {
        let mut command = self.tool();
        let output = command
            .arg("build")
            .arg("-q")
            .args(args)
            .arg(self.context())
            .output()
            .expect("run build -q");
        assert!(
            output.status.success(),
            "build -q failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }

    /// What `run --rm IMAGE ARGS...` prints.
    pub fn run(&self, image: &str, args: &[&str]) -> String {
        let output = self
            .tool()
            .args(["run", "--rm", image])
            .args(args)
            .output()
            .expect("run the image");
        assert!(
            output.status.success(),
            "run {image} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// Asserts that no container of the store, and no mount under the test's directory, is
    /// left: what every build must leave, whatever its end.
    pub fn assert_nothing_left(&self) {
        assert!(
            self.containers().is_empty(),
            "containers left: {:?}",
            self.containers()
        );
        dockyard_tests::assert_no_mounts_under(self.dir.path());
    }

    /// The containers the store holds (none once a build ended).
    pub fn containers(&self) -> Vec<PathBuf> {
        match fs::read_dir(self.root().join("containers")) {
            Ok(entries) => entries.map(|e| e.expect("an entry").path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Build output with ids, times and sizes made stable for snapshots.
pub fn stable(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let ids = regex::Regex::new(r"\b[0-9a-f]{12}\b").expect("a regex");
    ids.replace_all(&text, "[ID]").into_owned()
}
