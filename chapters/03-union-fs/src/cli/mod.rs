//! The command line of chapter 03, as pieces later chapters' tools reuse: the options it adds
//! (where the state lives, how layers are stacked, what a container is called), and the
//! container commands `ps`, `diff`, `commit -o` and `rm`, one module each, which print what
//! the library returns as `docker` prints it.

pub mod commit;
pub mod diff;
pub mod ps;
pub mod rm;
pub mod run;

use std::path::PathBuf;

use clap::Args;

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::overlay::MountApi;
use crate::run::StorageOptions;
use crate::store::DEFAULT_ROOT;

/// Where the engine keeps its state and how it stacks layers: global options, as dockerd's.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the engine's state: containers, their writable layers, images
    #[arg(long, global = true, value_name = "DIR", default_value = DEFAULT_ROOT)]
    pub root: PathBuf,

    /// How layers are stacked: overlay, or vfs (copies; works everywhere). Default: overlay
    /// where the kernel has it
    #[arg(long = "storage-driver", global = true, value_name = "DRIVER")]
    pub storage_driver: Option<Driver>,

    /// Driver options: overlay.mount_api=auto|legacy|lowerdir+
    #[arg(long = "storage-opt", global = true, value_name = "KEY=VALUE")]
    pub storage_opt: Vec<String>,
}

impl StorageArgs {
    /// The library's storage options.
    pub fn options(&self) -> Result<StorageOptions> {
        Ok(StorageOptions {
            driver: self.storage_driver,
            mount_api: self.mount_api()?,
        })
    }

    /// The overlay mount interface the options ask for.
    fn mount_api(&self) -> Result<MountApi> {
        let mut api = MountApi::Auto;
        for option in &self.storage_opt {
            match option.split_once('=') {
                Some(("overlay.mount_api", value)) => api = value.parse()?,
                _ => {
                    return Err(Error::Invalid(format!(
                        "unknown --storage-opt {option:?} (supported: overlay.mount_api=auto|legacy|lowerdir+)"
                    )));
                }
            }
        }
        Ok(api)
    }
}

/// The layers a container is made of, and what becomes of it.
#[derive(Debug, Clone, Args)]
pub struct LayerArgs {
    /// A read-only layer directory; repeat for a stack, the first is the bottom
    #[arg(long = "layer", value_name = "DIR", required = true)]
    pub layers: Vec<PathBuf>,

    #[command(flatten)]
    pub container: ContainerArgs,
}

/// What a container is called, and what becomes of it when it exits: options of every
/// chapter's `run` from here on.
#[derive(Debug, Clone, Args)]
pub struct ContainerArgs {
    /// Name the container (default: it is known by its id)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Remove the container and its writable layer when it exits
    #[arg(long)]
    pub rm: bool,
}
