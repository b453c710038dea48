//! The process a container runs, rebuilt at every start from what its creation saved: the
//! image config with the overrides applied (chapter 03's record) and the host config.

use ch01_namespaces::{ContainerId, ContainerSpec};
use ch03_union_fs::Record;
use ch04_images::oci::ContainerConfig;
use ch04_images::run::Overrides;

use crate::container::HostConfig;
use crate::error::{Error, Result};

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

/// Chapter 01's spec for the next start of the container `record` is.
pub fn container_spec(record: &Record, host: &HostConfig) -> Result<ContainerSpec> {
    let config = running_config(record)?;
    let mut spec = ch04_images::run::spec(
        &config,
        &host.process,
        &Overrides::default(),
        &record.layers,
    )?;
    spec.id = ContainerId::parse(&record.id)?;
    if host.process.hostname.is_none() {
        spec.hostname = spec.id.short().to_owned();
    }
    Ok(spec)
}
