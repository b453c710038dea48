//! # The labels by which Compose finds what it made
//!
//! Compose keeps no database of its own: every container, network and volume it makes carries
//! labels naming its project (and service, network or volume), and every later command (`ps`,
//! `down`, a second `up`) finds them by those labels. The names are Docker Compose's, so that
//! `ps --filter label=com.docker.compose.project=demo` works as a Docker user expects.

/// The project a container, network or volume belongs to.
pub const PROJECT: &str = "com.docker.compose.project";
/// The project's directory.
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
/// The compose files the project was read from, comma-separated.
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
/// The service a container runs.
pub const SERVICE: &str = "com.docker.compose.service";
/// Which of the service's containers this is (from 1).
pub const NUMBER: &str = "com.docker.compose.container-number";
/// `True` for a container of `compose run`, `False` for the service's own.
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// The hash of the service's configuration the container was made from: a second `up`
/// recreates the container when it differs.
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// The id of the image the container was made from: a rebuilt or pulled image recreates it.
pub const IMAGE: &str = "com.docker.compose.image";
/// The service's dependencies, as `service:condition:restart`, comma-separated.
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
/// The network's key in the compose file.
pub const NETWORK: &str = "com.docker.compose.network";
/// The volume's key in the compose file.
pub const VOLUME: &str = "com.docker.compose.volume";
/// The version of the tool that made it.
pub const VERSION: &str = "com.docker.compose.version";

/// The value of [`VERSION`] this engine writes.
pub const THIS_VERSION: &str = concat!("dockyard-", env!("CARGO_PKG_VERSION"));
