//! `run [OPTIONS] IMAGE [COMMAND...]`: a container from an image, to its end.

use ch01_namespaces::cli::ProcessArgs;
use ch02_cgroups::cli::LimitArgs;
use ch03_union_fs::cli::ContainerArgs;
use ch03_union_fs::cli::run::{finish, print_event};
use clap::Args;

use super::Context;
use crate::error::Result;
use crate::run::{ImageRun, Overrides, run_image};

/// `run`'s options: chapter 03's, 02's and 01's, and the image's overrides. Chapter 06's
/// `run` and `create` take them all and add their own.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub container: ContainerArgs,

    /// Overwrite the image's entrypoint ("" clears it)
    #[arg(long, value_name = "COMMAND")]
    pub entrypoint: Option<String>,

    /// Set a label on the container: KEY=VALUE (or KEY, for an empty value)
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// Expose a port or a range of ports: PORT[/PROTO] or FROM-TO[/PROTO]
    #[arg(long, value_name = "PORT")]
    pub expose: Vec<String>,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub process: ProcessArgs,

    /// The image: name or id
    pub image: String,

    /// The command and its arguments, instead of the image's Cmd
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

impl RunArgs {
    /// The library's request: the image, its overrides, the process and cgroup options.
    pub fn image_run(&self) -> Result<ImageRun> {
        Ok(ImageRun {
            image: self.image.clone(),
            overrides: Overrides {
                entrypoint: self.entrypoint.as_ref().map(|entrypoint| {
                    if entrypoint.is_empty() {
                        Vec::new()
                    } else {
                        vec![entrypoint.clone()]
                    }
                }),
                command: self.command.clone(),
            },
            process: self.process.options()?,
            cgroup: self.limits.options()?,
            name: self.container.name.clone(),
            remove: self.container.rm,
            labels: self
                .labels
                .iter()
                .map(|label| match label.split_once('=') {
                    Some((key, value)) => (key.to_owned(), value.to_owned()),
                    None => (label.clone(), String::new()),
                })
                .collect(),
            expose: self.expose.clone(),
        })
    }

    /// Runs the container; its status is the tool's.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let request = self.image_run()?;
        let limits = request.cgroup.limits.clone();
        let storage = cx.globals.storage.options()?;
        let events = |event| print_event(cx.program, event);
        let end = run_image(&cx.store, request, &storage, &cx.narrator, &events)?;
        Ok(finish(cx.program, &end, &limits))
    }
}
