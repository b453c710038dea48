//! # `env_file` and `label_file`: a service's variables and labels from files
//!
//! A service can take its environment from files (`env_file: [.env.web]`) as `docker run
//! --env-file` does, and its labels likewise (`label_file`). The engine should find every
//! variable in one mapping, so the loader reads the files and lays the service's own
//! `environment` (or `labels`) over what they say, in compose-go's order:
//!
//! 1. a variable the service names without a value (`environment: [TOKEN]`) takes the
//!    project environment's, as `docker run -e TOKEN` takes the shell's;
//! 2. the `env_file`s are read in order, later files over earlier ones, with the `.env`
//!    format ([`super::dotenv`]); a `${VAR}` in them looks in the project environment, then
//!    in the service's own variables;
//! 3. the service's own variables win over the files' (one written without a value and
//!    found nowhere stays without one, and hides a file's value, as in Compose).
//!
//! A missing `env_file` is an error unless it says `required: false`; a missing `label_file`
//! always is. The file lists stay in the service, with absolute paths, as Compose prints
//! them.

use std::path::Path;

use serde_json::{Map, Value};

use super::context::{Context, error_at, string_values};
use super::dotenv;
use super::error::ComposeError;
use super::short_syntax::scalar_text;

/// The service's `environment` with its `env_file`s read under it (see the module's
/// documentation); `env_file` itself in its long form, paths absolute.
pub(super) fn resolve_environment(
    service: &mut Map<String, Value>,
    path: &str,
    context: &Context,
) -> Result<(), ComposeError> {
    let files = match service.get_mut("env_file").filter(|v| !v.is_null()) {
        Some(files) => env_file_list(files, path, context)?,
        None => Vec::new(),
    };
    let written = service.get("environment").is_some_and(|e| !e.is_null());
    if !written && files.is_empty() {
        return Ok(());
    }
    let mut environment = match service.remove("environment") {
        Some(Value::Null) | None => Value::Object(Map::new()),
        Some(environment) => environment,
    };
    resolve_environment_with(&mut environment, &files, path, context)?;
    // Compose leaves out an empty environment.
    if environment.as_object().is_none_or(|map| !map.is_empty()) {
        service.insert("environment".into(), environment);
    }
    Ok(())
}

/// One `env_file` entry: where, whether it must exist, and its format.
struct EnvFile {
    path: String,
    required: bool,
    format: Option<String>,
}

/// `env_file` (a path, a list of paths or of `{path, required, format}`) to its long form
/// in place: `{path}` with the path absolute, `required: false` only when said (true is
/// Compose's default, left out as Compose prints it).
fn env_file_list(
    files: &mut Value,
    path: &str,
    context: &Context,
) -> Result<Vec<EnvFile>, ComposeError> {
    let items = match files.take() {
        Value::Array(items) => items,
        one => vec![one],
    };
    let mut parsed = Vec::new();
    let mut long_forms = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let at = || format!("{path}[{index}]");
        let (file, required, format) = match &item {
            Value::String(file) => (file.clone(), true, None),
            Value::Object(long) => {
                let file = long
                    .get("path")
                    .and_then(Value::as_str)
                    .ok_or_else(|| error_at(at())("an env_file needs a path".into()))?;
                let required = match long.get("required") {
                    None | Some(Value::Null) => true,
                    Some(Value::Bool(required)) => *required,
                    Some(other) => {
                        return Err(error_at(at())(format!(
                            "required must be a boolean, not {other}"
                        )));
                    }
                };
                let format = long
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (file.to_owned(), required, format)
            }
            other => return Err(error_at(at())(format!("invalid env_file {other}"))),
        };
        let file = context.absolute(&file);
        let mut long = Map::new();
        long.insert("path".into(), file.clone().into());
        if !required {
            long.insert("required".into(), false.into());
        }
        if let Some(format) = &format {
            long.insert("format".into(), format.clone().into());
        }
        long_forms.push(Value::Object(long));
        parsed.push(EnvFile {
            path: file,
            required,
            format,
        });
    }
    *files = Value::Array(long_forms);
    Ok(parsed)
}

/// The three steps of the module's documentation, on the service's `environment` mapping.
fn resolve_environment_with(
    environment: &mut Value,
    files: &[EnvFile],
    path: &str,
    context: &Context,
) -> Result<(), ComposeError> {
    string_values(environment, None);
    let Value::Object(own) = environment else {
        return Ok(());
    };
    for (name, value) in own.iter_mut() {
        if value.is_null()
            && let Some(found) = context.environment.get(name)
        {
            *value = found.clone().into();
        }
    }
    let mut merged = Map::new();
    for (index, file) in files.iter().enumerate() {
        let at = format!("{path}[{index}]");
        if !Path::new(&file.path).exists() {
            if file.required {
                return Err(ComposeError::FileNotFound {
                    path: at,
                    what: "env file",
                    file: file.path.clone().into(),
                });
            }
            continue;
        }
        if let Some(format) = file
            .format
            .as_deref()
            .filter(|f| !matches!(*f, "" | "dotenv"))
        {
            return Err(error_at(at)(format!(
                "unsupported env_file format {format:?}"
            )));
        }
        let lookup = |name: &str| {
            context
                .environment
                .get(name)
                .cloned()
                .or_else(|| own.get(name).and_then(Value::as_str).map(str::to_owned))
        };
        for (name, value) in dotenv::read_file(Path::new(&file.path), &lookup)? {
            merged.insert(name, value.into());
        }
    }
    merged.extend(std::mem::take(own));
    *own = merged;
    Ok(())
}

/// The service's `labels` with its `label_file`s read under them (later files over
/// earlier ones, the service's own labels over all); `label_file` paths made absolute. A
/// label file must exist.
pub(super) fn resolve_labels(
    service: &mut Map<String, Value>,
    path: &str,
    context: &Context,
) -> Result<(), ComposeError> {
    let mut from_files = Map::new();
    if let Some(Value::Array(files)) = service.get_mut("label_file") {
        for (index, file) in files.iter_mut().enumerate() {
            let absolute = context.absolute(&scalar_text(file));
            *file = absolute.clone().into();
            if !Path::new(&absolute).exists() {
                return Err(ComposeError::FileNotFound {
                    path: format!("{path}[{index}]"),
                    what: "label file",
                    file: absolute.into(),
                });
            }
            // A label file's `${...}` sees only the labels of the files before it.
            let lookup = |name: &str| {
                from_files
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let pairs = dotenv::read_file(Path::new(&absolute), &lookup)?;
            for (name, value) in pairs {
                from_files.insert(name, value.into());
            }
        }
    }
    match service.get_mut("labels") {
        Some(labels) => {
            string_values(labels, Some(""));
            if let Value::Object(own) = labels {
                from_files.extend(std::mem::take(own));
                *own = from_files;
            }
        }
        None if !from_files.is_empty() => {
            service.insert("labels".into(), Value::Object(from_files));
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::compose::normalize::service;

    #[test]
    fn environment_takes_env_files_and_the_project_environment() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        std::fs::write(dir.join("a.env"), "A=from_a\nB=from_a\nREF=${FROM_SHELL}\n").unwrap();
        std::fs::write(dir.join("b.env"), "B=from_b\nC=from_b\n").unwrap();
        std::fs::write(dir.join("l.label"), "L=from_file\nM=from_file\n").unwrap();
        let environment = BTreeMap::from([("FROM_SHELL".to_owned(), "shell".to_owned())]);
        let context = Context {
            working_dir: &dir,
            environment: &environment,
        };
        let mut value = json!({
            "env_file": [
                "a.env",
                {"path": "b.env", "required": true},
                {"path": "none.env", "required": false}
            ],
            "environment": {"C": "own", "FROM_SHELL": null, "UNSET": null, "N": 1},
            "label_file": "l.label",
            "labels": {"M": "own", "E": null},
        });
        service("web", &mut value, &context).unwrap();
        let dir = dir.display();
        assert_eq!(
            value["env_file"],
            json!([{"path": format!("{dir}/a.env")}, {"path": format!("{dir}/b.env")},
                   {"path": format!("{dir}/none.env"), "required": false}])
        );
        assert_eq!(
            value["environment"],
            json!({"A": "from_a", "B": "from_b", "C": "own", "REF": "shell",
                   "FROM_SHELL": "shell", "UNSET": null, "N": "1"})
        );
        assert_eq!(value["label_file"], json!([format!("{dir}/l.label")]));
        assert_eq!(
            value["labels"],
            json!({"L": "from_file", "M": "own", "E": ""})
        );
    }
}
