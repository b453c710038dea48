//! `rename`: a container's name is a link `names/NAME -> ID` beside its record, taken
//! atomically (chapter 03's store). Renaming takes the new link, then rewrites the record,
//! then releases the old link, so that at every instant the container has a name that
//! works, and two renames to one name cannot both win.

use ch03_union_fs::Store;

use crate::error::Result;

/// Gives the container `reference` (a name, an id or an id prefix) the name `name`
/// (docker's leading `/` allowed).
pub fn rename(store: &Store, reference: &str, name: &str) -> Result<()> {
    let mut record = store.find(reference)?;
    store.rename(&mut record, name.strip_prefix('/').unwrap_or(name))?;
    Ok(())
}
