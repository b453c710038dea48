//! # What normalizing a value needs
//!
//! The project's directory and environment (to make paths absolute and fill variables), and
//! the error for a value that cannot be normalized: shared by [`super::normalize`] and the
//! files it reads in ([`super::env_files`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::error::ComposeError;
use super::short_syntax::{clean_path, scalar_text};

/// What normalization needs from the project: where relative paths start, and the
/// variables (`$HOME` for `~`, values for variables written without one).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The project directory, absolute.
    pub working_dir: &'a Path,
    /// The project environment (process environment over `.env`).
    pub environment: &'a BTreeMap<String, String>,
}

impl Context<'_> {
    /// `path` made absolute: `~` is `$HOME`, a relative path starts at the project directory.
    /// An absolute path is kept as written; an empty one stays empty.
    pub fn absolute(&self, path: &str) -> String {
        let path = match (path.strip_prefix('~'), self.environment.get("HOME")) {
            (Some(rest), Some(home)) => clean_path(&format!("{home}/{rest}")),
            _ => path.to_owned(),
        };
        if path.is_empty() || path.starts_with('/') {
            return path;
        }
        clean_path(&format!("{}/{path}", self.working_dir.display()))
    }

    /// A build context made absolute, unless it is not a directory of this machine.
    pub fn absolute_context(&self, context: &str) -> String {
        if is_remote_context(context) {
            return context.to_owned();
        }
        self.absolute(context)
    }
}

/// The error for a value at `path` that cannot be normalized.
pub fn error_at(path: impl Into<String>) -> impl FnOnce(String) -> ComposeError {
    let path = path.into();
    move |message| ComposeError::Normalize { path, message }
}

/// A mapping's scalar values as strings (`42` → `"42"`); a null becomes `null_as` when
/// given (a label is always a string), else stays null (a variable without a value).
pub fn string_values(value: &mut Value, null_as: Option<&str>) {
    let Value::Object(map) = value else {
        return;
    };
    for item in map.values_mut() {
        match (&*item, null_as) {
            (Value::Null, None) | (Value::String(_), _) => {}
            (Value::Null, Some(text)) => *item = text.into(),
            (Value::Bool(_) | Value::Number(_), _) => *item = scalar_text(item).into(),
            _ => {}
        }
    }
}

/// A build context that is not a directory of this machine: a URL, a Git repository, an
/// image (`docker-image://…`) or another service (`service:…`).
pub fn is_remote_context(context: &str) -> bool {
    const REMOTE: [&str; 6] = [
        "https://",
        "http://",
        "git://",
        "ssh://",
        "github.com/",
        "git@",
    ];
    context.contains("://")
        || context.starts_with("service:")
        || REMOTE.iter().any(|prefix| context.starts_with(prefix))
}
