//! `commit -o FILE CONTAINER`: a container's changes as an OCI layer archive.

use std::path::Path;

use crate::error::Result;
use crate::lifecycle;
use crate::store::Store;

/// Writes the layer archive to `output`, or to stdout for `-`.
pub fn execute_layer(store: &Store, container: &str, output: &Path) -> Result<i32> {
    if output.as_os_str() == "-" {
        lifecycle::commit_layer(store, container, std::io::stdout().lock())?;
    } else {
        lifecycle::commit_layer_to_file(store, container, output)?;
    }
    Ok(0)
}
