//! `create [OPTIONS] IMAGE [CMD…]` and `run [-d] [OPTIONS] IMAGE [CMD…]`.
//!
//! `run -d` is `create` then `start`: the id is printed once the container runs. `run` without
//! `-d` is the same container, watched by this very process instead of a monitor of its own:
//! the output goes to the terminal and to the log, and the command exits with the container's
//! status, as `docker run` does.

use std::os::fd::OwnedFd;

use ch03_union_fs::Record;
use ch03_union_fs::cli::run::print_event;
use ch04_images::cli::Context;
use ch04_images::oci::Healthcheck;

use clap::Args;
use dockyard_support::FromIo;

use super::{monitor_command, out};
use crate::container::{HostConfig, RestartPolicy};
use crate::error::{Error, Result};
use crate::lifecycle::create::{CreateOptions, create};
use crate::monitor::{self, Mode};
use crate::network::config::{NetworkConfig, NetworkMode};
use crate::volume::MountRequest;

/// `create`'s options: chapter 04's `run`'s, and how the container lives once it runs.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    run: ch04_images::cli::run::RunArgs,

    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long, value_name = "POLICY", default_value = "no")]
    restart: RestartPolicy,

    /// The signal that stops the container (default: the image's STOPSIGNAL, else SIGTERM)
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    stop_signal: Option<String>,

    /// Seconds `stop` waits before SIGKILL (default 10)
    #[arg(long = "stop-timeout", value_name = "SECONDS")]
    stop_timeout: Option<u32>,

    #[command(flatten)]
    health: HealthArgs,

    #[command(flatten)]
    network: NetworkArgs,

    /// json-file log options: max-size=SIZE (e.g. 10m), max-file=N
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    log_opts: Vec<String>,

    /// Mount a volume or a host path: NAME:/path[:ro], /host/path:/path[:ro], or /path (a new
    /// anonymous volume)
    #[arg(short = 'v', long = "volume", value_name = "SOURCE:TARGET[:OPTIONS]")]
    volumes: Vec<String>,

    /// Mount a tmpfs: /path[:size=64m,mode=1777,exec…]
    #[arg(long = "tmpfs", value_name = "PATH[:OPTIONS]")]
    tmpfs: Vec<String>,
}

/// `run`'s network options.
#[derive(Debug, Args)]
struct NetworkArgs {
    /// Connect the container to a network: bridge (the default), none, host, or a name
    #[arg(
        long = "network",
        alias = "net",
        value_name = "NETWORK",
        default_value = "bridge"
    )]
    network: String,
    /// Another name the container is found by on its network
    #[arg(long = "network-alias", alias = "net-alias", value_name = "NAME")]
    aliases: Vec<String>,
    /// A fixed IPv4 address on the network (e.g. 172.30.0.10)
    #[arg(long, value_name = "IP")]
    ip: Option<String>,
    /// Publish a container's port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/udp]
    #[arg(short = 'p', long = "publish", value_name = "PORTS")]
    publish: Vec<String>,
    /// Publish every exposed port on a port the kernel chooses
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// A name server instead of the host's
    #[arg(long, value_name = "IP")]
    dns: Vec<String>,
    /// A DNS search domain
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    dns_search: Vec<String>,
    /// A resolver option (resolv.conf's options line)
    #[arg(long = "dns-option", alias = "dns-opt", value_name = "OPTION")]
    dns_options: Vec<String>,
    /// Add a line to /etc/hosts: NAME:IP
    #[arg(long = "add-host", value_name = "NAME:IP")]
    extra_hosts: Vec<String>,
}

impl NetworkArgs {
    /// The container's network settings; values are checked here, before it exists.
    fn config(&self) -> Result<NetworkConfig> {
        let mut ports = Vec::new();
        for spec in &self.publish {
            ports.extend(crate::network::ports::parse(spec)?);
        }
        let ip = match &self.ip {
            Some(text) => Some(text.parse().map_err(|_| {
                Error::invalid(
                    format!(
                        "invalid argument {text:?} for \"--ip\" flag: {text} is not an ip address"
                    ),
                    "write an IPv4 address such as 172.30.0.10",
                )
            })?),
            None => None,
        };
        let mut dns = Vec::new();
        for text in &self.dns {
            dns.push(text.parse().map_err(|_| {
                Error::invalid(
                    format!(
                        "invalid argument {text:?} for \"--dns\" flag: {text} is not an ip address"
                    ),
                    "write the name server's address, e.g. 192.0.2.53",
                )
            })?);
        }
        let config = NetworkConfig {
            mode: NetworkMode::parse(&self.network)?,
            aliases: self.aliases.clone(),
            ip,
            ports,
            publish_all: self.publish_all,
            dns,
            dns_search: self.dns_search.clone(),
            dns_options: self.dns_options.clone(),
            extra_hosts: self.extra_hosts.clone(),
            connected: Vec::new(),
        };
        config.check()?;
        Ok(config)
    }
}

/// `run`'s options: `create`'s and `-d`. (Its group is renamed: chapter 04's `run` options,
/// inside, already use the struct's name.)
#[derive(Debug, Args)]
#[group(id = "detachable-run")]
pub struct RunArgs {
    /// Run the container in the background and print its id
    #[arg(short = 'd', long)]
    detach: bool,

    #[command(flatten)]
    create: CreateArgs,
}

/// The health check options of `docker run`.
#[derive(Debug, Args)]
struct HealthArgs {
    /// Command to run to check health (run by /bin/sh -c)
    #[arg(long = "health-cmd", value_name = "COMMAND")]
    cmd: Option<String>,
    /// Time between two checks (e.g. 30s)
    #[arg(long = "health-interval", value_name = "DURATION")]
    interval: Option<String>,
    /// Longest a check may run (e.g. 30s)
    #[arg(long = "health-timeout", value_name = "DURATION")]
    timeout: Option<String>,
    /// Failures in a row that make the container unhealthy
    #[arg(long = "health-retries", value_name = "N")]
    retries: Option<i64>,
    /// Time to start before failures count (e.g. 5s)
    #[arg(long = "health-start-period", value_name = "DURATION")]
    start_period: Option<String>,
    /// Time between checks during the start period
    #[arg(long = "health-start-interval", value_name = "DURATION")]
    start_interval: Option<String>,
    /// Disable any health check of the image
    #[arg(long = "no-healthcheck")]
    disabled: bool,
}

impl HealthArgs {
    /// The health check that replaces the image's, if the options give one; unset durations
    /// are left at 0, which means "the image's, else docker's default".
    fn healthcheck(&self) -> Result<Option<Healthcheck>> {
        let given = self.cmd.is_some()
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.retries.is_some()
            || self.start_period.is_some()
            || self.start_interval.is_some();
        if self.disabled {
            if given {
                return Err(Error::invalid(
                    "--no-healthcheck conflicts with --health-* options",
                    "drop one or the other",
                ));
            }
            return Ok(Some(Healthcheck {
                test: vec!["NONE".into()],
                ..Healthcheck::default()
            }));
        }
        if !given {
            return Ok(None);
        }
        let duration = |name: &str, text: &Option<String>| -> Result<i64> {
            let Some(text) = text else { return Ok(0) };
            let ns =
                ch05_dockerfile::instructions::duration::parse_duration(text).map_err(|e| {
                    Error::invalid(
                        format!("invalid argument {text:?} for --{name}: {e}"),
                        "write a duration such as 30s or 1m30s",
                    )
                })?;
            match i64::try_from(ns) {
                Ok(ns) if ns >= 0 => Ok(ns),
                _ => Err(Error::invalid(
                    format!("--{name} cannot be negative"),
                    "write a duration such as 30s",
                )),
            }
        };
        Ok(Some(Healthcheck {
            test: match &self.cmd {
                Some(cmd) => vec!["CMD-SHELL".into(), cmd.clone()],
                None => Vec::new(),
            },
            interval: duration("health-interval", &self.interval)?,
            timeout: duration("health-timeout", &self.timeout)?,
            start_period: duration("health-start-period", &self.start_period)?,
            start_interval: duration("health-start-interval", &self.start_interval)?,
            retries: self.retries.unwrap_or(0),
        }))
    }
}

impl CreateArgs {
    /// Creates the container.
    fn create(&self, cx: &Context) -> Result<Record> {
        // `--mount` is chapter 01's option read with volumes added: chapter 06 reads it.
        let mut run = self.run.clone();
        let mount_options = std::mem::take(&mut run.process.mounts);
        let mounts = MountRequest {
            volumes: self.volumes.clone(),
            mounts: mount_options,
            tmpfs: self.tmpfs.clone(),
            cwd: std::env::current_dir().map_err(Error::io_op("find the working directory"))?,
        };
        let options = CreateOptions {
            run: run.image_run()?,
            host: HostConfig {
                restart: self.restart,
                auto_remove: self.run.container.rm,
                healthcheck: self.health.healthcheck()?,
                stop_signal: self.stop_signal.clone(),
                stop_timeout: self.stop_timeout,
                log: crate::log::parse_log_options(&self.log_opts)?,
                network: self.network.config()?,
                ..HostConfig::default()
            },
            mounts,
        };
        if let Some(signal) = &self.stop_signal {
            crate::lifecycle::signal::parse(signal)?;
        }
        let storage = cx
            .globals
            .storage
            .options()
            .map_err(ch04_images::Error::from)?;
        let events = |event| print_event(cx.program, event);
        create(&cx.store, options, &storage, &cx.narrator, &events)
    }

    /// `create`: prints the new container's id.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let record = self.create(cx)?;
        out(format!("{}\n", record.id))?;
        Ok(0)
    }
}

impl RunArgs {
    /// `run`: detached, the id once the container runs; attached, the container's status.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let record = self.create.create(cx)?;
        if self.detach {
            crate::lifecycle::start::start(
                cx.store.containers(),
                &record.id,
                &monitor_command(cx)?,
            )?;
            out(format!("{}\n", record.id))?;
            return Ok(0);
        }
        let mode = if self.create.run.process.tty {
            Mode::Terminal
        } else {
            Mode::Attached {
                stdout: duplicate(1)?,
                stderr: duplicate(2)?,
            }
        };
        let storage = cx
            .globals
            .storage
            .options()
            .map_err(ch04_images::Error::from)?;
        monitor::run(
            cx.store.containers(),
            &record.id,
            &storage,
            mode,
            super::prober(cx)?,
            &cx.narrator,
        )
    }
}

/// A copy of this process's descriptor `fd`, closed on exec, kept before the monitor replaces
/// `fd` with a pipe.
fn duplicate(fd: i32) -> Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor (or -1) this process then owns.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(Error::io_op("keep the terminal's descriptors")(
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: just returned to this process, owned by nothing else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(copy) })
}
