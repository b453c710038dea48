//! The process a container runs, rebuilt at every start from what its creation saved: the
//! image config with the overrides applied (chapter 03's record) and the host config.

use ch01_namespaces::{ContainerId, ContainerSpec, Narrator};
use ch03_union_fs::{Record, Store};
use ch04_images::oci::ContainerConfig;
use ch04_images::run::Overrides;

use crate::container::HostConfig;
use crate::error::{Error, Result};
use crate::network::attach::EtcFiles;
use crate::network::config::NetworkMode;
use crate::network::files::Resolver;
use crate::volume;

/// The config the container runs with (the image's, with `run`'s overrides in).
pub fn running_config(record: &Record) -> Result<ContainerConfig> {
    match &record.config {
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| Error::CorruptState {
            path: format!("container {} config", record.short_id()).into(),
            message: e.to_string(),
        }),
        None => Ok(ContainerConfig::default()),
    }
}

/// Chapter 01's spec for the next start of the container `record` is: its volumes made (and
/// filled from the image when new and empty) and mounted with its binds and tmpfs mounts.
pub fn container_spec(
    store: &Store,
    record: &Record,
    host: &HostConfig,
    n: &Narrator,
) -> Result<ContainerSpec> {
    let config = running_config(record)?;
    let mut spec = ch04_images::run::spec(
        &config,
        &host.process,
        &Overrides::default(),
        &record.layers,
    )?;
    spec.id = ContainerId::parse(&record.id)?;
    spec.host_network = host.network.mode == NetworkMode::Host;
    if host.process.hostname.is_none() {
        spec.hostname = spec.id.short().to_owned();
    }
    spec.mounts = volume::mounts_for(
        store,
        &host.volumes,
        &host.process.mounts,
        &record.layers,
        n,
    )?;
    // The network's files: whole now for `none` and `host`; for a bridge, written again by
    // the network step once the addresses are known (the mounts need the files to exist).
    let files = etc_files(store, record, host, &spec.hostname);
    match &host.network.mode {
        NetworkMode::Host => files.write_for_host(n)?,
        NetworkMode::None | NetworkMode::Bridge(_) => {
            files.write(&[], Resolver::Host, None, n)?;
        }
    }
    spec.mounts.extend(files.mounts());
    Ok(spec)
}

/// Where a container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` are kept, and
/// what goes in them.
pub fn etc_files(store: &Store, record: &Record, host: &HostConfig, hostname: &str) -> EtcFiles {
    EtcFiles {
        dir: crate::container::Paths::new(store, &record.id)
            .dir()
            .to_path_buf(),
        hostname: hostname.to_owned(),
        extra_hosts: host.network.extra_hosts.clone(),
        dns: host.network.dns.clone(),
        dns_search: host.network.dns_search.clone(),
        dns_options: host.network.dns_options.clone(),
    }
}
