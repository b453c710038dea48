//! Which containers use which volumes. There is no registry of references to keep in step:
//! a container's `hostconfig.json` lists the volumes it mounts ([`VolumeUse`]), written when
//! the container is created and gone when it is removed, so the containers' files are the
//! truth. A volume is *in use* while some container, running or not, names it; docker counts
//! stopped containers too, since starting one again needs its volumes.

use std::collections::BTreeMap;

use crate::container::{self, HostConfig, Paths, VolumeUse};

use super::error::{Error, Result};

/// For each volume some container names, the ids of those containers, oldest first.
pub fn users(containers: &ch03_union_fs::Store) -> Result<BTreeMap<String, Vec<String>>> {
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in containers.list()? {
        for volume in volumes_of(containers, &record.id)? {
            let ids = users.entry(volume.name).or_default();
            if !ids.contains(&record.id) {
                ids.push(record.id.clone());
            }
        }
    }
    Ok(users)
}

/// The ids of the containers that use the volume `name`.
pub fn users_of(containers: &ch03_union_fs::Store, name: &str) -> Result<Vec<String>> {
    Ok(users(containers)?.remove(name).unwrap_or_default())
}

/// The volumes container `id` mounts; none for a container of an earlier chapter, which has
/// no `hostconfig.json`.
fn volumes_of(containers: &ch03_union_fs::Store, id: &str) -> Result<Vec<VolumeUse>> {
    let path = Paths::new(containers, id).host_config();
    match container::read_json::<HostConfig>(&path) {
        Ok(config) => Ok(config.volumes),
        Err(crate::Error::Io(io)) if io.source.kind() == std::io::ErrorKind::NotFound => {
            Ok(Vec::new())
        }
        Err(e) => Err(Error::from(e)),
    }
}
