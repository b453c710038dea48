//! `images [-q] [--digests] [--no-trunc] [--format T] [NAME[:TAG]]`: the images, in
//! docker's table or a template.

use std::collections::BTreeSet;

use clap::Args;
use dockyard_support::clock::{format_rfc3339, now};
use dockyard_support::format::{human_duration, human_size, table};

use super::{Context, out};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::list::{ImageSummary, images};

/// `images`'s options.
#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Only show image ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Show full ids
    #[arg(long)]
    pub no_trunc: bool,
    /// Format each image with a Go-template-like string: {{.Repository}}, {{.Tag}}, {{.ID}},
    /// {{.Digest}}, {{.CreatedSince}}, {{.CreatedAt}}, {{.Size}}; "table ..." adds a header
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Only images of this repository (and tag)
    pub reference: Option<String>,
}

impl ImagesArgs {
    /// Prints the images: ids only, a template per image, or docker's table.
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let rows = images(&cx.store, self.reference.as_deref())?;
        if self.quiet {
            let mut seen = BTreeSet::new();
            for row in &rows {
                let id = short_or_full(&row.id, self.no_trunc);
                if seen.insert(id.clone()) {
                    out(format!("{id}\n"))?;
                }
            }
            return Ok(0);
        }
        if let Some(template) = &self.format {
            return print_template(template, &rows, self.no_trunc);
        }
        let mut header = vec!["REPOSITORY", "TAG"];
        if self.digests {
            header.push("DIGEST");
        }
        header.extend(["IMAGE ID", "CREATED", "SIZE"]);
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                let mut cells = vec![row.repository.clone(), row.tag.clone()];
                if self.digests {
                    cells.push(row.digest.clone());
                }
                cells.extend([
                    short_or_full(&row.id, self.no_trunc),
                    created_since(row.created),
                    human_size(row.size),
                ]);
                cells
            })
            .collect();
        out(table(&header, &cells))?;
        Ok(0)
    }
}

/// An image id as docker shows it: 12 hex digits, or whole with `--no-trunc`.
pub fn short_or_full(id: &Digest, full: bool) -> String {
    if full {
        id.to_string()
    } else {
        id.encoded()[..12].to_string()
    }
}

/// docker's CREATED column: "2 days ago", or "N/A" without a date.
pub fn created_since(created: Option<i64>) -> String {
    match created {
        Some(created) => {
            let ago = u64::try_from(now() as i64 - created).unwrap_or(0);
            format!("{} ago", human_duration(ago))
        }
        None => "N/A".into(),
    }
}

/// `--format`: the fields docker's templates name most, and `table` for a header row.
fn print_template(template: &str, rows: &[ImageSummary], no_trunc: bool) -> Result<i32> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let (template, with_header) = match template.strip_prefix("table") {
        Some(rest) => (rest.trim_start().to_string(), true),
        None => (template, false),
    };
    let fields = [
        ("{{.Repository}}", "REPOSITORY"),
        ("{{.Tag}}", "TAG"),
        ("{{.ID}}", "IMAGE ID"),
        ("{{.Digest}}", "DIGEST"),
        ("{{.CreatedSince}}", "CREATED"),
        ("{{.CreatedAt}}", "CREATED AT"),
        ("{{.Size}}", "SIZE"),
    ];
    let render = |values: &dyn Fn(&str) -> String| {
        let mut line = template.clone();
        for (field, _) in fields {
            line = line.replace(field, &values(field));
        }
        line
    };
    let mut lines = Vec::new();
    if with_header {
        lines.push(render(&|field| {
            fields
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(String::new(), |(_, h)| h.to_string())
        }));
    }
    for row in rows {
        lines.push(render(&|field| match field {
            "{{.Repository}}" => row.repository.clone(),
            "{{.Tag}}" => row.tag.clone(),
            "{{.ID}}" => short_or_full(&row.id, no_trunc),
            "{{.Digest}}" => row.digest.clone(),
            "{{.CreatedSince}}" => created_since(row.created),
            "{{.CreatedAt}}" => row.created.map_or("N/A".into(), format_rfc3339),
            "{{.Size}}" => human_size(row.size),
            _ => String::new(),
        }));
    }
    if let Some(unknown) = lines.iter().find_map(|l| l.find("{{").map(|at| &l[at..])) {
        return Err(Error::Invalid(format!(
            "unsupported --format field in {unknown:?} (supported: {})",
            fields.map(|(f, _)| f).join(" ")
        )));
    }
    // With tabs, docker aligns columns; a table of the cells does the same here.
    if template.contains('\t') {
        let cells: Vec<Vec<String>> = lines
            .iter()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        let (head, body) = cells
            .split_first()
            .map_or((Vec::new(), &[][..]), |(h, b)| (h.clone(), b));
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        out(table(&head, body))?;
    } else {
        for line in lines {
            out(format!("{line}\n"))?;
        }
    }
    Ok(0)
}
