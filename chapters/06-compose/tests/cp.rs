//! `cp`: docker's rules in both directions, on running and stopped containers, and the two
//! ways docker's copy once let a container reach the host (CVE-2018-15664, CVE-2019-14271),
//! each tried for real.

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Bench;
use dockyard_tests::{assert_no_mounts_under, require_root, wait_until, with_redactions};

/// Runs `run -d busybox sh -c SETUP; exec /probe sleep 600` and waits until the setup is done.
fn running(bench: &Bench, name: &str, setup: &str) -> String {
    let script = format!("{setup} && echo ready && exec /probe sleep 600");
    let id = bench.detach(&["--name", name, "busybox", "sh", "-c", &script]);
    let ready = wait_until(Duration::from_secs(20), || bench.log(&id).contains("ready"));
    assert!(ready, "setup of {name}: {:?}", bench.log(&id));
    id
}

/// `cp ARGS…` expected to fail: its stderr, after checking docker's status (1).
fn refused(bench: &Bench, args: &[&str]) -> String {
    let mut all = vec!["cp"];
    all.extend_from_slice(args);
    let output = bench.tool().args(&all).output().expect("run cp");
    assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
    String::from_utf8(output.stderr).expect("utf-8")
}

/// `cp ARGS…` expected to succeed.
fn cp(bench: &Bench, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["cp"];
    all.extend_from_slice(args);
    let output = bench.tool().args(&all).output().expect("run cp");
    assert!(output.status.success(), "cp {args:?}: {output:?}");
    output.stdout
}

/// A tar's entries, one per line: type, mode, owner, size, name, link.
fn listing(tar: &[u8]) -> String {
    let mut archive = tar::Archive::new(tar);
    let mut lines = Vec::new();
    for entry in archive.entries().expect("a tar") {
        let entry = entry.expect("an entry");
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Regular => '-',
            _ => '?',
        };
        let link = entry
            .link_name()
            .ok()
            .flatten()
            .map(|l| format!(" -> {}", l.display()))
            .unwrap_or_default();
        lines.push(format!(
            "{kind} {:o} {}:{} {:>4} {}{link}",
            header.mode().unwrap(),
            header.uid().unwrap(),
            header.gid().unwrap(),
            header.size().unwrap(),
            entry.path().unwrap().display(),
        ));
    }
    lines.join("\n")
}

/// The content of the single file a tar holds.
fn file_in(tar: &[u8]) -> String {
    let mut archive = tar::Archive::new(tar);
    let mut entry = archive
        .entries()
        .unwrap()
        .next()
        .expect("an entry")
        .unwrap();
    let mut content = String::new();
    entry.read_to_string(&mut content).unwrap();
    content
}

fn owner(path: &Path) -> (u32, u32) {
    let meta = fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (meta.uid(), meta.gid())
}

/// `exec CONTAINER sh -c SCRIPT`'s output.
fn inside(bench: &Bench, container: &str, script: &str) -> String {
    bench.ok(&["exec", container, "sh", "-c", script])
}

#[test]
fn copies_out_of_a_running_container_by_docker_rules() {
    require_root!();
    let bench = Bench::new();
    running(
        &bench,
        "web",
        "mkdir -p /srv/app/sub && echo hi > /srv/app/file && echo deep > /srv/app/sub/deep \
         && ln -s file /srv/app/link && ln /srv/app/file /srv/app/hard && ln -s /srv/app /srv/applink \
         && chown 1000:1001 /srv/app/file",
    );
    let out = bench.dir.path().join("out");
    fs::create_dir_all(out.join("contents")).unwrap();
    fs::write(out.join("a-file"), "x").unwrap();
    fs::create_dir_all(out.join("clash/deep")).unwrap();
    let at = |name: &str| out.join(name).to_string_lossy().into_owned();

    // A file: to a new name, into a directory.
    cp(&bench, &["web:/srv/app/file", &at("renamed")]);
    assert_eq!(fs::read_to_string(out.join("renamed")).unwrap(), "hi\n");
    cp(
        &bench,
        &["web:srv/app/file", &format!("{}/", out.display())],
    );
    assert_eq!(fs::read_to_string(out.join("file")).unwrap(), "hi\n");
    // Onto a file: replaced.
    cp(&bench, &["web:/srv/app/sub/deep", &at("a-file")]);
    assert_eq!(fs::read_to_string(out.join("a-file")).unwrap(), "deep\n");
    // A directory: becomes a missing path, goes inside an existing directory, or (`/.`) pours
    // its contents into one.
    cp(&bench, &["web:/srv/app", &at("new")]);
    assert_eq!(
        fs::read_to_string(out.join("new/sub/deep")).unwrap(),
        "deep\n"
    );
    cp(&bench, &["web:/srv/app", &out.to_string_lossy()]);
    assert_eq!(fs::read_to_string(out.join("app/file")).unwrap(), "hi\n");
    cp(&bench, &["web:/srv/app/.", &at("contents")]);
    assert_eq!(
        fs::read_to_string(out.join("contents/file")).unwrap(),
        "hi\n"
    );
    // Links stay links, hard links too; -L (or a trailing slash) follows the one named.
    assert_eq!(
        fs::read_link(out.join("app/link")).unwrap(),
        Path::new("file")
    );
    assert_eq!(
        fs::metadata(out.join("app/hard")).unwrap().ino(),
        fs::metadata(out.join("app/file")).unwrap().ino()
    );
    cp(&bench, &["web:/srv/applink", &at("as-link")]);
    assert_eq!(
        fs::read_link(out.join("as-link")).unwrap(),
        Path::new("/srv/app")
    );
    cp(&bench, &["-L", "web:/srv/applink", &at("followed")]);
    assert!(out.join("followed/sub/deep").is_file());
    cp(&bench, &["web:/srv/applink/", &at("slashed")]);
    assert!(out.join("slashed/sub/deep").is_file());
    // Owners: the user running cp's (root here), or the container's with -a.
    assert_eq!(owner(&out.join("app/file")), (0, 0));
    cp(&bench, &["-a", "web:/srv/app/file", &at("kept")]);
    assert_eq!(owner(&out.join("kept")), (1000, 1001));

    // What docker refuses, in its words.
    let refusals = [
        refused(&bench, &["web:/srv/nope", &at("x")]),
        refused(
            &bench,
            &["web:/srv/app/file", &format!("{}/", at("missing"))],
        ),
        refused(&bench, &["web:/srv/app", &at("a-file")]),
        refused(&bench, &["web:/srv/app/file/", &at("x")]),
        refused(&bench, &["web:/srv/app/file", &at("no/such/dir")]),
        refused(&bench, &["web:/srv/app/sub/deep", &at("clash")]),
    ];
    // Usage errors: docker's status for an invalid request (125).
    for (args, message) in [
        (
            ["web:/srv/app", "web2:/srv"],
            "copying between containers is not supported",
        ),
        (["a", "b"], "must specify at least one container source"),
    ] {
        let output = bench.tool().arg("cp").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(125), "{output:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(message),
            "{output:?}"
        );
    }
    // `-`: a tar on stdout, named after the source, with numeric owners.
    let tar = cp(&bench, &["web:/srv/app", "-"]);
    with_redactions(bench.dir.path(), || {
        insta::assert_snapshot!("cp_out_refusals", refusals.join(""));
        insta::assert_snapshot!("cp_out_tar", listing(&tar));
    });
    let tar = cp(&bench, &["web:/srv/app/.", "-"]);
    assert!(
        listing(&tar).lines().any(|l| l.ends_with(" sub/deep")),
        "{}",
        listing(&tar)
    );
}

#[test]
fn copies_into_a_running_container_by_docker_rules() {
    require_root!();
    let bench = Bench::new();
    running(&bench, "web", "mkdir -p /srv/clash/inner");
    let src = bench.dir.path().join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("file"), "from the host\n").unwrap();
    fs::write(src.join("sub/deep"), "deep\n").unwrap();
    std::os::unix::fs::chown(src.join("file"), Some(1234), Some(4321)).unwrap();
    symlink("file", src.join("link")).unwrap();
    let clash = bench.dir.path().join("clash");
    fs::create_dir_all(&clash).unwrap();
    fs::write(clash.join("clash"), "a file where a directory is\n").unwrap();
    let host = |path: &Path| path.to_string_lossy().into_owned();
    let stat = |path: &str| inside(&bench, "web", &format!("stat -c '%u:%g %F' {path}"));

    // A file into a directory, owned by root; with -a by its own owner.
    cp(&bench, &[&host(&src.join("file")), "web:/tmp"]);
    assert_eq!(stat("/tmp/file"), "0:0 regular file\n");
    cp(&bench, &["-a", &host(&src.join("file")), "web:/tmp/kept"]);
    assert_eq!(stat("/tmp/kept"), "1234:4321 regular file\n");
    // A directory: a new one, or its contents into one.
    cp(&bench, &[&host(&src), "web:/srv/new"]);
    assert_eq!(
        inside(&bench, "web", "cat /srv/new/sub/deep /srv/new/link"),
        "deep\nfrom the host\n"
    );
    assert_eq!(stat("/srv/new/link"), "0:0 symbolic link\n");
    cp(&bench, &[&format!("{}/.", host(&src)), "web:/srv"]);
    assert_eq!(inside(&bench, "web", "cat /srv/file"), "from the host\n");
    // A tar on stdin, unpacked into a directory.
    let tar = cp(&bench, &["web:/srv/new", "-"]);
    bench
        .tool()
        .args(["cp", "-", "web:/tmp"])
        .write_stdin(tar)
        .assert()
        .success();
    assert_eq!(inside(&bench, "web", "cat /tmp/new/sub/deep"), "deep\n");

    let refusals = [
        refused(&bench, &[&host(&src.join("file")), "web:/nodir/x"]),
        refused(&bench, &[&host(&src), "web:/etc/passwd"]),
        refused(&bench, &[&host(&src.join("file")), "web:/nodir/"]),
        refused(&bench, &[&format!("{}/.", host(&clash)), "web:/srv"]),
        refused(
            &bench,
            &[&host(&bench.dir.path().join("nothing")), "web:/tmp"],
        ),
    ];
    let stdin_refusal = bench
        .tool()
        .args(["cp", "-", "web:/etc/passwd"])
        .write_stdin(Vec::new())
        .output()
        .unwrap();
    with_redactions(bench.dir.path(), || {
        insta::assert_snapshot!(
            "cp_in_refusals",
            refusals.join("") + &String::from_utf8_lossy(&stdin_refusal.stderr)
        );
    });
    // The directory a file would have replaced is still there.
    assert_eq!(stat("/srv/clash"), "0:0 directory\n");
}

#[test]
fn read_only_volumes_refuse_a_copy_in() {
    require_root!();
    let bench = Bench::new();
    let id = bench.detach(&["-v", "data:/data:ro", "busybox", "/probe", "sleep", "600"]);
    let file = bench.dir.path().join("file");
    fs::write(&file, "x").unwrap();
    let refusal = refused(&bench, &[&file.to_string_lossy(), &format!("{id}:/data")]);
    assert!(
        refusal.contains("mounted volume is marked read-only"),
        "{refusal}"
    );
    bench.ok(&["stop", "-t", "0", &id]);
    // Stopped, its volume is mounted read-only by cp too.
    let refusal = refused(&bench, &[&file.to_string_lossy(), &format!("{id}:/data")]);
    assert!(
        refusal.contains("mounted volume is marked read-only"),
        "{refusal}"
    );
}

#[test]
fn a_tar_from_stdin_stays_inside_the_directory_it_is_unpacked_into() {
    require_root!();
    let bench = Bench::new();
    running(&bench, "web", "mkdir /in");
    let canary = bench.dir.path().join("canary");
    fs::create_dir(&canary).unwrap();
    // A link to / and a file through it: the file lands in the directory's own tmp.
    let mut builder = tar::Builder::new(Vec::new());
    append_link(&mut builder, "evil", "/");
    append_file(
        &mut builder,
        &format!("evil{}/planted", canary.display()),
        b"planted\n",
    );
    append_file(&mut builder, "/abs", b"absolute\n");
    let tar = builder.into_inner().unwrap();
    bench
        .tool()
        .args(["cp", "-", "web:/in"])
        .write_stdin(tar)
        .assert()
        .success();
    assert_eq!(
        inside(
            &bench,
            "web",
            &format!("cat /in{}/planted /in/abs", canary.display())
        ),
        "planted\nabsolute\n"
    );
    assert_eq!(
        fs::read_dir(&canary).unwrap().count(),
        0,
        "the host's directory is untouched"
    );
    // A name that climbs out is refused, and nothing of it is written.
    let mut builder = tar::Builder::new(Vec::new());
    append_file(&mut builder, "../../../../escaped", b"out\n");
    let output = bench
        .tool()
        .args(["cp", "-", "web:/in"])
        .write_stdin(builder.into_inner().unwrap())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("'..'"),
        "{output:?}"
    );
    assert_eq!(
        inside(&bench, "web", "ls / | grep -c escaped || true"),
        "0\n"
    );
}

/// A raw tar entry: the name is written as is (the tar crate refuses `..`, as it should).
fn append_file(builder: &mut tar::Builder<Vec<u8>>, name: &str, content: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(content.len() as u64);
    header.set_cksum();
    builder.append(&header, content).unwrap();
}

fn append_link(builder: &mut tar::Builder<Vec<u8>>, name: &str, target: &str) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_mode(0o777);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(0);
    builder.append_link(&mut header, name, target).unwrap();
}

#[test]
fn copies_into_and_out_of_stopped_containers_with_their_volumes() {
    require_root!();
    let bench = Bench::new();
    let id = bench
        .ok(&[
            "create",
            "--name",
            "later",
            "-v",
            "notes:/notes",
            "busybox",
            "sh",
            "-c",
            "cat /notes/note /etc/motd; echo written > /notes/reply",
        ])
        .trim()
        .to_owned();
    let note = bench.dir.path().join("note");
    fs::write(&note, "copied while it was created\n").unwrap();
    let note = note.to_string_lossy().into_owned();
    // Never started: its overlay and its volume are mounted by cp, in cp's own namespace.
    cp(&bench, &[&note, "later:/notes/"]);
    cp(&bench, &[&note, "later:/etc/motd"]);
    assert_no_mounts_under(&bench.root());
    bench.ok(&["start", "later"]);
    bench.wait_for(&id, "the container ends", |s| s["status"] == "exited");
    assert_eq!(
        bench.log(&id),
        "copied while it was created\ncopied while it was created\n"
    );
    // Exited: what it wrote, in its volume, comes out.
    let tar = cp(&bench, &["later:/notes/reply", "-"]);
    assert_eq!(file_in(&tar), "written\n");
    let tar = cp(&bench, &["later:/etc/motd", "-"]);
    assert_eq!(file_in(&tar), "copied while it was created\n");
    assert_no_mounts_under(&bench.root());
}

/// The lines of `/proc/locks` about the file `path` (matched by inode).
fn locks_on(path: &Path) -> Vec<String> {
    let Ok(meta) = fs::metadata(path) else {
        return Vec::new();
    };
    let inode = format!(":{} ", meta.ino());
    fs::read_to_string("/proc/locks")
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(&inode))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_start_waits_until_a_copy_into_the_stopped_container_ends() {
    require_root!();
    let bench = Bench::new();
    let id = bench
        .ok(&["create", "busybox", "cat", "/tmp/arrived/file"])
        .trim()
        .to_owned();
    let tool = assert_cmd::cargo::cargo_bin!("ch06-compose");
    let root = bench.root().to_string_lossy().into_owned();
    // A copy from stdin that lasts until the test closes stdin.
    let mut copy = Command::new(tool)
        .args(["--root", &root, "cp", "-", &format!("{id}:/tmp")])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = bench.container_dir(&id).join("files.lock");
    let held = format!("FLOCK  ADVISORY  WRITE {} ", copy.id());
    let holds = wait_until(Duration::from_secs(20), || {
        locks_on(&lock).iter().any(|l| l.contains(&held))
    });
    assert!(
        holds,
        "cp holds the container's files: {:?}",
        locks_on(&lock)
    );
    // A start meanwhile: its monitor waits for the lock, and the container does not run.
    let mut start = Command::new(tool)
        .args(["--root", &root, "start", &id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let waits = wait_until(Duration::from_secs(20), || {
        locks_on(&lock).iter().any(|l| l.contains("-> FLOCK"))
    });
    assert!(waits, "the monitor waits: {:?}", locks_on(&lock));
    assert_ne!(bench.state(&id)["status"], "running");
    let mut builder = tar::Builder::new(Vec::new());
    append_file(&mut builder, "arrived/file", b"in time\n");
    let mut stdin = copy.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &builder.into_inner().unwrap()).unwrap();
    drop(stdin);
    let copied = wait_until(Duration::from_secs(20), || {
        copy.try_wait().unwrap().is_some()
    });
    assert!(copied && copy.wait().unwrap().success(), "the copy ends");
    let started = wait_until(Duration::from_secs(20), || {
        start.try_wait().unwrap().is_some()
    });
    assert!(started && start.wait().unwrap().success(), "then the start");
    bench.wait_for(&id, "the container ends", |s| s["status"] == "exited");
    assert_eq!(bench.log(&id), "in time\n");
}

#[test]
fn cp_never_runs_or_loads_anything_of_the_container() {
    require_root!();
    if !Path::new("/usr/bin/strace").exists() {
        assert!(
            !dockyard_tests::in_ci(),
            "CVE-2019-14271's test needs strace"
        );
        eprintln!("SKIPPED: strace is not installed");
        return;
    }
    let bench = Bench::new();
    // A container that names its users and offers its own name service, as docker-tar's
    // victims did: libnss_files would have been loaded from the container.
    running(
        &bench,
        "trap",
        "echo 'evil:x:1234:1234::/:/bin/sh' >> /etc/passwd && echo 'passwd: files' > /etc/nsswitch.conf \
         && mkdir -p /lib/x86_64-linux-gnu && cp /bin/busybox /lib/x86_64-linux-gnu/libnss_files.so.2 \
         && echo owned > /owned && chown 1234:1234 /owned",
    );
    let trace = bench.dir.path().join("trace");
    let binary = assert_cmd::cargo::cargo_bin!("ch06-compose");
    let output = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve,open,openat,openat2", "-o"])
        .arg(&trace)
        .arg(binary)
        .args([
            "--root",
            &bench.root().to_string_lossy(),
            "cp",
            "-a",
            "trap:/owned",
            "-",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // Owners are numbers: no name was looked up.
    let mut archive = tar::Archive::new(&output.stdout[..]);
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().uid().unwrap(), 1234);
    assert_eq!(entry.header().username().unwrap(), Some(""));
    let trace = fs::read_to_string(&trace).unwrap();
    let executed: Vec<&str> = trace.lines().filter(|l| l.contains("execve(")).collect();
    assert_eq!(executed.len(), 1, "only cp itself runs: {executed:#?}");
    let nss: Vec<&str> = trace.lines().filter(|l| l.contains("nss")).collect();
    assert!(nss.is_empty(), "no name service is consulted: {nss:#?}");
}

/// CVE-2018-15664: while `cp` copies in and out, the container swaps a directory on the path
/// with a symbolic link to `/`, as fast as it can. Behind the link, a vulnerable copy would
/// reach the host's own files: a canary directory outside the store, mirrored inside the
/// container at the same path. Every copy must see the container's files, on either side of
/// the swap, and the canary must stay as it was.
#[test]
fn a_container_swapping_a_directory_for_a_link_to_the_root_never_leads_cp_out() {
    require_root!();
    let bench = Bench::new();
    let canary = bench.dir.path().join("canary");
    fs::create_dir(&canary).unwrap();
    fs::write(canary.join("secret"), "the host's secret\n").unwrap();
    let c = canary.display();
    running(
        &bench,
        "racer",
        &format!(
            "mkdir -p /race/dir{c} {c} && echo 'inside, under /race/dir' > /race/dir{c}/secret \
             && echo 'inside, under /' > {c}/secret && ln -s / /race/link"
        ),
    );
    // From now on /race/dir is the directory or the link, trading places forever.
    bench.ok(&[
        "exec",
        "-d",
        "racer",
        "sh",
        "-c",
        "cd /race && exec /probe swap dir link",
    ]);
    let incoming = bench.dir.path().join("incoming");
    fs::write(&incoming, "sent in\n").unwrap();
    let through = format!("racer:/race/dir{c}/secret");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        seen.insert(file_in(&cp(&bench, &[&through, "-"])));
        cp(
            &bench,
            &[&incoming.to_string_lossy(), &format!("racer:/race/dir{c}/")],
        );
        let whole = cp(&bench, &["racer:/race", "-"]);
        assert!(
            !String::from_utf8_lossy(&whole).contains("the host's secret"),
            "the host's file was read"
        );
    }
    let expected: std::collections::BTreeSet<String> =
        ["inside, under /race/dir\n", "inside, under /\n"]
            .map(String::from)
            .into();
    assert_eq!(
        seen, expected,
        "both sides of the swap were seen, and nothing else"
    );
    let names: Vec<PathBuf> = fs::read_dir(&canary)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        names,
        [canary.join("secret")],
        "nothing was written on the host"
    );
    assert_eq!(
        fs::read_to_string(canary.join("secret")).unwrap(),
        "the host's secret\n"
    );
    // Stopped, the swap leaves one directory under /race: the copies in are there and in /.
    inside(
        &bench,
        "racer",
        "for p in /proc/[0-9]*; do grep -q 'sw[a]p' $p/cmdline && kill ${p#/proc/}; done; true",
    );
    assert_eq!(
        inside(
            &bench,
            "racer",
            &format!("cat {c}/incoming $(find /race -type f -name incoming)")
        ),
        "sent in\nsent in\n",
        "the copies in landed inside, on both sides"
    );
}
