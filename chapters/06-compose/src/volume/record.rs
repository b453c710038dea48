//! What a volume is: its name, its data directory and its metadata (`volume.json`), the record
//! both the store and the drivers read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The only driver: a directory on this machine (docker's `local`).
pub const LOCAL_DRIVER: &str = "local";

/// The file beside `_data` that says what the volume is.
pub const METADATA: &str = "volume.json";

/// The directory containers see.
pub const DATA: &str = "_data";

/// What `volume.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// When it was made, in nanoseconds since the epoch.
    pub created_ns: u64,
    /// Always `local`.
    pub driver: String,
    /// `--label`s.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The driver's options, `-o`: how the local driver mounts it.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Made for one container (`-v /path`, an image's `VOLUME`): `rm -v` and `volume prune`
    /// without `--all` remove it.
    #[serde(default)]
    pub anonymous: bool,
}

/// A volume: its name, where its data is, and its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Its name.
    pub name: String,
    /// Its `_data` directory: what a container sees on the target.
    pub mountpoint: PathBuf,
    /// What `volume.json` says.
    pub metadata: Metadata,
}
