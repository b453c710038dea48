//! What a mount is, as plain data: what to attach where, checked before any namespace exists,
//! and written on a command line as `docker run --mount` writes it.

use std::path::{Component, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};

// ANCHOR: mount
/// A filesystem attached inside the container, on top of its root filesystem: a host
/// directory or file (`-v`, `--mount type=bind`, a build's `RUN --mount=type=bind|cache|secret`)
/// or a fresh tmpfs (`--tmpfs`, `RUN --mount=type=tmpfs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mount {
    /// The host path to bind, absolute; `None` for a tmpfs.
    pub source: Option<PathBuf>,
    /// Where it appears inside the container, absolute; created if missing.
    pub target: PathBuf,
    /// What is mounted and with which options.
    pub kind: MountKind,
}

/// The kinds of mount a container can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MountKind {
    /// The source, with every mount below it (a recursive bind).
    Bind {
        /// Read-only, down to the mounts below it.
        read_only: bool,
    },
    /// A new, empty tmpfs, always `nosuid,nodev`.
    Tmpfs {
        /// Its size limit in bytes (the kernel's default: half of RAM).
        size: Option<u64>,
        /// The mode of its root directory (the kernel's default: 1777).
        mode: Option<u32>,
        /// `noexec`: nothing on it can be executed (Docker's default for tmpfs mounts).
        no_exec: bool,
    },
}
// ANCHOR_END: mount

impl Mount {
    /// A recursive bind of the host's `source` on `target`.
    pub fn bind(source: impl Into<PathBuf>, target: impl Into<PathBuf>, read_only: bool) -> Self {
        Mount {
            source: Some(source.into()),
            target: target.into(),
            kind: MountKind::Bind { read_only },
        }
    }

    /// An empty tmpfs on `target`, with the kernel's default size and mode, executable.
    pub fn tmpfs(target: impl Into<PathBuf>) -> Self {
        Mount {
            source: None,
            target: target.into(),
            kind: MountKind::Tmpfs {
                size: None,
                mode: None,
                no_exec: false,
            },
        }
    }

    /// What is mounted, for messages: the source's path, or `tmpfs`.
    pub fn what(&self) -> String {
        match &self.source {
            Some(source) => source.display().to_string(),
            None => "tmpfs".into(),
        }
    }

    /// Checks what can be checked on the host, before the container exists.
    pub fn validate(&self) -> Result<()> {
        let invalid = |why: &str| {
            Err(Error::InvalidSpec(format!(
                "invalid mount on {}: {why}",
                self.target.display()
            )))
        };
        if !self.target.is_absolute() {
            return invalid("the target must be an absolute path inside the container");
        }
        if !self
            .target
            .components()
            .any(|c| matches!(c, Component::Normal(_)))
        {
            return invalid("a mount cannot cover the container's root directory");
        }
        match (&self.kind, &self.source) {
            (MountKind::Bind { .. }, None) => invalid("a bind mount needs a source"),
            (MountKind::Bind { .. }, Some(source)) if !source.is_absolute() => invalid(&format!(
                "the source {} must be an absolute path on the host",
                source.display()
            )),
            (MountKind::Bind { .. }, Some(source)) => match std::fs::symlink_metadata(source) {
                Ok(_) => Ok(()),
                Err(_) => Err(Error::MountSourceMissing(source.clone())),
            },
            (MountKind::Tmpfs { .. }, Some(_)) => invalid("a tmpfs mount takes no source"),
            (
                MountKind::Tmpfs {
                    mode: Some(mode), ..
                },
                None,
            ) if *mode > 0o7777 => invalid(&format!(
                "tmpfs mode {mode:o} is not a file mode (0 to 7777)"
            )),
            (MountKind::Tmpfs { .. }, None) => Ok(()),
        }
    }
}

/// The keys `--mount` understands, for the message that refuses another.
const KEYS: &str =
    "type, source (src), target (destination, dst), readonly (ro), tmpfs-size, tmpfs-mode";

/// `docker run --mount`'s syntax: comma-separated `key=value` fields, e.g.
/// `type=bind,source=/srv/data,target=/data,readonly` or `type=tmpfs,target=/cache,tmpfs-size=64m`.
/// A tmpfs is `noexec` unless a later step says otherwise, as Docker's is.
impl FromStr for Mount {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = |why: String| Error::InvalidSpec(format!("invalid --mount {text:?}: {why}"));
        let (mut kind, mut source, mut target) = (None, None, None);
        let (mut read_only, mut size, mut mode) = (false, None, None);
        for field in text.split(',') {
            let (key, value) = field
                .split_once('=')
                .map_or((field, None), |(k, v)| (k, Some(v)));
            let value_of = |key: &str| {
                value
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| invalid(format!("{key} needs a value")))
            };
            match key {
                "type" => kind = Some(value_of(key)?),
                "source" | "src" => source = Some(PathBuf::from(value_of(key)?)),
                "target" | "destination" | "dst" => target = Some(PathBuf::from(value_of(key)?)),
                "readonly" | "ro" => {
                    read_only = match value {
                        None | Some("true" | "1") => true,
                        Some("false" | "0") => false,
                        Some(other) => {
                            return Err(invalid(format!("{key}={other} is not a boolean")));
                        }
                    }
                }
                "tmpfs-size" => size = Some(parse_size(value_of(key)?).map_err(invalid)?),
                "tmpfs-mode" => {
                    let octal = value_of(key)?;
                    let parsed = u32::from_str_radix(octal, 8);
                    mode = Some(
                        parsed.map_err(|_| invalid(format!("{octal:?} is not an octal mode")))?,
                    );
                }
                _ => return Err(invalid(format!("unknown field {key:?} (known: {KEYS})"))),
            }
        }
        let target = target.ok_or_else(|| invalid("it needs a target=PATH".into()))?;
        let kind = match kind {
            Some("bind") if size.is_some() || mode.is_some() => {
                return Err(invalid(
                    "tmpfs-size and tmpfs-mode are for type=tmpfs".into(),
                ));
            }
            Some("bind") => MountKind::Bind { read_only },
            Some("tmpfs") if read_only => {
                return Err(invalid("a read-only tmpfs would stay empty".into()));
            }
            Some("tmpfs") => MountKind::Tmpfs {
                size,
                mode,
                no_exec: true,
            },
            Some(other) => {
                return Err(invalid(format!(
                    "type={other} is not supported here (bind or tmpfs)"
                )));
            }
            None => return Err(invalid("it needs a type=bind or type=tmpfs".into())),
        };
        Ok(Mount {
            source,
            target,
            kind,
        })
    }
}

/// A size in bytes, with an optional binary unit as Docker accepts them: `65536`, `64k`, `64m`,
/// `1g` (and `kb`, `mb`, `gb`, `kib`, ...).
fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let lower = text.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        _ => return Err(format!("{text:?} is not a size (e.g. 65536, 64k, 64m, 1g)")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?} is not a size (e.g. 65536, 64k, 64m, 1g)"))
}

impl Mount {
    /// A closure for `map_err` that names this mount and the step of it that failed.
    pub(crate) fn failed(
        &self,
        action: impl Into<String>,
    ) -> impl FnOnce(rustix::io::Errno) -> Error {
        let (what, target, action) = (self.what(), self.target.clone(), action.into());
        move |errno| Error::Mount {
            what,
            target,
            action,
            errno: nix::Error::from_raw(errno.raw_os_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_mount_syntax_becomes_a_mount() {
        let bind: Mount = "type=bind,src=/srv,dst=/data,readonly".parse().unwrap();
        assert_eq!(bind, Mount::bind("/srv", "/data", true));
        let bind: Mount = "type=bind,source=/srv,target=/data,ro=false"
            .parse()
            .unwrap();
        assert_eq!(bind, Mount::bind("/srv", "/data", false));
        let tmpfs: Mount = "type=tmpfs,destination=/cache,tmpfs-size=64m,tmpfs-mode=1770"
            .parse()
            .unwrap();
        assert_eq!(
            tmpfs.kind,
            MountKind::Tmpfs {
                size: Some(64 << 20),
                mode: Some(0o1770),
                no_exec: true
            }
        );
    }

    #[test]
    fn mount_syntax_errors_name_the_field() {
        let error = |text: &str| text.parse::<Mount>().unwrap_err().to_string();
        assert!(error("type=volume,target=/x").contains("type=volume is not supported"));
        assert!(error("type=bind,source=/x").contains("needs a target"));
        assert!(error("type=bind,target=/x,bind-propagation=shared").contains("unknown field"));
        assert!(error("type=tmpfs,target=/x,tmpfs-size=lots").contains("not a size"));
        assert!(error("type=tmpfs,target=/x,tmpfs-mode=9").contains("not an octal mode"));
        assert!(error("type=bind,source=/x,target=/y,tmpfs-size=1").contains("for type=tmpfs"));
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("2MiB"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("1t").is_err());
        assert!(parse_size("m").is_err());
    }

    #[test]
    fn validation_names_the_problem() {
        let problem = |mount: Mount| mount.validate().unwrap_err().to_string();
        assert!(problem(Mount::tmpfs("data")).contains("absolute path inside"));
        assert!(problem(Mount::tmpfs("/..")).contains("cannot cover the container's root"));
        assert!(problem(Mount::bind("rel", "/data", false)).contains("absolute path on the host"));
        assert!(matches!(
            Mount::bind("/no/such/source", "/data", false).validate(),
            Err(Error::MountSourceMissing(_))
        ));
        let mut tmpfs = Mount::tmpfs("/t");
        tmpfs.source = Some("/tmp".into());
        assert!(problem(tmpfs).contains("takes no source"));
        assert!(Mount::bind("/", "/host", true).validate().is_ok());
    }
}
