//! `compose ls`, `images`, `port`, `top`: what exists of the projects, read from the store
//! by Compose's labels.

use std::collections::BTreeMap;

use ch04_images::cli::{Context, Globals, out};
use clap::{Args, ValueEnum};
use dockyard_support::format::{DOCKER_MIN_WIDTH, human_size, tabwriter};

use super::ComposeArgs;
use crate::cli::port::PortArgs;
use crate::cli::top::TopArgs;
use crate::compose::labels;
use crate::compose::up::number_of;
use crate::container::Status;
use crate::error::{Error, Result};
use crate::show::view::{ContainerView, list};

/// `ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Show all stopped Compose projects
    #[arg(short, long)]
    all: bool,
    /// Only display project names
    #[arg(short, long)]
    quiet: bool,
    /// Format the output
    #[arg(long, value_enum, default_value = "table")]
    format: ListFormat,
}

/// `ls --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

/// `images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// `port`.
#[derive(Debug, Args)]
pub struct ComposePortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// Index of the container if the service has several replicas
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// The service
    service: String,
    /// The container's port
    private_port: u16,
}

/// `top`.
#[derive(Debug, Args)]
pub struct ComposeTopArgs {
    /// The services (default: all)
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// A project's containers' statuses, as Compose's `ls` shows them: `running(2), exited(1)`.
fn project_status(views: &[&ContainerView]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for view in views {
        let word = match view.status {
            _ if view.paused => "paused",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Created => "created",
            Status::Exited => "exited",
            Status::Dead => "dead",
        };
        *counts.entry(word).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(w, n)| format!("{w}({n})")).collect();
    parts.join(", ")
}

impl LsArgs {
    /// Lists the projects with containers in the store.
    pub fn execute(&self, program: &str, globals: &Globals) -> Result<i32> {
        let cx = Context::open(program, globals)?;
        let views = list(cx.store.containers())?;
        let mut projects: BTreeMap<String, Vec<&ContainerView>> = BTreeMap::new();
        for view in &views {
            if let Some(project) = view.config.labels.get(labels::PROJECT) {
                projects.entry(project.clone()).or_default().push(view);
            }
        }
        // Without -a, a project shows when one of its containers runs.
        projects.retain(|_, views| self.all || views.iter().any(|v| v.is_running()));
        let rows: Vec<(String, String, String)> = projects
            .iter()
            .map(|(name, views)| {
                let files = views
                    .iter()
                    .find_map(|v| v.config.labels.get(labels::CONFIG_FILES))
                    .cloned()
                    .unwrap_or_default();
                (name.clone(), project_status(views), files)
            })
            .collect();
        let text = match (self.quiet, self.format) {
            (true, _) => rows
                .iter()
                .map(|(name, _, _)| format!("{name}\n"))
                .collect(),
            (false, ListFormat::Json) => {
                let list: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(name, status, files)| {
                        serde_json::json!({"Name": name, "Status": status, "ConfigFiles": files})
                    })
                    .collect();
                format!("{}\n", serde_json::Value::Array(list))
            }
            (false, ListFormat::Table) => {
                let rows: Vec<Vec<String>> = rows
                    .into_iter()
                    .map(|(name, status, files)| vec![name, status, files])
                    .collect();
                tabwriter(&["NAME", "STATUS", "CONFIG FILES"], &rows, DOCKER_MIN_WIDTH)
            }
        };
        out(text)?;
        Ok(0)
    }
}

impl ImagesArgs {
    /// The images the project's containers run.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let containers = args.containers(program, globals, &self.services)?;
        let cx = Context::open(program, globals)?;
        let summaries = ch04_images::list::images(&cx.store, None)?;
        let mut rows = Vec::new();
        for container in &containers {
            let id = container.label(labels::IMAGE);
            let summary = summaries.iter().find(|s| s.id.to_string() == id);
            let short = id.strip_prefix("sha256:").unwrap_or(id);
            let short = &short[..short.len().min(12)];
            if self.quiet {
                rows.push(vec![short.to_owned()]);
                continue;
            }
            rows.push(vec![
                container.name.clone(),
                summary.map_or("<none>".into(), |s| s.repository.clone()),
                summary.map_or("<none>".into(), |s| s.tag.clone()),
                short.to_owned(),
                summary.map_or(String::new(), |s| human_size(s.size)),
            ]);
        }
        let text = if self.quiet {
            rows.iter().map(|row| format!("{}\n", row[0])).collect()
        } else {
            tabwriter(
                &["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
                &rows,
                DOCKER_MIN_WIDTH,
            )
        };
        out(text)?;
        Ok(0)
    }
}

impl ComposePortArgs {
    /// The host address a service's container port is published on.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let containers = args.containers(program, globals, std::slice::from_ref(&self.service))?;
        let container = containers
            .into_iter()
            .find(|c| number_of(c) == self.index)
            .ok_or_else(|| {
                Error::invalid(
                    format!(
                        "service \"{}\" has no container {}",
                        self.service, self.index
                    ),
                    format!("start it with `compose up -d {}`", self.service),
                )
            })?;
        let cx = Context::open(program, globals)?;
        PortArgs {
            container: container.name,
            port: Some(format!("{}/{}", self.private_port, self.protocol)),
        }
        .execute(&cx)
    }
}

impl ComposeTopArgs {
    /// Each running container's processes, after its name.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let containers = args.containers(program, globals, &self.services)?;
        let cx = Context::open(program, globals)?;
        for container in containers.iter().filter(|c| c.state.running()) {
            out(format!("{}\n", container.name))?;
            TopArgs {
                container: container.id.clone(),
                ps_options: Vec::new(),
            }
            .execute(&cx)?;
            out("\n")?;
        }
        Ok(0)
    }
}
