//! What the run tests of chapter 01 share: the engine, driven through its binary.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use dockyard_tests::TestDir;

/// The engine under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_ch01-namespaces");

/// How long one container may take.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// `ch01-namespaces run --rootfs <dir's rootfs> ARGS...`, run to its end.
pub fn run(dir: &TestDir, args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("ch01-namespaces")
        .arg("run")
        .arg("--rootfs")
        .arg(dir.rootfs())
        .args(args)
        .timeout(PATIENCE)
        .assert()
}

/// What a run printed on stdout.
pub fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

/// What a run printed on stderr.
pub fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}
