//! `logout`: forgets a registry's credentials.

use clap::Args;

use super::out;
use crate::credentials;
use crate::error::Result;
use crate::reference::DEFAULT_REGISTRY;

/// `logout`'s options.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry
    server: Option<String>,
}

impl LogoutArgs {
    /// Forgets the registry's credentials.
    pub fn execute(&self) -> Result<i32> {
        let server = self.server.as_deref().unwrap_or(DEFAULT_REGISTRY);
        if credentials::remove(server)? {
            out(format!("Removing login credentials for {server}\n"))?;
        } else {
            out(format!("Not logged in to {server}\n"))?;
        }
        Ok(0)
    }
}
