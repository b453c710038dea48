//! The last steps before the command runs: who it runs as, where, with which environment, and
//! the `execve` that replaces the engine's code with the command's.
//!
//! Everything here reads the *container's* files (`/etc/passwd`, the directories on its PATH),
//! because it runs after `pivot_root`: the host's files are out of reach by then.

use std::ffi::CString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use dockyard_support::FromIo;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid, execve, setgid, setgroups, setuid};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::spec::ContainerSpec;

/// The PATH Docker gives a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An entry of the container's `/etc/passwd` (passwd(5)), the fields the engine needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PasswdEntry {
    name: String,
    gid: u32,
    home: String,
}

/// Looks `uid` up in the container's `/etc/passwd`; a missing file or entry is not an error.
fn passwd_entry(uid: u32) -> Option<PasswdEntry> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            [name, _, id, gid, _, home, ..] if id.parse() == Ok(uid) => Some(PasswdEntry {
                name: name.to_string(),
                gid: gid.parse().ok()?,
                home: home.to_string(),
            }),
            _ => None,
        }
    })
}

/// The groups of the container's `/etc/group` (group(5)) that list `user` as a member.
fn member_groups(user: &str) -> Vec<u32> {
    let Ok(groups) = std::fs::read_to_string("/etc/group") else {
        return Vec::new();
    };
    groups
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                [_, _, gid, members, ..] if members.split(',').any(|m| m == user) => {
                    gid.parse().ok()
                }
                _ => None,
            }
        })
        .collect()
}

/// The identity the command gets, resolved against the container's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups: the primary group, then the groups that list the user as a member.
    pub groups: Vec<u32>,
    /// The home directory, for `HOME`.
    pub home: String,
}

/// Resolves `-u` against the container's `/etc/passwd` and `/etc/group`, as Docker does: the
/// group defaults to the user's primary group; the supplementary groups are that group plus
/// the ones listing the user; HOME is the user's home, else `/` (and `/root` for root).
pub fn resolve_identity(spec: &ContainerSpec) -> Identity {
    let entry = passwd_entry(spec.user.uid);
    let fallback_home = if spec.user.uid == 0 { "/root" } else { "/" };
    let gid = spec.user.gid.or(entry.as_ref().map(|e| e.gid)).unwrap_or(0);
    let mut groups = vec![gid];
    if let Some(entry) = &entry {
        groups.extend(member_groups(&entry.name).into_iter().filter(|g| *g != gid));
    }
    Identity {
        uid: spec.user.uid,
        gid,
        groups,
        home: entry.map_or_else(|| fallback_home.to_string(), |e| e.home),
    }
}

// ANCHOR: environment
/// The command's environment in Docker's order: PATH, HOSTNAME, TERM (with a terminal), the
/// user's variables (which may override the defaults), and HOME unless the user set it.
pub fn environment(spec: &ContainerSpec, home: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), DEFAULT_PATH.into()),
        ("HOSTNAME".into(), spec.hostname.clone()),
    ];
    if spec.tty {
        env.push(("TERM".into(), "xterm".into()));
    }
    for (key, value) in &spec.env {
        match env.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value.clone(),
            None => env.push((key.clone(), value.clone())),
        }
    }
    if !env.iter().any(|(k, _)| k == "HOME") {
        env.push(("HOME".into(), home.into()));
    }
    env
}
// ANCHOR_END: environment

/// Finds the command as a shell would: a name with a `/` is a path, anything else is searched
/// for in the directories of the container's PATH.
pub fn find_command(command: &str, env: &[(String, String)]) -> Result<PathBuf> {
    if command.contains('/') {
        return Ok(PathBuf::from(command));
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or(DEFAULT_PATH, |(_, v)| v.as_str());
    path.split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(command))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| Error::CommandNotFound {
            command: command.to_string(),
            reason: "executable file not found in $PATH".into(),
        })
}

// ANCHOR: identity
/// Becomes the command's user. Groups first, then the group id, then the user id last: once the
/// user id is not 0 the process may no longer change the others.
pub fn drop_to(identity: &Identity, n: &Narrator) -> Result<()> {
    let gid = Gid::from_raw(identity.gid);
    n.say(
        Actor::Child,
        format!(
            "setgroups {:?} ; setgid {} ; setuid {}",
            identity.groups, identity.gid, identity.uid
        ),
    );
    let groups: Vec<Gid> = identity.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    setgroups(&groups).map_err(Error::sys("set the supplementary groups (setgroups)"))?;
    setgid(gid).map_err(Error::sys(format!("setgid {}", identity.gid)))?;
    setuid(Uid::from_raw(identity.uid)).map_err(Error::sys(format!("setuid {}", identity.uid)))
}
// ANCHOR_END: identity

/// Enters the working directory, creating it first if the rootfs lacks it (as `docker run -w`).
pub fn enter_workdir(workdir: &Path, n: &Narrator) -> Result<()> {
    if !workdir.is_dir() {
        n.say(Actor::Child, format!("mkdir -p {}", workdir.display()));
        std::fs::create_dir_all(workdir)
            .map_err(Error::io("create the working directory", workdir))?;
    }
    n.say(Actor::Child, format!("chdir {}", workdir.display()));
    nix::unistd::chdir(workdir).map_err(Error::sys(format!(
        "enter the working directory {}",
        workdir.display()
    )))
}

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidSpec(format!("{what} {s:?} contains a NUL byte")))
}

/// A command ready for `execve`: found on the container's PATH, with its arguments and
/// environment converted to C strings. Prepared before the seccomp filter is loaded and the
/// privileges are dropped, so that the very last step can only fail in `execve` itself.
#[derive(Debug)]
pub struct Prepared {
    command: String,
    program: PathBuf,
    path: CString,
    args: Vec<CString>,
    env: Vec<CString>,
}

/// Finds the command and converts everything `execve` needs.
pub fn prepare(spec: &ContainerSpec, env: &[(String, String)]) -> Result<Prepared> {
    let command = spec.command[0].clone();
    let program = find_command(&command, env)?;
    refuse_engine_binary(&program, &command)?;
    let path = cstring(&program.to_string_lossy(), "command")?;
    let args = spec
        .command
        .iter()
        .map(|a| cstring(a, "argument"))
        .collect::<Result<_>>()?;
    let env = env
        .iter()
        .map(|(k, v)| cstring(&format!("{k}={v}"), "environment variable"))
        .collect::<Result<_>>()?;
    Ok(Prepared {
        command,
        program,
        path,
        args,
        env,
    })
}

/// How many programs one `execve` may load: the file, then up to four interpreters named by
/// `#!` lines (BINPRM_MAX_RECURSION in linux/binfmts.h).
const MOST_PROGRAMS_PER_EXEC: usize = 5;

/// How much of a file the kernel reads to find a `#!` line (BINPRM_BUF_SIZE, linux/binfmts.h).
const SCRIPT_HEADER_SIZE: u64 = 256;

// ANCHOR: not_the_engine
/// Refuses a command that would run the engine's own binary inside the container. Until its
/// `execve`, this process *is* the engine's binary, so `/proc/self/exe`, or a script whose `#!`
/// line names it (the exploit of runc's CVE-2019-5736), would start the host's engine in the
/// container, where the command's processes could open it through `/proc/PID/exe`. Files are
/// compared by device and inode, following symbolic links as `execve` does. Runs as root before
/// the privileges are dropped, so that even a script the command's user may not read is checked.
pub fn refuse_engine_binary(program: &Path, command: &str) -> Result<()> {
    let engine = std::fs::metadata("/proc/self/exe")
        .map_err(Error::io("find the engine's binary", "/proc/self/exe"))?;
    let mut file = program.to_path_buf();
    for _ in 0..MOST_PROGRAMS_PER_EXEC {
        // A file that cannot be read is left to execve, which reports it better.
        let Ok(found) = std::fs::metadata(&file) else {
            return Ok(());
        };
        if (found.dev(), found.ino()) == (engine.dev(), engine.ino()) {
            return Err(Error::EngineBinary {
                command: command.to_string(),
            });
        }
        match script_interpreter(&file) {
            Some(interpreter) => file = interpreter,
            None => return Ok(()),
        }
    }
    Ok(())
}
// ANCHOR_END: not_the_engine

/// The interpreter a `#!` line names, as the kernel reads it (binfmt_script): the first word
/// after `#!`, within the first 256 bytes.
fn script_interpreter(file: &Path) -> Option<PathBuf> {
    let mut header = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(SCRIPT_HEADER_SIZE)
        .read_to_end(&mut header)
        .ok()?;
    let line = header.strip_prefix(b"#!")?;
    let line = line.split(|b| *b == b'\n').next()?;
    let word = line
        .split(|b| *b == b' ' || *b == b'\t')
        .find(|w| !w.is_empty())?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(word)))
}

// ANCHOR: execve
/// Replaces this process with the command. Returns only on failure, sorted the way Docker sorts
/// it: a missing file is "not found" (127), anything else the kernel refuses is "cannot
/// execute" (126).
pub fn exec(prepared: Prepared, n: &Narrator) -> Error {
    n.say(
        Actor::Child,
        format!("execve {} {:?}", prepared.program.display(), prepared.args),
    );
    let errno = match execve(&prepared.path, &prepared.args, &prepared.env) {
        Err(errno) => errno,
        Ok(never) => match never {},
    };
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => Error::CommandNotFound {
            command: prepared.command,
            reason: "no such file or directory".into(),
        },
        _ => Error::CannotExecute {
            command: prepared.command,
            reason: errno.desc().to_lowercase(),
        },
    }
}
// ANCHOR_END: execve

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(env: &[(&str, &str)], tty: bool) -> ContainerSpec {
        let mut spec = ContainerSpec::new("/", vec!["/bin/true".into()]).unwrap();
        spec.hostname = "box".into();
        spec.tty = tty;
        spec.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        spec
    }

    fn keys(env: &[(String, String)]) -> Vec<&str> {
        env.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn environment_follows_dockers_order() {
        let env = environment(&spec_with(&[("A", "1")], true), "/root");
        assert_eq!(keys(&env), ["PATH", "HOSTNAME", "TERM", "A", "HOME"]);
        assert_eq!(env[1].1, "box");
        assert_eq!(env[4].1, "/root");
    }

    #[test]
    fn user_variables_override_defaults_in_place() {
        let env = environment(
            &spec_with(&[("PATH", "/opt"), ("HOME", "/home/me")], false),
            "/",
        );
        assert_eq!(keys(&env), ["PATH", "HOSTNAME", "HOME"]);
        assert_eq!(env[0].1, "/opt");
        assert_eq!(env[2].1, "/home/me");
    }

    #[test]
    fn a_scripts_interpreter_is_the_first_word_of_its_first_line() {
        let dir = std::env::temp_dir().join(format!("dockyard-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases: [(&[u8], Option<&str>); 4] = [
            (b"#!/bin/sh -e\necho\n", Some("/bin/sh")),
            (b"#! \t/proc/self/exe", Some("/proc/self/exe")),
            (b"#!\n", None),
            (b"\x7fELF", None),
        ];
        for (i, (text, want)) in cases.into_iter().enumerate() {
            let file = dir.join(i.to_string());
            std::fs::write(&file, text).unwrap();
            assert_eq!(
                script_interpreter(&file),
                want.map(PathBuf::from),
                "{text:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_engines_binary_is_refused_and_other_programs_are_not() {
        let refused = refuse_engine_binary(Path::new("/proc/self/exe"), "/proc/self/exe");
        assert!(matches!(refused, Err(Error::EngineBinary { .. })));
        assert!(refuse_engine_binary(Path::new("/bin/sh"), "sh").is_ok());
        assert!(refuse_engine_binary(Path::new("/no/such"), "x").is_ok());
    }

    #[test]
    fn commands_with_a_slash_are_paths_and_others_are_searched() {
        let env = vec![("PATH".to_string(), "/no/such:/bin".to_string())];
        assert_eq!(find_command("./x", &env).unwrap(), PathBuf::from("./x"));
        assert_eq!(find_command("sh", &env).unwrap(), PathBuf::from("/bin/sh"));
        assert!(matches!(
            find_command("no-such-command", &env),
            Err(Error::CommandNotFound { .. })
        ));
    }
}
