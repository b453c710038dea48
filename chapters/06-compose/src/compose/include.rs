//! # `include`: another Compose application inside this one
//!
//! ```yaml
//! include:
//!   - ../commons/compose.yaml                 # short form: one file
//!   - path: [db/compose.yaml, db/dev.yaml]    # long form: files merged like `-f`s
//!     project_directory: db                   # where their relative paths start
//!     env_file: db/.env                       # what they are interpolated with
//! ```
//!
//! Each entry is loaded as a project of its own, the way compose-go does it:
//!
//! - its files are found from the including file's base directory (the project directory for
//!   a `-f` file); its **project directory** is `project_directory` (from the same base), or
//!   else the directory of its first file;
//! - its **variables** are its `env_file`s (default: the `.env` of its project directory, if
//!   there is one) *under* the including project's variables: the including project can
//!   always set what the included one reads, never the other way round;
//! - each of its files is parsed, interpolated, checked, its own `include`s and `extends`
//!   resolved (recursively), then merged over the previous one ([`super::merge`]);
//! - its relative paths are made absolute from its project directory
//!   ([`super::extends::rebase_service`], and each top-level resource's `file` or bound
//!   `device`), and a service variable written without a value takes its value from the
//!   included project's variables when they have one (compose-go's `ResolveEnvironment`).
//!
//! Its services, networks, volumes, secrets, configs and models are then added to the
//! including file. A name defined on both sides is not an error in compose-go (since its
//! version 2.10): the including file's definition is laid over the imported one with the
//! merge rules of `-f` files, so an application can adjust what it imports (`!override`,
//! `!reset` included). Nothing else is imported: the included files' `name:` and `x-*`
//! extensions stay theirs.
//!
//! A file that includes itself, directly or through others, is refused, with the chain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::dotenv;
use super::error::ComposeError;
use super::extends::{self, FileContext, absolute_dir, read_tree, rebase_service};
use super::merge::{canonical_service, merge};

/// The top-level sections an include imports.
const IMPORTED: [&str; 6] = [
    "services", "volumes", "networks", "secrets", "configs", "models",
];

/// One `include` entry, read.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    /// The files, the first one the main one.
    paths: Vec<String>,
    project_directory: Option<String>,
    env_files: Vec<String>,
}

/// Resolves the `include` section of one file's `tree`, in place: the section is removed
/// and what it imports added. `chain` holds the files that include this one (for cycles).
pub fn apply(
    tree: &mut Value,
    source: &FileContext,
    chain: &[PathBuf],
) -> Result<(), ComposeError> {
    let section = match tree.as_object_mut().and_then(|top| top.remove("include")) {
        None | Some(Value::Null) => return Ok(()),
        Some(section) => section,
    };
    let error = |path: String, message: String| ComposeError::Include {
        file: source.file.to_path_buf(),
        path,
        message,
    };
    let Value::Array(items) = section else {
        return Err(error("include".into(), "must be a list".into()));
    };
    let mut chain = chain.to_vec();
    chain.push(absolute_dir(source.file));
    for (index, item) in items.iter().enumerate() {
        let at = format!("include[{index}]");
        let entry = read_entry(item).map_err(|message| error(at.clone(), message))?;
        let files: Vec<PathBuf> = entry
            .paths
            .iter()
            .map(|path| absolute_dir(&source.absolute(path)))
            .collect();
        if chain.contains(&files[0]) {
            let steps: Vec<String> = chain
                .iter()
                .chain(std::iter::once(&files[0]))
                .map(|file| file.display().to_string())
                .collect();
            return Err(error(
                at,
                format!("include cycle detected: {}", steps.join(" -> ")),
            ));
        }
        let project_dir = match &entry.project_directory {
            Some(dir) => source.absolute(dir),
            None => files[0]
                .parent()
                .map_or_else(PathBuf::new, Path::to_path_buf),
        };
        let environment = environment(&entry, &project_dir, source)
            .map_err(|message| error(format!("{at}.env_file"), message))?;
        let imported = load(&files, &project_dir, &environment, &chain).map_err(|why| {
            match why {
                // The included file itself missing: said where it is named.
                ComposeError::Read { path, source } if files.contains(&path) => error(
                    format!("{at}.path"),
                    format!("cannot read {}: {source}", path.display()),
                ),
                other => other,
            }
        })?;
        import(tree, imported);
    }
    Ok(())
}

/// An entry in its long form: `path` a list, `env_file` a list.
fn read_entry(item: &Value) -> Result<Entry, String> {
    let strings = |value: Option<&Value>, what: &str| -> Result<Vec<String>, String> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(one)) => Ok(vec![one.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("{what} must be a string or a list of strings"))
                })
                .collect(),
            Some(_) => Err(format!("{what} must be a string or a list of strings")),
        }
    };
    match item {
        Value::String(path) => Ok(Entry {
            paths: vec![path.clone()],
            project_directory: None,
            env_files: Vec::new(),
        }),
        Value::Object(long) => {
            if let Some(key) = long
                .keys()
                .find(|key| !matches!(key.as_str(), "path" | "project_directory" | "env_file"))
            {
                return Err(format!("additional property {key:?} is not allowed"));
            }
            let paths = strings(long.get("path"), "path")?;
            if paths.is_empty() {
                return Err("path is required".into());
            }
            let project_directory = match long.get("project_directory") {
                None | Some(Value::Null) => None,
                Some(Value::String(dir)) => Some(dir.clone()),
                Some(_) => return Err("project_directory must be a string".into()),
            };
            Ok(Entry {
                paths,
                project_directory,
                env_files: strings(long.get("env_file"), "env_file")?,
            })
        }
        _ => Err("must be a path or a mapping".into()),
    }
}

/// The included project's variables: its env files under the including project's.
fn environment(
    entry: &Entry,
    project_dir: &Path,
    source: &FileContext,
) -> Result<BTreeMap<String, String>, String> {
    let files: Vec<PathBuf> = if entry.env_files.is_empty() {
        let default = project_dir.join(".env");
        if default.is_file() {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        entry
            .env_files
            .iter()
            // compose-go's way of saying "no env file at all".
            .filter(|file| *file != "/dev/null")
            .map(|file| source.absolute(file))
            .collect()
    };
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for file in files {
        let lookup = |name: &str| {
            source
                .environment
                .get(name)
                .or_else(|| from_files.get(name))
                .cloned()
        };
        let pairs = dotenv::read_file(&file, &lookup).map_err(|why| why.to_string())?;
        from_files.extend(pairs);
    }
    from_files.extend(source.environment.clone());
    Ok(from_files)
}

/// Loads the included `files` as a project in `project_dir`: the merged tree of its files,
/// with its relative paths absolute.
fn load(
    files: &[PathBuf],
    project_dir: &Path,
    environment: &BTreeMap<String, String>,
    chain: &[PathBuf],
) -> Result<Value, ComposeError> {
    let mut merged = Value::Object(Map::new());
    for file in files {
        let mut tree = read_tree(file, environment)?;
        let source = FileContext {
            file,
            dir: project_dir,
            environment,
        };
        apply(&mut tree, &source, chain)?;
        extends::apply(&mut tree, &source)?;
        if let Some(Value::Object(services)) = tree.get_mut("services") {
            services.values_mut().for_each(canonical_service);
        }
        merge(&mut merged, tree);
    }
    let source = FileContext {
        file: &files[0],
        dir: project_dir,
        environment,
    };
    if let Some(Value::Object(services)) = merged.get_mut("services") {
        for service in services.values_mut() {
            rebase_service(service, &source);
            resolve_environment(service, environment);
        }
    }
    for (kind, key) in [("secrets", "file"), ("configs", "file")] {
        if let Some(Value::Object(resources)) = merged.get_mut(kind) {
            for resource in resources.values_mut() {
                if let Some(Value::String(file)) = resource.get_mut(key) {
                    *file = source.absolute(file).to_string_lossy().into_owned();
                }
            }
        }
    }
    if let Some(Value::Object(volumes)) = merged.get_mut("volumes") {
        for volume in volumes.values_mut() {
            if volume.get("driver").and_then(Value::as_str) == Some("local")
                && let Some(Value::Object(options)) = volume.get_mut("driver_opts")
                && options.get("o").and_then(Value::as_str) == Some("bind")
                && let Some(Value::String(device)) = options.get_mut("device")
            {
                *device = source.absolute(device).to_string_lossy().into_owned();
            }
        }
    }
    Ok(merged)
}

/// A variable written without a value (`environment: [NAME]`) takes the included
/// project's value, when it has one: the including project's `.env` is not the included
/// one's.
fn resolve_environment(service: &mut Value, environment: &BTreeMap<String, String>) {
    if let Some(Value::Object(variables)) = service.get_mut("environment") {
        for (name, value) in variables.iter_mut() {
            if value.is_null()
                && let Some(found) = environment.get(name)
            {
                *value = Value::from(found.clone());
            }
        }
    }
}

/// Adds the `imported` project's resources to `tree`; one that `tree` defines too keeps
/// `tree`'s definition laid over the imported one.
fn import(tree: &mut Value, mut imported: Value) {
    let Value::Object(top) = tree else {
        return;
    };
    for kind in IMPORTED {
        let Some(Value::Object(resources)) = imported.get_mut(kind).map(Value::take) else {
            continue;
        };
        let section = top.entry(kind).or_insert_with(|| Value::Object(Map::new()));
        if !section.is_object() {
            *section = Value::Object(Map::new());
        }
        let Value::Object(section) = section else {
            unreachable!("made a mapping above")
        };
        for (name, resource) in resources {
            match section.remove(&name) {
                None => {
                    section.insert(name, resource);
                }
                Some(mut own) => {
                    if kind == "services" {
                        canonical_service(&mut own);
                    }
                    // The merge rules are keyed by the path from the top of a file.
                    let mut merged = json!({kind: {"_": resource}});
                    merge(&mut merged, json!({kind: {"_": own}}));
                    section.insert(name, merged[kind]["_"].take());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_in_both_forms() {
        assert_eq!(
            read_entry(&json!("a.yaml")).unwrap(),
            Entry {
                paths: vec!["a.yaml".into()],
                project_directory: None,
                env_files: vec![]
            }
        );
        assert_eq!(
            read_entry(&json!({"path": ["a.yaml", "b.yaml"], "project_directory": "..", "env_file": "x.env"}))
                .unwrap(),
            Entry {
                paths: vec!["a.yaml".into(), "b.yaml".into()],
                project_directory: Some("..".into()),
                env_files: vec!["x.env".into()]
            }
        );
        assert_eq!(
            read_entry(&json!({"env_file": "x.env"})).unwrap_err(),
            "path is required"
        );
        assert_eq!(
            read_entry(&json!({"path": "a", "paths": "b"})).unwrap_err(),
            "additional property \"paths\" is not allowed"
        );
    }

    #[test]
    fn imported_resources_are_added_and_the_including_file_wins() {
        let mut tree = json!({"services": {"web": {"image": "web", "environment": ["A=1"]}}});
        import(
            &mut tree,
            json!({
                "services": {"web": {"image": "old", "environment": {"A": "0", "B": "2"}},
                             "db": {"image": "db"}},
                "volumes": {"data": null},
                "name": "ignored"
            }),
        );
        assert_eq!(
            tree,
            json!({
                "services": {"web": {"image": "web", "environment": {"A": "1", "B": "2"}},
                             "db": {"image": "db"}},
                "volumes": {"data": null}
            })
        );
        let mut tree = json!({"services": {"web": {"environment": {"!override": {"C": "3"}}}}});
        import(
            &mut tree,
            json!({"services": {"web": {"image": "i", "environment": {"A": "0"}}}}),
        );
        assert_eq!(
            tree,
            json!({"services": {"web": {"image": "i", "environment": {"C": "3"}}}})
        );
    }
}
