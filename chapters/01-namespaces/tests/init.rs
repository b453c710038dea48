//! The engine's binary is out of the container's reach: with `--init`, PID 1 is `dockyard-init`
//! executed from a sealed in-memory copy and non-dumpable; and no command may run the engine's
//! binary inside the container. These are the conditions of runc's CVE-2019-5736, where a
//! process in the container kept a descriptor to the runtime's binary through `/proc/PID/exe`
//! and reopened it for writing once the runtime had exited. No test here writes to any binary.

mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;

use assert_cmd::cargo::cargo_bin_cmd;
use common::{BIN, PATIENCE, run, stderr, stdout};
use dockyard_tests::{assert_nothing_left, busybox_rootfs, require_root};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

#[test]
fn pid_1s_binary_is_out_of_reach_for_root_and_other_users() {
    require_root!();
    let dir = busybox_rootfs();
    for user in ["0", "65534"] {
        let out = run(&dir, &["--init", "-u", user, "--", "/probe", "exe", "1"]).success();
        assert_eq!(
            stdout(&out),
            "readlink /proc/1/exe: EACCES\nopen /proc/1/exe: EACCES\n",
            "as user {user}"
        );
    }
    assert_nothing_left(&dir.rootfs());
}

/// Receives the one descriptor queued on `socket`, without waiting.
fn receive_descriptor(socket: &UnixDatagram) -> OwnedFd {
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let message = recvmsg::<nix::sys::socket::UnixAddr>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .expect("the probe sent nothing");
    let fd = message
        .cmsgs()
        .unwrap()
        .find_map(|cmsg| match cmsg {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
        .expect("no descriptor in the probe's message");
    // SAFETY: the kernel just installed this descriptor in our table for us alone.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[test]
fn a_descriptor_to_pid_1s_binary_cannot_be_reopened_for_writing_after_the_container() {
    require_root!();
    let dir = busybox_rootfs();
    // The socket lives in the rootfs: the test binds it on the host, the probe reaches it at /.
    let socket = UnixDatagram::bind(dir.rootfs().join("exe.sock")).unwrap();
    // CAP_SYS_PTRACE lets the probe open the non-dumpable init's /proc/1/exe at all.
    let args = ["--init", "--cap-add", "SYS_PTRACE", "--"];
    let out = run(
        &dir,
        &[&args[..], &["/probe", "send-exe", "1", "/exe.sock"]].concat(),
    );
    assert_eq!(stdout(&out.success()), "send-exe: sent\n");
    assert_nothing_left(&dir.rootfs());

    // The container has ended: the file it pointed at runs no more, as in the exploit.
    let exe = receive_descriptor(&socket);
    let link = format!("/proc/self/fd/{}", exe.as_raw_fd());
    let held = std::fs::metadata(&link).unwrap();
    let engine = std::fs::metadata(BIN).unwrap();
    assert_ne!(
        (held.dev(), held.ino()),
        (engine.dev(), engine.ino()),
        "the container held a descriptor to the engine's binary"
    );
    let target = std::fs::read_link(&link).unwrap();
    assert_eq!(target.to_string_lossy(), "/memfd:dockyard-init (deleted)");
    match std::fs::OpenOptions::new().write(true).open(&link) {
        Ok(opened) => {
            drop(opened); // closed without a single write
            panic!("PID 1's binary could be reopened for writing");
        }
        Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}"),
    }
}

#[test]
fn the_engines_binary_is_never_a_command() {
    require_root!();
    let dir = busybox_rootfs();
    let rootfs = dir.rootfs();
    std::os::unix::fs::symlink("/proc/self/exe", rootfs.join("engine")).unwrap();
    // The exploit of CVE-2019-5736 put this line in the container's /bin/sh.
    std::fs::write(rootfs.join("script"), "#!/proc/self/exe\n").unwrap();
    // Executable but unreadable for the command's user, which does not stop the kernel.
    let chmod = |mode| {
        let perms = std::os::unix::fs::PermissionsExt::from_mode(mode);
        std::fs::set_permissions(rootfs.join("script"), perms).unwrap();
    };
    chmod(0o711);
    for init in [&[][..], &["--init"]] {
        for command in ["/proc/self/exe", "/engine", "/script"] {
            let args = [init, &["-u", "65534", "--", command, "--help"]].concat();
            let out = run(&dir, &args).code(126);
            let said = stderr(&out);
            assert!(!stdout(&out).contains("Usage"), "the engine ran: {said}");
            assert!(
                said.contains("refusing to run the engine's own binary"),
                "{command}: {said}"
            );
        }
    }
    let out = run(&dir, &["--", "/proc/self/exe"]).code(126);
    insta::assert_snapshot!("engine_binary", stderr(&out));
    assert_nothing_left(&rootfs);
}

#[test]
fn init_narrates_through_the_engines_narrator() {
    require_root!();
    let dir = busybox_rootfs();
    let out = cargo_bin_cmd!("ch01-namespaces")
        .args(["--explain", "run", "--rootfs"])
        .arg(dir.rootfs())
        .args(["--init", "--", "/bin/sh", "-c", "exit 3"])
        .timeout(PATIENCE)
        .assert()
        .code(3);
    let lines: Vec<&str> = std::str::from_utf8(&out.get_output().stderr)
        .unwrap()
        .lines()
        .filter(|l| {
            l.starts_with("[init")
                || ["memfd_create", "F_ADD_SEALS", "immutable"]
                    .iter()
                    .any(|step| l.contains(step))
        })
        .collect();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"write \d+ bytes", "write [SIZE] bytes");
    settings.bind(|| insta::assert_snapshot!("init_narration", lines.join("\n")));
}

#[test]
fn an_init_that_cannot_start_is_an_engine_failure_and_leaves_nothing() {
    require_root!();
    let dir = busybox_rootfs();
    let profile = dir.path().join("no-execveat.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["execveat"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = run(
        &dir,
        &[
            "--init",
            "--security-opt",
            &opt,
            "--",
            "/probe",
            "exit",
            "0",
        ],
    )
    .code(125);
    assert_eq!(
        stderr(&out),
        "ch01-namespaces: execute the sealed init program (execveat): EPERM: Operation not permitted\n"
    );
    assert_nothing_left(&dir.rootfs());
}
