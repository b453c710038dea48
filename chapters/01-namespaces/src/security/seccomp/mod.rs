//! Seccomp: a filter on the system calls themselves.
//!
//! Capabilities decide what a call may do once the kernel runs it; seccomp decides whether the
//! kernel runs it at all. That matters for calls whose danger is not guarded by a capability
//! (`keyctl` reaches the kernel's keyring code, `userfaultfd` has served many exploits,
//! `unshare(CLONE_NEWUSER)` needs no capability and hands out a fresh, fully privileged user
//! namespace) and as a second wall for those that are. Docker's default profile is an allowlist
//! of about 350 calls; everything else fails with EPERM.
//!
//! Dockyard reads profiles in Docker's JSON format ([`profile`]), resolves them for the
//! container (its capabilities, this kernel), compiles them to classic BPF itself ([`bpf`]: a
//! small compiler, rather than linking libseccomp, so that the whole path fits in the book and no
//! C library must match the libc the engine links), and loads the program with `seccomp(2)`.

pub mod bpf;
pub mod profile;
mod syscalls;

use std::collections::BTreeMap;

use bpf::{CallRule, FilterPlan};
use dockyard_support::FromIo;
use profile::{Action, Filter, Profile};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};
use crate::security::capabilities::{self, CapabilitySet};

/// Dockyard's default profile: Docker's semantics, in Docker's format.
pub const DEFAULT_PROFILE: &str = include_str!("default.json");

/// Which filter the container gets.
#[derive(Debug, Clone)]
pub enum SeccompPolicy {
    /// No filter (`--security-opt seccomp=unconfined`, or `--privileged`).
    Unconfined,
    /// The default profile, parsed only when the filter is compiled.
    Default,
    /// A profile: the default, or one from `--security-opt seccomp=PROFILE.json`.
    Profile {
        /// Where it came from, for messages: `default` or the file's path.
        origin: String,
        /// The parsed profile.
        profile: Profile,
    },
}

impl SeccompPolicy {
    /// The default profile, parsed now.
    pub fn default_profile() -> Result<Self> {
        Ok(SeccompPolicy::Profile {
            origin: "default".into(),
            profile: Profile::parse(DEFAULT_PROFILE, "default")?,
        })
    }

    /// A profile read from a file.
    pub fn from_file(path: &str) -> Result<Self> {
        let json =
            std::fs::read_to_string(path).map_err(Error::io("read the seccomp profile", path))?;
        Ok(SeccompPolicy::Profile {
            origin: path.to_string(),
            profile: Profile::parse(&json, path)?,
        })
    }
}

impl PartialEq for SeccompPolicy {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SeccompPolicy::Unconfined, SeccompPolicy::Unconfined) => true,
            (SeccompPolicy::Default, SeccompPolicy::Default) => true,
            (
                SeccompPolicy::Profile { origin: a, .. },
                SeccompPolicy::Profile { origin: b, .. },
            ) => a == b,
            _ => false,
        }
    }
}
impl Eq for SeccompPolicy {}

/// A compiled filter, ready to load.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    origin: String,
    program: Vec<libc::sock_filter>,
}

impl CompiledFilter {
    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Whether the program is empty (it never is once compiled).
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// The instructions.
    pub fn program(&self) -> &[libc::sock_filter] {
        &self.program
    }
}

// ANCHOR: seccomp_verdicts
/// The `SECCOMP_RET_*` value of an action (linux/seccomp.h); for errno, the low 16 bits
/// carry the errno the call returns.
fn verdict(action: Action, errno: Option<u32>) -> u32 {
    const EPERM: u32 = 1;
    let data = errno.unwrap_or(EPERM) & 0xffff;
    match action {
        Action::Allow => 0x7fff_0000,
        Action::Log => 0x7ffc_0000,
        Action::Trace => 0x7ff0_0000 | data,
        Action::Errno => 0x0005_0000 | data,
        Action::Trap => 0x0003_0000,
        Action::KillThread => 0x0000_0000,
        Action::KillProcess => 0x8000_0000,
    }
}
// ANCHOR_END: seccomp_verdicts

/// The running kernel's `(major, minor)` version.
fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    parse_version(&release).unwrap_or((0, 0))
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The container, as `includes` and `excludes` see it.
struct Container<'a> {
    capabilities: &'a CapabilitySet,
    kernel: (u32, u32),
}

impl Container<'_> {
    fn holds(&self, cap: &str) -> bool {
        capabilities::parse(cap).is_ok_and(|c| self.capabilities.contains(&c.index()))
    }
    fn is_this_arch(arch: &str) -> bool {
        matches!(arch, "amd64" | "x86_64" | "SCMP_ARCH_X86_64")
    }

    // ANCHOR: applies
    /// Docker's rules: a rule applies when the container has *every* capability and
    /// architecture `includes` lists (and a new enough kernel), and *none* of what `excludes` lists.
    fn applies(&self, includes: &Filter, excludes: &Filter) -> bool {
        let included = includes.caps.iter().all(|c| self.holds(c))
            && (includes.arches.is_empty()
                || includes.arches.iter().any(|a| Self::is_this_arch(a)))
            && includes
                .min_kernel
                .as_deref()
                .and_then(parse_version)
                .is_none_or(|min| self.kernel >= min);
        let excluded = excludes.caps.iter().any(|c| self.holds(c))
            || excludes.arches.iter().any(|a| Self::is_this_arch(a));
        included && !excluded
    }
    // ANCHOR_END: applies
}

/// The rules of `profile` that apply to a container with `caps` on a kernel of version
/// `kernel`, per call number.
fn plan(profile: &Profile, caps: &CapabilitySet, kernel: (u32, u32)) -> FilterPlan {
    let container = Container {
        capabilities: caps,
        kernel,
    };
    let mut calls: BTreeMap<u32, Vec<CallRule>> = BTreeMap::new();
    for rule in profile
        .syscalls
        .iter()
        .filter(|r| container.applies(&r.includes, &r.excludes))
    {
        let call_rule = CallRule {
            args: rule.args.clone().unwrap_or_default(),
            verdict: verdict(rule.action, rule.errno_ret),
        };
        // Names this architecture does not have are skipped, as libseccomp does.
        for nr in rule.call_names().filter_map(number_of) {
            calls.entry(nr).or_default().push(call_rule.clone());
        }
    }
    FilterPlan {
        default_verdict: verdict(profile.default_action, profile.default_errno_ret),
        calls,
    }
}

/// Resolves a profile for a container with `caps` on this kernel, and compiles it.
pub fn compile(policy: &SeccompPolicy, caps: &CapabilitySet) -> Result<Option<CompiledFilter>> {
    let parsed;
    let (origin, profile) = match policy {
        SeccompPolicy::Unconfined => return Ok(None),
        SeccompPolicy::Default => {
            parsed = Profile::parse(DEFAULT_PROFILE, "default")?;
            ("default", &parsed)
        }
        SeccompPolicy::Profile { origin, profile } => (origin.as_str(), profile),
    };
    let plan = plan(profile, caps, kernel_version());
    Ok(Some(CompiledFilter {
        origin: origin.to_string(),
        program: bpf::compile(&plan)?,
    }))
}

/// The x86_64 number of a system call.
pub fn number_of(name: &str) -> Option<u32> {
    syscalls::X86_64
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .map(|i| syscalls::X86_64[i].1)
}

// ANCHOR: load
/// Installs the filter on the calling thread (and, through `execve` and `fork`, on everything
/// the command starts). The kernel accepts it from a process that holds CAP_SYS_ADMIN or has
/// set `no_new_privs`; the child loads it while it still holds every capability.
pub fn load(filter: &CompiledFilter, n: &Narrator) -> Result<()> {
    n.say(
        Actor::Child,
        format!(
            "seccomp(SECCOMP_SET_MODE_FILTER) profile {}: {} BPF instructions",
            filter.origin,
            filter.program.len()
        ),
    );
    let program = libc::sock_fprog {
        len: filter.program.len() as u16,
        filter: filter.program.as_ptr().cast_mut(),
    };
    // SAFETY: `program` points at `filter.program`, which outlives the call; the kernel copies it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(Error::io_op("load the seccomp filter")(
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}
// ANCHOR_END: load

#[cfg(test)]
mod tests;
