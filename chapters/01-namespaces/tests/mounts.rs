//! `run --mount` on the real kernel: binds (read-write, read-only all the way down), tmpfs,
//! missing targets, and targets that try to lead out of the rootfs through symbolic links, as
//! an image or a concurrent writer could plant them (the shape of runc's CVE-2021-30465).
//! Each test has its own rootfs and sources in its own temporary directory.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use common::{BIN, PATIENCE, run, stderr, stdout};
use dockyard_tests::{
    TestDir, assert_no_mounts_under, assert_nothing_left, busybox_rootfs, require_root,
    with_redactions,
};

/// Serializes the tests that compare the host's mount table before and after: none of this
/// file's tests mounts anything on the host, but a comparison must not see another's window.
static HOST_MOUNT_TABLE: Mutex<()> = Mutex::new(());

fn host_table_lock() -> MutexGuard<'static, ()> {
    HOST_MOUNT_TABLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The host's mounts on `/` and on or under any of `paths`: what an escaping mount would add.
fn host_mounts_at(paths: &[PathBuf]) -> Vec<String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    mountinfo
        .lines()
        .filter(|line| {
            let point = Path::new(line.split(' ').nth(4).unwrap_or(""));
            point == Path::new("/") || paths.iter().any(|p| point.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}

/// A directory of the test's own to bind, holding `file` with `content`.
fn source_dir(dir: &TestDir, name: &str, content: &str) -> PathBuf {
    let source = dir.path().join(name);
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("file"), content).unwrap();
    source
}

/// A name no other test uses, for host paths an escape would create: the test directory's own.
fn unique_name(dir: &TestDir) -> String {
    let name = dir.path().file_name().unwrap().to_string_lossy();
    format!("dockyard-escape-{name}")
}

fn bind(source: &Path, target: &str) -> String {
    format!("type=bind,source={},target={target}", source.display())
}

#[test]
fn binds_share_files_and_read_only_binds_refuse_writes() {
    require_root!();
    let dir = busybox_rootfs();
    let source = source_dir(&dir, "shared", "from the host\n");
    let rw = bind(&source, "/data");
    let ro = format!("{},readonly", bind(&source, "/ro"));
    let script = "cat /data/file; echo from the container > /data/written; \
                  echo no > /ro/refused || echo refused: $?";
    let out = run(
        &dir,
        &[
            "--mount", &rw, "--mount", &ro, "--", "/bin/sh", "-c", script,
        ],
    );
    let out = out.success();
    assert_eq!(stdout(&out), "from the host\nrefused: 1\n");
    assert!(
        stderr(&out).contains("/ro/refused: Read-only file system"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fs::read_to_string(source.join("written")).unwrap(),
        "from the container\n"
    );
    assert!(!source.join("refused").exists());
    assert_nothing_left(&dir.rootfs());
    assert_no_mounts_under(dir.path());
}

#[test]
fn read_only_binds_are_read_only_below_too() {
    require_root!();
    let dir = busybox_rootfs();
    let source = source_dir(&dir, "shared", "x\n");
    fs::create_dir(source.join("sub")).unwrap();
    // A mount below the source, in a mount namespace of the test's own (never the host's),
    // which the engine inherits: a recursive bind copies it, and read-only must reach it.
    let script = r#"mount -t tmpfs below "$1/sub" && shift && exec "$@""#;
    let ro = format!("{},readonly", bind(&source, "/ro"));
    let rootfs = dir.rootfs();
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(script)
        .arg("sh")
        .arg(&source)
        .arg(BIN)
        .args(["run", "--rootfs"])
        .arg(&rootfs)
        .args(["--mount", &ro, "--", "/bin/sh", "-c"])
        .arg("grep ' /ro/sub ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1; echo no > /ro/sub/x")
        .output()
        .expect("run unshare");
    let (out, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out, "tmpfs ro\n", "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert_nothing_left(&rootfs);
    assert_no_mounts_under(dir.path());
}

#[test]
fn tmpfs_mounts_get_their_size_and_mode() {
    require_root!();
    let dir = busybox_rootfs();
    let tmpfs = "type=tmpfs,target=/cache,tmpfs-size=1m,tmpfs-mode=1770";
    let script = "grep ' /cache ' /proc/mounts; stat -c %a /cache; \
                  cp /bin/busybox /cache/ && /cache/busybox true || echo noexec";
    let out = run(&dir, &["--mount", tmpfs, "--", "/bin/sh", "-c", script]).success();
    assert_eq!(
        stdout(&out),
        "tmpfs /cache tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770 0 0\n\
         1770\n\
         noexec\n"
    );
    assert!(
        dir.rootfs().join("cache").is_dir(),
        "the missing target was created"
    );
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn a_tmpfs_can_replace_dev_shm() {
    require_root!();
    let dir = busybox_rootfs();
    let tmpfs = "type=tmpfs,target=/dev/shm,tmpfs-size=2m";
    let out = run(&dir, &["--mount", tmpfs, "--", "/bin/df", "-k", "/dev/shm"]).success();
    let line = stdout(&out).lines().nth(1).unwrap_or_default().to_string();
    assert!(
        line.starts_with("tmpfs") && line.contains(" 2048 "),
        "{line}"
    );
}

#[test]
fn missing_targets_are_created_as_directories_or_files() {
    require_root!();
    let dir = busybox_rootfs();
    let source = source_dir(&dir, "shared", "the file\n");
    let directory = bind(&source, "/a/b/c");
    let file = bind(&source.join("file"), "/etc/deep/er/file.conf");
    let script = "cat /a/b/c/file /etc/deep/er/file.conf";
    let out = run(
        &dir,
        &[
            "--mount", &directory, "--mount", &file, "--", "/bin/sh", "-c", script,
        ],
    );
    assert_eq!(stdout(&out.success()), "the file\nthe file\n");
    let rootfs = dir.rootfs();
    assert!(rootfs.join("a/b/c").is_dir());
    let created = rootfs.join("etc/deep/er/file.conf");
    assert!(created.is_file() && fs::read(&created).unwrap().is_empty());
    assert_nothing_left(&rootfs);
}

#[test]
fn symlinked_parents_resolve_inside_the_rootfs() {
    require_root!();
    let _table = host_table_lock();
    let dir = busybox_rootfs();
    let rootfs = dir.rootfs();
    let source = source_dir(&dir, "shared", "inside\n");
    symlink("../../..", rootfs.join("up")).unwrap();
    symlink("/", rootfs.join("abs")).unwrap();
    let name = unique_name(&dir);
    let host_paths = [PathBuf::from("/").join(&name), source.clone()];
    let before = host_mounts_at(&host_paths);
    let relative = bind(&source, &format!("/up/{name}"));
    let absolute = bind(&source, &format!("/abs/{name}-2/x"));
    let script = format!("cat /{name}/file /{name}-2/x/file");
    let out = run(
        &dir,
        &[
            "--mount", &relative, "--mount", &absolute, "--", "/bin/sh", "-c", &script,
        ],
    );
    assert_eq!(stdout(&out.success()), "inside\ninside\n");
    assert!(rootfs.join(&name).is_dir() && rootfs.join(format!("{name}-2/x")).is_dir());
    assert!(
        !host_paths[0].exists(),
        "the mount point escaped to the host"
    );
    assert_eq!(host_mounts_at(&host_paths), before);
    assert_nothing_left(&rootfs);
    assert_no_mounts_under(dir.path());
}

#[test]
fn a_target_that_is_a_link_to_the_root_is_refused() {
    require_root!();
    let _table = host_table_lock();
    let dir = busybox_rootfs();
    let rootfs = dir.rootfs();
    let source = source_dir(&dir, "shared", "x\n");
    symlink("/", rootfs.join("slash")).unwrap();
    symlink("../../..", rootfs.join("dots")).unwrap();
    let before = host_mounts_at(std::slice::from_ref(&source));
    for target in ["/slash", "/dots"] {
        let out = run(
            &dir,
            &["--mount", &bind(&source, target), "--", "/bin/true"],
        );
        let out = out.code(125);
        let message = stderr(&out);
        with_redactions(dir.path(), || {
            insta::assert_snapshot!(
                format!("mount_over_root{}", target.replace('/', "_")),
                message
            )
        });
    }
    assert_eq!(host_mounts_at(std::slice::from_ref(&source)), before);
    assert_nothing_left(&rootfs);
    assert_no_mounts_under(dir.path());
}

#[test]
fn a_target_through_proc_is_refused() {
    require_root!();
    let dir = busybox_rootfs();
    let source = source_dir(&dir, "shared", "x\n");
    // `/proc/self/cwd` is a "magic" link: it names an open file, not a path, and could name
    // one outside the container; RESOLVE_NO_MAGICLINKS refuses to follow it.
    symlink("/proc/self/cwd", dir.rootfs().join("magic")).unwrap();
    let out = run(
        &dir,
        &["--mount", &bind(&source, "/magic/x"), "--", "/bin/true"],
    );
    let message = stderr(&out.code(125));
    with_redactions(dir.path(), || {
        insta::assert_snapshot!("mount_through_proc", message)
    });
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn a_racing_writer_cannot_lead_a_mount_out() {
    require_root!();
    let _table = host_table_lock();
    let dir = busybox_rootfs();
    let rootfs = dir.rootfs();
    let source = source_dir(&dir, "shared", "x\n");
    // `race` flips between a directory and a link to `../../..` while containers mount below
    // it: whichever it is when the target is resolved, the mount must land in the rootfs.
    fs::create_dir(rootfs.join("race")).unwrap();
    symlink("../../..", rootfs.join("other")).unwrap();
    let name = unique_name(&dir);
    let host_paths = [PathBuf::from("/").join(&name), source.clone()];
    let before = host_mounts_at(&host_paths);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let (a, b) = (rootfs.join("race"), rootfs.join("other"));
                nix::fcntl::renameat2(
                    nix::fcntl::AT_FDCWD,
                    &a,
                    nix::fcntl::AT_FDCWD,
                    &b,
                    nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                )
                .expect("swap the directory and the link");
            }
        });
        for _ in 0..20 {
            let target = format!("/race/{name}");
            let out = run(
                &dir,
                &["--mount", &bind(&source, &target), "--", "/bin/true"],
            );
            // Either outcome is fine (the target may vanish mid-walk); escaping is not.
            let code = out.get_output().status.code();
            assert!(matches!(code, Some(0 | 125)), "{code:?}");
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(!host_paths[0].exists(), "a mount point escaped to the host");
    assert_eq!(host_mounts_at(&host_paths), before);
    assert_nothing_left(&rootfs);
    assert_no_mounts_under(dir.path());
}

#[test]
fn a_missing_bind_source_is_refused_before_the_container_starts() {
    require_root!();
    let dir = busybox_rootfs();
    let missing = dir.path().join("nowhere");
    let out = run(
        &dir,
        &["--mount", &bind(&missing, "/data"), "--", "/bin/true"],
    );
    let message = stderr(&out.code(125));
    with_redactions(dir.path(), || {
        insta::assert_snapshot!("missing_bind_source", message)
    });
    assert!(!dir.rootfs().join("data").exists());
}

#[test]
fn mount_syntax_errors_exit_125() {
    let out = assert_cmd::Command::new(BIN)
        .args([
            "run",
            "--rootfs",
            "/",
            "--mount",
            "type=volume,target=/x",
            "/bin/true",
        ])
        .timeout(PATIENCE)
        .assert()
        .code(125);
    assert!(
        stderr(&out).contains("type=volume is not supported"),
        "{}",
        stderr(&out)
    );
}
