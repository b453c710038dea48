//! `compose [-f FILE]... [-p NAME] ... config`: `docker compose`'s global options and its
//! subcommands. The command line gives the library the process environment and directory;
//! the library loads the project ([`crate::compose::load`]) and this module prints it.
//!
//! Docker Compose ends every failure with status 1 (not docker's 125 for a bad request), so
//! these commands do too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use dockyard_support::cli::{exit_code, print_error};

use crate::compose::{LoadOptions, Project, load};

/// `compose`'s global options, then a subcommand.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Compose configuration files (default: compose.yaml in the current directory)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    project_name: Option<String>,
    /// Alternate environment files (default: .env in the project directory)
    #[arg(long = "env-file", value_name = "FILE")]
    env_files: Vec<PathBuf>,
    /// Profiles to enable
    #[arg(long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
    /// Alternate working directory (default: the first file's directory)
    #[arg(long, value_name = "DIR")]
    project_directory: Option<PathBuf>,
    #[command(subcommand)]
    command: ComposeCommand,
}

/// `compose`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum ComposeCommand {
    /// Parse, resolve and render the compose files in canonical form
    Config(ConfigArgs),
}

/// `compose config`'s options.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the service names, one per line, in dependency order
    #[arg(long)]
    services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    volumes: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    profiles: bool,
    /// Don't check the model's consistency (depends_on naming no service)
    #[arg(long)]
    no_consistency: bool,
    /// Format the output
    #[arg(long, value_enum, default_value = "yaml")]
    format: Format,
}

/// `config --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Runs a `compose` subcommand; status 1 on any failure, as Docker Compose.
pub fn execute(program: &str, args: &ComposeArgs) -> ExitCode {
    let ComposeCommand::Config(config) = &args.command;
    let options = match load_options(args, config.no_consistency) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{program}: {error}");
            return exit_code(1);
        }
    };
    let project = match load(&options) {
        Ok(project) => project,
        Err(error) => {
            print_error(program, &error);
            return exit_code(1);
        }
    };
    match super::out(config.render(&project)) {
        Ok(()) => exit_code(0),
        Err(error) => {
            dockyard_support::cli::report(program, &error, dockyard_support::cli::Invocation::Other)
        }
    }
}

fn load_options(args: &ComposeArgs, skip_consistency_check: bool) -> std::io::Result<LoadOptions> {
    Ok(LoadOptions {
        files: args.files.clone(),
        project_name: args.project_name.clone(),
        project_directory: args.project_directory.clone(),
        env_files: args.env_files.clone(),
        profiles: args.profiles.clone(),
        working_dir: std::env::current_dir()?,
        environment: std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect::<BTreeMap<_, _>>(),
        skip_consistency_check,
    })
}

impl ConfigArgs {
    fn render(&self, project: &Project) -> String {
        let lines = |names: Vec<String>| names.iter().map(|n| format!("{n}\n")).collect();
        if self.services {
            return lines(project.dependency_order());
        }
        if self.volumes {
            return lines(project.volumes.keys().cloned().collect());
        }
        if self.profiles {
            return lines(project.profiles());
        }
        match self.format {
            Format::Json => {
                let mut text = serde_json::to_string_pretty(project).expect("a tree serializes");
                text.push('\n');
                text
            }
            Format::Yaml => serde_saphyr::to_string(project).expect("a tree serializes"),
        }
    }
}
