//! The command-line options chapter 01 adds, as reusable pieces: later chapters' CLIs flatten
//! [`ProcessArgs`] into their own `run` so that every chapter's tool keeps every option.
//!
//! The options and their spelling follow `docker run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::error::{Error, exit_code};
use crate::explain::Narrator;
use crate::security::seccomp::SeccompPolicy;
use crate::security::{SecuritySpec, capabilities};
use crate::spec::{ContainerSpec, User};

/// The command to run, and how: the options of `docker run` that chapter 01 implements.
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub options: ProcessOptions,

    /// The command to run and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// How the command runs. Apart from [`ProcessArgs`] for CLIs whose command comes from
/// elsewhere (an image's config, from chapter 04 on).
#[derive(Debug, Clone, Args)]
pub struct ProcessOptions {
    /// Container hostname (default: the container's short id)
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,

    /// Set an environment variable (KEY alone copies it from the engine's environment)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Working directory inside the container (created if missing)
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,

    /// Run as this user: UID[:GID]
    #[arg(short = 'u', long, value_name = "UID[:GID]")]
    pub user: Option<User>,

    /// Run an init as PID 1 that forwards signals and reaps zombies
    #[arg(long)]
    pub init: bool,

    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Keep stdin open (without it the command reads /dev/null)
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Add a capability to Docker's default set (e.g. NET_ADMIN, or ALL)
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,

    /// Drop a capability from the set (e.g. CHOWN, or ALL)
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,

    /// Give the container every capability the engine has, no seccomp filter, no masked paths
    #[arg(long)]
    pub privileged: bool,

    /// Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json
    #[arg(long = "security-opt", value_name = "OPTION")]
    pub security_opt: Vec<String>,
}

impl ProcessArgs {
    /// A spec for `rootfs` with these options applied.
    pub fn to_spec(&self, rootfs: PathBuf) -> Result<ContainerSpec, Error> {
        self.options.to_spec(rootfs, self.command.clone())
    }
}

impl ProcessOptions {
    /// A spec for `command` in `rootfs` with these options applied.
    pub fn to_spec(&self, rootfs: PathBuf, command: Vec<String>) -> Result<ContainerSpec, Error> {
        let mut spec = ContainerSpec::new(rootfs, command)?;
        if let Some(hostname) = &self.hostname {
            spec.hostname = hostname.clone();
        }
        spec.env = self.env.iter().filter_map(|e| parse_env(e)).collect();
        spec.workdir = self.workdir.clone();
        spec.user = self.user.unwrap_or_default();
        spec.init = self.init;
        spec.tty = self.tty;
        spec.interactive = self.interactive;
        spec.security = self.security()?;
        Ok(spec)
    }

    /// The security options, with capabilities resolved against the engine's own.
    pub fn security(&self) -> Result<SecuritySpec, Error> {
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

/// `KEY=VALUE`, or `KEY` alone to pass the engine's own value on (skipped when unset), as
/// `docker run -e` does.
fn parse_env(entry: &str) -> Option<(String, String)> {
    match entry.split_once('=') {
        Some((key, value)) => Some((key.to_string(), value.to_string())),
        None => std::env::var(entry)
            .ok()
            .map(|value| (entry.to_string(), value)),
    }
}

/// An error a chapter's CLI reports: one line, a hint where one helps, a Docker exit status.
/// Every chapter's error type implements it, so every CLI reports the same way.
pub trait Reportable: std::fmt::Display {
    /// The Docker-style exit status.
    fn exit_code(&self) -> i32;
    /// What the user can do about it.
    fn hint(&self) -> Option<String>;
}

impl Reportable for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
    fn hint(&self) -> Option<String> {
        Error::hint(self)
    }
}

/// Prints `program: cause (hint: ...)` on stderr and returns the Docker exit status for it.
pub fn report(program: &str, error: &impl Reportable) -> ExitCode {
    match error.hint() {
        Some(hint) => eprintln!("{program}: {error} (hint: {hint})"),
        None => eprintln!("{program}: {error}"),
    }
    exit_status(error.exit_code())
}

/// The narrator `--explain` asks for: stderr, or silence.
pub fn narrator(explain: bool) -> Result<Narrator, Error> {
    if !explain {
        return Ok(Narrator::silent());
    }
    Narrator::to_stderr().map_err(Error::io("duplicate stderr for --explain"))
}

/// An `ExitCode` from a Docker-style status (0 to 255).
pub fn exit_status(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(exit_code::ENGINE_FAILURE as u8))
}

/// Parses the command line, exiting as `docker` does on a usage error: the message, then
/// status 125 (help and version still exit 0).
pub fn parse_or_exit<T: clap::Parser>() -> T {
    T::try_parse().unwrap_or_else(|error| {
        let code = if error.use_stderr() {
            exit_code::ENGINE_FAILURE
        } else {
            0
        };
        // Printing can only fail if stderr is closed; the status still tells.
        let _unprinted = error.print();
        std::process::exit(code)
    })
}
