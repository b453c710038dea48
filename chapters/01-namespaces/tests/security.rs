//! Chapter 01 part two on the real kernel: what a container's root may not do, and the options
//! that change it. The probe's `syscall` command makes each dangerous call harmlessly and
//! reports the errno, so a refusal by the filter (EPERM, ENOSYS) is told apart from the kernel's
//! own answer (this kernel has no module support: init_module alone would say ENOSYS).

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;

use common::{BIN, run, stderr, stdout};
use dockyard_tests::{assert_nothing_left, busybox_rootfs, require_root};

fn line<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        .trim()
}

/// The dangerous calls the tests try.
const DANGEROUS: &[&str] = &[
    "/probe",
    "syscall",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "reboot",
    "mount",
    "umount2",
    "unshare",
    "clone3",
    "keyctl",
    "add_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "getpid",
];

#[test]
fn a_default_container_keeps_dockers_capabilities_and_filter() {
    require_root!();
    let dir = busybox_rootfs();
    let out = run(&dir, &["--", "/probe", "report", "caps", "fds"]).success();
    insta::assert_snapshot!("default_caps", stdout(&out));
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn the_dangerous_calls_are_refused_by_the_filter() {
    require_root!();
    let dir = busybox_rootfs();
    let mut args = vec!["--"];
    args.extend_from_slice(DANGEROUS);
    let out = run(&dir, &args).success();
    insta::assert_snapshot!("dangerous_calls_default", stdout(&out));
}

#[test]
fn mount_reboot_and_user_namespaces_fail_from_a_shell_too() {
    require_root!();
    let dir = busybox_rootfs();
    std::fs::create_dir_all(dir.rootfs().join("mnt")).unwrap();
    let script = "mount -t tmpfs x /mnt && echo mounted; \
                  reboot -f && echo rebooted; \
                  unshare -U true && echo unshared; \
                  echo h > /proc/sys/kernel/sysrq && echo wrote-proc-sys; \
                  echo done";
    let out = run(&dir, &["--", "/bin/sh", "-c", script]).success();
    assert_eq!(stdout(&out), "done\n", "stderr: {}", stderr(&out));
}

#[test]
fn sensitive_proc_files_read_empty() {
    require_root!();
    let dir = busybox_rootfs();
    // Only the masked files this kernel has: this one, for instance, has no /proc/kcore.
    for file in [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ] {
        if !std::path::Path::new(file).exists() {
            continue;
        }
        let out = run(&dir, &["--", "/bin/sh", "-c", &format!("wc -c < {file}")]).success();
        assert_eq!(stdout(&out).trim(), "0", "{file} is not masked");
    }
    let out = run(&dir, &["--", "/bin/ls", "/sys/firmware"]).success();
    assert_eq!(stdout(&out), "", "/sys/firmware is not masked");
}

#[test]
fn privileged_keeps_everything_the_engine_has() {
    require_root!();
    let dir = busybox_rootfs();
    std::fs::create_dir_all(dir.rootfs().join("mnt")).unwrap();
    let engine_bounding = std::fs::read_to_string("/proc/self/status").unwrap();
    let engine_bounding = line(&engine_bounding, "CapBnd:").to_string();
    let out = run(&dir, &["--privileged", "--", "/probe", "report", "caps"]).success();
    let report = stdout(&out);
    assert_eq!(line(&report, "CapBnd:"), engine_bounding);
    assert_eq!(line(&report, "CapEff:"), engine_bounding);
    assert_eq!(line(&report, "Seccomp:"), "0");
    let out = run(
        &dir,
        &[
            "--privileged",
            "--",
            "/bin/sh",
            "-c",
            "mount -t tmpfs x /mnt && echo mounted",
        ],
    );
    assert_eq!(stdout(&out.success()), "mounted\n");
}

#[test]
fn cap_drop_all_leaves_nothing_and_chown_fails() {
    require_root!();
    let dir = busybox_rootfs();
    let out = run(
        &dir,
        &["--cap-drop", "ALL", "--", "/probe", "report", "caps"],
    )
    .success();
    assert_eq!(line(&stdout(&out), "CapEff:"), "0000000000000000");
    run(
        &dir,
        &["--cap-drop", "ALL", "--", "/bin/chown", "1", "/tmp"],
    )
    .code(1);
    run(&dir, &["--", "/bin/chown", "1", "/tmp"]).success();
}

#[test]
fn cap_add_sys_admin_allows_mount() {
    require_root!();
    let dir = busybox_rootfs();
    std::fs::create_dir_all(dir.rootfs().join("mnt")).unwrap();
    let script = "mount -t tmpfs x /mnt && echo mounted";
    let out = run(
        &dir,
        &["--cap-add", "sys_admin", "--", "/bin/sh", "-c", script],
    )
    .success();
    assert_eq!(stdout(&out), "mounted\n");
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn a_custom_profile_that_denies_mkdir_makes_mkdir_fail_with_eperm() {
    require_root!();
    let dir = busybox_rootfs();
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = run(
        &dir,
        &["--security-opt", &opt, "--", "/bin/mkdir", "/tmp/x"],
    )
    .code(1);
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &dir,
        &["--security-opt", &opt, "--", "/probe", "syscall", "mkdir"],
    )
    .success();
    assert_eq!(stdout(&out), "mkdir: EPERM\n");
    run(&dir, &["--", "/bin/mkdir", "/tmp/x"]).success();
}

#[test]
fn unconfined_and_no_new_privileges_show_in_the_report() {
    require_root!();
    let dir = busybox_rootfs();
    let out = run(
        &dir,
        &[
            "--security-opt",
            "seccomp=unconfined",
            "--",
            "/probe",
            "report",
            "caps",
        ],
    );
    assert_eq!(line(&stdout(&out.success()), "Seccomp:"), "0");
    let out = run(
        &dir,
        &[
            "--security-opt",
            "no-new-privileges",
            "--",
            "/probe",
            "report",
            "caps",
        ],
    );
    let report = stdout(&out.success());
    assert_eq!(line(&report, "NoNewPrivs:"), "1");
    assert_eq!(line(&report, "Seccomp:"), "2");
}

#[test]
fn a_non_root_user_keeps_the_bounding_set_but_no_effective_capabilities() {
    require_root!();
    let dir = busybox_rootfs();
    let out = run(
        &dir,
        &["-u", "65534:65534", "--", "/probe", "report", "caps"],
    )
    .success();
    insta::assert_snapshot!("non_root_caps", stdout(&out));
}

#[test]
fn init_is_as_restricted_as_the_command() {
    require_root!();
    let dir = busybox_rootfs();
    let read_init = [
        "/bin/grep",
        "-E",
        "^(Uid|CapBnd|CapEff|Seccomp):",
        "/proc/1/status",
    ];
    let mut args = vec!["--init", "-u", "1000:1000", "--"];
    args.extend_from_slice(&read_init);
    let out = run(&dir, &args).success();
    assert_eq!(
        stdout(&out).replace('\t', " "),
        "Uid: 1000 1000 1000 1000\nCapEff: 0000000000000000\nCapBnd: 00000000a80425fb\nSeccomp: 2\n"
    );
}

#[test]
fn resource_limits_are_inherited() {
    require_root!();
    let dir = busybox_rootfs();
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit we own.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0);
    let out = run(&dir, &["--", "/bin/sh", "-c", "ulimit -n; ulimit -Hn"]).success();
    assert_eq!(
        stdout(&out),
        format!("{}\n{}\n", limit.rlim_cur, limit.rlim_max)
    );
}

#[test]
fn a_working_directory_through_an_inherited_descriptor_cannot_reach_the_host() {
    require_root!();
    let dir = busybox_rootfs();
    let host_dir = dir.path().join("host-secret");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("HOST_MARKER"), "").unwrap();
    let host = std::fs::File::open(&host_dir).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("run").arg("--rootfs").arg(dir.rootfs()).args([
        "-w",
        "/proc/self/fd/7",
        "--",
        "/bin/ls",
    ]);
    let raw = std::os::fd::AsRawFd::as_raw_fd(&host);
    // SAFETY: dup2 is async-signal-safe; it gives the engine the host directory as fd 7,
    // without close-on-exec, as a careless parent would.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains("HOST_MARKER"),
        "the container listed a host directory: {shown}"
    );
    assert_eq!(
        out.status.code(),
        Some(125),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_nothing_left(&dir.rootfs());
}

#[test]
fn bad_security_options_are_engine_errors() {
    require_root!();
    let dir = busybox_rootfs();
    let out = run(&dir, &["--cap-add", "FLY", "--", "/bin/true"]).code(125);
    insta::assert_snapshot!("unknown_capability", stderr(&out));
    let missing = dir.path().join("missing.json");
    let opt = format!("seccomp={}", missing.display());
    let out = run(&dir, &["--security-opt", &opt, "--", "/bin/true"]).code(125);
    assert!(
        stderr(&out).contains("read the seccomp profile"),
        "{}",
        stderr(&out)
    );
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"defaultAction": "SCMP_ACT_SOMETIMES"}"#).unwrap();
    let opt = format!("seccomp={}", broken.display());
    let out = run(&dir, &["--security-opt", &opt, "--", "/bin/true"]).code(125);
    assert!(
        stderr(&out).contains("unknown variant `SCMP_ACT_SOMETIMES`"),
        "{}",
        stderr(&out)
    );
    let out = run(&dir, &["--security-opt", "apparmor=x", "--", "/bin/true"]).code(125);
    assert!(
        stderr(&out).contains("unsupported --security-opt"),
        "{}",
        stderr(&out)
    );
}
