//! Docker's seccomp profile format (the JSON of `--security-opt seccomp=PROFILE.json`).
//!
//! A profile is a default action plus rules. Each rule names system calls, an action, and
//! optionally conditions on the call's arguments and on the container (the capabilities it
//! holds, the architecture, the kernel version). Fields Docker's format has and Dockyard does
//! not use (`comment`, `archMap`, ...) are accepted and ignored.

use serde::Deserialize;

use crate::error::{Error, Result};

/// A whole profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// What happens to a call no rule matches.
    pub default_action: Action,
    /// The errno for a default action of `SCMP_ACT_ERRNO` (EPERM if absent).
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// The rules, in order: for each call, the first rule that matches decides.
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The system calls it applies to (Docker's older format used a single `name`).
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    /// What happens when it matches.
    pub action: Action,
    /// The errno for `SCMP_ACT_ERRNO` (and the data for `SCMP_ACT_TRACE`).
    #[serde(default)]
    pub errno_ret: Option<u32>,
    /// Conditions on the arguments, all of which must hold.
    #[serde(default)]
    pub args: Option<Vec<ArgCondition>>,
    /// The rule applies only to containers that have all of this.
    #[serde(default)]
    pub includes: Filter,
    /// The rule does not apply to containers that have any of this.
    #[serde(default)]
    pub excludes: Filter,
}

impl Rule {
    /// The call names, from either spelling of the field.
    pub fn call_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(String::as_str)
            .chain(self.name.as_deref())
    }
}

/// Conditions on the container, for `includes` and `excludes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Capabilities, as `CAP_SYS_ADMIN`.
    #[serde(default)]
    pub caps: Vec<String>,
    /// Architectures, as Go names them (`amd64`, `arm64`, ...).
    #[serde(default)]
    pub arches: Vec<String>,
    /// A kernel version, `MAJOR.MINOR`.
    #[serde(default)]
    pub min_kernel: Option<String>,
}

/// A condition on one argument of the call.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgCondition {
    /// Which argument, 0 to 5.
    pub index: u32,
    /// The value to compare with (for `SCMP_CMP_MASKED_EQ`, the mask).
    pub value: u64,
    /// For `SCMP_CMP_MASKED_EQ`, the value the masked argument must equal.
    #[serde(default)]
    pub value_two: u64,
    /// The comparison.
    pub op: Op,
}

/// A comparison, unsigned and on all 64 bits, as libseccomp defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    /// `arg != value`
    #[serde(rename = "SCMP_CMP_NE")]
    NotEqual,
    /// `arg < value`
    #[serde(rename = "SCMP_CMP_LT")]
    Less,
    /// `arg <= value`
    #[serde(rename = "SCMP_CMP_LE")]
    LessOrEqual,
    /// `arg == value`
    #[serde(rename = "SCMP_CMP_EQ")]
    Equal,
    /// `arg >= value`
    #[serde(rename = "SCMP_CMP_GE")]
    GreaterOrEqual,
    /// `arg > value`
    #[serde(rename = "SCMP_CMP_GT")]
    Greater,
    /// `arg & value == value_two`
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEqual,
}

/// What the filter tells the kernel to do with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Action {
    /// Let the call through.
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    /// Fail the call with an errno, without running it.
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    /// Kill the thread.
    #[serde(rename = "SCMP_ACT_KILL", alias = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    /// Kill the whole process.
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    /// Send SIGSYS.
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    /// Let a ptrace tracer decide (ENOSYS without one).
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    /// Allow, and log it.
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
}

impl Profile {
    /// Parses a profile, naming the file in errors.
    pub fn parse(json: &str, origin: &str) -> Result<Profile> {
        let profile: Profile = serde_json::from_str(json)
            .map_err(|e| Error::InvalidSpec(format!("seccomp profile {origin}: {e}")))?;
        for rule in &profile.syscalls {
            if rule.call_names().next().is_none() {
                return Err(Error::InvalidSpec(format!(
                    "seccomp profile {origin}: a rule names no system call"
                )));
            }
            if let Some(arg) = rule.args.iter().flatten().find(|a| a.index > 5) {
                return Err(Error::InvalidSpec(format!(
                    "seccomp profile {origin}: argument index {} (system calls have arguments 0 to 5)",
                    arg.index
                )));
            }
        }
        Ok(profile)
    }
}
