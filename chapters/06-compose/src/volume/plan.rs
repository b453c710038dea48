//! What `run` and `create` decide about a container's mounts, once: the volumes it uses (by
//! name; anonymous ones get their random name now) and the binds and tmpfs it gets, plus an
//! anonymous volume for each path the image declares with `VOLUME` that the command line
//! does not already cover. Nothing is created here: that is [`mounts_for`]'s job, at start.
//!
//! [`mounts_for`]: super::mounts_for

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ch01_namespaces::Mount;

use super::error::{Error, Result};
use super::spec::{self, Requested};
use crate::container::VolumeUse;

/// The mount options of a `run` or `create` command line, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountRequest {
    /// `-v` / `--volume`.
    pub volumes: Vec<String>,
    /// `--mount`.
    pub mounts: Vec<String>,
    /// `--tmpfs`.
    pub tmpfs: Vec<String>,
    /// Where `./relative` host paths start from: the command line's working directory.
    pub cwd: PathBuf,
}

/// A container's mounts, decided: what `hostconfig.json` keeps (`volumes`, and `mounts` as
/// `process.mounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumePlan {
    /// The volumes, named and anonymous, the image's included.
    pub volumes: Vec<VolumeUse>,
    /// The binds and tmpfs mounts (chapter 01's).
    pub mounts: Vec<Mount>,
}

// ANCHOR: plan
/// Reads the command line's mounts and adds an anonymous volume for each of the image's
/// `VOLUME` paths (`image_volumes`, the config's `Volumes` keys) that no mount targets.
/// Two mounts on one target are refused, as docker refuses them.
pub fn plan<I, S>(request: &MountRequest, image_volumes: I) -> Result<VolumePlan>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut requested = Vec::new();
    for text in &request.volumes {
        requested.push(spec::parse_volume(text, &request.cwd)?);
    }
    for text in &request.mounts {
        requested.push(spec::parse_mount(text, &request.cwd)?);
    }
    for text in &request.tmpfs {
        requested.push(spec::parse_tmpfs(text)?);
    }
    let mut targets = BTreeSet::new();
    for one in &requested {
        if !targets.insert(one.target().to_path_buf()) {
            return Err(Error::invalid(
                format!("Duplicate mount point: {}", one.target().display()),
                "give each mount its own target",
            ));
        }
    }
    let mut plan = VolumePlan::default();
    for one in requested {
        match one {
            Requested::Volume(volume) => plan.volumes.push(volume),
            Requested::Mount(mount) => plan.mounts.push(mount),
        }
    }
    for path in image_volumes {
        // An image's paths are absolute (the builder makes them so); clean them as targets.
        let target = spec::clean(&PathBuf::from("/").join(path.as_ref()));
        if target != Path::new("/") && targets.insert(target.clone()) {
            plan.volumes.push(spec::anonymous(target, false)?);
        }
    }
    Ok(plan)
}
// ANCHOR_END: plan

#[cfg(test)]
mod tests {
    use super::*;

    fn request(volumes: &[&str], mounts: &[&str], tmpfs: &[&str]) -> MountRequest {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        MountRequest {
            volumes: strings(volumes),
            mounts: strings(mounts),
            tmpfs: strings(tmpfs),
            cwd: "/".into(),
        }
    }

    #[test]
    fn the_image_volumes_not_covered_become_anonymous_volumes() {
        let plan = plan(
            &request(&["data:/var/lib/db", "/srv:/etc/app:ro"], &[], &["/run"]),
            ["/var/lib/db", "/cache/", "/etc/app", "/run", "/logs"],
        )
        .unwrap();
        let targets: Vec<&Path> = plan.volumes.iter().map(|v| v.target.as_path()).collect();
        assert_eq!(targets, ["/var/lib/db", "/cache", "/logs"].map(Path::new));
        assert!(!plan.volumes[0].anonymous);
        assert!(plan.volumes[1..].iter().all(|v| v.anonymous && !v.no_copy));
        assert_ne!(plan.volumes[1].name, plan.volumes[2].name);
        assert_eq!(plan.mounts.len(), 2);
        assert_eq!(plan.mounts[0], Mount::bind("/srv", "/etc/app", true));
    }

    #[test]
    fn two_mounts_on_one_target_are_refused() {
        for (volumes, mounts, tmpfs) in [
            (&["a1:/t", "a2:/t"][..], &[][..], &[][..]),
            (&["/h:/t"], &["type=tmpfs,dst=/t/"], &[]),
            (&["/t"], &[], &["/t"]),
        ] {
            let error = plan(&request(volumes, mounts, tmpfs), [] as [&str; 0]).unwrap_err();
            assert_eq!(error.to_string(), "Duplicate mount point: /t");
        }
    }
}
