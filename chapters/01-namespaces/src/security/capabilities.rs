//! Capabilities: root's power, cut into 41 pieces, of which a container keeps 14.
//!
//! The kernel does not ask "is this process root?" but "does it hold CAP_SYS_ADMIN (or
//! CAP_NET_ADMIN, or CAP_SYS_MODULE, ...)?". A process has five sets (capabilities(7)): the
//! *bounding* set caps what it can ever gain, *permitted* what it may use, *effective* what it
//! uses now, *inheritable* and *ambient* what passes through `execve`. Docker leaves a container's
//! root the 14 capabilities an ordinary service needs (change file owners, bind port 80, send
//! signals, ...) and drops the rest: the ones that load kernel modules, reboot, mount, change
//! the clock, or trace other processes.

use std::collections::BTreeSet;

use caps::{CapSet, Capability, CapsHashSet};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

// ANCHOR: default_caps
/// Docker's default capabilities (moby's `oci/caps/defaults.go`, Docker 20.10).
pub const DOCKER_DEFAULT: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];
// ANCHOR_END: default_caps

/// A set of capabilities, ordered by number so that narration and errors are stable.
pub type CapabilitySet = BTreeSet<u8>;

/// The capability with this number.
fn by_index(index: u8) -> Option<Capability> {
    caps::all().into_iter().find(|c| c.index() == index)
}

/// Parses `SYS_ADMIN`, `sys_admin` or `CAP_SYS_ADMIN`.
pub fn parse(name: &str) -> Result<Capability> {
    let upper = name.to_ascii_uppercase();
    let canonical = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    canonical.parse().map_err(|_| {
        Error::InvalidSpec(format!(
            "unknown capability {name:?} (names as in capabilities(7), e.g. NET_ADMIN or CAP_NET_ADMIN)"
        ))
    })
}

/// The capability's name as capabilities(7) writes it.
pub fn name(index: u8) -> String {
    by_index(index).map_or_else(|| format!("cap_{index}"), |c| c.to_string())
}

/// The capabilities this process can hand on: its own bounding set.
pub fn engine_bounding_set() -> Result<CapabilitySet> {
    let set = caps::read(None, CapSet::Bounding).map_err(|e| {
        Error::InvalidSpec(format!(
            "cannot read the engine's capability bounding set: {e}"
        ))
    })?;
    Ok(set.iter().map(Capability::index).collect())
}

// ANCHOR: resolve
/// The container's capabilities, from Docker's rules for `--cap-add`, `--cap-drop` and
/// `--privileged`: start from the default set (or from nothing when `ALL` is dropped, or from
/// everything when `ALL` is added), add, then drop. "Everything" is what the engine itself has:
/// a container cannot be given a capability its engine lacks.
pub fn resolve(
    add: &[String],
    drop: &[String],
    privileged: bool,
    engine: &CapabilitySet,
) -> Result<CapabilitySet> {
    let is_all = |name: &String| name.eq_ignore_ascii_case("ALL");
    // Every name is checked, whichever rule ends up using it.
    let named = |names: &[String]| -> Result<CapabilitySet> {
        names
            .iter()
            .filter(|n| !is_all(n))
            .map(|n| Ok(parse(n)?.index()))
            .collect()
    };
    let (added, dropped) = (named(add)?, named(drop)?);
    if privileged {
        return Ok(engine.clone());
    }
    let mut set: CapabilitySet = if add.iter().any(is_all) {
        engine.clone()
    } else if drop.iter().any(is_all) {
        CapabilitySet::new()
    } else {
        DOCKER_DEFAULT.iter().map(Capability::index).collect()
    };
    set.extend(added);
    set.retain(|c| !dropped.contains(c));
    if let Some(missing) = set.iter().find(|c| !engine.contains(c)) {
        return Err(Error::InvalidSpec(format!(
            "cannot give the container {}: the engine itself does not hold it (its bounding set lacks it)",
            name(*missing)
        )));
    }
    Ok(set)
}
// ANCHOR_END: resolve

/// The set as a bit mask, as `/proc/PID/status` prints capability sets.
pub fn mask(set: &CapabilitySet) -> u64 {
    set.iter().fold(0, |mask, index| mask | (1u64 << index))
}

fn to_hash_set(set: &CapabilitySet) -> CapsHashSet {
    set.iter().filter_map(|i| by_index(*i)).collect()
}

fn caps_error(action: &str) -> impl FnOnce(caps::errors::CapsError) -> Error + '_ {
    move |source| Error::Capabilities {
        action: action.to_string(),
        source,
    }
}

// ANCHOR: bounding
/// Shrinks the bounding set to `keep`: from now on no `execve` (not even of a setuid-root
/// binary) can give this process or its descendants anything outside it. Needs CAP_SETPCAP,
/// so it happens while the child still has all of root's capabilities.
pub fn limit_bounding_set(keep: &CapabilitySet, n: &Narrator) -> Result<()> {
    let current =
        caps::read(None, CapSet::Bounding).map_err(caps_error("read the bounding set"))?;
    let dropped: Vec<Capability> = current
        .into_iter()
        .filter(|c| !keep.contains(&c.index()))
        .collect();
    n.say(
        Actor::Child,
        format!(
            "prctl(PR_CAPBSET_DROP) x{} ; bounding set now {:016x}",
            dropped.len(),
            mask(keep)
        ),
    );
    for cap in dropped {
        caps::drop(None, CapSet::Bounding, cap)
            .map_err(caps_error("drop from the bounding set"))?;
    }
    Ok(())
}
// ANCHOR_END: bounding

// ANCHOR: process_caps
/// Sets the permitted and effective sets to `keep` and empties the inheritable and ambient
/// ones, for a command that runs as root. (For another user, `setuid` away from 0 has already
/// emptied permitted and effective, as capabilities(7) describes, which is what Docker does too.)
pub fn set_process_caps(keep: &CapabilitySet, n: &Narrator) -> Result<()> {
    let keep_set = to_hash_set(keep);
    n.say(
        Actor::Child,
        format!(
            "capset effective=permitted={:016x} inheritable=0 ; ambient cleared",
            mask(keep)
        ),
    );
    caps::clear(None, CapSet::Ambient).map_err(caps_error("clear the ambient set"))?;
    caps::clear(None, CapSet::Inheritable).map_err(caps_error("clear the inheritable set"))?;
    // Effective must stay within permitted: shrink effective first, then permitted.
    caps::set(None, CapSet::Effective, &keep_set).map_err(caps_error("set the effective set"))?;
    caps::set(None, CapSet::Permitted, &keep_set).map_err(caps_error("set the permitted set"))
}
// ANCHOR_END: process_caps

#[cfg(test)]
mod tests {
    use super::*;

    fn everything() -> CapabilitySet {
        (0..=40).collect()
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_set_has_dockers_mask() {
        let set = resolve(&[], &[], false, &everything()).unwrap();
        assert_eq!(format!("{:016x}", mask(&set)), "00000000a80425fb");
    }

    #[test]
    fn names_work_with_or_without_the_prefix_and_in_any_case() {
        assert_eq!(parse("sys_admin").unwrap(), Capability::CAP_SYS_ADMIN);
        assert_eq!(parse("CAP_NET_ADMIN").unwrap(), Capability::CAP_NET_ADMIN);
        assert!(
            parse("FLY")
                .unwrap_err()
                .to_string()
                .contains("unknown capability")
        );
    }

    #[test]
    fn add_and_drop_follow_dockers_rules() {
        let all = everything();
        let set = resolve(&strings(&["SYS_ADMIN"]), &strings(&["CHOWN"]), false, &all).unwrap();
        assert!(set.contains(&Capability::CAP_SYS_ADMIN.index()));
        assert!(!set.contains(&Capability::CAP_CHOWN.index()));
        assert!(
            resolve(&[], &strings(&["ALL"]), false, &all)
                .unwrap()
                .is_empty()
        );
        let only = resolve(&strings(&["KILL"]), &strings(&["all"]), false, &all).unwrap();
        assert_eq!(
            only.into_iter().collect::<Vec<_>>(),
            [Capability::CAP_KILL.index()]
        );
        let most = resolve(&strings(&["ALL"]), &strings(&["SYS_ADMIN"]), false, &all).unwrap();
        assert_eq!(most.len(), 40);
    }

    #[test]
    fn every_name_is_checked_even_beside_all() {
        let all = everything();
        assert!(resolve(&strings(&["ALL", "FLY"]), &[], false, &all).is_err());
        assert!(resolve(&[], &strings(&["ALL", "FLY"]), false, &all).is_err());
    }

    #[test]
    fn privileged_gets_what_the_engine_has_and_no_more() {
        let mut engine = everything();
        engine.remove(&Capability::CAP_SYS_RESOURCE.index());
        let set = resolve(&[], &[], true, &engine).unwrap();
        assert_eq!(set, engine);
        let error = resolve(&strings(&["SYS_RESOURCE"]), &[], false, &engine).unwrap_err();
        assert!(error.to_string().contains("CAP_SYS_RESOURCE"), "{error}");
    }
}
