//! # Loading a project: files, environment, name, profiles
//!
//! A Compose *project* is what `docker compose` works on: a name (the prefix of every
//! container, network and volume it makes), a directory, and the services, networks and
//! volumes of one or more compose files laid over each other. [`load`] builds it in the order
//! compose-go does:
//!
//! 1. **The environment.** The variables that `${VAR}` reads are the process environment
//!    (given by the caller: a library never reads `std::env`) over the project's `.env` file,
//!    or the `--env-file`s, later files over earlier ones. The process environment wins, so
//!    `TAG=dev docker compose up` beats `TAG=prod` in `.env`.
//! 2. **Each file**: parsed ([`super::yaml`]), interpolated ([`super::interpolate`]), checked
//!    against the specification's keys ([`super::schema`]), its `include`s loaded and its
//!    `extends` followed ([`super::include`], [`super::extends`]), its list-or-mapping
//!    attributes brought to mappings, then laid over the files before it ([`super::merge`]).
//! 3. **The name**: `-p`, else `COMPOSE_PROJECT_NAME`, else the files' top-level `name:`, else
//!    the project directory's name. It is decided before the files are interpolated (their
//!    `name:` on its own), and is then `${COMPOSE_PROJECT_NAME}` in them. A name must be
//!    lowercase letters, digits, `_` and `-`, starting with a letter or digit: a name the user
//!    chose is refused otherwise; the directory's name is made to fit
//!    ([`normalize_project_name`]).
//! 4. **Profiles**: a service that lists `profiles:` is part of the project only when one of
//!    them is active (`--profile`, else `COMPOSE_PROFILES`; `*` activates all).
//! 5. **`depends_on`** is checked: every required dependency exists and there is no cycle
//!    ([`super::depends_on`]).
//! 6. **The canonical form**: each enabled service and each top-level network, volume,
//!    secret and config is brought to the long form Compose prints, its relative paths made
//!    absolute and its `env_file`s read ([`super::normalize`]). Disabled services are not:
//!    a file they alone name need not exist.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::depends_on;
use super::dotenv;
use super::extends::{self, FileContext};
use super::include;
use super::interpolate::substitute;
use super::merge::{canonical_service, merge};
use super::normalize;
use super::yaml;

pub use super::error::ComposeError;

/// The file names compose looks for when no `-f` is given, in its order of preference
/// (compose-go's `DefaultFileNames`).
pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// The override file compose adds after the default file, when one is beside it.
pub const DEFAULT_OVERRIDE_FILES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// What to load, as `docker compose`'s global options say it.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The compose files (`-f`), relative to `working_dir`. Empty: `COMPOSE_FILE` from
    /// `environment` (split on `COMPOSE_PATH_SEPARATOR`, default `:`), else the first of
    /// [`DEFAULT_FILES`] in `working_dir` or the nearest parent that has one, with the first
    /// of [`DEFAULT_OVERRIDE_FILES`] beside it.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`: where `.env` and relative paths are found (default: the first
    /// file's directory).
    pub project_directory: Option<PathBuf>,
    /// `--env-file`s, relative to `working_dir` (default: `.env` in the project directory,
    /// if there is one and `COMPOSE_DISABLE_ENV_FILE` is not true).
    pub env_files: Vec<PathBuf>,
    /// `--profile`s (default: `COMPOSE_PROFILES`, comma-separated).
    pub profiles: Vec<String>,
    /// The directory relative paths on the command line start from (the process's).
    pub working_dir: PathBuf,
    /// The process environment.
    pub environment: BTreeMap<String, String>,
    /// Accept `depends_on` entries that name no service of the project (compose-go's
    /// `SkipConsistencyCheck`, `config --no-consistency`).
    pub skip_consistency_check: bool,
}

/// A loaded project: the merged files, filtered by profile, with the environment they were
/// interpolated with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// The project's name.
    pub name: String,
    /// The project directory.
    #[serde(skip)]
    pub working_dir: PathBuf,
    /// The compose files it was read from, in order (a container's
    /// `com.docker.compose.project.config_files`, which `ls` shows).
    #[serde(skip)]
    pub files: Vec<PathBuf>,
    /// The services enabled by the active profiles, by name; each the merged tree of its
    /// attributes (list-or-mapping attributes as mappings).
    pub services: BTreeMap<String, Value>,
    /// Top-level `networks`.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub networks: Map<String, Value>,
    /// Top-level `volumes`.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub volumes: Map<String, Value>,
    /// Top-level `secrets`.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub secrets: Map<String, Value>,
    /// Top-level `configs`.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub configs: Map<String, Value>,
    /// Top-level `x-*` extensions.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
    /// Services that no active profile enables, with their profiles.
    #[serde(skip)]
    pub disabled_services: BTreeMap<String, Vec<String>>,
    /// The variables the files were interpolated with.
    #[serde(skip)]
    pub environment: BTreeMap<String, String>,
}

impl Project {
    /// The services in the order `up` starts them (see [`depends_on::dependency_order`]).
    pub fn dependency_order(&self) -> Vec<String> {
        depends_on::dependency_order(&self.services)
            .expect("a loaded project's dependencies were checked")
    }

    /// Every profile some service lists, sorted, enabled or not.
    pub fn profiles(&self) -> Vec<String> {
        let mut profiles: Vec<String> = self
            .services
            .values()
            .flat_map(service_profiles)
            .chain(self.disabled_services.values().flatten().cloned())
            .collect();
        profiles.sort();
        profiles.dedup();
        profiles
    }
}

/// Compose's normal form of a project name: lowercase, only `a-z 0-9 _ -`, not starting
/// with `_` or `-` (compose-go's `NormalizeProjectName`).
pub fn normalize_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

/// A project read from `yaml` alone (named `p`), for the tests of the modules that act on one.
#[cfg(test)]
pub(crate) fn from_yaml(yaml: &str) -> Project {
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(dir.path().join("compose.yaml"), yaml).expect("compose.yaml");
    load(&LoadOptions {
        working_dir: dir.path().to_path_buf(),
        project_name: Some("p".into()),
        ..LoadOptions::default()
    })
    .expect("the project loads")
}

/// Loads the project `options` describe (see the module's documentation for the steps).
pub fn load(options: &LoadOptions) -> Result<Project, ComposeError> {
    let files = compose_files(options)?;
    let project_dir = match &options.project_directory {
        Some(dir) => options.working_dir.join(dir),
        None => files[0]
            .parent()
            .map_or_else(|| options.working_dir.clone(), Path::to_path_buf),
    };
    let mut environment = project_environment(options, &project_dir)?;

    let mut trees = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|source| ComposeError::Read {
            path: file.clone(),
            source,
        })?;
        trees.push((file, yaml::parse(&text, file)?));
    }
    // The name comes first, as compose-go decides it: a file may say
    // `image: ${COMPOSE_PROJECT_NAME}-web`, which is the project's name whatever set it.
    let file_name = file_project_name(&trees, &environment);
    let name = project_name(options, &environment, file_name, &project_dir)?;
    environment.insert("COMPOSE_PROJECT_NAME".into(), name.clone());
    let mut merged = Value::Object(Map::new());
    for (file, mut tree) in trees {
        extends::resolve_tree(&mut tree, file, &environment)?;
        let source = FileContext {
            file,
            dir: &project_dir,
            environment: &environment,
        };
        include::apply(&mut tree, &source, &[])?;
        extends::apply(&mut tree, &source)?;
        if let Some(Value::Object(services)) = tree.get_mut("services") {
            services.values_mut().for_each(canonical_service);
        }
        merge(&mut merged, tree);
    }
    let Value::Object(mut top) = merged else {
        unreachable!("the merge of mappings is a mapping")
    };

    let profiles = active_profiles(options, &environment);
    let mut services = BTreeMap::new();
    let mut disabled_services = BTreeMap::new();
    if let Some(Value::Object(all)) = top.remove("services") {
        for (service_name, service) in all {
            // `web:` alone is a service with no attributes.
            let service = if service.is_null() {
                Value::Object(Map::new())
            } else {
                service
            };
            let wanted = service_profiles(&service);
            if wanted.is_empty() || profiles.iter().any(|p| p == "*" || wanted.contains(p)) {
                services.insert(service_name, service);
            } else {
                disabled_services.insert(service_name, wanted);
            }
        }
    }
    depends_on::check(
        &mut services,
        &disabled_services,
        !options.skip_consistency_check,
    )?;

    // Paths are made absolute from here: the project directory itself must be, without
    // `.` or `..` in it.
    let project_dir = std::path::absolute(&project_dir).unwrap_or(project_dir);
    let project_dir = PathBuf::from(super::short_syntax::clean_path(
        &project_dir.to_string_lossy(),
    ));
    let context = normalize::Context {
        working_dir: &project_dir,
        environment: &environment,
    };
    for (service_name, service) in &mut services {
        normalize::service(service_name, service, &context)?;
    }
    let mut section = |key: &str| -> Result<Map<String, Value>, ComposeError> {
        let mut map = match top.remove(key) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        normalize::resources(key, &mut map, &context)?;
        Ok(map)
    };
    let networks = section("networks")?;
    let volumes = section("volumes")?;
    let secrets = section("secrets")?;
    let configs = section("configs")?;
    let extensions = top
        .into_iter()
        .filter(|(k, _)| k.starts_with("x-"))
        .collect();
    Ok(Project {
        name,
        working_dir: project_dir,
        files,
        services,
        networks,
        volumes,
        secrets,
        configs,
        extensions,
        disabled_services,
        environment,
    })
}

/// The `-f` files, `COMPOSE_FILE`, or the default ones, as paths from `working_dir`.
fn compose_files(options: &LoadOptions) -> Result<Vec<PathBuf>, ComposeError> {
    let in_working_dir = |files: &mut dyn Iterator<Item = &Path>| -> Vec<PathBuf> {
        files.map(|file| options.working_dir.join(file)).collect()
    };
    if !options.files.is_empty() {
        return Ok(in_working_dir(
            &mut options.files.iter().map(PathBuf::as_path),
        ));
    }
    if let Some(list) = options.environment.get("COMPOSE_FILE") {
        let separator = match options.environment.get("COMPOSE_PATH_SEPARATOR") {
            Some(separator) if !separator.is_empty() => separator.as_str(),
            _ => ":",
        };
        return Ok(in_working_dir(
            &mut list
                .split(separator)
                .filter(|f| !f.is_empty())
                .map(Path::new),
        ));
    }
    let first_of = |dir: &Path, names: &[&str]| {
        names
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
    };
    // The working directory, then each parent: `docker compose ps` works from a subdirectory.
    for dir in options.working_dir.ancestors() {
        if let Some(file) = first_of(dir, DEFAULT_FILES) {
            let mut files = vec![file];
            files.extend(first_of(dir, DEFAULT_OVERRIDE_FILES));
            return Ok(files);
        }
    }
    Err(ComposeError::NoComposeFile {
        dir: options.working_dir.clone(),
    })
}

/// The `.env` (or `--env-file`) variables under the process environment.
fn project_environment(
    options: &LoadOptions,
    project_dir: &Path,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let disabled = options
        .environment
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| matches!(v.to_lowercase().as_str(), "1" | "t" | "true"));
    let env_files: Vec<PathBuf> = if options.env_files.is_empty() {
        let default = project_dir.join(".env");
        if default.is_file() && !disabled {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        options
            .env_files
            .iter()
            .map(|file| options.working_dir.join(file))
            .collect()
    };
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for file in env_files {
        // A file's `${VAR}` sees the process environment, then what earlier files set.
        let lookup = |name: &str| {
            options
                .environment
                .get(name)
                .or_else(|| from_files.get(name))
                .cloned()
        };
        let pairs = dotenv::read_file(&file, &lookup)?;
        from_files.extend(pairs);
    }
    from_files.extend(options.environment.clone());
    Ok(from_files)
}

/// The last `name:` the files give, interpolated (`None` when none does, or when it cannot be
/// interpolated: the file's interpolation then says why).
fn file_project_name(
    trees: &[(&PathBuf, Value)],
    environment: &BTreeMap<String, String>,
) -> Option<String> {
    let lookup = |name: &str| environment.get(name).cloned();
    let written = trees
        .iter()
        .filter_map(|(_, tree)| tree.get("name").and_then(Value::as_str))
        .rfind(|name| !name.is_empty())?;
    substitute(written, &lookup).ok()
}

fn project_name(
    options: &LoadOptions,
    environment: &BTreeMap<String, String>,
    file_name: Option<String>,
    project_dir: &Path,
) -> Result<String, ComposeError> {
    let chosen = options
        .project_name
        .clone()
        .filter(|name| !name.is_empty())
        .or_else(|| {
            environment
                .get("COMPOSE_PROJECT_NAME")
                .filter(|name| !name.is_empty())
                .cloned()
        })
        .or_else(|| file_name.filter(|name| !name.is_empty()));
    let name = match chosen {
        Some(name) => {
            if normalize_project_name(&name) != name {
                return Err(ComposeError::InvalidProjectName(name));
            }
            name
        }
        None => {
            let dir = std::path::absolute(project_dir).unwrap_or_else(|_| project_dir.into());
            normalize_project_name(
                &dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        }
    };
    if name.is_empty() {
        return Err(ComposeError::EmptyProjectName);
    }
    Ok(name)
}

fn active_profiles(options: &LoadOptions, environment: &BTreeMap<String, String>) -> Vec<String> {
    if !options.profiles.is_empty() {
        return options.profiles.clone();
    }
    environment
        .get("COMPOSE_PROFILES")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn service_profiles(service: &Value) -> Vec<String> {
    match service.get("profiles") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_compose_does() {
        for (given, normal) in [
            ("myapp", "myapp"),
            ("My App", "myapp"),
            ("_-x.y", "xy"),
            ("UNNORMALIZED PATH", "unnormalizedpath"),
            ("élan", "lan"),
        ] {
            assert_eq!(normalize_project_name(given), normal, "{given}");
        }
    }
}
