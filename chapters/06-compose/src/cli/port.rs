//! `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host ports a running container's ports are
//! published on, as docker prints them.

use ch04_images::cli::{Context, out};
use clap::Args;

use crate::error::Result;
use crate::show::{find, network};

/// `port`'s arguments, as docker's.
#[derive(Debug, Args)]
pub struct PortArgs {
    /// Container name or id
    pub container: String,
    /// Only this port of the container: 80, 80/tcp, 53/udp
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

impl PortArgs {
    /// Prints the bindings, one a line.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let view = find(cx.store.containers(), &self.container)?;
        let lines = crate::network::ports::format_port_lines(
            &network::published(&view),
            self.port.as_deref(),
            &self.container,
        )?;
        out(lines
            .iter()
            .map(|line| format!("{line}\n"))
            .collect::<String>())?;
        Ok(0)
    }
}
