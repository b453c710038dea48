//! `images [-q] [--digests] [--no-trunc] [--format T] [NAME[:TAG]]`: the images, in
//! docker's table or a template.

use std::collections::BTreeSet;

use clap::Args;
use dockyard_support::clock::{format_rfc3339, now};
use dockyard_support::format::{self, human_duration, human_size};

use super::{Context, out};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::list::images;

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

/// docker's default formats: its table is a template too.
const TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const TABLE_WITH_DIGESTS: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/// The fields a template may name, with their headers.
const FIELDS: [(&str, &str); 7] = [
    ("{{.Repository}}", "REPOSITORY"),
    ("{{.Tag}}", "TAG"),
    ("{{.ID}}", "IMAGE ID"),
    ("{{.Digest}}", "DIGEST"),
    ("{{.CreatedSince}}", "CREATED"),
    ("{{.CreatedAt}}", "CREATED AT"),
    ("{{.Size}}", "SIZE"),
];

impl ImagesArgs {
    /// Prints the images: ids only, or each through the template (docker's table by default).
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
        let template = match (&self.format, self.digests) {
            (Some(template), _) => template.as_str(),
            (None, false) => TABLE,
            (None, true) => TABLE_WITH_DIGESTS,
        };
        let values: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                vec![
                    row.repository.clone(),
                    row.tag.clone(),
                    short_or_full(&row.id, self.no_trunc),
                    row.digest.clone(),
                    created_since(row.created),
                    row.created.map_or("N/A".into(), format_rfc3339),
                    human_size(row.size),
                ]
            })
            .collect();
        out(format::template(template, &FIELDS, &values).map_err(Error::Invalid)?)?;
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
