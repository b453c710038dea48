//! `ps [-a] [-q] [-n N] [-l] [--no-trunc] [-s] [--filter K=V] [--format T]`: containers, in
//! docker's table or a template. docker's table is a template too:
//! `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}`.

use ch04_images::cli::{Context, out};
use ch05_dockerfile::parser::go_quote;
use clap::Args;
use dockyard_support::clock::{format_go_utc, now_ns};
use dockyard_support::format::{
    Columns, DOCKER_MIN_WIDTH, ellipsis, fill_template, human_duration, human_size,
};

use crate::error::{Error, Result};
use crate::show::{ContainerView, Selection, select};

/// `ps`'s options, as docker's.
#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the last N created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "N")]
    pub last: Option<usize>,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Display total file sizes
    #[arg(short, long)]
    pub size: bool,
    /// Filter output: status=, name=, label=, ancestor=, health=, id=, exited= (repeatable)
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Format output with a Go-template-like string ({{.ID}} {{.Image}} {{.Command}}
    /// {{.CreatedAt}} {{.RunningFor}} {{.Status}} {{.State}} {{.Names}} {{.Labels}}
    /// {{.Label "k"}} {{.Ports}} {{.Mounts}} {{.Size}} {{json .}}), "table TEMPLATE", "table"
    /// or "json"
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
}

/// docker's default table.
const TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// The placeholders a template may use, with their headers, in docker's JSON order.
const FIELDS: [(&str, &str); 14] = [
    (".Command", "COMMAND"),
    (".CreatedAt", "CREATED AT"),
    (".ID", "CONTAINER ID"),
    (".Image", "IMAGE"),
    (".Labels", "LABELS"),
    (".LocalVolumes", "LOCAL VOLUMES"),
    (".Mounts", "MOUNTS"),
    (".Names", "NAMES"),
    (".Networks", "NETWORKS"),
    (".Ports", "PORTS"),
    (".RunningFor", "CREATED"),
    (".Size", "SIZE"),
    (".State", "STATE"),
    (".Status", "STATUS"),
];

/// One listed container, with what the template may ask of it.
struct Row {
    view: ContainerView,
    /// Its writable layer's bytes and everything it sees, when sizes are shown.
    size: Option<(u64, u64)>,
}

impl PsArgs {
    /// Prints the containers, newest first.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let selection = Selection {
            all: self.all,
            last: if self.latest { Some(1) } else { self.last },
            filters: self.filter.clone(),
        };
        let template = match (self.quiet, self.format.as_deref()) {
            (true, _) => "{{.ID}}".to_string(),
            (false, None | Some("table")) if self.size => format!("{TABLE}\t{{{{.Size}}}}"),
            (false, None | Some("table")) => TABLE.to_string(),
            (false, Some("json")) => "{{json .}}".to_string(),
            (false, Some(template)) => template.to_string(),
        };
        out(self.render(cx, &selection, &template, &header)?)?;
        Ok(0)
    }

    /// The containers `selection` picks, through `template`, with `header` naming the
    /// columns of a table (`compose ps` names them as Compose does).
    pub(crate) fn render(
        &self,
        cx: &Context,
        selection: &Selection,
        template: &str,
        header: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String> {
        // As docker's, a template that shows sizes makes them computed.
        let sizes = self.size || template.contains(".Size");
        let containers = cx.store.containers();
        let rows: Vec<Row> = select(&cx.store, selection)?
            .into_iter()
            .map(|view| Row {
                size: sizes.then(|| ch03_union_fs::lifecycle::sizes(containers, &view.record)),
                view,
            })
            .collect();
        let now = now_ns();
        let supported: Vec<&str> = FIELDS
            .iter()
            .map(|(field, _)| *field)
            .chain([".Label \"KEY\"", "json ."])
            .collect();
        let columns = Columns {
            header,
            value: &|row: &Row, placeholder| self.value(row, placeholder, now),
            supported: &supported,
            min_width: DOCKER_MIN_WIDTH,
        };
        fill_template(template, &rows, &columns).map_err(|message| Error::Invalid {
            message,
            hint: None,
        })
    }

    /// A row's value for a placeholder, as docker's container formatter gives it.
    fn value(&self, row: &Row, placeholder: &str, now: u64) -> Option<String> {
        if placeholder == "json ." {
            let object: serde_json::Map<String, serde_json::Value> = FIELDS
                .iter()
                .filter_map(|(field, _)| {
                    let key = field.trim_start_matches('.').to_string();
                    Some((key, self.value(row, field, now)?.into()))
                })
                .collect();
            return Some(serde_json::Value::Object(object).to_string());
        }
        if let Some(key) = label_key(placeholder) {
            return Some(
                row.view
                    .config
                    .labels
                    .get(&key)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        let view = &row.view;
        let record = &view.record;
        Some(match placeholder {
            ".ID" if self.no_trunc => record.id.clone(),
            ".ID" => record.short_id().to_string(),
            ".Image" => record.image.clone().unwrap_or_default(),
            ".Command" => go_quote(&self.command(&record.command)),
            ".CreatedAt" => format_go_utc((record.created_ns / 1_000_000_000) as i64),
            ".RunningFor" => format!(
                "{} ago",
                human_duration(now.saturating_sub(record.created_ns) / 1_000_000_000)
            ),
            ".Status" => view.status_text(now),
            ".State" => view.state_word().to_string(),
            ".Names" => view.name().to_string(),
            ".Labels" => {
                let labels: Vec<String> = view
                    .config
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                labels.join(",")
            }
            ".Mounts" => self.mounts(view),
            ".LocalVolumes" => view.host.volumes.len().to_string(),
            ".Ports" => crate::show::network::ports_column(view),
            ".Networks" => crate::show::network::networks_column(view),
            ".Size" => match row.size {
                Some((writable, all)) => {
                    format!("{} (virtual {})", human_size(writable), human_size(all))
                }
                None => "0B".to_string(),
            },
            _ => return None,
        })
    }

    /// The command as docker's list shows it: arguments with spaces in single quotes, cut
    /// to 20 characters unless `--no-trunc`.
    fn command(&self, command: &[String]) -> String {
        let words: Vec<String> = command
            .iter()
            .map(|word| {
                if word.contains(' ') {
                    format!("'{word}'")
                } else {
                    word.clone()
                }
            })
            .collect();
        let joined = words.join(" ");
        if self.no_trunc {
            joined
        } else {
            ellipsis(&joined, 20)
        }
    }

    /// `{{.Mounts}}`: volume names and bind sources, cut to 15 characters unless
    /// `--no-trunc`.
    fn mounts(&self, view: &ContainerView) -> String {
        let binds = view
            .host
            .process
            .mounts
            .iter()
            .filter_map(|m| m.source.as_ref().map(|source| source.display().to_string()));
        let names: Vec<String> = binds
            .chain(view.host.volumes.iter().map(|v| v.name.clone()))
            .map(|name| {
                if self.no_trunc {
                    name
                } else {
                    ellipsis(&name, 15)
                }
            })
            .collect();
        names.join(",")
    }
}

/// A placeholder's column header.
pub(crate) fn header(placeholder: &str) -> Option<String> {
    if placeholder == "json ." {
        return Some(String::new());
    }
    if label_key(placeholder).is_some() {
        return Some("LABEL".to_string());
    }
    FIELDS
        .iter()
        .find(|(field, _)| *field == placeholder)
        .map(|(_, header)| header.to_string())
}

/// The key of `.Label "KEY"`.
fn label_key(placeholder: &str) -> Option<String> {
    let quoted = placeholder.strip_prefix(".Label")?.trim();
    let key = quoted.strip_prefix('"')?.strip_suffix('"')?;
    Some(key.to_string())
}
