//! Who owns the copied files (`--chown`), and their modes (`--chmod`).
//!
//! Without `--chown` everything `COPY` writes belongs to `root` (`0:0`), whoever owned it in
//! the context: ownership on the machine that sent the context means nothing in the image.
//! `--chown=user:group` names are looked up in the *image's* `/etc/passwd` and `/etc/group`
//! (read inside its root filesystem, never the host's), since that is where the user will
//! run. A number is taken as it is.
//!
//! `--chmod` sets the mode of each file and directory copied: an octal mode replaces it, a
//! symbolic one (`u+x,go-w`) changes it, as `chmod` would.

use std::io;

pub use super::rootfs::Owner;
use super::rootfs::RootFs;
use crate::error::CopyError;
use crate::instructions::Chmod;

/// The owner `--chown=spec` names (`user`, `user:group`, names or numbers), names looked up
/// in `rootfs`'s `/etc/passwd` and `/etc/group`.
///
/// A user alone: a number is also the group (`--chown=1000` is `1000:1000`, as docker's
/// legacy builder does it); a name takes the user's group from `/etc/passwd`, as BuildKit
/// does (the legacy builder looks for a *group* of the same name instead, and fails without
/// one).
pub fn resolve_owner(spec: &str, rootfs: &RootFs) -> Result<Owner, CopyError> {
    let (user, group) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let (uid, primary_gid) = match user.parse::<u32>() {
        Ok(uid) => (uid, uid),
        Err(_) => {
            let entry = lookup(rootfs, "/etc/passwd", user, "uid", "user")?;
            (field(&entry, 2, user)?, field(&entry, 3, user)?)
        }
    };
    let gid = match group {
        None => primary_gid,
        Some(group) => match group.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                let entry = lookup(rootfs, "/etc/group", group, "gid", "group")?;
                field(&entry, 2, group)?
            }
        },
    };
    Ok(Owner { uid, gid })
}

/// The `:`-separated fields of the line of `file` (inside the image) whose first field is
/// `name`.
fn lookup(
    rootfs: &RootFs,
    file: &str,
    name: &str,
    id: &'static str,
    what: &'static str,
) -> Result<Vec<String>, CopyError> {
    let unknown = |reason: String| CopyError::UnknownOwner {
        id,
        what,
        name: name.to_owned(),
        reason,
    };
    let content = rootfs
        .read_file(file)
        .map_err(|error| unknown(format!("open {file}: {}", describe(&error))))?;
    String::from_utf8_lossy(&content)
        .lines()
        .map(|line| line.split(':').map(str::to_owned).collect::<Vec<_>>())
        .find(|fields| fields.first().is_some_and(|first| first == name))
        .ok_or_else(|| unknown(format!("no such {what}: {name}")))
}

/// The number in field `index` of a passwd or group line.
fn field(fields: &[String], index: usize, name: &str) -> Result<u32, CopyError> {
    fields
        .get(index)
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| CopyError::UnknownOwner {
            id: if index == 2 { "uid" } else { "gid" },
            what: "user",
            name: name.to_owned(),
            reason: format!("the line of {name} has no number in field {}", index + 1),
        })
}

/// An I/O error as Go words the common ones.
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => error.to_string(),
    }
}

/// The mode `chmod` gives an entry whose mode is `mode` (permission bits, with setuid,
/// setgid and sticky); `is_dir` matters for `X` (execute only for directories and files that
/// are already executable by someone).
///
/// ```
/// use ch05_dockerfile::build::copy::owner::apply_chmod;
/// use ch05_dockerfile::instructions::Chmod;
///
/// let symbolic = |mode: &str| Chmod::Symbolic(mode.to_owned());
/// assert_eq!(apply_chmod(&Chmod::Octal(0o600), 0o755, false), 0o600);
/// assert_eq!(apply_chmod(&symbolic("u+x,go-w"), 0o666, false), 0o744);
/// assert_eq!(apply_chmod(&symbolic("a+X"), 0o644, true), 0o755);
/// assert_eq!(apply_chmod(&symbolic("a+X"), 0o644, false), 0o644);
/// assert_eq!(apply_chmod(&symbolic("go=u"), 0o640, false), 0o666);
/// ```
pub fn apply_chmod(chmod: &Chmod, mode: u32, is_dir: bool) -> u32 {
    let text = match chmod {
        Chmod::Octal(octal) => return *octal,
        Chmod::Symbolic(text) => text,
    };
    let mut mode = mode & 0o7777;
    for clause in text.split(',') {
        let who_end = clause.find(['+', '-', '=']).unwrap_or(clause.len());
        let who = who_mask(&clause[..who_end]);
        let mut rest = &clause[who_end..];
        while let Some(op) = rest.chars().next() {
            let perms_end = rest[1..]
                .find(['+', '-', '='])
                .map_or(rest.len(), |end| end + 1);
            let bits = perm_bits(&rest[1..perms_end], mode, is_dir) & who;
            mode = match op {
                '+' => mode | bits,
                '-' => mode & !bits,
                _ => (mode & !who) | bits,
            };
            rest = &rest[perms_end..];
        }
    }
    mode
}

// ANCHOR: legacy_mode
/// The mode docker's legacy builder leaves on a copy of an entry of mode `mode`: a file
/// loses its set-user-id bit, and its set-group-id bit when it is group-executable;
/// directories and the sticky bit keep everything (`4755` becomes `0755`, `2755` too, `2745`
/// and `1755` stay).
///
/// Nothing in docker decides this on purpose: after copying a file with its mode, the legacy
/// builder sets its owner (`0:0`, or `--chown`'s), and the kernel's `chown` clears those
/// bits, as it does for any non-directory, so that a change of owner never hands a set-id
/// program to the new one. Copies it does not re-own keep them: files unpacked by `ADD`
/// from a tar, and `COPY --from` without `--chown` (docker 20.10, checked). BuildKit sets
/// owner then mode and keeps the bits everywhere, as `--chmod` (BuildKit's) does here.
///
/// ```
/// use ch05_dockerfile::build::copy::owner::legacy_mode;
///
/// assert_eq!(legacy_mode(0o4755, false), 0o755);
/// assert_eq!(legacy_mode(0o6755, false), 0o755);
/// assert_eq!(legacy_mode(0o2745, false), 0o2745);
/// assert_eq!(legacy_mode(0o1755, false), 0o1755);
/// assert_eq!(legacy_mode(0o3777, true), 0o3777);
/// ```
pub fn legacy_mode(mode: u32, is_dir: bool) -> u32 {
    const SET_UID: u32 = 0o4000;
    const SET_GID: u32 = 0o2000;
    const GROUP_EXEC: u32 = 0o010;
    if is_dir {
        return mode;
    }
    let mut mode = mode & !SET_UID;
    if mode & GROUP_EXEC != 0 {
        mode &= !SET_GID;
    }
    mode
}
// ANCHOR_END: legacy_mode

/// The bits a `who` part (`u`, `go`, `a`, none for all) lets a clause change.
fn who_mask(who: &str) -> u32 {
    if who.is_empty() {
        return 0o7777;
    }
    who.chars()
        .map(|c| match c {
            'u' => 0o4700,
            'g' => 0o2070,
            'o' => 0o1007,
            _ => 0o7777,
        })
        .fold(0, |mask, bits| mask | bits)
}

/// The bits a permission list (`rwx`, `X`, `st`, or another class `u`/`g`/`o`) stands for, in
/// every class: the `who` mask then keeps the classes the clause names.
fn perm_bits(perms: &str, mode: u32, is_dir: bool) -> u32 {
    let class = |shift: u32| ((mode >> shift) & 0o7) * 0o111;
    perms
        .chars()
        .map(|c| match c {
            'r' => 0o444,
            'w' => 0o222,
            'x' => 0o111,
            'X' if is_dir || mode & 0o111 != 0 => 0o111,
            's' => 0o6000,
            't' => 0o1000,
            'u' => class(6),
            'g' => class(3),
            'o' => class(0),
            _ => 0,
        })
        .fold(0, |bits, more| bits | more)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbolic(mode: &str, from: u32) -> u32 {
        apply_chmod(&Chmod::Symbolic(mode.to_owned()), from, false)
    }

    #[test]
    fn symbolic_modes_change_what_they_name() {
        assert_eq!(symbolic("+x", 0o644), 0o755);
        assert_eq!(symbolic("u=rw,go=r", 0o777), 0o644);
        assert_eq!(symbolic("o=", 0o777), 0o770);
        assert_eq!(symbolic("u+x-w", 0o644), 0o544);
        assert_eq!(symbolic("u+s", 0o755), 0o4755);
        assert_eq!(symbolic("+t", 0o777), 0o1777);
        assert_eq!(symbolic("a-rwx", 0o4777), 0o4000);
    }
}
