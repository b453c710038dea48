//! `inspect [-f TEMPLATE] [--type container|image] NAME...`: containers' (or images')
//! details as docker's JSON, or each through a template (`-f '{{.State.Status}}'`).

use ch04_images::cli::{Context, out};
use clap::{Args, ValueEnum};
use dockyard_support::cli::print_error;
use dockyard_support::error::exit_code;
use dockyard_support::format::{Columns, fill_template};
use dockyard_support::{EngineError, ErrorKind};

use crate::error::{Error, Result};
use crate::show::inspect::{Inspected, Kind, inspect};
use crate::show::template;

/// `inspect`'s arguments, as docker's.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format each object with a template: a path such as {{.State.Status}}, {{json
    /// .Mounts}}, {{index .Config.Labels "key"}}
    #[arg(short, long, value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Only look for objects of this type
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<TypeArg>,
    /// Container or image names or ids
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

/// `--type`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TypeArg {
    /// A container
    Container,
    /// An image
    Image,
}

impl InspectArgs {
    /// Prints what was found, then a line for each name that names nothing, as docker does
    /// (exit status 1 then).
    pub fn execute(&self, cx: &Context) -> Result<i32> {
        let kind = self.kind.map(|kind| match kind {
            TypeArg::Container => Kind::Container,
            TypeArg::Image => Kind::Image,
        });
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in &self.names {
            match inspect(&cx.store, name, kind) {
                Ok(object) => found.push(object),
                Err(error) if error.kind() == ErrorKind::NotFound => missing.push(error),
                Err(error) => return Err(error),
            }
        }
        match &self.format {
            Some(format) => out(render(format, &found)?)?,
            None => out(pretty(&found))?,
        }
        for error in &missing {
            print_error(cx.program, error);
        }
        Ok(if missing.is_empty() {
            0
        } else {
            exit_code::REFUSED
        })
    }
}

/// The documents as docker prints them: a JSON array, indented by four spaces.
fn pretty(found: &[Inspected]) -> String {
    format!("{}\n", super::docker_json(&found))
}

/// Each document through the template, a line each.
fn render(format: &str, found: &[Inspected]) -> Result<String> {
    let documents: Vec<serde_json::Value> = found
        .iter()
        .map(|object| serde_json::to_value(object).expect("documents serialize"))
        .collect();
    let columns = Columns {
        header: &|_| Some(String::new()),
        value: &|document: &serde_json::Value, placeholder| {
            template::resolve(document, placeholder)
        },
        supported: &template::SUPPORTED,
        min_width: 0,
    };
    fill_template(format, &documents, &columns).map_err(|message| Error::Invalid {
        message,
        hint: None,
    })
}
