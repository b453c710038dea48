//! `diff CONTAINER`: what a container changed, a line each: `A /path`, `C /path`, `D /path`.

use std::io::Write;

use dockyard_support::FromIo;

use crate::error::{Error, Result};
use crate::lifecycle;
use crate::store::Store;

/// Prints the changes of `container`.
pub fn execute(store: &Store, container: &str) -> Result<i32> {
    let record = store.find(container)?;
    let text: String = lifecycle::changes(store, &record)?
        .iter()
        .map(|change| format!("{change}\n"))
        .collect();
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::io_op("write to stdout"))?;
    Ok(0)
}
