//! # `extends`: a service built on another one
//!
//! A service may start from another service's definition and change what it needs:
//!
//! ```yaml
//! services:
//!   web:
//!     extends: {file: common/services.yaml, service: webapp}   # or `extends: webapp`
//!     environment: {PORT: "8080"}
//! ```
//!
//! The base service's attributes are laid under the extending service's with the rules that
//! lay a later `-f` file over an earlier one ([`super::merge`]): mappings merged key by key,
//! sequences appended, scalars and command lines replaced, `!reset` and `!override` obeyed.
//! Every attribute is inherited: the specification leaves it to the author to declare what
//! the base refers to (its networks, volumes, the services of its `depends_on`), so nothing
//! else of the other file is imported. The `extends` key itself is gone from the result.
//!
//! Where the base comes from, as compose-go resolves it:
//!
//! - **no `file`** (or the string form): a service of the same file, itself resolved first,
//!   so that chains (`a` extends `b` extends `c`) work in any order;
//! - **a `file`**: relative to the directory the extending file's relative paths start from
//!   (the project directory for a `-f` file, the file's own directory for a file that is
//!   itself extended or included). That file is parsed, interpolated with the same variables
//!   and checked like a `-f` file, its own `extends` followed from *its* directory, and then
//!   its relative paths (build context, `env_file`, bind sources…) are made absolute from its
//!   directory ([`rebase_service`]): `build: .` in `common/services.yaml` is `common/`, not
//!   the extending file's directory. The other file's `include` is not followed.
//!
//! A chain that comes back to a service already on it is refused, with the whole chain in
//! the message; so is a base service that is not where `extends` says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::cast;
use super::context::{Context, is_remote_context};
use super::error::ComposeError;
use super::interpolate::interpolate_value;
use super::merge::{canonical_service, merge, strip_tags};
use super::schema;
use super::short_syntax::clean_path;
use super::yaml::{self, OVERRIDE_TAG, RESET_TAG};

/// One compose file being loaded: what `extends` and `include` need to find what it refers
/// to, and to read other files the way it was read.
#[derive(Debug, Clone, Copy)]
pub struct FileContext<'a> {
    /// The file (named in errors; its identity in cycles).
    pub file: &'a Path,
    /// Where the file's relative paths start.
    pub dir: &'a Path,
    /// The variables the file is interpolated with.
    pub environment: &'a BTreeMap<String, String>,
}

impl FileContext<'_> {
    /// `path` (as written in the file) made absolute from the file's directory, `~` from
    /// `$HOME`.
    pub fn absolute(&self, path: &str) -> PathBuf {
        let dir = absolute_dir(self.dir);
        PathBuf::from(self.paths(&dir).absolute(path))
    }

    fn paths<'b>(&'b self, dir: &'b Path) -> Context<'b> {
        Context {
            working_dir: dir,
            environment: self.environment,
        }
    }
}

/// `dir` absolute and without `.` or `..`: the form in which two paths to one file compare
/// equal (cycles are found by comparing them).
pub fn absolute_dir(dir: &Path) -> PathBuf {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    PathBuf::from(clean_path(&dir.to_string_lossy()))
}

/// Reads a compose file the way `-f` files are read: parsed, interpolated with
/// `environment`, checked against the specification's keys.
pub fn read_tree(
    file: &Path,
    environment: &BTreeMap<String, String>,
) -> Result<Value, ComposeError> {
    let text = std::fs::read_to_string(file).map_err(|source| ComposeError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let mut tree = yaml::parse(&text, file)?;
    resolve_tree(&mut tree, file, environment)?;
    Ok(tree)
}

/// The steps every parsed file goes through: interpolated with `environment`, its typed
/// values cast, checked against the specification's keys.
pub fn resolve_tree(
    tree: &mut Value,
    file: &Path,
    environment: &BTreeMap<String, String>,
) -> Result<(), ComposeError> {
    let lookup = |name: &str| environment.get(name).cloned();
    interpolate_value(tree, &lookup, "").map_err(|source| ComposeError::Interpolation {
        file: file.to_path_buf(),
        source,
    })?;
    cast::typed_values(tree).map_err(|(path, message)| ComposeError::Normalize {
        path: format!("{}: {path}", file.display()),
        message,
    })?;
    schema::check(tree).map_err(|source| ComposeError::Schema {
        file: file.to_path_buf(),
        source,
    })
}

/// Resolves the `extends` of every service of one file's `tree`, in place.
pub fn apply(tree: &mut Value, source: &FileContext) -> Result<(), ComposeError> {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return Ok(());
    };
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        resolve(&name, services, source, &mut Vec::new())?;
    }
    Ok(())
}

/// A service on the way through a chain of `extends`: its file and its name.
type Link = (PathBuf, String);

/// The service `name` of `services` (the services of the file `source` describes) with its
/// `extends` resolved; stored back into `services` so that each is resolved once.
fn resolve(
    name: &str,
    services: &mut Map<String, Value>,
    source: &FileContext,
    chain: &mut Vec<Link>,
) -> Result<Value, ComposeError> {
    let service = services.get(name).cloned().unwrap_or(Value::Null);
    let Some(extends) = service.get("extends") else {
        return Ok(service);
    };
    let path = format!("services.{name}.extends");
    let error = |message: String| ComposeError::Extends {
        file: source.file.to_path_buf(),
        path: path.clone(),
        message,
    };
    let (file, base_name) = match extends {
        Value::String(base) => (None, base.clone()),
        Value::Object(long) => match long.get("service") {
            Some(Value::String(base)) => (
                long.get("file").and_then(Value::as_str).map(str::to_owned),
                base.clone(),
            ),
            _ => return Err(error("service is required".into())),
        },
        _ => return Err(error("must be a service name or a mapping".into())),
    };

    let link = (absolute_dir(source.file), name.to_owned());
    if let Some(start) = chain.iter().position(|seen| *seen == link) {
        let first = &chain[start].0;
        let steps: Vec<String> = chain[start..]
            .iter()
            .chain(std::iter::once(&link))
            .map(|(file, service)| {
                if file == first {
                    service.clone()
                } else {
                    format!("{service} ({})", file.display())
                }
            })
            .collect();
        return Err(error(format!("circular reference: {}", steps.join(" -> "))));
    }
    chain.push(link);

    let base = match file {
        None => {
            if !services.contains_key(&base_name) {
                return Err(error(format!(
                    "service {base_name:?} not found in {}",
                    source.file.display()
                )));
            }
            resolve(&base_name, services, source, chain)?
        }
        Some(file) => {
            let other = source.absolute(&file);
            let mut tree = read_tree(&other, source.environment).map_err(|why| match why {
                ComposeError::Read { path, source } => {
                    error(format!("cannot read {}: {source}", path.display()))
                }
                other => other,
            })?;
            let mut others = match tree.get_mut("services").map(Value::take) {
                Some(Value::Object(services)) => services,
                _ => Map::new(),
            };
            if !others.contains_key(&base_name) {
                return Err(error(format!(
                    "service {base_name:?} not found in {}",
                    other.display()
                )));
            }
            let dir = other.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            let other_source = FileContext {
                file: &other,
                dir: &dir,
                environment: source.environment,
            };
            let mut base = resolve(&base_name, &mut others, &other_source, chain)?;
            rebase_service(&mut base, &other_source);
            base
        }
    };
    chain.pop();

    let extended = extend(base, service);
    services.insert(name.to_owned(), extended.clone());
    Ok(extended)
}

/// `service` laid over `base` with the merge rules of `-f` files, without its `extends`.
///
/// A `!reset` or `!override` at the top of the extending service is kept in the result:
/// it is also meant for the earlier `-f` files the result is then merged with, as compose-go
/// applies a file's resets to them before resolving its `extends`.
fn extend(base: Value, service: Value) -> Value {
    let mut base = strip_tags(base).unwrap_or(Value::Null);
    let Value::Object(mut service) = service else {
        return service;
    };
    service.remove("extends");
    if !base.is_object() {
        base = Value::Object(Map::new());
    }
    let tagged: Vec<(String, bool)> = service
        .iter()
        .filter_map(|(key, value)| match value.as_object() {
            Some(tag) if tag.len() == 1 && tag.contains_key(RESET_TAG) => Some((key.clone(), true)),
            Some(tag) if tag.len() == 1 && tag.contains_key(OVERRIDE_TAG) => {
                Some((key.clone(), false))
            }
            _ => None,
        })
        .collect();
    let mut service = Value::Object(service);
    canonical(&mut base);
    canonical(&mut service);
    // The merge rules are keyed by the path from the top of a file (`services.*.command`).
    let mut merged = json!({"services": {"_": base}});
    merge(&mut merged, json!({"services": {"_": service}}));
    let mut merged = merged["services"]["_"].take();
    if let Value::Object(merged) = &mut merged {
        for (key, reset) in tagged {
            let tagged = if reset {
                json!({RESET_TAG: null})
            } else {
                json!({OVERRIDE_TAG: merged.get(&key).cloned().unwrap_or(Value::Null)})
            };
            merged.insert(key, tagged);
        }
    }
    merged
}

/// The forms in which two services' attributes merge: list-or-mapping attributes as
/// mappings ([`canonical_service`]), `build` as a mapping.
fn canonical(service: &mut Value) {
    canonical_service(service);
    build_as_mapping(service);
}

/// `build: DIR` → `build: {context: DIR}`, so that a base's context and an extending
/// service's `dockerfile` merge instead of one replacing the other.
fn build_as_mapping(service: &mut Value) {
    if let Some(build @ Value::String(_)) = service.get_mut("build") {
        *build = json!({"context": build.take()});
    }
}

/// Makes the relative paths of a service read from the file `source` describes absolute
/// from that file's directory, in whichever syntax they are written: the build context
/// (`.` when not written) and additional contexts, `env_file`, `label_file`, bind mounts
/// (short `./data:/data` or long `type: bind`), `develop.watch` paths, an `extends.file`.
///
/// Once absolute, a path goes through the project's normalization unchanged: that is how a
/// file from elsewhere keeps its own base directory in the merged project.
pub fn rebase_service(service: &mut Value, source: &FileContext) {
    let dir = absolute_dir(source.dir);
    let paths = source.paths(&dir);
    let absolute = |text: &mut String| *text = paths.absolute(text);
    let Value::Object(service) = service else {
        return;
    };
    match service.get_mut("build") {
        Some(Value::String(context)) if !is_remote_context(context) => absolute(context),
        Some(Value::Object(build)) => {
            let context = build.entry("context").or_insert_with(|| Value::from("."));
            if let Value::String(context) = context
                && !is_remote_context(context)
            {
                absolute(context);
            }
            match build.get_mut("additional_contexts") {
                Some(Value::Object(contexts)) => {
                    for context in contexts.values_mut() {
                        if let Value::String(context) = context
                            && !is_remote_context(context)
                        {
                            absolute(context);
                        }
                    }
                }
                Some(Value::Array(contexts)) => {
                    for entry in contexts.iter_mut() {
                        if let Value::String(entry) = entry
                            && let Some((key, context)) = entry.split_once('=')
                            && !is_remote_context(context)
                        {
                            *entry = format!("{key}={}", paths.absolute(context));
                        }
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
    for attribute in ["env_file", "label_file"] {
        match service.get_mut(attribute) {
            Some(Value::String(file)) => absolute(file),
            Some(Value::Array(files)) => {
                for file in files.iter_mut() {
                    match file {
                        Value::String(file) => absolute(file),
                        Value::Object(long) => {
                            if let Some(Value::String(file)) = long.get_mut("path") {
                                absolute(file);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(Value::Array(volumes)) = service.get_mut("volumes") {
        for volume in volumes.iter_mut() {
            match volume {
                // `SOURCE:TARGET[:MODE]`: a source starting with `.` or `~` is a host path
                // (see `short_syntax::parse_volume`); a name is a volume, `/…` is absolute.
                Value::String(spec) => {
                    if let Some((source, rest)) = spec.split_once(':')
                        && source.starts_with(['.', '~'])
                    {
                        *spec = format!("{}:{rest}", paths.absolute(source));
                    }
                }
                Value::Object(long) => {
                    if long.get("type").and_then(Value::as_str) == Some("bind")
                        && let Some(Value::String(source)) = long.get_mut("source")
                    {
                        absolute(source);
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(Value::Array(watch)) = service
        .get_mut("develop")
        .and_then(|develop| develop.get_mut("watch"))
    {
        for rule in watch.iter_mut() {
            if let Some(Value::String(path)) = rule.get_mut("path") {
                absolute(path);
            }
        }
    }
    if let Some(Value::Object(extends)) = service.get_mut("extends")
        && let Some(Value::String(file)) = extends.get_mut("file")
    {
        absolute(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment() -> BTreeMap<String, String> {
        BTreeMap::from([("HOME".to_owned(), "/home/me".to_owned())])
    }

    fn extended(tree: Value) -> Result<Value, String> {
        let environment = environment();
        let mut tree = tree;
        let source = FileContext {
            file: Path::new("/srv/app/compose.yaml"),
            dir: Path::new("/srv/app"),
            environment: &environment,
        };
        apply(&mut tree, &source).map_err(|e| e.to_string())?;
        Ok(tree["services"].clone())
    }

    #[test]
    fn a_service_inherits_and_overrides_its_base() {
        let services = extended(json!({"services": {
            "common": {"image": "busybox", "environment": {"TZ": "utc", "PORT": "80"},
                       "ports": ["80"], "command": ["a", "b"], "build": "."},
            "cli": {"extends": {"service": "common"}, "environment": ["PORT=8080"],
                    "ports": ["81"], "command": ["c"], "build": {"dockerfile": "Dev"}}
        }}))
        .unwrap();
        assert_eq!(
            services["cli"],
            json!({"image": "busybox", "environment": {"TZ": "utc", "PORT": "8080"},
                   "ports": ["80", "81"], "command": ["c"],
                   "build": {"context": ".", "dockerfile": "Dev"}})
        );
        // The base is untouched.
        assert_eq!(services["common"]["build"], json!("."));
    }

    #[test]
    fn chains_resolve_in_any_order_and_the_string_form_is_the_same_file() {
        let services = extended(json!({"services": {
            "a": {"extends": "b", "labels": {"a": "1"}},
            "b": {"extends": {"service": "c"}, "labels": {"b": "1"}},
            "c": {"image": "c"}
        }}))
        .unwrap();
        assert_eq!(
            services["a"],
            json!({"image": "c", "labels": {"a": "1", "b": "1"}})
        );
        assert_eq!(services["b"], json!({"image": "c", "labels": {"b": "1"}}));
    }

    #[test]
    fn reset_removes_an_inherited_attribute_and_stays_for_later_files() {
        let services = extended(json!({"services": {
            "init": {"image": "alpine", "command": "sleep infinity"},
            "base": {"extends": {"service": "init"}, "command": {"!reset": null}}
        }}))
        .unwrap();
        assert_eq!(
            services["base"],
            json!({"image": "alpine", "command": {"!reset": null}})
        );
    }

    #[test]
    fn cycles_and_unknown_bases_are_refused() {
        let error = extended(json!({"services": {
            "a": {"extends": "b"}, "b": {"extends": "a"}
        }}))
        .unwrap_err();
        assert_eq!(
            error,
            "/srv/app/compose.yaml: services.a.extends: circular reference: a -> b -> a"
        );
        let error = extended(json!({"services": {"a": {"extends": "a"}}})).unwrap_err();
        assert!(error.ends_with("circular reference: a -> a"), "{error}");
        let error = extended(json!({"services": {"a": {"extends": "nope"}}})).unwrap_err();
        assert_eq!(
            error,
            "/srv/app/compose.yaml: services.a.extends: service \"nope\" not found in /srv/app/compose.yaml"
        );
        let error =
            extended(json!({"services": {"a": {"extends": {"file": "x.yaml"}}}})).unwrap_err();
        assert!(
            error.ends_with("services.a.extends: service is required"),
            "{error}"
        );
    }

    #[test]
    fn a_base_from_elsewhere_keeps_its_paths() {
        let environment = environment();
        let source = FileContext {
            file: Path::new("/srv/app/common/base.yaml"),
            dir: Path::new("/srv/app/common"),
            environment: &environment,
        };
        let mut service = json!({
            "build": {"dockerfile": "Dockerfile", "additional_contexts": ["lib=../lib", "img=docker-image://x"]},
            "env_file": ["./a.env", {"path": "b.env", "required": false}],
            "label_file": "labels",
            "volumes": ["./data:/data:ro", "named:/named", "/abs:/abs", "~/cache:/cache", "/anon",
                        {"type": "bind", "source": "src", "target": "/src"},
                        {"type": "volume", "source": "v", "target": "/v"}],
            "develop": {"watch": [{"path": "./web", "action": "sync"}]}
        });
        rebase_service(&mut service, &source);
        assert_eq!(
            service,
            json!({
                "build": {"context": "/srv/app/common", "dockerfile": "Dockerfile",
                          "additional_contexts": ["lib=/srv/app/lib", "img=docker-image://x"]},
                "env_file": ["/srv/app/common/a.env", {"path": "/srv/app/common/b.env", "required": false}],
                "label_file": "/srv/app/common/labels",
                "volumes": ["/srv/app/common/data:/data:ro", "named:/named", "/abs:/abs",
                            "/home/me/cache:/cache", "/anon",
                            {"type": "bind", "source": "/srv/app/common/src", "target": "/src"},
                            {"type": "volume", "source": "v", "target": "/v"}],
                "develop": {"watch": [{"path": "/srv/app/common/web", "action": "sync"}]}
            })
        );
        let mut service = json!({"build": "https://github.com/docker/compose.git"});
        rebase_service(&mut service, &source);
        assert_eq!(
            service["build"],
            json!("https://github.com/docker/compose.git")
        );
    }
}
