//! `probe`: reports what a process inside a container sees, in a stable, line-oriented format.
//!
//! Tests put this statically linked binary into their root filesystems and compare its report
//! instead of parsing a shell's output (the approach of crun's `tests/init.c`). Everything it
//! reports comes from `/proc` and `/sys`, so it needs no libc calls beyond what `std` makes.
//!
//! ```text
//! probe                 the full report
//! probe report SECTION  only some sections (hostname, ids, cwd, interfaces, cgroup, mounts, fds,
//!                       env, caps, processes)
//! probe exit N          exit with status N
//! probe sleep SECS      sleep, then exit 0 (a stand-in for a long-running service)
//! probe orphan          make an orphaned child and say whether PID 1 reaped it
//! probe hog MIB        allocate and touch MIB mebibytes, then report it survived
//! probe forkbomb        start sleepers until the kernel refuses, report how many, stop them
//! probe spin SECS       burn CPU for SECS seconds of wall-clock time
//! probe syscall NAME... make each (harmless) system call and print its result, e.g.
//!                       `init_module: EPERM`: a refused call, and who refused it, by errno
//! probe exe PID         try to reach /proc/PID/exe (readlink, open for reading), e.g.
//!                       `open /proc/1/exe: EACCES`
//! probe swap A B       exchange the names A and B (renameat2 RENAME_EXCHANGE) as fast as it
//!                       can, forever: a directory and a symbolic link that trade places under
//!                       an engine's feet (the attack of CVE-2018-15664)
//! probe serve PORT      a TCP server on 0.0.0.0:PORT: to each connection it writes
//!                       `hello from HOSTNAME` and closes it, forever (a stand-in for a service)
//! probe connect HOST PORT SECS
//!                       resolve HOST (its /etc/hosts, then the name server of its
//!                       /etc/resolv.conf), connect to PORT, print the first line received, or
//!                       after retrying for SECS seconds why it failed, e.g.
//!                       `connect 172.18.0.2:80: ECONNREFUSED`
//! probe resolve NAME    print `NAME: ADDRESS…`, or `NAME: not found`
//! probe send-exe PID SOCKET
//!                       open /proc/PID/exe with O_PATH and send the descriptor over the UNIX
//!                       datagram socket SOCKET (SCM_RIGHTS), as an attacker would keep it
//! ```

use std::fs;
use std::io::{self, Write};
use std::process::{Command, ExitCode};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod net;

/// The sections of a full report, in the order they are printed.
const SECTIONS: &[&str] = &[
    "hostname",
    "ids",
    "cwd",
    "interfaces",
    "cgroup",
    "mounts",
    "fds",
    "env",
];

/// How long `probe orphan` waits for PID 1 to reap the orphan before calling it a zombie.
const REAP_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => report(SECTIONS),
        ["report", sections @ ..] if !sections.is_empty() => report(sections),
        ["exit", code] => ExitCode::from(code.parse::<u8>().unwrap_or(255)),
        ["sleep", secs] => {
            sleep(Duration::from_secs_f64(secs.parse().unwrap_or(1.0)));
            ExitCode::SUCCESS
        }
        ["orphan"] => orphan(),
        ["hog", mib] => hog(mib.parse().unwrap_or(0)),
        ["forkbomb"] => forkbomb(),
        ["spin", secs] => spin(secs.parse().unwrap_or(1.0)),
        ["syscall", names @ ..] if !names.is_empty() => syscalls(names),
        ["spawn-and-exit"] => spawn_and_exit(),
        ["exe", pid] => exe(pid),
        ["send-exe", pid, socket] => send_exe(pid, socket),
        ["swap", a, b] => swap(a, b),
        ["serve", port] => net::serve(port),
        ["connect", host, port, secs] => net::connect(host, port, secs.parse().unwrap_or(5.0)),
        ["resolve", name] => net::resolve(name),
        _ => {
            eprintln!("probe: unknown arguments {args:?}; see the module documentation");
            ExitCode::from(2)
        }
    }
}

fn report(sections: &[&str]) -> ExitCode {
    let mut out = String::new();
    for section in sections {
        let text = match *section {
            "hostname" => hostname(),
            "ids" => ids(),
            "cwd" => cwd(),
            "interfaces" => interfaces(),
            "cgroup" => cgroup(),
            "mounts" => mounts(),
            "fds" => fds(),
            "caps" => caps(),
            "processes" => processes(),
            "env" => env(),
            other => format!("{other}: unknown section\n"),
        };
        out.push_str(&text);
    }
    print!("{out}");
    ExitCode::SUCCESS
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| format!("<{path}: {e}>"))
}

fn hostname() -> String {
    format!("hostname: {}\n", read("/proc/sys/kernel/hostname").trim())
}

/// Fields of `/proc/self/status` whose name is `key`, e.g. `Uid:` → `0 0 0 0`.
fn status_field(key: &str) -> String {
    read("/proc/self/status")
        .lines()
        .find_map(|line| line.strip_prefix(key).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

/// `Uid:` and `Gid:` list real, effective, saved and filesystem ids; the effective one decides access.
fn effective(ids: &str) -> String {
    ids.split_whitespace().nth(1).unwrap_or("?").to_string()
}

fn ids() -> String {
    // Field 4 of /proc/self/stat is the parent pid; the command name before it may hold spaces,
    // so count from the closing parenthesis.
    let stat = read("/proc/self/stat");
    let ppid = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .unwrap_or("?")
        .to_string();
    format!(
        "pid: {}\nppid: {ppid}\nuid: {}\ngid: {}\ngroups: {}\n",
        std::process::id(),
        effective(&status_field("Uid:")),
        effective(&status_field("Gid:")),
        status_field("Groups:"),
    )
}

fn cwd() -> String {
    match std::env::current_dir() {
        Ok(dir) => format!("cwd: {}\n", dir.display()),
        Err(e) => format!("cwd: <{e}>\n"),
    }
}

/// Interfaces and whether each is up (bit 0 of `flags`, IFF_UP in <linux/if.h>).
fn interfaces() -> String {
    let mut names: Vec<String> = fs::read_dir("/sys/class/net")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let described: Vec<String> = names
        .iter()
        .map(|name| {
            let flags = read(&format!("/sys/class/net/{name}/flags"));
            let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap_or(0);
            let state = if flags & 1 == 1 { "up" } else { "down" };
            format!("{name}({state})")
        })
        .collect();
    format!("interfaces: {}\n", described.join(" "))
}

fn cgroup() -> String {
    let mut lines: Vec<String> = read("/proc/self/cgroup")
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    lines.sort();
    format!("cgroup:\n{}", lines.concat())
}

/// Mount points with their filesystem type and per-mount flags, from `/proc/self/mountinfo`
/// (proc(5): field 5 is the mount point, 6 the mount options, and the type follows the `-`).
fn mounts() -> String {
    let mut out = String::from("mounts:\n");
    for line in read("/proc/self/mountinfo").lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(point), Some(opts), Some(fstype)) =
            (fields.get(4), fields.get(5), fields.get(dash + 1))
        else {
            continue;
        };
        out.push_str(&format!("  {point} {fstype} {opts}\n"));
    }
    out
}

/// Open file descriptors, leaving out the one `read_dir` itself holds on `/proc/self/fd`.
fn fds() -> String {
    let mut fds: Vec<u32> = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc/self/fd") {
        for entry in dir.filter_map(Result::ok) {
            let Ok(fd) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let target = fs::read_link(entry.path()).unwrap_or_default();
            if target.to_string_lossy().ends_with("/fd") {
                continue;
            }
            fds.push(fd);
        }
    }
    fds.sort_unstable();
    let list: Vec<String> = fds.iter().map(u32::to_string).collect();
    format!("fds: {}\n", list.join(" "))
}

/// The pids `/proc` lists: in a new PID namespace, only the container's own processes.
fn processes() -> String {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    format!("processes: {}\n", list.join(" "))
}

/// The environment in the order the process received it (Docker's order is part of the contract).
fn env() -> String {
    let vars: Vec<String> = std::env::vars_os()
        .map(|(k, v)| format!("  {}={}\n", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    format!("env:\n{}", vars.concat())
}

fn caps() -> String {
    let mut out = String::new();
    for key in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        out.push_str(&format!("{key} {}\n", status_field(key)));
    }
    out.push_str(&format!("NoNewPrivs: {}\n", status_field("NoNewPrivs:")));
    out.push_str(&format!("Seccomp: {}\n", status_field("Seccomp:")));
    out
}

/// Makes an orphan: a child that starts a grandchild and exits at once, so the grandchild is
/// re-parented to PID 1. A PID 1 that reaps (an init) makes it vanish; one that does not
/// (a plain program as PID 1) leaves a zombie.
fn orphan() -> ExitCode {
    let me = std::env::current_exe().unwrap_or_else(|_| "/probe".into());
    let output = match Command::new(&me).arg("spawn-and-exit").output() {
        Ok(output) => output,
        Err(e) => {
            eprintln!("probe: cannot start {}: {e}", me.display());
            return ExitCode::from(1);
        }
    };
    let grandchild = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let deadline = Instant::now() + REAP_TIMEOUT;
    let verdict = loop {
        match fs::read_to_string(format!("/proc/{grandchild}/stat")) {
            Err(_) => break "reaped",
            Ok(stat) if Instant::now() >= deadline => {
                let state = stat.rsplit_once(')').map(|(_, r)| r.trim_start());
                break if state.is_some_and(|s| s.starts_with('Z')) {
                    "zombie"
                } else {
                    "still running"
                };
            }
            Ok(_) => sleep(Duration::from_millis(10)),
        }
    };
    println!("orphan: {verdict}");
    ExitCode::SUCCESS
}

fn spawn_and_exit() -> ExitCode {
    let me = std::env::current_exe().unwrap_or_else(|_| "/probe".into());
    match Command::new(me).args(["exit", "0"]).spawn() {
        Ok(child) => {
            // Exiting without waiting is the point: the grandchild becomes an orphan.
            match writeln!(io::stdout().lock(), "{}", child.id()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(1),
            }
        }
        Err(e) => {
            eprintln!("probe: cannot spawn: {e}");
            ExitCode::from(1)
        }
    }
}

/// Harmless invocations of the calls a container must not make (x86_64 numbers, from
/// asm/unistd_64.h). Each would fail harmlessly even where allowed: null or invalid arguments, or
/// a command with no lasting effect, so the errno says who refused it: EPERM from a missing
/// capability or the seccomp filter, ENOSYS from the filter for `clone3`, EFAULT or EINVAL from
/// the call itself when nothing stood in the way.
const SYSCALLS: &[(&str, i64, [u64; 6])] = &[
    ("init_module", 175, [0, 0, 0, 0, 0, 0]),
    ("finit_module", 313, [u64::MAX, 0, 0, 0, 0, 0]),
    ("delete_module", 176, [0, 0, 0, 0, 0, 0]),
    ("kexec_load", 246, [0, 0, 0, 0, 0, 0]),
    // LINUX_REBOOT_MAGIC1, MAGIC2, LINUX_REBOOT_CMD_CAD_OFF: at most disables Ctrl-Alt-Del.
    ("reboot", 169, [0xfee1_dead, 672_274_793, 0, 0, 0, 0]),
    ("mount", 165, [0, 0, 0, 0, 0, 0]),
    ("umount2", 166, [0, 0, 0, 0, 0, 0]),
    // CLONE_NEWUSER
    ("unshare", 272, [0x1000_0000, 0, 0, 0, 0, 0]),
    ("clone3", 435, [0, 0, 0, 0, 0, 0]),
    ("keyctl", 250, [u64::MAX, 0, 0, 0, 0, 0]),
    ("add_key", 248, [0, 0, 0, 0, 0, 0]),
    ("bpf", 321, [u64::MAX, 0, 0, 0, 0, 0]),
    ("perf_event_open", 298, [0, 0, 0, 0, 0, 0]),
    ("userfaultfd", 323, [u64::MAX, 0, 0, 0, 0, 0]),
    ("mkdir", 83, [0, 0, 0, 0, 0, 0]),
    ("getpid", 39, [0, 0, 0, 0, 0, 0]),
];

/// The errno names the report uses (asm-generic/errno-base.h, errno.h).
const ERRNOS: &[(i64, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (9, "EBADF"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (17, "EEXIST"),
    (22, "EINVAL"),
    (30, "EROFS"),
    (38, "ENOSYS"),
    (95, "EOPNOTSUPP"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (101, "ENETUNREACH"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (113, "EHOSTUNREACH"),
];

/// An errno's name from the table above, or its number.
fn errno_name(errno: i64) -> String {
    ERRNOS
        .iter()
        .find(|(n, _)| *n == errno)
        .map_or_else(|| format!("errno {errno}"), |(_, name)| name.to_string())
}

/// What an I/O error says, by errno name.
fn io_verdict(error: &io::Error) -> String {
    error
        .raw_os_error()
        .map_or_else(|| error.to_string(), |errno| errno_name(errno.into()))
}

/// Reports whether the binary of process `pid` can be reached through `/proc/PID/exe`.
fn exe(pid: &str) -> ExitCode {
    let link = format!("/proc/{pid}/exe");
    let target = match fs::read_link(&link) {
        Ok(target) => target.display().to_string(),
        Err(e) => io_verdict(&e),
    };
    let opened = match fs::File::open(&link) {
        Ok(_) => "ok".to_string(),
        Err(e) => io_verdict(&e),
    };
    print!("readlink {link}: {target}\nopen {link}: {opened}\n");
    ExitCode::SUCCESS
}

/// open(2)'s O_PATH (asm-generic/fcntl.h): a descriptor that names a file without opening it
/// for reading or writing, the handle of CVE-2019-5736.
const O_PATH: i32 = 0o10_000_000;
/// SOL_SOCKET and SCM_RIGHTS (asm-generic/socket.h, linux/socket.h).
const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;

/// struct iovec (sys/uio.h).
#[repr(C)]
struct IoVec {
    base: *const u8,
    len: usize,
}

/// struct msghdr (sys/socket.h).
#[repr(C)]
struct MsgHdr {
    name: *const u8,
    name_len: u32,
    iov: *const IoVec,
    iov_len: usize,
    control: *const FdMessage,
    control_len: usize,
    flags: i32,
}

/// One control message carrying one descriptor: a struct cmsghdr and its data, padded to
/// CMSG_SPACE(sizeof(int)) = 24 bytes, with `len` = CMSG_LEN(sizeof(int)) = 20 (cmsg(3)).
#[repr(C)]
struct FdMessage {
    len: usize,
    level: i32,
    kind: i32,
    fd: i32,
    padding: i32,
}

unsafe extern "C" {
    fn sendmsg(socket: i32, message: *const MsgHdr, flags: i32) -> isize;
}

/// Opens `/proc/PID/exe` with O_PATH and sends the descriptor to the datagram socket `socket`.
fn send_exe(pid: &str, socket: &str) -> ExitCode {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::net::UnixDatagram;

    let link = format!("/proc/{pid}/exe");
    let exe = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_PATH)
        .open(&link)
    {
        Ok(exe) => exe,
        Err(e) => {
            println!("send-exe: open {link}: {}", io_verdict(&e));
            return ExitCode::from(1);
        }
    };
    let sent = UnixDatagram::unbound()
        .and_then(|sock| sock.connect(socket).map(|()| sock))
        .and_then(|sock| {
            let byte = [b'x'];
            let iov = IoVec {
                base: byte.as_ptr(),
                len: 1,
            };
            let control = FdMessage {
                len: 20,
                level: SOL_SOCKET,
                kind: SCM_RIGHTS,
                fd: exe.as_raw_fd(),
                padding: 0,
            };
            let message = MsgHdr {
                name: std::ptr::null(),
                name_len: 0,
                iov: &iov,
                iov_len: 1,
                control: &control,
                control_len: std::mem::size_of::<FdMessage>(),
                flags: 0,
            };
            // SAFETY: every pointer in `message` points to a live local of the right type and
            // length for the duration of the call; the kernel only reads them.
            let rc = unsafe { sendmsg(sock.as_raw_fd(), &message, 0) };
            if rc < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        });
    match sent {
        Ok(()) => {
            println!("send-exe: sent");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("send-exe: send to {socket}: {}", io_verdict(&e));
            ExitCode::from(1)
        }
    }
}

/// `renameat2(2)`'s number on x86_64, and its flag that exchanges two names atomically.
const SYS_RENAMEAT2: i64 = 316;
const RENAME_EXCHANGE: u64 = 2;
const AT_FDCWD: i64 = -100;

/// Exchanges `a` and `b` in a loop that never ends: at every instant each name is one of the
/// two files, never missing, so whoever walks through them meets either.
fn swap(a: &str, b: &str) -> ExitCode {
    let (Ok(a), Ok(b)) = (std::ffi::CString::new(a), std::ffi::CString::new(b)) else {
        eprintln!("probe: swap: a name holds a NUL byte");
        return ExitCode::from(2);
    };
    println!("swap: exchanging");
    let _ = io::stdout().flush();
    loop {
        let args = [
            AT_FDCWD as u64,
            a.as_ptr() as u64,
            AT_FDCWD as u64,
            b.as_ptr() as u64,
            RENAME_EXCHANGE,
            0,
        ];
        let result = raw_syscall(SYS_RENAMEAT2, args);
        if result < 0 {
            println!("swap: {}", errno_name(-result));
            return ExitCode::from(1);
        }
    }
}

fn syscalls(names: &[&str]) -> ExitCode {
    let mut out = String::new();
    for name in names {
        let Some((_, nr, args)) = SYSCALLS.iter().find(|(n, _, _)| n == name) else {
            out.push_str(&format!("{name}: unknown to the probe\n"));
            continue;
        };
        let result = raw_syscall(*nr, *args);
        let verdict = if result >= 0 {
            "ok".to_string()
        } else {
            errno_name(-result)
        };
        out.push_str(&format!("{name}: {verdict}\n"));
    }
    print!("{out}");
    ExitCode::SUCCESS
}

/// A raw system call: the kernel's return value, a negative errno on failure. Raw, because
/// libc wrappers may not exist for these calls, and `std` has no generic `syscall`.
#[cfg(target_arch = "x86_64")]
fn raw_syscall(nr: i64, args: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the callers pass null pointers, -1, constants, or pointers to NUL-terminated
    // strings that outlive the call, which the kernel only reads; rcx and r11 are clobbered
    // by the syscall instruction.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") args[0], in("rsi") args[1], in("rdx") args[2],
            in("r10") args[3], in("r8") args[4], in("r9") args[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(not(target_arch = "x86_64"))]
fn raw_syscall(_nr: i64, _args: [u64; 6]) -> i64 {
    -38 // the probe knows x86_64's numbers only: report ENOSYS
}

/// Allocates `mib` MiB and writes every page, so the memory is really used (untouched pages
/// of an allocation cost nothing).
fn hog(mib: usize) -> ExitCode {
    const PAGE: usize = 4096;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..mib {
        let mut chunk = vec![0u8; 1 << 20];
        for page in chunk.chunks_mut(PAGE) {
            page[0] = 1;
        }
        chunks.push(chunk);
    }
    println!("hog: touched {} MiB", chunks.len());
    ExitCode::SUCCESS
}

/// Starts `probe sleep` children until `fork` fails, says how many ran, then stops them all.
fn forkbomb() -> ExitCode {
    const MOST: usize = 10_000;
    let me = std::env::current_exe().unwrap_or_else(|_| "/probe".into());
    let mut children = Vec::new();
    let mut refusal = String::from("no refusal");
    while children.len() < MOST {
        match Command::new(&me).args(["sleep", "30"]).spawn() {
            Ok(child) => children.push(child),
            Err(e) => {
                refusal = e.to_string();
                break;
            }
        }
    }
    for child in &mut children {
        // Stopping what we started; a child that already died needs nothing.
        let _already_gone = child.kill();
        let _reaped = child.wait();
    }
    println!("forkbomb: {} children, then: {refusal}", children.len());
    ExitCode::SUCCESS
}

/// Keeps one CPU busy for `secs` seconds of wall-clock time.
fn spin(secs: f64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut counter: u64 = 0;
    while Instant::now() < deadline {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
    println!("spin: done");
    ExitCode::SUCCESS
}
