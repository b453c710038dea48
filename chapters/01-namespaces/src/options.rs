//! What a caller asks of a container's process, in `docker run`'s terms: plain data that a
//! command line fills from its flags and a daemon from a JSON request (Docker's Engine API
//! carries the same fields: `Hostname`, `Env`, `WorkingDir`, `User`, `CapAdd`, `SecurityOpt`).
//! [`ProcessOptions::to_spec`] checks them and resolves them into a [`ContainerSpec`].

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::mounts::Mount;
use crate::security::seccomp::SeccompPolicy;
use crate::security::{SecuritySpec, capabilities};
use crate::spec::{ContainerSpec, User};

// ANCHOR: process_options
/// How the container's command runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessOptions {
    /// The container's hostname (default: its short id).
    pub hostname: Option<String>,
    /// Environment variables, in order (the engine adds Docker's defaults around them).
    pub env: Vec<(String, String)>,
    /// Working directory inside the container, created if missing (default `/`).
    pub workdir: Option<PathBuf>,
    /// Who the command runs as (default root).
    pub user: Option<User>,
    /// Run an init as PID 1 that forwards signals and reaps zombies.
    pub init: bool,
    /// Give the command a pseudo-terminal.
    pub tty: bool,
    /// Keep stdin open (without it the command reads /dev/null).
    pub interactive: bool,
    /// Capabilities added to Docker's default set (`NET_ADMIN`, or `ALL`).
    pub cap_add: Vec<String>,
    /// Capabilities dropped from the set (`CHOWN`, or `ALL`).
    pub cap_drop: Vec<String>,
    /// Every capability the engine has, no seccomp filter, no masked paths.
    pub privileged: bool,
    /// `no-new-privileges`, `seccomp=unconfined`, `seccomp=PROFILE.json`.
    pub security_opt: Vec<String>,
    /// Filesystems attached on top of the root filesystem, in order.
    pub mounts: Vec<Mount>,
    /// Mount the root filesystem read-only (`--read-only`).
    #[serde(default)]
    pub read_only: bool,
}
// ANCHOR_END: process_options

impl ProcessOptions {
    /// A spec for `command` in `rootfs` with these options applied.
    pub fn to_spec(&self, rootfs: PathBuf, command: Vec<String>) -> Result<ContainerSpec> {
        let mut spec = ContainerSpec::new(rootfs, command)?;
        if let Some(hostname) = &self.hostname {
            spec.hostname = hostname.clone();
        }
        spec.env = self.env.clone();
        spec.workdir = self.workdir.clone();
        spec.user = self.user.unwrap_or_default();
        spec.init = self.init;
        spec.tty = self.tty;
        spec.interactive = self.interactive;
        spec.security = self.security()?;
        spec.mounts = self.mounts.clone();
        spec.read_only = self.read_only;
        Ok(spec)
    }

    /// The security options, with capabilities resolved against the engine's own.
    pub fn security(&self) -> Result<SecuritySpec> {
        let engine = capabilities::engine_bounding_set()?;
        let mut security = SecuritySpec {
            capabilities: capabilities::resolve(
                &self.cap_add,
                &self.cap_drop,
                self.privileged,
                &engine,
            )?,
            mask_paths: !self.privileged,
            ..SecuritySpec::default()
        };
        if self.privileged {
            security.seccomp = SeccompPolicy::Unconfined;
        }
        for option in &self.security_opt {
            let (key, value) = option
                .split_once(['=', ':'])
                .map_or((option.as_str(), None), |(k, v)| (k, Some(v)));
            match (key, value) {
                ("no-new-privileges", None | Some("true")) => security.no_new_privileges = true,
                ("no-new-privileges", Some("false")) => security.no_new_privileges = false,
                ("seccomp", Some("unconfined")) => security.seccomp = SeccompPolicy::Unconfined,
                ("seccomp", Some(path)) if !path.is_empty() => {
                    security.seccomp = SeccompPolicy::from_file(path)?;
                }
                _ => {
                    return Err(Error::InvalidSpec(format!(
                        "unsupported --security-opt {option:?} (supported: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json)"
                    )));
                }
            }
        }
        Ok(security)
    }
}

/// `KEY=VALUE`, or `KEY` alone to pass the caller's own value on (skipped when unset), as
/// `docker run -e` does: the value comes from the environment of the command line, not the
/// engine's, so a command line resolves it before asking for a container.
pub fn resolve_env(entries: &[String]) -> Vec<(String, String)> {
    entries
        .iter()
        .filter_map(|entry| match entry.split_once('=') {
            Some((key, value)) => Some((key.to_string(), value.to_string())),
            None => std::env::var(entry)
                .ok()
                .map(|value| (entry.to_string(), value)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_become_a_spec() {
        let options = ProcessOptions {
            hostname: Some("box".into()),
            env: vec![("A".into(), "1".into())],
            user: Some(User { uid: 7, gid: None }),
            security_opt: vec!["no-new-privileges".into()],
            ..ProcessOptions::default()
        };
        let spec = options
            .to_spec("/".into(), vec!["/bin/true".into()])
            .unwrap();
        assert_eq!(spec.hostname, "box");
        assert_eq!(spec.env, [("A".to_string(), "1".to_string())]);
        assert_eq!(spec.user.uid, 7);
        assert!(spec.security.no_new_privileges);
        let unknown = ProcessOptions {
            security_opt: vec!["apparmor=x".into()],
            ..ProcessOptions::default()
        };
        assert!(matches!(unknown.security(), Err(Error::InvalidSpec(_))));
    }

    #[test]
    fn a_key_alone_copies_the_callers_value() {
        // SAFETY: this test's own variable; no other test reads or writes it.
        unsafe { std::env::set_var("DOCKYARD_OPTIONS_TEST", "here") };
        let env = resolve_env(&[
            "DOCKYARD_OPTIONS_TEST".into(),
            "DOCKYARD_UNSET_VARIABLE".into(),
            "B=2".into(),
        ]);
        assert_eq!(
            env,
            [
                ("DOCKYARD_OPTIONS_TEST".to_string(), "here".to_string()),
                ("B".to_string(), "2".to_string())
            ]
        );
    }
}
