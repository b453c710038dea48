//! `start`, `stop`, `restart`, `kill`, `wait`, `rm`: one container after another, each
//! printed as the user named it once done (docker's output), the first failure reported and
//! the rest still attempted.

use ch04_images::cli::Context;
use clap::Args;
use dockyard_support::cli::print_error;

use super::{monitor_command, out};
use dockyard_support::FromIo;

use crate::container::{HostConfig, read_json};
use crate::error::{Error, Result};
use crate::lifecycle::{pause, prune, remove, signal, start, stop, wait};

/// `start [-a] CONTAINER…`
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach to the container's output and exit with its status (one container only)
    #[arg(short = 'a', long)]
    attach: bool,

    /// Container names or ids
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `stop [-t SECONDS] CONTAINER…` and `restart [-t SECONDS] CONTAINER…`
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container (default: its --stop-timeout, else 10)
    #[arg(
        short = 't',
        long = "time",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    time: Option<i64>,
    /// Container names or ids
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `kill [-s SIGNAL] CONTAINER…`
#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal to send
    #[arg(
        short = 's',
        long = "signal",
        value_name = "SIGNAL",
        default_value = "KILL"
    )]
    signal: String,
    /// Container names or ids
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `attach CONTAINER`
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Container name or id
    container: String,
}

impl AttachArgs {
    /// Connects this terminal to the running container: its output from now on, and (if it
    /// was created with `-i`) what the user types; the status is the container's, unless the
    /// user detaches (Ctrl-P Ctrl-Q).
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let live = crate::lifecycle::Live::find(cx.store.containers(), &self.container)?;
        if !live.running() {
            return Err(Error::conflict(
                "You cannot attach to a stopped container, start it first",
                "start it with `start -a`, which attaches too",
            ));
        }
        let host: HostConfig = read_json(&live.paths.host_config())?;
        let stream = crate::monitor::attach::connect(&live.paths)?;
        match super::attach::session(stream, host.process.tty, host.process.interactive)? {
            super::attach::Ended::Detached => Ok(0),
            super::attach::Ended::Container => wait::wait(cx.store.containers(), &self.container),
        }
    }
}

/// `pause CONTAINER…` and `unpause CONTAINER…`
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Container names or ids
    #[arg(required = true)]
    containers: Vec<String>,
}

impl PauseArgs {
    /// Freezes each container.
    pub fn pause(&self, cx: &Context) -> Result<i32> {
        for_each(cx, &self.containers, |c| {
            pause::pause(cx.store.containers(), c).map(|_| c.to_owned())
        })
    }

    /// Thaws each container.
    pub fn unpause(&self, cx: &Context) -> Result<i32> {
        for_each(cx, &self.containers, |c| {
            pause::unpause(cx.store.containers(), c).map(|_| c.to_owned())
        })
    }
}

/// `container prune [-f]`
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

impl PruneArgs {
    /// Removes every stopped container, once confirmed; docker's report.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        if !self.force
            && !super::prune::confirmed("all stopped containers")
                .map_err(Error::io_op("read the answer"))?
        {
            return Ok(0);
        }
        let done = prune::prune(cx.store.containers())?;
        out(super::prune::report(
            "Containers",
            &done.ids,
            done.reclaimed,
        ))?;
        Ok(0)
    }
}

/// `container SUBCOMMAND`: what docker groups under `docker container`.
#[derive(Debug, clap::Subcommand)]
pub enum ContainerCommand {
    /// Remove all stopped containers
    Prune(PruneArgs),
}

/// `wait CONTAINER…`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Container names or ids
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `rm [-f] CONTAINER…`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill and remove a running container
    #[arg(short = 'f', long)]
    force: bool,
    /// Remove the container's anonymous volumes too
    #[arg(short = 'v', long)]
    volumes: bool,
    /// Container names or ids
    #[arg(required = true)]
    containers: Vec<String>,
}

/// Runs `each` on every container, printing what it prints; docker's status: 1 if any failed.
fn for_each(
    cx: &Context,
    containers: &[String],
    mut each: impl FnMut(&str) -> Result<String>,
) -> Result<i32> {
    let mut status = 0;
    for container in containers {
        match each(container) {
            Ok(line) => out(format!("{line}\n"))?,
            Err(error) => {
                print_error(cx.program, &error);
                status = 1;
            }
        }
    }
    Ok(status)
}

impl StartArgs {
    /// Starts each container; with `-a`, the one container, then its output to its end.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let monitor = monitor_command(cx)?;
        if self.attach {
            let [container] = self.containers.as_slice() else {
                return Err(Error::invalid(
                    "you cannot start and attach multiple containers at once",
                    "start them without -a, or one at a time",
                ));
            };
            let since = i64::try_from(dockyard_support::clock::now_ns()).ok();
            let live = start::start(cx.store.containers(), container, &monitor)?;
            super::logs::follow_output(&live.paths, since)?;
            return wait::wait(cx.store.containers(), container);
        }
        for_each(cx, &self.containers, |c| {
            start::start(cx.store.containers(), c, &monitor).map(|_| c.to_owned())
        })
    }
}

impl StopArgs {
    /// Stops each container.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        for_each(cx, &self.containers, |c| {
            stop::stop(cx.store.containers(), c, self.time).map(|_| c.to_owned())
        })
    }

    /// Stops and starts each container again.
    pub fn restart(&self, cx: &Context) -> Result<i32> {
        let monitor = monitor_command(cx)?;
        for_each(cx, &self.containers, |c| {
            stop::stop(cx.store.containers(), c, self.time)?;
            start::start(cx.store.containers(), c, &monitor).map(|_| c.to_owned())
        })
    }
}

impl KillArgs {
    /// Sends the signal to each container.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let signal = signal::parse(&self.signal)?;
        for_each(cx, &self.containers, |c| {
            stop::kill(cx.store.containers(), c, signal).map(|_| c.to_owned())
        })
    }
}

impl WaitArgs {
    /// Prints each container's exit code once it stopped.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        for_each(cx, &self.containers, |c| {
            wait::wait(cx.store.containers(), c).map(|code| code.to_string())
        })
    }
}

impl RmArgs {
    /// Removes each container.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let status = for_each(cx, &self.containers, |c| {
            remove::remove(cx.store.containers(), c, self.force, self.volumes).map(|_| c.to_owned())
        })?;
        // The layers of an image deleted while a container stood on them go now.
        ch04_images::remove::collect_garbage(&cx.store)?;
        Ok(status)
    }
}
