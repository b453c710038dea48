//! `ch06-compose`: chapter 05's tool, plus containers that keep running (`run -d`, `ps`,
//! `logs`, `exec`, `stop`…) and volumes. Every subcommand lives in the library's `cli` module.

use std::process::ExitCode;

use ch04_images::cli::Globals;
use ch06_compose::cli::{Command, execute};
use clap::Parser;
use dockyard_support::cli::parse_or_exit;

const PROGRAM: &str = "ch06-compose";

#[derive(Debug, Parser)]
#[command(
    name = PROGRAM,
    version,
    about = "Dockyard chapter 06: containers that keep running, volumes"
)]
struct Cli {
    #[command(flatten)]
    globals: Globals,

    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    execute(PROGRAM, &cli.globals, &cli.command)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        // clap checks a command's definition only when it parses one: this checks them all.
        super::Cli::command().debug_assert();
    }
}
