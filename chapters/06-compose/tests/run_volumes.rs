//! Volumes in use: `run -v`, `--mount`, `--tmpfs` and an image's `VOLUME`s, for real
//! containers; what `rm -v` and `--rm` take away, and what they keep.

mod common;

use std::fs;

use common::Bench;
use dockyard_tests::require_root;

/// Runs `args` in the foreground; its exit status, stdout and stderr.
fn run(bench: &Bench, args: &[&str]) -> (Option<i32>, String, String) {
    let output = bench.tool().arg("run").args(args).output().expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_named_volume_outlives_its_containers() {
    require_root!();
    let bench = Bench::new();
    let (code, _, err) = run(
        &bench,
        &[
            "--name",
            "writer",
            "-v",
            "data:/data",
            "busybox",
            "sh",
            "-c",
            "echo kept > /data/file",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (_, out, _) = run(
        &bench,
        &[
            "--rm",
            "-v",
            "data:/data:ro",
            "busybox",
            "cat",
            "/data/file",
        ],
    );
    assert_eq!(out, "kept\n");
    // Read-only means read-only.
    let (code, _, err) = run(
        &bench,
        &[
            "--rm",
            "-v",
            "data:/data:ro",
            "busybox",
            "touch",
            "/data/new",
        ],
    );
    assert_ne!(code, Some(0));
    assert!(err.contains("Read-only file system"), "{err}");
    // In use by the stopped container: refused, naming it.
    let refused = bench
        .tool()
        .args(["volume", "rm", "data"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("volume is in use"));
    bench.ok(&["rm", "-v", "writer"]);
    assert_eq!(
        bench.ok(&["volume", "ls", "-q"]),
        "data\n",
        "rm -v keeps named volumes"
    );
    bench.ok(&["volume", "rm", "data"]);
    dockyard_tests::assert_no_mounts_under(bench.dir.path());
}

#[test]
fn an_images_volume_is_anonymous_filled_once_and_goes_with_rm_v() {
    require_root!();
    let bench = Bench::new();
    bench.build(
        "seeded",
        "FROM busybox\nRUN mkdir /data && echo from-image > /data/seed\nVOLUME /data\n",
    );

    let (_, out, err) = run(&bench, &["--name", "first", "seeded", "cat", "/data/seed"]);
    assert_eq!(out, "from-image\n", "{err}");
    let volumes = bench.ok(&["volume", "ls", "-q"]);
    assert_eq!(volumes.lines().count(), 1, "{volumes}");
    assert_eq!(volumes.trim().len(), 64, "an anonymous volume: {volumes}");
    bench.ok(&["rm", "-v", "first"]);
    assert_eq!(bench.ok(&["volume", "ls", "-q"]), "", "rm -v removed it");

    // --rm takes the anonymous volume too; a plain rm keeps it for `volume prune`.
    run(&bench, &["--rm", "seeded", "true"]);
    assert_eq!(bench.ok(&["volume", "ls", "-q"]), "");
    run(&bench, &["--name", "second", "seeded", "true"]);
    bench.ok(&["rm", "second"]);
    assert_eq!(bench.ok(&["volume", "ls", "-q"]).lines().count(), 1);
    bench.ok(&["volume", "prune", "-f"]);
    assert_eq!(bench.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn binds_and_tmpfs_mounts_take_their_options() {
    require_root!();
    let bench = Bench::new();
    let host = bench.dir.path().join("shared");
    fs::create_dir_all(&host).unwrap();
    fs::write(host.join("hello"), "from the host\n").unwrap();
    let bind = format!("{}:/srv", host.display());
    let (_, out, err) = run(
        &bench,
        &[
            "--rm",
            "-v",
            &bind,
            "busybox",
            "sh",
            "-c",
            "cat /srv/hello; echo back > /srv/reply",
        ],
    );
    assert_eq!(out, "from the host\n", "{err}");
    assert_eq!(fs::read_to_string(host.join("reply")).unwrap(), "back\n");

    // tmpfs mounts are noexec unless asked otherwise, as docker's.
    let (code, _, _) = run(
        &bench,
        &[
            "--rm",
            "--tmpfs",
            "/scratch",
            "busybox",
            "sh",
            "-c",
            "cp /bin/busybox /scratch/ && /scratch/busybox true",
        ],
    );
    assert_eq!(code, Some(126));
    let (code, _, err) = run(
        &bench,
        &[
            "--rm",
            "--tmpfs",
            "/scratch:exec",
            "busybox",
            "sh",
            "-c",
            "cp /bin/busybox /scratch/ && /scratch/busybox true",
        ],
    );
    assert_eq!(code, Some(0), "{err}");

    // A bind whose source is missing is refused by --mount before anything is created.
    let missing = format!(
        "type=bind,source={}/missing,target=/x",
        bench.dir.path().display()
    );
    let (code, _, err) = run(&bench, &["--rm", "--mount", &missing, "busybox", "true"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("missing"), "{err}");
    assert!(bench.containers().is_empty(), "{:?}", bench.containers());
    dockyard_tests::assert_no_mounts_under(bench.dir.path());
}
