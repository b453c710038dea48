//! Runs a shell script as root inside a small QEMU virtual machine, for what this machine cannot
//! show: cgroup v2 with its controllers (this host runs them under v1).
//!
//! The VM boots a Debian kernel (`scripts/fetch-vm-kernel.sh` puts it in `target/vm/vmlinuz`)
//! with an initramfs built here: static busybox, the files the test passes in (binaries with the
//! shared libraries `ldd` lists), and an init that moves everything to a tmpfs root (the kernel
//! refuses `pivot_root` out of an initramfs, and containers need it), mounts cgroup2 at
//! `/sys/fs/cgroup`, runs the script and powers off. QEMU gets `-no-reboot` and the host a
//! timeout, so a hung guest cannot hang the tests.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::in_ci;

/// Printed by the guest after the script, so the host knows the script ran to its end.
const DONE: &str = "DOCKYARD-VM-DONE";

/// The kernel to boot: `$DOCKYARD_VM_KERNEL`, or `target/vm/vmlinuz` in the workspace.
pub fn kernel() -> Option<PathBuf> {
    let path = std::env::var_os("DOCKYARD_VM_KERNEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vm/vmlinuz"));
    path.exists().then_some(path)
}

/// True when a VM can be booted; otherwise fails under CI, or prints a notice and returns false.
pub fn available_or_skip(test: &str) -> bool {
    let qemu = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok();
    if kernel().is_some() && qemu {
        return true;
    }
    let why = "needs qemu-system-x86_64 and a kernel (scripts/fetch-vm-kernel.sh)";
    assert!(!in_ci(), "{test}: {why}, and CI=true forbids skipping");
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// A file to put into the guest: `source` on the host, `target` (absolute) in the guest.
#[derive(Debug, Clone)]
pub struct GuestFile {
    /// Host path.
    pub source: PathBuf,
    /// Guest path.
    pub target: String,
}

/// Boots the VM, runs `script` with `sh -e` in `/work`, and returns the console output
/// between the start marker and the end marker. Panics if the guest does not finish in time.
pub fn run_script(
    files: &[GuestFile],
    dirs: &[(PathBuf, String)],
    script: &str,
    timeout: Duration,
) -> String {
    let work = tempfile::Builder::new()
        .prefix("dockyard-vm-")
        .tempdir()
        .expect("temporary directory");
    let root = work.path().join("initramfs");
    build_tree(&root, files, dirs, script);
    let initrd = work.path().join("initrd.cpio");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd {} && find . | cpio -o -H newc --quiet > {}",
            root.display(),
            initrd.display()
        ))
        .status()
        .expect("run cpio (apt-get install cpio)");
    assert!(status.success(), "building the initramfs failed");

    let kernel = kernel().expect("a kernel (scripts/fetch-vm-kernel.sh)");
    let mut qemu = Command::new("qemu-system-x86_64");
    // Software emulation: this machine's nested KVM refuses QEMU's CPU setup (an MSR write).
    qemu.args([
        "-machine",
        "accel=tcg",
        "-cpu",
        "max",
        "-m",
        "1024",
        "-smp",
        "2",
    ])
    .args(["-nographic", "-no-reboot", "-kernel"])
    .arg(&kernel)
    .arg("-initrd")
    .arg(&initrd)
    .args(["-append", "console=ttyS0 panic=-1 quiet loglevel=3"])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = qemu.spawn().expect("start qemu-system-x86_64");
    let pid = child.id() as i32;
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = match result.recv_timeout(timeout) {
        Ok(output) => output.expect("wait for qemu"),
        Err(_) => {
            // SAFETY: kill has no memory-safety preconditions; the panic is the report.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the VM did not finish within {timeout:?}");
        }
    };
    let console = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    let Some((_, after_start)) = console.split_once("DOCKYARD-VM-START\n") else {
        panic!(
            "the VM never started the script; console:\n{console}\nqemu: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let Some((body, _)) = after_start.split_once(DONE) else {
        panic!("the script did not finish; console:\n{console}");
    };
    body.to_string()
}

/// The initramfs tree: busybox and its applets, the files with their libraries, the inits.
fn build_tree(root: &Path, files: &[GuestFile], dirs: &[(PathBuf, String)], script: &str) {
    for dir in ["bin", "proc", "sys", "dev", "tmp", "newroot", "work"] {
        fs::create_dir_all(root.join(dir)).expect("create initramfs directories");
    }
    fs::copy("/bin/busybox", root.join("bin/busybox")).expect("copy busybox (busybox-static)");
    for applet in [
        "sh",
        "mount",
        "mkdir",
        "cp",
        "switch_root",
        "poweroff",
        "cat",
        "echo",
        "ls",
        "umount",
        "sleep",
        "grep",
    ] {
        symlink("busybox", root.join("bin").join(applet)).expect("link an applet");
    }
    for file in files {
        install(root, &file.source, &file.target);
        for library in shared_libraries(&file.source) {
            let target = library.to_string_lossy().to_string();
            if !root.join(target.trim_start_matches('/')).exists() {
                install(root, &library, &target);
            }
        }
    }
    for (source, target) in dirs {
        let status = Command::new("cp")
            .arg("-a")
            .arg(source)
            .arg(root.join(target.trim_start_matches('/')))
            .status()
            .expect("run cp -a");
        assert!(
            status.success(),
            "copy {} into the initramfs",
            source.display()
        );
    }
    let init = "#!/bin/sh\n\
        mount -t proc proc /proc\n\
        mount -t tmpfs -o size=900m tmpfs /newroot\n\
        cp -a /bin /work /stage2 /newroot/\n\
        for d in lib lib64 usr; do [ -e /$d ] && cp -a /$d /newroot/; done\n\
        mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp\n\
        umount /proc\n\
        exec switch_root /newroot /stage2\n";
    let stage2 = format!(
        "#!/bin/sh\n\
        mount -t proc proc /proc\n\
        mount -t sysfs sys /sys\n\
        mount -t devtmpfs dev /dev\n\
        mount -t tmpfs tmpfs /tmp\n\
        mount -t cgroup2 cgroup2 /sys/fs/cgroup\n\
        cd /work\n\
        echo DOCKYARD-VM-START\n\
        sh -c '. /work/script.sh' 2>&1\n\
        echo {DONE}\n\
        poweroff -f\n"
    );
    write_executable(&root.join("init"), init);
    write_executable(&root.join("stage2"), &stage2);
    write_executable(&root.join("work/script.sh"), script);
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).expect("write a script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("make it executable");
}

fn install(root: &Path, source: &Path, target: &str) {
    let dest = root.join(target.trim_start_matches('/'));
    fs::create_dir_all(dest.parent().expect("an absolute target")).expect("create directories");
    fs::copy(source, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
}

/// The shared libraries a binary needs, as `ldd` resolves them on this host.
fn shared_libraries(binary: &Path) -> Vec<PathBuf> {
    let Ok(output) = Command::new("ldd").arg(binary).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}
