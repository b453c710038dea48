//! Shared fixtures for Dockyard's end-to-end tests: root filesystems built offline, the static
//! probe that reports what a container sees, checks that a container left nothing behind, and
//! the redactions that make snapshots stable.
//!
//! Every test builds its own root filesystem in its own temporary directory, so tests run in
//! parallel without sharing containers, mount points or names, and the leftover checks look
//! for traces of *that* directory only.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub mod images;
pub mod proxy;
pub mod pty;
pub mod registry;
pub mod vm;

/// The static probe built by this package's build script (see `build.rs`).
pub fn probe() -> &'static Path {
    Path::new(env!("DOCKYARD_PROBE"))
}

/// Whether the tests run under CI, where a test that cannot do its real check must fail.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The conformance data other projects wrote, `../shared/conformance/NAME` beside the
/// workspace (see its README), or `None` after saying so when it is missing outside CI; under
/// CI a missing corpus fails the test.
pub fn conformance_corpus(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance")
        .join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "the conformance corpus {name} is missing at {}",
        dir.display()
    );
    eprintln!(
        "SKIPPED: the conformance corpus {name} is missing at {}",
        dir.display()
    );
    None
}

/// True when the test can run for real (as root); otherwise fails under CI, or prints a
/// visible notice and returns false so the test can return early.
pub fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(!in_ci(), "{test}: needs root, and CI=true forbids skipping");
    eprintln!("SKIPPED {test}: needs root (run the tests as root to exercise the kernel)");
    false
}

/// Returns early from a test that needs root and cannot have it (failing under CI).
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::root_or_skip(module_path!()) {
            return;
        }
    };
}

/// Where Debian's busybox-static installs busybox.
const BUSYBOX: &str = "/bin/busybox";

/// A test's own directory holding `rootfs/`, removed when dropped.
#[derive(Debug)]
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    /// The temporary directory itself (a place for files next to the rootfs).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The root filesystem inside it.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }
}

/// A root filesystem made of a static busybox (with a link for each applet), the probe at
/// `/probe`, and minimal `/etc/passwd` and `/etc/group`. Built offline in a few milliseconds.
pub fn busybox_rootfs() -> TestDir {
    let dir = tempfile::Builder::new()
        .prefix("dockyard-test-")
        .tempdir()
        .expect("create a temporary directory");
    let rootfs = dir.path().join("rootfs");
    for sub in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"] {
        fs::create_dir_all(rootfs.join(sub)).expect("create rootfs directories");
    }
    install_busybox(&rootfs.join("bin"));
    fs::copy(probe(), rootfs.join("probe")).expect("copy the probe into the rootfs");
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .expect("write /etc/passwd");
    fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
    )
    .expect("write /etc/group");
    TestDir { dir }
}

/// The busybox root filesystem of [`busybox_rootfs`] as a tar, made once per test binary:
/// what a test imports as the image `busybox` (`import TAR busybox`). It goes to `tmp`, the
/// test binary's `CARGO_TARGET_TMPDIR`.
pub fn busybox_tar(tmp: &Path) -> &'static Path {
    static TAR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TAR.get_or_init(|| {
        let rootfs = busybox_rootfs();
        let tar = tmp.join(format!("busybox-{}.tar", std::process::id()));
        let status = Command::new("tar")
            .arg("-C")
            .arg(rootfs.rootfs())
            .args(["-cf"])
            .arg(&tar)
            .arg(".")
            .status()
            .expect("run tar");
        assert!(status.success(), "tar the busybox rootfs");
        tar
    })
}

/// Copies (never hard-links: the container may write to it) the static busybox and links
/// every applet it provides.
fn install_busybox(bin: &Path) {
    let image = fs::read(BUSYBOX).unwrap_or_else(|e| {
        panic!("{BUSYBOX}: {e}; install Debian's busybox-static (apt-get install busybox-static)")
    });
    assert!(
        !image.windows(8).take(16 * 1024).any(|w| w == b"ld-linux"),
        "{BUSYBOX} is dynamically linked; install busybox-static instead of busybox"
    );
    fs::write(bin.join("busybox"), &image).expect("copy busybox");
    fs::set_permissions(
        bin.join("busybox"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("make busybox executable");
    let list = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .expect("run busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            symlink("busybox", bin.join(applet)).expect("link a busybox applet");
        }
    }
}

/// Asserts that nothing of a container whose rootfs was `rootfs` is left on the host: no mount
/// on or under it (a leaked bind, proc or overlay mount would show there), and no process whose
/// root directory is inside it.
pub fn assert_nothing_left(rootfs: &Path) {
    let rootfs = rootfs.canonicalize().expect("canonicalize the rootfs path");
    let needle = rootfs.to_string_lossy().to_string();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    let leaked: Vec<&str> = mountinfo.lines().filter(|l| l.contains(&needle)).collect();
    assert!(leaked.is_empty(), "mounts left behind: {leaked:#?}");
    let processes = processes_rooted_in(&rootfs);
    assert!(processes.is_empty(), "processes left behind: {processes:?}");
}

/// Pids of the host's processes whose root directory is `rootfs`.
///
/// After `pivot_root` in its own mount namespace, a container's `/proc/PID/root` reads as `/`
/// from the host, so the link cannot tell. Its mount table can: the mount on `/` names, in its
/// fourth field (proc(5)), the directory it was bound from, relative to that filesystem's root.
pub fn processes_rooted_in(rootfs: &Path) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            root_mount_source(*pid)
                .is_some_and(|src| src != Path::new("/") && rootfs.ends_with(&src))
        })
        .collect()
}

/// The fourth field of the `/` line of a process's mountinfo.
fn root_mount_source(pid: u32) -> Option<PathBuf> {
    let mountinfo = fs::read_to_string(format!("/proc/{pid}/mountinfo")).ok()?;
    mountinfo.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        (fields.get(4) == Some(&"/")).then(|| PathBuf::from(fields.get(3).copied().unwrap_or("/")))
    })
}

/// Polls `condition` every few milliseconds until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Insta filters for what changes between runs: the test's temporary directory, pids, and
/// container ids (64 hex digits, or the 12-digit short form used as the default hostname).
pub fn redactions(dir: &Path) -> Vec<(String, String)> {
    vec![
        (regex::escape(&dir.to_string_lossy()), "[DIR]".into()),
        (r"pid \d+".into(), "pid [PID]".into()),
        (r"\b[0-9a-f]{64}\b".into(), "[ID]".into()),
        (r"\b[0-9a-f]{12}\b".into(), "[SHORT_ID]".into()),
    ]
}

/// Runs `body` with insta settings that apply [`redactions`].
pub fn with_redactions<R>(dir: &Path, body: impl FnOnce() -> R) -> R {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in redactions(dir) {
        settings.add_filter(&pattern, replacement);
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(body)
}

/// Asserts that nothing a chapter 03+ container used under `dir` is left: no mount on the host
/// mentions it, and no process anywhere has a mount that does (an overlay mounted inside a
/// container's own namespace names its layer directories in its options).
pub fn assert_no_mounts_under(dir: &Path) {
    let dir = dir.canonicalize().expect("canonicalize the test directory");
    let needle = dir.to_string_lossy().to_string();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    let leaked: Vec<&str> = mountinfo.lines().filter(|l| l.contains(&needle)).collect();
    assert!(leaked.is_empty(), "mounts left behind: {leaked:#?}");
    let holders = processes_holding_mounts_under(&dir);
    assert!(
        holders.is_empty(),
        "processes holding mounts under {needle}: {holders:?}"
    );
}

/// The processes whose mount namespace holds a mount that names something under `dir`
/// (a container's overlay names its layers in its options).
pub fn processes_holding_mounts_under(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().to_string();
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/mountinfo"))
                .is_ok_and(|info| info.contains(&needle))
        })
        .collect()
}

/// One line per entry under `dir`, sorted by path: path, type, mode, owner, size, and the SHA-256 of a
/// file's content or a link's target. Two directories with the same listing hold the same
/// files; timestamps are left out (`with_mtimes` adds modification times in seconds).
pub fn tree_listing(dir: &Path, with_mtimes: bool) -> String {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut lines = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("list {}: {e}", current.display()))
            .map(|e| e.expect("read a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let meta = fs::symlink_metadata(&path).expect("stat");
            let kind = meta.file_type();
            let (letter, detail) = if kind.is_dir() {
                stack.push(path.clone());
                ('d', String::new())
            } else if kind.is_symlink() {
                let target = fs::read_link(&path).expect("readlink");
                ('l', format!("-> {}", target.display()))
            } else if kind.is_file() {
                let hash = Sha256::digest(fs::read(&path).expect("read"));
                let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
                ('f', format!("{} {hex}", meta.size()))
            } else if kind.is_char_device() || kind.is_block_device() {
                ('c', format!("dev {}", meta.rdev()))
            } else {
                ('p', String::new())
            };
            let relative = path.strip_prefix(dir).expect("under dir");
            let mtime = if with_mtimes {
                format!(" t={}", meta.mtime())
            } else {
                String::new()
            };
            lines.push(format!(
                "/{} {letter} {:o} {}:{} {detail}{mtime}",
                relative.display(),
                meta.mode() & 0o7777,
                meta.uid(),
                meta.gid(),
            ));
        }
    }
    lines.sort();
    lines.join("\n") + "\n"
}
