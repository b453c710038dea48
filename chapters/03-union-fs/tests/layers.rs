//! `ch03-union-fs` on the real kernel: containers on shared layers, what they change, the
//! archive of their changes, many layers, the vfs fallback, and nothing left behind. Every test
//! has its own layers, `--root` and container names, in its own temporary directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch03_union_fs::archive::{ApplyOptions, Whiteouts, apply_file};
use dockyard_tests::{
    TestDir, assert_no_mounts_under, busybox_rootfs, require_root, tree_listing, wait_until,
    with_redactions,
};

const BIN: &str = env!("CARGO_BIN_EXE_ch03-union-fs");
const PATIENCE: Duration = Duration::from_secs(20);

/// A busybox base layer and two small layers above it, with a state directory of their own.
struct Fixture {
    dir: TestDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = busybox_rootfs();
        let l2 = dir.path().join("l2");
        fs::create_dir_all(l2.join("etc")).unwrap();
        fs::create_dir_all(l2.join("data")).unwrap();
        fs::write(l2.join("etc/motd"), "from layer two\n").unwrap();
        fs::write(l2.join("data/a"), "a\n").unwrap();
        fs::write(l2.join("data/b"), "b\n").unwrap();
        let l3 = dir.path().join("l3");
        fs::create_dir_all(&l3).unwrap();
        fs::write(l3.join("three"), "from layer three\n").unwrap();
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn layers(&self) -> Vec<PathBuf> {
        vec![
            self.dir.rootfs(),
            self.path().join("l2"),
            self.path().join("l3"),
        ]
    }

    fn root(&self) -> PathBuf {
        self.path().join("state")
    }

    /// `ch03-union-fs --root <state> ARGS...`
    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = cargo_bin_cmd!("ch03-union-fs");
        cmd.arg("--root")
            .arg(self.root())
            .args(args)
            .timeout(PATIENCE);
        cmd
    }

    /// `run --layer ... ARGS...` with this fixture's three layers.
    fn run(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.cmd(&["run"]);
        for layer in self.layers() {
            cmd.arg("--layer").arg(layer);
        }
        cmd.args(args);
        cmd
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    }

    fn layer_listing(&self) -> String {
        self.layers()
            .iter()
            .map(|l| tree_listing(l, true))
            .collect::<Vec<_>>()
            .join("---\n")
    }
}

/// What the first container does: add, append to a lower file, delete, rename, replace a
/// directory.
const CHANGES: &str = "echo new > /added; echo more >> /etc/motd; rm /data/a; mv /three /moved; \
                       rm -r /data; mkdir /data; echo fresh > /data/c; mkdir -p /tmp/t; echo t > /tmp/t/f";

#[test]
fn containers_share_layers_and_each_sees_only_its_writes() {
    require_root!();
    let fx = Fixture::new();
    let before = fx.layer_listing();

    fx.run(&["--name", "first", "--", "/bin/sh", "-c", CHANGES])
        .assert()
        .success();
    // Two at once on the same layers, each writing the same path: each reads back its own.
    let spawn = |name: &str, text: &str| {
        let mut cmd = Command::new(BIN);
        cmd.arg("--root")
            .arg(fx.root())
            .args(["run", "--name", name]);
        for layer in fx.layers() {
            cmd.arg("--layer").arg(layer);
        }
        let script = format!("echo {text} > /mine; sleep 0.3; cat /mine; test ! -e /added");
        cmd.args(["--", "/bin/sh", "-c", &script]);
        cmd.stdout(Stdio::piped()).spawn().unwrap()
    };
    let (a, b) = (spawn("second", "two"), spawn("third", "three"));
    for (child, expected) in [(a, "two\n"), (b, "three\n")] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a second container failed: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    }

    assert_eq!(fx.layer_listing(), before, "a layer was modified");
    let mut view = fx.run(&[
        "--rm",
        "--",
        "/bin/sh",
        "-c",
        "cat /etc/motd /three; ls /data",
    ]);
    view.assert()
        .success()
        .stdout("from layer two\nfrom layer three\na\nb\n");
    assert_no_mounts_under(fx.path());
}

#[test]
fn diff_and_commit_show_added_changed_and_deleted() {
    require_root!();
    let fx = Fixture::new();
    fx.run(&["--name", "changer", "--", "/bin/sh", "-c", CHANGES])
        .assert()
        .success();
    let diff = fx.stdout(&["diff", "changer"]);
    insta::assert_snapshot!("diff_overlay", diff);

    let archive = fx.path().join("layer.tar");
    fx.cmd(&["commit", "changer", "-o", archive.to_str().unwrap()])
        .assert()
        .success();
    insta::assert_snapshot!("commit_entries", archive_listing(&archive));
    assert_no_mounts_under(fx.path());
}

#[test]
fn vfs_driver_copies_the_layers_and_diffs_by_comparing() {
    require_root!();
    let fx = Fixture::new();
    let before = fx.layer_listing();
    let mut cmd = fx.cmd(&["--storage-driver", "vfs", "run", "--name", "copy"]);
    for layer in fx.layers() {
        cmd.arg("--layer").arg(layer);
    }
    cmd.args(["--", "/bin/sh", "-c", CHANGES])
        .assert()
        .success();
    let ps = fx.stdout(&["ps", "-a"]);
    assert!(ps.contains("3 (vfs)"), "{ps}");
    insta::assert_snapshot!("diff_vfs", fx.stdout(&["diff", "copy"]));
    assert_eq!(fx.layer_listing(), before, "a layer was modified");

    // The committed archive holds the same changes as the overlay driver's (whiteouts too).
    let archive = fx.path().join("layer.tar");
    fx.cmd(&["commit", "copy", "-o", archive.to_str().unwrap()])
        .assert()
        .success();
    let entries = archive_listing(&archive);
    assert!(entries.contains(".wh.three"), "{entries}");
    assert!(entries.contains("moved"), "{entries}");
    fx.cmd(&["rm", "copy"]).assert().success();
    assert_eq!(
        fs::read_dir(fx.root().join("containers")).unwrap().count(),
        0
    );
}

/// `N` layers: the busybox base and N-1 layers of one file each.
fn many_layers(fx: &Fixture, n: usize) -> Vec<PathBuf> {
    let mut layers = vec![fx.dir.rootfs()];
    for i in 1..n {
        // Long names on purpose: 128 of these do not fit in one page of mount options.
        let layer = fx
            .path()
            .join(format!("layer-with-a-rather-long-name-{i:03}"));
        fs::create_dir_all(&layer).unwrap();
        fs::write(layer.join(format!("f{i}")), format!("{i}\n")).unwrap();
        layers.push(layer);
    }
    layers
}

#[test]
fn one_hundred_and_twenty_eight_layers_mount_with_either_api() {
    require_root!();
    let fx = Fixture::new();
    let layers = many_layers(&fx, 128);
    let total: usize = layers.iter().map(|l| l.as_os_str().len() + 1).sum();
    assert!(
        total > 4096,
        "the test layers must overflow one page ({total} bytes)"
    );
    for api in ["legacy", "auto"] {
        let mut cmd = fx.cmd(&[
            "--storage-opt",
            &format!("overlay.mount_api={api}"),
            "run",
            "--rm",
        ]);
        for layer in &layers {
            cmd.arg("--layer").arg(layer);
        }
        cmd.args([
            "--",
            "/bin/sh",
            "-c",
            "cat /f1 /f64 /f127; ls / | grep -c '^f'",
        ]);
        cmd.assert().success().stdout("1\n64\n127\n127\n");
    }
    assert_no_mounts_under(fx.path());
}

#[test]
fn legacy_mount_narrates_short_names_from_the_state_directory() {
    require_root!();
    let fx = Fixture::new();
    let out = fx
        .cmd(&["--explain", "--storage-opt", "overlay.mount_api=legacy"])
        .args(["run", "--rm"])
        .args(
            fx.layers()
                .iter()
                .flat_map(|l| ["--layer".into(), l.display().to_string()]),
        )
        .args(["--", "/bin/true"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let overlay: String = stderr
        .lines()
        .filter(|l| l.contains("overlay") || l.contains("chdir") || l.contains("upper layer"))
        .map(|l| format!("{l}\n"))
        .collect();
    let short = regex::Regex::new(r"l/[0-9a-f]{12}").unwrap();
    let overlay = short.replace_all(&overlay, "l/[SHORT]");
    with_redactions(fx.path(), || {
        insta::assert_snapshot!("explain_legacy", overlay)
    });
}

#[test]
fn falls_back_to_vfs_when_the_root_cannot_hold_an_upper_layer() {
    require_root!();
    let fx = Fixture::new();
    // A state directory on an overlay mount: overlayfs refuses an upper layer there.
    let mount = TestOverlay::mount(fx.path());
    let root = mount.merged.join("state");
    let out = cargo_bin_cmd!("ch03-union-fs")
        .arg("--root")
        .arg(&root)
        .args(["run", "--name", "fallback"])
        .args(
            fx.layers()
                .iter()
                .flat_map(|l| ["--layer".into(), l.display().to_string()]),
        )
        .args(["--", "/bin/sh", "-c", "echo x > /x; cat /three"])
        .timeout(PATIENCE)
        .assert()
        .success()
        .stdout("from layer three\n");
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "one notice line: {stderr}");
    assert!(stderr.contains("using the vfs driver"), "{stderr}");
    let diff = cargo_bin_cmd!("ch03-union-fs")
        .arg("--root")
        .arg(&root)
        .args(["diff", "fallback"])
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&diff.get_output().stdout), "A /x\n");
    drop(mount);
    assert_no_mounts_under(fx.path());
}

/// An overlay mounted by the test itself on the host, unmounted when dropped.
struct TestOverlay {
    merged: PathBuf,
}

impl TestOverlay {
    fn mount(dir: &Path) -> TestOverlay {
        let base = dir.join("test-overlay");
        for sub in ["lower", "upper", "work", "merged"] {
            fs::create_dir_all(base.join(sub)).unwrap();
        }
        let options = format!(
            "lowerdir={0}/lower,upperdir={0}/upper,workdir={0}/work",
            base.display()
        );
        let status = Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o", &options])
            .arg(base.join("merged"))
            .status()
            .unwrap();
        assert!(status.success(), "mount a test overlay");
        TestOverlay {
            merged: base.join("merged"),
        }
    }
}

impl Drop for TestOverlay {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.merged).status();
    }
}

#[test]
fn ps_lists_containers_and_rm_removes_them() {
    require_root!();
    let fx = Fixture::new();
    fx.run(&["--name", "listed", "--", "/bin/true"])
        .assert()
        .success();
    fx.run(&["--name", "failed", "--", "/bin/sh", "-c", "exit 3"])
        .assert()
        .code(3);
    fx.run(&["--rm", "--", "/bin/true"]).assert().success();

    assert_eq!(
        fx.stdout(&["ps"]),
        "CONTAINER ID   COMMAND   CREATED   STATUS   LAYERS   NAMES\n"
    );
    let ps = normalize_table(&fx.stdout(&["ps", "-a"]));
    with_redactions(fx.path(), || insta::assert_snapshot!("ps_all", ps));
    assert_eq!(fx.stdout(&["ps", "-a", "-q"]).lines().count(), 2);

    let taken = fx
        .run(&["--name", "listed", "--", "/bin/true"])
        .assert()
        .code(125);
    insta::assert_snapshot!(
        "name_in_use",
        String::from_utf8_lossy(&taken.get_output().stderr)
    );

    fx.cmd(&["rm", "listed", "failed"])
        .assert()
        .success()
        .stdout("listed\nfailed\n");
    let missing = fx.cmd(&["rm", "listed"]).assert().code(1);
    insta::assert_snapshot!(
        "no_such_container",
        String::from_utf8_lossy(&missing.get_output().stderr)
    );
    assert_eq!(
        fs::read_dir(fx.root().join("containers")).unwrap().count(),
        0
    );
    assert_eq!(fs::read_dir(fx.root().join("names")).unwrap().count(), 0);
    assert_no_mounts_under(fx.path());
}

#[test]
fn bad_layers_and_options_fail_with_one_line_and_store_nothing() {
    require_root!();
    let fx = Fixture::new();
    let missing = fx.path().join("no-such-layer");
    let out = fx
        .cmd(&["run", "--layer"])
        .arg(&missing)
        .args(["--", "/bin/true"])
        .assert()
        .code(125);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    with_redactions(fx.path(), || {
        insta::assert_snapshot!("missing_layer", stderr)
    });

    let out = fx
        .cmd(&["--storage-opt", "overlay.bogus=1", "run", "--layer"])
        .arg(fx.dir.rootfs())
        .args(["--", "/bin/true"])
        .assert()
        .code(125);
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .lines()
            .count(),
        1
    );

    fx.run(&["--", "/no/such/command"]).assert().code(127);
    let ps = fx.stdout(&["ps", "-a"]);
    assert!(
        ps.contains("Created"),
        "a command that never ran leaves a created container: {ps}"
    );
    assert_eq!(
        fs::read_dir(fx.root().join("containers")).unwrap().count(),
        1
    );
    assert_no_mounts_under(fx.path());
}

#[test]
fn killed_engine_leaves_no_mount_and_ps_shows_it_stopped() {
    require_root!();
    let fx = Fixture::new();
    let mut cmd = Command::new(BIN);
    cmd.arg("--root")
        .arg(fx.root())
        .args(["run", "--name", "victim"]);
    for layer in fx.layers() {
        cmd.arg("--layer").arg(layer);
    }
    let mut engine = cmd.args(["--", "/bin/sleep", "30"]).spawn().unwrap();
    let running = wait_until(PATIENCE, || fx.stdout(&["ps"]).contains("victim"));
    assert!(running, "the container never showed as running");
    engine.kill().unwrap();
    engine.wait().unwrap();
    // The overlay lived only in the container's mount namespace: it went with the container.
    let gone = wait_until(PATIENCE, || {
        std::panic::catch_unwind(|| assert_no_mounts_under(fx.path())).is_ok()
    });
    assert!(gone, "the overlay outlived its container");
    assert!(!fx.stdout(&["ps"]).contains("victim"));
    let short_id = fx.stdout(&["ps", "-a", "-q"]).trim().to_owned();
    fx.cmd(&["rm", "victim"]).assert().success();
    // No teardown ran in the killed engine: `rm` removed its empty cgroup.
    let groups: Vec<_> = std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .filter_map(|h| std::fs::read_dir(h.path().join("dockyard")).ok())
        .flatten()
        .flatten()
        .filter(|g| g.file_name().to_string_lossy().starts_with(&short_id))
        .map(|g| g.path())
        .collect();
    assert!(
        groups.is_empty(),
        "the killed container's cgroup is left: {groups:?}"
    );
}

/// Columns separated by " | " instead of padding, so redacted cells do not shift the rest.
fn normalize_table(table: &str) -> String {
    let gaps = regex::Regex::new(r" {3,}").unwrap();
    let times = regex::Regex::new(r"(Less than a second|\d+ seconds?|About a minute)").unwrap();
    let table = gaps.replace_all(table, " | ");
    times.replace_all(&table, "[TIME]").to_string()
}

/// The archive's entries as `tar tv` would show them, without times.
fn archive_listing(path: &Path) -> String {
    let mut archive = tar::Archive::new(fs::File::open(path).unwrap());
    let mut lines = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Char => 'c',
            _ => '-',
        };
        lines.push(format!(
            "{kind} {:o} {}:{} {:>4} {}",
            header.mode().unwrap(),
            header.uid().unwrap(),
            header.gid().unwrap(),
            header.size().unwrap(),
            entry.path().unwrap().display()
        ));
    }
    lines.join("\n") + "\n"
}

/// A read-only overlay of `lowers` (topmost first) mounted by the test: the kernel's own view
/// of a stack of layers, to compare with. Unmounted when dropped.
struct KernelView {
    merged: PathBuf,
}

impl KernelView {
    fn mount(lowers: &[PathBuf], merged: PathBuf) -> KernelView {
        fs::create_dir_all(&merged).unwrap();
        let lowerdir: Vec<String> = lowers.iter().map(|l| l.display().to_string()).collect();
        let status = Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o"])
            .arg(format!("ro,lowerdir={}", lowerdir.join(":")))
            .arg(&merged)
            .status()
            .unwrap();
        assert!(status.success(), "mount the kernel's view");
        KernelView { merged }
    }
}

impl Drop for KernelView {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.merged).status();
    }
}

#[test]
fn a_committed_layer_applied_to_its_base_reproduces_the_containers_view() {
    require_root!();
    let fx = Fixture::new();
    fx.run(&["--name", "source", "--", "/bin/sh", "-c", CHANGES])
        .assert()
        .success();
    let archive = fx.path().join("layer.tar");
    fx.cmd(&["commit", "source", "-o", archive.to_str().unwrap()])
        .assert()
        .success();
    let upper = fs::read_dir(fx.root().join("containers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("upper");

    // What the container saw: the kernel's overlay of its upper layer on the three layers.
    let mut stack: Vec<PathBuf> = fx.layers().into_iter().rev().collect();
    stack.insert(0, upper);
    let expected = {
        let view = KernelView::mount(&stack, fx.path().join("view-container"));
        tree_listing(&view.merged, true)
    };
    for (path, present) in [
        ("/added ", true),
        ("/moved ", true),
        ("/data/c ", true),
        ("/data/a ", false),
        ("/three ", false),
    ] {
        assert_eq!(
            expected.contains(path),
            present,
            "{path} in the container's view:\n{expected}"
        );
    }

    // 1. Flat: the layers copied into one directory, the archive applied with deletions.
    let flat = fx.path().join("flat");
    fs::create_dir(&flat).unwrap();
    let n = ch01_namespaces::Narrator::silent();
    ch03_union_fs::copy::flatten(&fx.layers(), &flat, &n).unwrap();
    let options = ApplyOptions::for_this_process(Whiteouts::Delete);
    apply_file(&archive, &flat, &options, &n).unwrap();
    assert_eq!(tree_listing(&flat, true), expected, "flat round trip");

    // 2. As a layer: the archive applied with overlay whiteouts, stacked on the same layers.
    let layer = fx.path().join("committed-layer");
    fs::create_dir(&layer).unwrap();
    let options = ApplyOptions::for_this_process(Whiteouts::Overlay);
    apply_file(&archive, &layer, &options, &n).unwrap();
    stack[0] = layer;
    let view = KernelView::mount(&stack, fx.path().join("view-layer"));
    assert_eq!(
        tree_listing(&view.merged, true),
        expected,
        "layer round trip"
    );
    drop(view);
    assert_no_mounts_under(fx.path());
}
