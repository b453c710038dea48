//! What to run and how: the container's specification, plain data.
//!
//! The spec says *what* the container is (its root filesystem, its command, its identity); the
//! spawn path in [`crate::spawn`] turns it into kernel calls. Later chapters wrap this spec in
//! their own (adding limits, layers, networks) and keep passing it down.

use std::fmt;
use std::path::PathBuf;

use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::mounts::Mount;
use crate::security::SecuritySpec;

/// A container's identity: 32 random bytes, written as 64 hex digits like Docker's ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerId(String);

impl ContainerId {
    /// A fresh random id, from the kernel's random number generator (getrandom(2)).
    pub fn random() -> Result<Self> {
        let mut bytes = [0u8; 32];
        let mut filled = 0;
        while filled < bytes.len() {
            // SAFETY: the pointer and length describe the unfilled tail of `bytes`.
            let n = unsafe {
                libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0)
            };
            if n < 0 {
                return Err(Error::io_op("read random bytes for a container id")(
                    std::io::Error::last_os_error(),
                ));
            }
            filled += n as usize;
        }
        Ok(ContainerId(
            bytes.iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// The id `hex` names: 64 lowercase hex digits, as [`ContainerId::random`] writes them
    /// (a container started again keeps its id).
    pub fn parse(hex: &str) -> Result<Self> {
        if hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(ContainerId(hex.to_owned()))
        } else {
            Err(Error::InvalidSpec(format!(
                "invalid container id {hex:?}: expected 64 lowercase hex digits"
            )))
        }
    }

    /// The first 12 hex digits, as `docker ps` shows ids and as the default hostname.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }

    /// The full 64-digit id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who the command runs as: `-u UID[:GID]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// The user id.
    pub uid: u32,
    /// The group id; `None` takes the user's primary group from the container's `/etc/passwd`,
    /// or 0 where it has no entry, as Docker does.
    pub gid: Option<u32>,
}

impl std::str::FromStr for User {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let number = |part: &str| {
            part.parse::<u32>().map_err(|_| {
                Error::InvalidSpec(format!(
                    "invalid user {s:?}: expected UID[:GID] with numeric ids, e.g. 1000:1000"
                ))
            })
        };
        match s.split_once(':') {
            Some((uid, gid)) => Ok(User {
                uid: number(uid)?,
                gid: Some(number(gid)?),
            }),
            None => Ok(User {
                uid: number(s)?,
                gid: None,
            }),
        }
    }
}

// ANCHOR: spec
/// Everything needed to start a container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// The container's identity.
    pub id: ContainerId,
    /// The directory that becomes `/` inside the container.
    pub rootfs: PathBuf,
    /// The command and its arguments; a command without `/` is looked up on the container's PATH.
    pub command: Vec<String>,
    /// The UTS namespace's hostname.
    pub hostname: String,
    /// Environment variables the user set, in order; the engine adds Docker's defaults around them.
    pub env: Vec<(String, String)>,
    /// The working directory inside the container, created if missing (default `/`).
    pub workdir: Option<PathBuf>,
    /// Who the command runs as.
    pub user: User,
    /// Run a small init as PID 1 that forwards signals and reaps zombies.
    pub init: bool,
    /// Give the command a terminal (a pseudo-terminal from the container's own devpts).
    pub tty: bool,
    /// Keep the command's stdin connected to the engine's; without it the command reads `/dev/null`.
    pub interactive: bool,
    /// Capabilities, masked paths and the other limits on what the command may do.
    pub security: SecuritySpec,
    /// Filesystems attached on top of the root filesystem, in order (`-v`, `--mount`, `--tmpfs`).
    pub mounts: Vec<Mount>,
    /// Share the engine's network namespace (`--network host`) instead of a new one that
    /// holds only `lo`.
    pub host_network: bool,
    /// The root filesystem read-only; what is mounted on it keeps its own mode.
    pub read_only: bool,
}
// ANCHOR_END: spec

impl ContainerSpec {
    /// A spec with a fresh id, that id's short form as hostname, and Docker's other defaults.
    pub fn new(rootfs: impl Into<PathBuf>, command: Vec<String>) -> Result<Self> {
        let id = ContainerId::random()?;
        Ok(ContainerSpec {
            hostname: id.short().to_string(),
            id,
            rootfs: rootfs.into(),
            command,
            env: Vec::new(),
            workdir: None,
            user: User::default(),
            init: false,
            tty: false,
            interactive: false,
            security: SecuritySpec::default(),
            mounts: Vec::new(),
            host_network: false,
            read_only: false,
        })
    }

    /// Checks what can be checked before any namespace exists.
    pub fn validate(&self) -> Result<()> {
        if self.command.is_empty() {
            return Err(Error::InvalidSpec(
                "no command given: put it after the options, e.g. `-- /bin/sh`".into(),
            ));
        }
        if self.hostname.is_empty() || self.hostname.len() > 64 {
            return Err(Error::InvalidSpec(format!(
                "invalid hostname {:?}: it must be 1 to 64 characters",
                self.hostname
            )));
        }
        if let Some(dir) = &self.workdir
            && !dir.is_absolute()
        {
            return Err(Error::InvalidSpec(format!(
                "the working directory {} is not an absolute path",
                dir.display()
            )));
        }
        if let Some((key, _)) = self
            .env
            .iter()
            .find(|(k, _)| k.is_empty() || k.contains('='))
        {
            return Err(Error::InvalidSpec(format!(
                "invalid environment variable name {key:?}"
            )));
        }
        for mount in &self.mounts {
            mount.validate()?;
        }
        match std::fs::metadata(&self.rootfs) {
            Err(_) => Err(Error::RootfsMissing(self.rootfs.clone())),
            Ok(meta) if !meta.is_dir() => Err(Error::RootfsNotDirectory(self.rootfs.clone())),
            Ok(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_takes_uid_and_optional_gid() {
        assert_eq!(
            "1000".parse::<User>().unwrap(),
            User {
                uid: 1000,
                gid: None
            }
        );
        assert_eq!(
            "1000:50".parse::<User>().unwrap(),
            User {
                uid: 1000,
                gid: Some(50)
            }
        );
    }

    #[test]
    fn user_names_are_refused_with_the_expected_form() {
        let error = "bob".parse::<User>().unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid user \"bob\": expected UID[:GID] with numeric ids, e.g. 1000:1000"
        );
        assert!("1000:".parse::<User>().is_err());
    }

    #[test]
    fn ids_are_64_hex_digits_and_unique() {
        let (a, b) = (
            ContainerId::random().unwrap(),
            ContainerId::random().unwrap(),
        );
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.short(), &a.as_str()[..12]);
        assert_ne!(a, b);
    }

    #[test]
    fn validation_names_the_problem() {
        let mut spec = ContainerSpec::new("/", vec![]).unwrap();
        assert!(
            spec.validate()
                .unwrap_err()
                .to_string()
                .contains("no command")
        );
        spec.command = vec!["/bin/true".into()];
        spec.workdir = Some("relative".into());
        assert!(
            spec.validate()
                .unwrap_err()
                .to_string()
                .contains("not an absolute path")
        );
        spec.workdir = None;
        spec.rootfs = "/no/such/dir".into();
        assert!(matches!(spec.validate(), Err(Error::RootfsMissing(_))));
    }
}
