//! `compose ps [-a] [-q] [--format table|json|TEMPLATE] [SERVICE...]`: the project's
//! containers, through `ps`'s templates with Compose's columns.

use ch04_images::cli::{Context, Globals, out};
use clap::Args;

use super::ComposeArgs;
use crate::compose::labels;
use crate::error::Result;
use crate::show::Selection;

/// `ps`'s options, as Docker Compose's.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all stopped containers
    #[arg(short, long)]
    all: bool,
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format the output: table, json, or a template such as '{{.Name}}'
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Only these services' containers
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// Compose's table.
const TABLE: &str = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}";

impl PsArgs {
    /// Prints the project's containers.
    pub fn execute(&self, program: &str, globals: &Globals, args: &ComposeArgs) -> Result<i32> {
        let (name, _) = args.project_or_name()?;
        let cx = Context::open(program, globals)?;
        let template = match (self.quiet, self.format.as_deref()) {
            (true, _) => "{{.ID}}".to_string(),
            (false, None | Some("table")) => TABLE.to_string(),
            (false, Some("json")) => "{{json .}}".to_string(),
            (false, Some(template)) => template.to_string(),
        };
        let template = template
            .replace(".Name}}", ".Names}}")
            .replace(".Service}}", &format!(".Label \"{}\"}}}}", labels::SERVICE))
            .replace(".Project}}", &format!(".Label \"{}\"}}}}", labels::PROJECT));
        let mut filters = vec![format!("label={}={name}", labels::PROJECT)];
        filters.extend(
            self.services
                .iter()
                .map(|service| format!("label={}={service}", labels::SERVICE)),
        );
        let selection = Selection {
            all: self.all,
            last: None,
            filters,
        };
        let docker_ps = crate::cli::ps::PsArgs {
            all: self.all,
            quiet: self.quiet,
            last: None,
            latest: false,
            no_trunc: self.quiet,
            size: false,
            filter: Vec::new(),
            format: None,
        };
        let header = |placeholder: &str| match placeholder {
            ".Names" => Some("NAME".to_string()),
            p if p.contains(labels::SERVICE) => Some("SERVICE".to_string()),
            p if p.contains(labels::PROJECT) => Some("PROJECT".to_string()),
            other => crate::cli::ps::header(other),
        };
        let text = docker_ps.render(&cx, &selection, &template, &header)?;
        let text = if self.format.as_deref() == Some("json") && !self.quiet {
            text.lines().map(compose_json).collect()
        } else {
            text
        };
        // Compose lists a project's containers by name, not newest first.
        let mut lines: Vec<&str> = text.lines().collect();
        let body_start = usize::from(template.starts_with("table"));
        if lines.len() > body_start {
            lines[body_start..].sort_unstable();
        }
        out(lines
            .iter()
            .map(|line| format!("{line}\n"))
            .collect::<String>())?;
        Ok(0)
    }
}

/// docker's JSON line of a container with Compose's fields added: `Name`, `Project`,
/// `Service` (read from its labels).
fn compose_json(line: &str) -> String {
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str(line) else {
        return format!("{line}\n");
    };
    let labels = object
        .get("Labels")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let label = |key: &str| {
        labels
            .split(',')
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_default()
            .to_owned()
    };
    let name = object.get("Names").cloned().unwrap_or_default();
    object.insert("Name".into(), name);
    object.insert("Project".into(), label(labels::PROJECT).into());
    object.insert("Service".into(), label(labels::SERVICE).into());
    format!("{}\n", serde_json::Value::Object(object))
}
