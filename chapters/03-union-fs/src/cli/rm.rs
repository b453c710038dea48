//! `rm CONTAINER...`: removes containers that are not running and their writable layers.

use dockyard_support::cli::print_error;

use crate::error::Result;
use crate::lifecycle;
use crate::store::Store;

/// Removes each container, printing its name as docker does; a failure is reported and the
/// others are still removed, and the status (1) says something failed.
pub fn execute(program: &str, store: &Store, containers: &[String]) -> Result<i32> {
    let mut failed = false;
    for reference in containers {
        match store
            .find(reference)
            .and_then(|record| lifecycle::remove(store, &record))
        {
            Ok(()) => println!("{reference}"),
            Err(error) => {
                print_error(program, &error);
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}
