//! `cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-` and `cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH`:
//! files between a container and this machine, as docker's.

use std::io::Write;

use ch04_images::cli::Context;
use clap::Args;
use dockyard_support::FromIo;

use crate::copy::path::CpPath;
use crate::copy::{CopyOptions, Input, Output, copy_from, copy_to};
use crate::error::{Error, Result};

/// `cp`'s arguments, as docker's.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    archive: bool,
    /// Always follow symlinks in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    follow_link: bool,
    /// CONTAINER:SRC_PATH, or SRC_PATH on this machine, or - (a tar on stdin)
    source: String,
    /// DEST_PATH on this machine, or - (a tar on stdout), or CONTAINER:DEST_PATH
    destination: String,
}

impl CpArgs {
    /// Copies; prints nothing (a tar with `-`).
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        if self.source.is_empty() {
            return Err(Error::invalid("source can not be empty", "give a path"));
        }
        if self.destination.is_empty() {
            return Err(Error::invalid(
                "destination can not be empty",
                "give a path",
            ));
        }
        let options = CopyOptions {
            archive: self.archive,
            follow_link: self.follow_link,
        };
        let storage = cx
            .globals
            .storage
            .options()
            .map_err(ch04_images::Error::from)?;
        let cwd = std::env::current_dir().map_err(Error::io_op("read the working directory"))?;
        let (store, n) = (cx.store.containers(), &cx.narrator);
        match (split(&self.source), split(&self.destination)) {
            ((Some(container), path), (None, "-")) => {
                let mut stdout = std::io::stdout().lock();
                let output = Output::Tar(&mut stdout);
                copy_from(store, &storage, container, path, output, &options, n)?;
                stdout.flush().map_err(Error::io_op("write to stdout"))?;
            }
            ((Some(container), path), (None, dest)) => {
                let output = Output::Host(CpPath::on_host(dest, &cwd));
                copy_from(store, &storage, container, path, output, &options, n)?;
            }
            ((None, "-"), (Some(container), path)) => {
                let mut stdin = std::io::stdin().lock();
                let input = Input::Tar(&mut stdin);
                copy_to(store, &storage, container, input, path, &options, n)?;
            }
            ((None, source), (Some(container), path)) => {
                let input = Input::Host(CpPath::on_host(source, &cwd));
                copy_to(store, &storage, container, input, path, &options, n)?;
            }
            ((Some(_), _), (Some(_), _)) => {
                return Err(Error::invalid(
                    "copying between containers is not supported",
                    "copy out to this machine, then in",
                ));
            }
            ((None, _), (None, _)) => {
                return Err(Error::invalid(
                    "must specify at least one container source",
                    "name a container path as CONTAINER:PATH",
                ));
            }
        }
        Ok(0)
    }
}

/// Splits `CONTAINER:PATH`, as docker does: a path that starts with `/`, or whose part
/// before the first `:` starts with `.`, is this machine's (`./file:name.txt`), so is one
/// without `:`.
fn split(argument: &str) -> (Option<&str>, &str) {
    if argument.starts_with('/') {
        return (None, argument);
    }
    match argument.split_once(':') {
        Some((container, path)) if !container.starts_with('.') => {
            ((!container.is_empty()).then_some(container), path)
        }
        _ => (None, argument),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn container_paths_are_told_from_local_ones_as_docker_tells_them() {
        assert_eq!(split("web:/etc/hosts"), (Some("web"), "/etc/hosts"));
        assert_eq!(split("web:etc"), (Some("web"), "etc"));
        assert_eq!(split("/tmp/a:b"), (None, "/tmp/a:b"));
        assert_eq!(split("./a:b"), (None, "./a:b"));
        assert_eq!(split("file.txt"), (None, "file.txt"));
        assert_eq!(split("-"), (None, "-"));
    }
}
