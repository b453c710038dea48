//! The cgroups a process is in, as files the engine can write to join them.
//!
//! `/proc/PID/cgroup` lists one line per hierarchy, `ID:CONTROLLERS:PATH` (cgroups(7)): on
//! cgroup v1 one per mounted hierarchy (`4:memory:/dockyard/ab12…`, `2:cpu,cpuacct:/`,
//! `9:name=systemd:/`), on v2 the single `0::/dockyard/ab12…`, and both on a hybrid host. PATH
//! is relative to the hierarchy's root, so the group's directory is wherever the host mounted
//! that hierarchy (`/proc/self/mountinfo` says where: a `cgroup` mount whose options name the
//! same controllers, or the `cgroup2` mount), plus PATH. A process joins a group by writing to
//! its `cgroup.procs` (see chapter 02 for the two versions).

use std::path::{Path, PathBuf};

use dockyard_support::FromIo;

use crate::error::{Error, Result};

// ANCHOR: procs_files
/// The `cgroup.procs` file of every group process `pid` is in, in the hierarchies mounted
/// here. A hierarchy the host does not mount at all (a named one no one looks at) is skipped;
/// one whose mounts all show other parts of it is an error.
pub(super) fn procs_files_of(pid: u32) -> Result<Vec<PathBuf>> {
    let membership = format!("/proc/{pid}/cgroup");
    let membership = std::fs::read_to_string(&membership)
        .map_err(Error::io("read the container's cgroups", &membership))?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(Error::io("read the mount table", "/proc/self/mountinfo"))?;
    procs_files(&membership, &mountinfo)
}
// ANCHOR_END: procs_files

/// A mounted cgroup hierarchy.
#[derive(Debug, PartialEq, Eq)]
struct Hierarchy {
    /// The group mounted there, relative to the hierarchy's root (`/` unless a subtree was
    /// bind-mounted).
    root: PathBuf,
    /// Where it is mounted.
    mount_point: PathBuf,
    /// `None` for cgroup2; the mount's options for v1 (its controllers among them, and
    /// `name=…` for a named hierarchy).
    options: Option<Vec<String>>,
}

/// [`procs_files_of`] on the text of `/proc/PID/cgroup` and `/proc/self/mountinfo`.
fn procs_files(membership: &str, mountinfo: &str) -> Result<Vec<PathBuf>> {
    let hierarchies: Vec<Hierarchy> = mountinfo.lines().filter_map(cgroup_mount).collect();
    let mut files = Vec::new();
    for line in membership.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(Error::InvalidSpec(format!(
                "unexpected line in /proc/PID/cgroup: {line:?}"
            )));
        };
        let mut mounted = hierarchies
            .iter()
            .filter(|h| h.mounts(controllers))
            .peekable();
        if mounted.peek().is_none() {
            continue;
        }
        // Mounted, but not the part holding the group: the process would escape its limits.
        let Some(hierarchy) = mounted.find(|h| Path::new(path).starts_with(&h.root)) else {
            return Err(Error::InvalidSpec(format!(
                "the cgroup {path} ({}) is not under any mount of its hierarchy here",
                if controllers.is_empty() {
                    "cgroup2"
                } else {
                    controllers
                }
            )));
        };
        let relative = Path::new(path)
            .strip_prefix(&hierarchy.root)
            .expect("checked by starts_with");
        files.push(hierarchy.mount_point.join(relative).join("cgroup.procs"));
    }
    Ok(files)
}

impl Hierarchy {
    /// Whether this is the hierarchy of a `/proc/PID/cgroup` line with these controllers (empty
    /// for cgroup2).
    fn mounts(&self, controllers: &str) -> bool {
        match &self.options {
            None => controllers.is_empty(),
            Some(options) => {
                !controllers.is_empty()
                    && controllers
                        .split(',')
                        .all(|c| options.iter().any(|o| o == c))
            }
        }
    }
}

/// The hierarchy a mountinfo line mounts, if it is a cgroup filesystem (proc(5): field 4 is
/// the mount's root, 5 its mount point; after the `-`, the type, the source, the options).
fn cgroup_mount(line: &str) -> Option<Hierarchy> {
    let fields: Vec<&str> = line.split(' ').collect();
    let dash = fields.iter().position(|f| *f == "-")?;
    let (root, mount_point) = (fields.get(3)?, fields.get(4)?);
    let options = match *fields.get(dash + 1)? {
        "cgroup2" => None,
        "cgroup" => Some(
            fields
                .get(dash + 3)?
                .split(',')
                .map(str::to_owned)
                .collect(),
        ),
        _ => return None,
    };
    Some(Hierarchy {
        root: PathBuf::from(unescape(root)),
        mount_point: PathBuf::from(unescape(mount_point)),
        options,
    })
}

/// Undoes mountinfo's escapes: a space, tab, newline or backslash in a path is written as a
/// backslash and three octal digits.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|digits| {
            std::str::from_utf8(digits)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hybrid host as this one: v1 controllers, `cpu` and `cpuacct` co-mounted, a named
    /// systemd hierarchy, an empty cgroup2 tree at `unified/`, and a bind mount of a subtree.
    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 27 0:32 /dockyard /mnt/with\\040space rw,relatime - cgroup cgroup rw,memory";

    #[test]
    fn each_line_finds_its_hierarchys_mount() {
        let membership = "\
9:name=systemd:/
8:pids:/dockyard/ab
4:memory:/dockyard/ab
2:cpu,cpuacct:/
5:devices:/
0::/
";
        let files = procs_files(membership, MOUNTINFO).unwrap();
        let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
        assert_eq!(
            files,
            [
                "/sys/fs/cgroup/systemd/cgroup.procs",
                "/sys/fs/cgroup/pids/dockyard/ab/cgroup.procs",
                "/sys/fs/cgroup/memory/dockyard/ab/cgroup.procs",
                "/sys/fs/cgroup/cpu,cpuacct/cgroup.procs",
                "/sys/fs/cgroup/unified/cgroup.procs",
            ],
            "devices is not mounted here, so it is skipped"
        );
    }

    #[test]
    fn a_subtree_mount_serves_the_groups_below_it() {
        let info = MOUNTINFO
            .lines()
            .filter(|l| !l.contains("/sys/fs/cgroup/memory"))
            .collect::<Vec<_>>()
            .join("\n");
        let files = procs_files("4:memory:/dockyard/ab\n", &info).unwrap();
        assert_eq!(files, [PathBuf::from("/mnt/with space/ab/cgroup.procs")]);
        let error = procs_files("4:memory:/elsewhere\n", &info).unwrap_err();
        assert!(error.to_string().contains("/elsewhere (memory)"), "{error}");
    }

    #[test]
    fn a_v2_host_has_one_line_and_one_mount() {
        let info = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate";
        let files = procs_files("0::/system.slice/dockyard-ab.scope\n", info).unwrap();
        assert_eq!(
            files,
            [PathBuf::from(
                "/sys/fs/cgroup/system.slice/dockyard-ab.scope/cgroup.procs"
            )]
        );
    }

    #[test]
    fn escapes_are_undone() {
        assert_eq!(unescape(r"a\040b\134c"), r"a b\c");
        assert_eq!(unescape(r"trailing\04"), r"trailing\04");
    }
}
