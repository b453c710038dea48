//! Part two of chapter 01: namespaces are not a sandbox.
//!
//! A process in fresh namespaces that is still root with every capability can load a kernel
//! module, reboot the host, remount what it likes or read the host's memory through `/proc`.
//! Namespaces change what a process *sees*; this module limits what it may *do*, with Docker's
//! defaults: a reduced capability set ([`capabilities`]), a seccomp filter on system calls
//! ([`seccomp`]), masked and read-only paths in `/proc` and `/sys` ([`masked`]), and optionally
//! `no_new_privs`, which stops setuid binaries and file capabilities from raising privileges.

pub mod capabilities;
pub mod masked;
pub mod seccomp;

use capabilities::{CapabilitySet, DOCKER_DEFAULT};
use seccomp::SeccompPolicy;

// ANCHOR: security_spec
/// What the container may do, beyond what its namespaces let it see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySpec {
    /// The capabilities the command keeps (its bounding set; also permitted and effective
    /// when it runs as root), as capability numbers.
    pub capabilities: CapabilitySet,
    /// The system call filter.
    pub seccomp: SeccompPolicy,
    /// Mask and freeze Docker's sensitive paths in `/proc` and `/sys` (off with `--privileged`).
    pub mask_paths: bool,
    /// Set `no_new_privs`: `execve` can never grant more privileges (setuid bits, file caps).
    pub no_new_privileges: bool,
}
// ANCHOR_END: security_spec

impl Default for SecuritySpec {
    /// Docker's defaults.
    fn default() -> Self {
        SecuritySpec {
            capabilities: DOCKER_DEFAULT.iter().map(|c| c.index()).collect(),
            seccomp: SeccompPolicy::Default,
            mask_paths: true,
            no_new_privileges: false,
        }
    }
}
