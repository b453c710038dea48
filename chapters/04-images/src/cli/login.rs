//! `login`: credentials for a registry, checked, then kept in docker's `config.json`.

use clap::Args;

use super::{Context, out};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::reference::DEFAULT_REGISTRY;
use crate::registry;

/// `login`'s options.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// User name
    #[arg(short, long)]
    username: Option<String>,
    /// Password (prefer --password-stdin: a command line is visible to other users)
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    password_stdin: bool,
    /// The registry
    server: Option<String>,
}

impl LoginArgs {
    /// Checks the credentials against the registry, then stores them.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let server = self.server.as_deref().unwrap_or(DEFAULT_REGISTRY);
        let user = self
            .username
            .clone()
            .ok_or_else(|| Error::Invalid("give the user name with -u USER".into()))?;
        let password = match (&self.password, self.password_stdin) {
            (Some(_), true) => {
                return Err(Error::Invalid(
                    "--password and --password-stdin are mutually exclusive".into(),
                ));
            }
            (Some(password), false) => password.clone(),
            (None, true) => {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| Error::Invalid(format!("read the password from stdin: {e}")))?;
                line.trim_end_matches(['\n', '\r']).to_string()
            }
            (None, false) => {
                return Err(Error::Invalid(
                    "give the password with --password-stdin (or -p)".into(),
                ));
            }
        };
        let credentials = Credentials { user, password };
        let insecure = &cx.globals.insecure_registries;
        registry::login(server, credentials, insecure, &cx.narrator)?;
        out("Login Succeeded\n")?;
        Ok(0)
    }
}
