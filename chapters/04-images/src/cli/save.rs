//! `save [-o FILE] [--format docker|oci] IMAGE...`: images out of the store, as an archive.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::Context;
use crate::error::{Error, Result};
use crate::save::{Format, save, save_to_file};

/// `save`'s options.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The archive to write (default: stdout, if it is not a terminal)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The archive's format: docker or oci
    #[arg(long, default_value = "docker", value_name = "FORMAT")]
    format: Format,
    /// Image names or ids
    #[arg(required = true)]
    images: Vec<String>,
}

impl SaveArgs {
    /// Writes the archive to the file, or to stdout when it is not a terminal.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        match &self.output {
            Some(path) if path.as_os_str() != "-" => {
                save_to_file(&cx.store, &self.images, self.format, path)?
            }
            _ if std::io::stdout().is_terminal() => {
                return Err(Error::Invalid(
                    "refusing to write an archive to a terminal (use -o FILE, or redirect stdout)"
                        .into(),
                ));
            }
            _ => save(
                &cx.store,
                &self.images,
                self.format,
                std::io::stdout().lock(),
            )?,
        }
        Ok(0)
    }
}
