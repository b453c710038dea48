//! The command line of chapter 01, as pieces later chapters' tools reuse: [`ProcessArgs`] (the
//! options of `docker run` this chapter implements) and [`CommandArgs`] (those options and the
//! command), flattened into every chapter's `run`, so that every tool keeps every option. They
//! become the library's plain [`ProcessOptions`]; the library never sees a clap type.

use std::path::PathBuf;

use clap::Args;
use dockyard_support::FromIo;

use crate::error::Error;
use crate::explain::Narrator;
use crate::mounts::Mount;
use crate::options::{ProcessOptions, resolve_env};
use crate::spec::User;

/// How the command runs: the options of `docker run` that chapter 01 implements.
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Container hostname (default: the container's short id)
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,

    /// Set an environment variable (KEY alone copies it from this command's environment)
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

    /// Attach a filesystem: type=bind,source=HOST_PATH,target=PATH[,readonly] or
    /// type=tmpfs,target=PATH[,tmpfs-size=SIZE][,tmpfs-mode=OCTAL]
    /// (Kept as written and read by [`ProcessArgs::options`]: a later chapter reads more kinds
    /// of mount from the same option — chapter 06's volumes.)
    #[arg(long = "mount", value_name = "type=…,target=…")]
    pub mounts: Vec<String>,

    /// Mount the container's root filesystem as read only
    #[arg(long)]
    pub read_only: bool,
}

/// The options and the command to run, for tools whose command line gives the command.
#[derive(Debug, Clone, Args)]
pub struct CommandArgs {
    #[command(flatten)]
    pub process: ProcessArgs,

    /// The command to run and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

impl ProcessArgs {
    /// The library's options; `-e KEY` takes its value from this command's environment now.
    pub fn options(&self) -> Result<ProcessOptions, Error> {
        Ok(ProcessOptions {
            hostname: self.hostname.clone(),
            env: resolve_env(&self.env),
            workdir: self.workdir.clone(),
            user: self.user,
            init: self.init,
            tty: self.tty,
            interactive: self.interactive,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            privileged: self.privileged,
            security_opt: self.security_opt.clone(),
            mounts: self
                .mounts
                .iter()
                .map(|m| m.parse::<Mount>())
                .collect::<Result<_, _>>()?,
            read_only: self.read_only,
        })
    }
}

/// The narrator `--explain` asks for: stderr, or silence.
pub fn narrator(explain: bool) -> Result<Narrator, Error> {
    if !explain {
        return Ok(Narrator::silent());
    }
    Narrator::to_stderr().map_err(Error::io_op("duplicate stderr for --explain"))
}
