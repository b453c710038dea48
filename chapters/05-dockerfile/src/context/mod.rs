//! TEMPORARY STUB (replaced by the context branch).
use crate::error::Result;
use std::path::{Path, PathBuf};
/// stub
pub struct Context {
    root: PathBuf,
}
impl Context {
    /// stub
    pub fn from_dir(dir: &Path) -> Result<Context> {
        Ok(Context {
            root: dir.canonicalize().unwrap(),
        })
    }
    /// stub
    pub fn from_tar(_input: impl std::io::Read, scratch: PathBuf) -> Result<Context> {
        Ok(Context { root: scratch })
    }
    /// stub
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// stub
    pub fn read_file(&self, name: &str) -> Result<Vec<u8>> {
        Ok(std::fs::read(self.root.join(name)).unwrap())
    }
    /// stub
    pub fn is_ignored(&self, _path: &Path) -> bool {
        false
    }
}
