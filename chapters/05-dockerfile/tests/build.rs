//! `ch05-dockerfile build`: images built for real (RUN in containers, layers in a store),
//! their output as the classic `docker build` prints it, the cache, and what a failure
//! leaves (nothing).

mod common;

use std::time::Duration;

use common::{Bench, stable};
use dockyard_tests::{assert_no_mounts_under, require_root};

const APP: &str = r#"FROM busybox
ARG GREETING=hello
ENV WHO=world
RUN echo "$GREETING $WHO" > /greeting
WORKDIR /app
RUN rm /bin/ls && pwd
CMD ["cat", "/greeting"]
"#;

#[test]
fn a_build_prints_dockers_steps_and_its_image_runs() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", APP);
    let output = bench.build(&["-t", "app"]).output().expect("build");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!("first_build", stable(&output.stdout));
    assert_eq!(bench.run("app", &[]), "hello world\n");
    // The RUN that removed a file made a layer with a whiteout: the file is gone.
    let probe = bench.run("app", &["sh", "-c", "test -e /bin/ls || echo gone"]);
    assert_eq!(probe, "gone\n");
    assert!(bench.containers().is_empty(), "no container is left");
    assert_no_mounts_under(bench.dir.path());
}

#[test]
fn an_unchanged_rebuild_takes_every_step_from_the_cache_and_makes_the_same_image() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", APP);
    let first = bench.build_quiet(&["-t", "app"]);
    let output = bench.build(&["-t", "app"]).output().expect("rebuild");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("Using cache").count(), 6, "{text}");
    assert!(!text.contains("Running in"), "{text}");
    let again = bench.build_quiet(&["-t", "app"]);
    assert_eq!(first, again, "the same steps make the same image");
    // --no-cache runs everything again.
    let output = bench.build(&["--no-cache"]).output().expect("build");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("Running in").count(), 2, "{text}");
}

#[test]
fn explain_says_which_build_argument_changed() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", APP);
    bench.build_quiet(&[]);
    let output = bench
        .tool()
        .arg("--explain")
        .args(["build", "--build-arg", "GREETING=hi"])
        .arg(bench.context())
        .output()
        .expect("build");
    assert!(output.status.success());
    insta::assert_snapshot!("explain_build_arg", stable(&output.stdout));
}

#[test]
fn a_failing_run_says_so_as_docker_does_and_leaves_nothing() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", "FROM busybox\nRUN touch /made && exit 3\n");
    let output = bench.build(&[]).output().expect("build");
    assert_eq!(
        output.status.code(),
        Some(3),
        "docker build ends with the command's status"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("The command '/bin/sh -c touch /made && exit 3' returned a non-zero code: 3"),
        "{stderr}"
    );
    assert!(
        bench.containers().is_empty(),
        "the failed step's container is gone"
    );
    assert_no_mounts_under(bench.dir.path());
    // The store is usable: the same Dockerfile fixed builds.
    bench.write("Dockerfile", "FROM busybox\nRUN touch /made\n");
    bench.build_quiet(&["-t", "fixed"]);
    assert_eq!(bench.run("fixed", &["sh", "-c", "ls /made"]), "/made\n");
}

#[test]
fn only_the_stages_the_target_needs_are_built() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox AS base\nRUN echo base > /base\n\
         FROM busybox AS broken\nRUN exit 1\n\
         FROM base AS app\nRUN cat /base\nCMD [\"cat\", \"/base\"]\n",
    );
    let output = bench.build(&["-t", "app"]).output().expect("build");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Step 1/5 : FROM busybox AS base"), "{text}");
    assert!(
        !text.contains("exit 1"),
        "the broken stage is not needed: {text}"
    );
    assert_eq!(bench.run("app", &[]), "base\n");
    // --target stops at a stage; an unknown one is an error naming the stages.
    bench.build_quiet(&["--target", "base", "-t", "base-only"]);
    let output = bench.build(&["--target", "nope"]).output().expect("build");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"target stage "nope" could not be found"#),
        "{stderr}"
    );
    assert!(stderr.contains("base, broken, app"), "{stderr}");
}

#[test]
fn onbuild_triggers_run_when_a_later_build_starts_from_the_image() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox\nONBUILD RUN echo triggered > /trigger\n",
    );
    bench.build_quiet(&["-t", "parent"]);
    bench.write("Dockerfile", "FROM parent\nCMD [\"cat\", \"/trigger\"]\n");
    let output = bench.build(&["-t", "child"]).output().expect("build");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("# Executing 1 build trigger"), "{text}");
    assert_eq!(bench.run("child", &[]), "triggered\n");
    // The triggers are spent: the child image has none.
    let inspect = bench
        .tool()
        .args(["inspect", "child"])
        .output()
        .expect("inspect");
    let inspect = String::from_utf8_lossy(&inspect.stdout);
    assert!(!inspect.contains("OnBuild"), "{inspect}");
}

#[test]
fn quiet_prints_the_id_alone_and_iidfile_holds_it() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", "FROM busybox\nRUN echo noisy\n");
    let iidfile = bench.dir.path().join("iid");
    let output = bench
        .build(&["-q", "--iidfile", iidfile.to_str().expect("utf-8")])
        .output()
        .expect("build");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("sha256:") && stdout.lines().count() == 1,
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&iidfile).expect("iidfile"),
        stdout.trim()
    );
}

#[test]
fn config_instructions_make_dockers_config() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox\nLABEL a=1 \"b c\"=\"d e\"\nEXPOSE 80 53/udp\nVOLUME /data\n\
         USER nobody\nSTOPSIGNAL SIGQUIT\nWORKDIR /srv\nWORKDIR web\n\
         HEALTHCHECK --interval=5s --retries=2 CMD [\"true\"]\n\
         CMD [\"sh\"]\nENTRYPOINT [\"/bin/echo\"]\n",
    );
    bench.build_quiet(&["-t", "configured", "--label", "extra=yes"]);
    let output = bench
        .tool()
        .args(["inspect", "configured"])
        .output()
        .expect("inspect");
    let text = String::from_utf8_lossy(&output.stdout);
    let inspected: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let config = serde_json::to_string_pretty(&inspected[0]["Config"]).expect("JSON");
    insta::assert_snapshot!("config_instructions", config);
}

#[test]
fn ten_thousand_instructions_build_without_blowing_up() {
    require_root!();
    let bench = Bench::new();
    let mut dockerfile = String::from("FROM busybox\n");
    for i in 0..10_000 {
        match i % 3 {
            0 => dockerfile.push_str(&format!("ENV COUNTER={i}\n")),
            1 => dockerfile.push_str(&format!("LABEL step{i}=\"$COUNTER\"\n")),
            _ => dockerfile.push_str(&format!("WORKDIR /w{}\n", i % 7)),
        }
    }
    bench.write("Dockerfile", &dockerfile);
    let id = bench.build_quiet(&["-t", "big"]);
    assert!(id.starts_with("sha256:"));
    let again = bench.build_quiet(&["-t", "big"]);
    assert_eq!(id, again);
}

/// Starts `build` in the background, and waits until its RUN container's cgroup exists;
/// returns the process and the container's id.
fn start_a_long_run(bench: &Bench) -> (std::process::Child, String) {
    bench.write("Dockerfile", "FROM busybox\nRUN sleep 60\n");
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("ch05-dockerfile"));
    let child = command
        .arg("--root")
        .arg(bench.root())
        .arg("build")
        .arg(bench.context())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start build");
    let mut id = String::new();
    let running = dockyard_tests::wait_until(Duration::from_secs(30), || {
        let Some(container) = bench.containers().into_iter().next() else {
            return false;
        };
        id = container
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        !cgroup_dirs(&id).is_empty()
    });
    assert!(running, "the RUN container did not start");
    (child, id)
}

/// The cgroup directories of container `id`, on any hierarchy.
fn cgroup_dirs(id: &str) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new("/sys/fs/cgroup");
    let mut dirs = vec![root.join("dockyard").join(id)];
    for hierarchy in std::fs::read_dir(root)
        .expect("list cgroup hierarchies")
        .flatten()
    {
        dirs.push(hierarchy.path().join("dockyard").join(id));
    }
    dirs.into_iter().filter(|dir| dir.is_dir()).collect()
}

#[test]
fn a_build_killed_in_a_run_leaves_nothing_once_the_next_build_starts() {
    require_root!();
    let bench = Bench::new();
    let (mut child, id) = start_a_long_run(&bench);
    child.kill().expect("SIGKILL the builder");
    child.wait().expect("reap the builder");
    // Its mounts went with its mount namespace, its container with it (it dies with its
    // engine); what a SIGKILL leaves, a record and an empty cgroup, the next build sweeps.
    let dir = bench.dir.path().canonicalize().expect("canonical");
    let gone = dockyard_tests::wait_until(Duration::from_secs(30), || {
        dockyard_tests::processes_holding_mounts_under(&dir).is_empty()
    });
    assert!(gone, "the container's processes died with the builder");
    assert_no_mounts_under(bench.dir.path());
    let emptied = dockyard_tests::wait_until(Duration::from_secs(30), || {
        cgroup_dirs(&id).iter().all(|dir| {
            std::fs::read_to_string(dir.join("cgroup.procs"))
                .is_ok_and(|procs| procs.trim().is_empty())
        })
    });
    assert!(emptied, "the container's processes left its cgroup");
    bench.write("Dockerfile", "FROM busybox\nRUN true\n");
    bench.build_quiet(&[]);
    assert!(
        bench.containers().is_empty(),
        "swept: {:?}",
        bench.containers()
    );
    assert!(
        cgroup_dirs(&id).is_empty(),
        "cgroup left: {:?}",
        cgroup_dirs(&id)
    );
}

#[test]
fn ctrl_c_stops_a_build_in_a_run_and_leaves_nothing() {
    require_root!();
    let bench = Bench::new();
    let (child, id) = start_a_long_run(&bench);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT the builder");
    let output = child.wait_with_output().expect("wait for the builder");
    assert_eq!(
        output.status.code(),
        Some(130),
        "128 + SIGINT, the command's end"
    );
    assert!(bench.containers().is_empty(), "{:?}", bench.containers());
    assert!(
        cgroup_dirs(&id).is_empty(),
        "cgroup left: {:?}",
        cgroup_dirs(&id)
    );
    assert_no_mounts_under(bench.dir.path());
}

#[test]
fn changing_one_context_file_rebuilds_from_the_copy_that_takes_it() {
    require_root!();
    let bench = Bench::new();
    bench
        .write(
            "Dockerfile",
            "FROM busybox\nRUN echo first\nCOPY stable.txt /\nCOPY app.txt /\nRUN cat /app.txt\n",
        )
        .write("stable.txt", "stable\n")
        .write("app.txt", "one\n");
    bench.build_quiet(&[]);
    bench.write("app.txt", "two\n");
    let output = bench
        .tool()
        .arg("--explain")
        .arg("build")
        .arg(bench.context())
        .output()
        .expect("build");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!("explain_context_file", stable(&output.stdout));
    // Only the time of a file changing is not a change.
    let file = bench.context().join("stable.txt");
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(later))
        .expect("touch");
    let output = bench.build(&[]).output().expect("build");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("Using cache").count(), 4, "{text}");
}

#[test]
fn copy_refuses_paths_out_of_the_context_and_keeps_outside_links_as_links() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", "FROM busybox\nCOPY ../secret /\n");
    let output = bench.build(&[]).output().expect("build");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("COPY failed: forbidden path outside the build context: ../secret ()"),
        "{stderr}"
    );
    assert!(bench.containers().is_empty());
    std::os::unix::fs::symlink("/etc/shadow", bench.context().join("shadow"))
        .expect("a link out of the context");
    bench.write("Dockerfile", "FROM busybox\nCOPY . /ctx/\n");
    bench.build_quiet(&["-t", "links"]);
    let seen = bench.run("links", &["readlink", "/ctx/shadow"]);
    assert_eq!(
        seen, "/etc/shadow\n",
        "copied as the link it is, not followed"
    );
}

#[test]
fn a_context_can_come_as_a_tar_on_stdin_and_a_dockerfile_too() {
    require_root!();
    let bench = Bench::new();
    bench
        .write(
            "Dockerfile",
            "FROM busybox\nCOPY hello.txt /\nCMD [\"cat\", \"/hello.txt\"]\n",
        )
        .write("hello.txt", "from a tar\n");
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(bench.context())
        .args(["-czf", "-", "."])
        .output()
        .expect("tar the context");
    bench
        .tool()
        .args(["build", "-t", "from-tar", "-"])
        .write_stdin(tar.stdout)
        .assert()
        .success();
    assert_eq!(bench.run("from-tar", &[]), "from a tar\n");
    assert!(
        std::fs::read_dir(bench.root().join("tmp"))
            .expect("tmp")
            .next()
            .is_none(),
        "the unpacked context is gone"
    );
    // -f - reads the Dockerfile from stdin, the context from the directory.
    bench
        .tool()
        .args(["build", "-t", "dockerfile-on-stdin", "-f", "-"])
        .arg(bench.context())
        .write_stdin("FROM busybox\nCOPY hello.txt /copied\n")
        .assert()
        .success();
    assert_eq!(
        bench.run("dockerfile-on-stdin", &["cat", "/copied"]),
        "from a tar\n"
    );
}

#[test]
fn copy_from_a_stage_takes_its_files() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox AS build\nRUN mkdir /out && echo built > /out/artifact\n\
         FROM scratch\nCOPY --from=build /out/artifact /artifact\nCOPY --from=0 /bin/busybox /bin/cat\n\
         CMD [\"/bin/cat\", \"/artifact\"]\n",
    );
    bench.build_quiet(&["-t", "staged"]);
    assert_eq!(bench.run("staged", &[]), "built\n");
    bench.assert_nothing_left();
}

#[test]
fn run_mounts_bind_cache_tmpfs_and_secret_leave_nothing_in_the_image() {
    require_root!();
    let bench = Bench::new();
    bench
        .write(
            "Dockerfile",
            "FROM busybox\n\
             RUN --mount=type=bind,source=src,target=/src cat /src/input > /from-bind\n\
             RUN --mount=type=cache,target=/cache sh -c 'echo run >> /cache/log; wc -l < /cache/log > /cache-count'\n\
             RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && mount | grep -c ' /scratch ' > /tmpfs-seen\n\
             RUN --mount=type=secret,id=token cat /run/secrets/token > /dev/null && echo secret-seen > /secret-seen\n\
             RUN --mount=type=bind,source=src,target=/src,rw sh -c 'echo scribbled > /src/input; cat /src/input > /rw-seen'\n",
        )
        .write("src/input", "bound\n")
        .write("token", "s3cr3t\n");
    let secret = format!("id=token,src={}", bench.context().join("token").display());
    bench.build_quiet(&["-t", "mounts", "--secret", &secret]);
    let seen = bench.run(
        "mounts",
        &["sh", "-c", "cat /from-bind /cache-count /tmpfs-seen /secret-seen /rw-seen; ls -d /src /cache /scratch /run/secrets 2>&1 | grep -c 'No such'"],
    );
    assert_eq!(
        seen, "bound\n1\n1\nsecret-seen\nscribbled\n4\n",
        "the mount points are not in the image"
    );
    let input = std::fs::read_to_string(bench.context().join("src/input")).expect("the context");
    assert_eq!(input, "bound\n", "a writable bind's writes are lost");
    // The cache outlives the build: a build without the cache's steps sees the first log.
    bench.build_quiet(&["--no-cache", "-t", "again", "--secret", &secret]);
    assert_eq!(bench.run("again", &["cat", "/cache-count"]), "2\n");
    let history = bench
        .tool()
        .args(["history", "--no-trunc", "mounts"])
        .output()
        .expect("history");
    assert!(!String::from_utf8_lossy(&history.stdout).contains("s3cr3t"));
    // A required secret not given is an error naming it.
    bench.write(
        "Dockerfile",
        "FROM busybox\nRUN --mount=type=secret,id=missing,required cat /run/secrets/missing\n",
    );
    let output = bench.build(&[]).output().expect("build");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("secret missing not found"));
}

#[test]
fn heredocs_run_as_scripts_and_copy_as_files() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox\nARG NAME=heredoc\n\
         RUN <<EOF\necho \"run by a $NAME\" > /ran\necho second line >> /ran\nEOF\n\
         COPY <<-EOT /etc/greeting\n\thello from a $NAME\n\tEOT\n\
         COPY <<'RAW' /raw\nkept as $NAME\nRAW\n",
    );
    bench.build_quiet(&["-t", "heredocs"]);
    let seen = bench.run("heredocs", &["cat", "/ran", "/etc/greeting", "/raw"]);
    assert_eq!(
        seen,
        "run by a heredoc\nsecond line\nhello from a heredoc\nkept as $NAME\n"
    );
}

#[test]
fn network_none_leaves_a_run_only_loopback_and_host_is_the_default() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox\nRUN grep -c : /proc/net/dev > /interfaces\n",
    );
    bench.build_quiet(&["--network", "none", "-t", "none"]);
    assert_eq!(
        bench.run("none", &["cat", "/interfaces"]),
        "1\n",
        "lo alone"
    );
    let host_interfaces = std::fs::read_to_string("/proc/net/dev")
        .expect("the host's interfaces")
        .matches(':')
        .count();
    bench.build_quiet(&["--no-cache", "-t", "host"]);
    assert_eq!(
        bench.run("host", &["cat", "/interfaces"]),
        format!("{host_interfaces}\n")
    );
}

#[test]
fn what_this_builder_cannot_do_is_refused_clearly() {
    require_root!();
    let bench = Bench::new();
    let cases = [
        (
            "FROM --platform=linux/s390x busybox\n",
            "the base image is for platform linux/s390x",
        ),
        (
            "FROM busybox\nCOPY --exclude=*.tmp . /\n",
            "COPY --exclude is not supported by this builder",
        ),
        (
            "FROM busybox\nRUN --mount=type=ssh true\n",
            "RUN --mount=type=ssh is not supported",
        ),
    ];
    for (dockerfile, message) in cases {
        bench.write("Dockerfile", dockerfile);
        let output = bench.build(&[]).output().expect("build");
        assert_eq!(output.status.code(), Some(1), "{dockerfile}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{dockerfile}: {stderr}");
    }
    // $BUILDPLATFORM is this machine: fine.
    bench.write(
        "Dockerfile",
        "FROM --platform=$BUILDPLATFORM busybox\nRUN true\n",
    );
    bench.build_quiet(&[]);
}

/// Two stages that each wait (at most 30 s) for the other to have started: they can only
/// both succeed if they run at the same time. The cache mount `sync` is where they meet.
const MEETING_STAGES: &str = "FROM busybox AS one\n\
    RUN --mount=type=cache,id=sync,target=/sync touch /sync/one && \
        for i in $(seq 300); do [ -e /sync/two ] && break; sleep 0.1; done && [ -e /sync/two ] && echo one met two\n\
    FROM busybox AS two\n\
    RUN --mount=type=cache,id=sync,target=/sync touch /sync/two && \
        for i in $(seq 300); do [ -e /sync/one ] && break; sleep 0.1; done && [ -e /sync/one ] && echo two met one\n\
    FROM busybox\n\
    RUN echo after both\n";

#[test]
fn stages_that_do_not_need_each_other_build_at_the_same_time() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", MEETING_STAGES);
    let dockerfile = MEETING_STAGES.replace(
        "FROM busybox\n",
        "FROM busybox\nCOPY --from=one /etc/passwd /one\nCOPY --from=two /etc/passwd /two\n",
    );
    bench.write("Dockerfile", &dockerfile);
    let output = bench.build(&["--no-cache"]).output().expect("build");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The output reads as if the stages had been built one after the other.
    insta::assert_snapshot!("concurrent_stages", stable(&output.stdout));
    bench.assert_nothing_left();
}

#[test]
fn a_stage_failing_in_a_worker_fails_the_build_with_its_status() {
    require_root!();
    let bench = Bench::new();
    bench.write(
        "Dockerfile",
        "FROM busybox AS slow\nRUN sleep 0.5\nFROM busybox AS broken\nRUN echo breaking && exit 4\n\
         FROM busybox\nCOPY --from=slow /etc/passwd /a\nCOPY --from=broken /etc/passwd /b\n",
    );
    let output = bench.build(&[]).output().expect("build");
    assert_eq!(output.status.code(), Some(4));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("breaking"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("returned a non-zero code: 4"), "{stderr}");
    bench.assert_nothing_left();
}

#[test]
fn parse_check_knows_the_variables_a_base_image_of_the_store_sets() {
    require_root!();
    let bench = Bench::new();
    bench.write("Dockerfile", "FROM busybox\nENV FROM_BASE=set\n");
    bench.build_quiet(&["-t", "base-with-env"]);
    let checked = bench.dir.path().join("checked.Dockerfile");
    std::fs::write(
        &checked,
        "FROM base-with-env\nLABEL a=$FROM_BASE b=$NOWHERE\n",
    )
    .expect("write");
    let output = bench
        .tool()
        .args(["parse", "--check", "-f"])
        .arg(&checked)
        .output()
        .expect("parse --check");
    let findings = String::from_utf8_lossy(&output.stdout);
    assert!(
        findings.contains("UndefinedVar: Usage of undefined variable '$NOWHERE'"),
        "{findings}"
    );
    assert!(
        !findings.contains("FROM_BASE"),
        "the store's image sets it: {findings}"
    );
}

#[test]
fn the_vfs_driver_builds_the_same_files() {
    require_root!();
    let bench = Bench::new();
    bench
        .write("Dockerfile", "FROM busybox\nCOPY app.txt /app/\nRUN rm /bin/ls && cat /app/app.txt > /copied\nWORKDIR /w\n")
        .write("app.txt", "from the context\n");
    let output = bench
        .tool()
        .args(["--storage-driver", "vfs", "build", "-t", "on-vfs"])
        .arg(bench.context())
        .output()
        .expect("build");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = bench.run(
        "on-vfs",
        &["sh", "-c", "cat /copied; test -e /bin/ls || echo gone; pwd"],
    );
    assert_eq!(seen, "from the context\ngone\n/w\n");
    assert!(bench.containers().is_empty(), "{:?}", bench.containers());
}

#[test]
fn a_locked_cache_mount_is_used_by_one_run_at_a_time() {
    require_root!();
    let bench = Bench::new();
    let stage = |name: &str| {
        format!(
            "FROM busybox AS {name}\nRUN --mount=type=cache,id=shared,target=/c,sharing=locked \
             sh -c 'echo {name}-start >> /c/log; sleep 0.5; echo {name}-end >> /c/log'\n"
        )
    };
    let dockerfile = format!(
        "{}{}FROM busybox\nCOPY --from=one /etc/passwd /1\nCOPY --from=two /etc/passwd /2\n\
         RUN --mount=type=cache,id=shared,target=/c cp /c/log /log\n",
        stage("one"),
        stage("two")
    );
    bench.write("Dockerfile", &dockerfile);
    bench.build_quiet(&["-t", "locked"]);
    let log = bench.run("locked", &["cat", "/log"]);
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines == ["one-start", "one-end", "two-start", "two-end"]
            || lines == ["two-start", "two-end", "one-start", "one-end"],
        "the two RUNs overlapped: {lines:?}"
    );
}
