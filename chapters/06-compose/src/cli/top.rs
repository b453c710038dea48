//! `top CONTAINER [ps OPTIONS]`: the processes of a running container, in `ps -ef`'s
//! columns. docker hands the options to the host's `ps`; they are accepted and ignored here,
//! since the processes are read from `/proc` (see [`crate::show::top`]).

use ch04_images::cli::{Context, out};
use clap::Args;
use dockyard_support::format::tabwriter;

use crate::error::Result;
use crate::show::{find, top};

/// `docker top` lays its table out with columns at least this wide.
const TOP_MIN_WIDTH: usize = 20;

/// `top`'s arguments, as docker's.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// Container name or id
    pub container: String,
    /// `ps` options (ignored: the columns are always those of `ps -ef`)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PS OPTIONS"
    )]
    pub ps_options: Vec<String>,
}

impl TopArgs {
    /// Prints the container's processes.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let view = find(cx.store.containers(), &self.container)?;
        let listing = top::top(&view)?;
        let titles: Vec<&str> = listing.titles.iter().map(String::as_str).collect();
        out(tabwriter(&titles, &listing.processes, TOP_MIN_WIDTH))?;
        Ok(0)
    }
}
