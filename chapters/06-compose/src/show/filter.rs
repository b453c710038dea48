//! Which containers `ps` shows: running ones by default, all with `-a`, the last created
//! with `-n`/`-l`, and those that pass every `--filter KEY=VALUE`, with docker's rules:
//!
//! - several values of one key are alternatives (`status=exited --filter status=dead`),
//!   except `label`, whose values must all hold; different keys must all hold;
//! - `name` and `id` are regular expressions searched in the name (with and without docker's
//!   leading `/`) and the full id, so `name=web` also matches `web-2`, and `name=^web$` only
//!   `web`;
//! - `label=KEY` needs the label, `label=KEY=VALUE` that value;
//! - `status=` (created, restarting, running, removing, paused, exited, dead) shows stopped
//!   containers without `-a`; `exited=CODE` does not (it needs `-a`, as docker's);
//! - `health=` is starting, healthy, unhealthy or none;
//! - `ancestor=IMAGE` matches containers made from that image or from an image built on it:
//!   here, those whose layers start with all of the image's.

use std::path::PathBuf;

use ch04_images::ImageStore;
use regex::Regex;

use super::view::{ContainerView, list};
use crate::error::{Error, Result};

/// The keys `--filter` knows.
const KEYS: &str = "ancestor, exited, health, id, label, name, status";

/// The words `status=` takes (`removing` is docker's; no container here is ever in it).
const STATUSES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// The words `health=` takes.
const HEALTHS: [&str; 4] = ["starting", "healthy", "unhealthy", "none"];

/// `ps`'s choice of containers, in docker's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Show stopped containers too (`-a`).
    pub all: bool,
    /// Only the last this many created, in any state (`-n N`; `-l` is 1).
    pub last: Option<usize>,
    /// `--filter` arguments, `KEY=VALUE` each.
    pub filters: Vec<String>,
}

/// Parsed `--filter` arguments.
#[derive(Debug, Default)]
pub struct Filters {
    status: Vec<String>,
    name: Vec<Regex>,
    id: Vec<Regex>,
    label: Vec<(String, Option<String>)>,
    health: Vec<String>,
    exited: Vec<i32>,
    ancestor: Vec<String>,
}

impl Filters {
    /// Reads `KEY=VALUE` arguments, refusing unknown keys and values as docker does.
    pub fn parse(arguments: &[String]) -> Result<Filters> {
        let mut filters = Filters::default();
        for argument in arguments {
            let Some((key, value)) = argument.split_once('=') else {
                return Err(Error::invalid(
                    format!("bad format of filter {argument:?} (expected name=value)"),
                    format!("write --filter KEY=VALUE, with KEY one of {KEYS}"),
                ));
            };
            let invalid_value = |allowed: &[&str]| {
                Error::invalid(
                    format!("invalid filter '{key}={value}'"),
                    format!("{key} is one of {}", allowed.join(", ")),
                )
            };
            match key {
                "status" if STATUSES.contains(&value) => filters.status.push(value.into()),
                "status" => return Err(invalid_value(&STATUSES)),
                "health" if HEALTHS.contains(&value) => filters.health.push(value.into()),
                "health" => return Err(invalid_value(&HEALTHS)),
                "exited" => filters.exited.push(value.parse().map_err(|_| {
                    Error::invalid(
                        format!("invalid filter '{key}={value}'"),
                        "exited takes an exit code, e.g. exited=0",
                    )
                })?),
                "name" => filters.name.push(pattern(key, value)?),
                "id" => filters.id.push(pattern(key, value)?),
                "label" => filters.label.push(match value.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (value.to_string(), None),
                }),
                "ancestor" => filters.ancestor.push(value.into()),
                _ => {
                    return Err(Error::invalid(
                        format!("invalid filter '{key}'"),
                        format!("the filters are {KEYS}"),
                    ));
                }
            }
        }
        Ok(filters)
    }

    /// Whether a status filter is given: docker then shows stopped containers without `-a`.
    pub fn names_a_status(&self) -> bool {
        !self.status.is_empty()
    }

    /// Whether `view` passes every filter; `ancestors` are the layers of each `ancestor=`
    /// image that exists (see [`Filters::ancestor_layers`]).
    pub fn matches(&self, view: &ContainerView, ancestors: &[Vec<PathBuf>]) -> bool {
        let any = |values: &[String], actual: &str| {
            values.is_empty() || values.iter().any(|v| v == actual)
        };
        let name = view.name();
        let slashed = format!("/{name}");
        let named = self.name.is_empty()
            || (!name.is_empty()
                && self
                    .name
                    .iter()
                    .any(|re| re.is_match(name) || re.is_match(&slashed)));
        let labels = &view.config.labels;
        let labelled = self.label.iter().all(|(key, value)| match value {
            Some(value) => labels.get(key) == Some(value),
            None => labels.contains_key(key),
        });
        let exited = self.exited.is_empty()
            || (view.status == crate::container::Status::Exited
                && self
                    .exited
                    .contains(&view.state.exit_code.unwrap_or_default()));
        let descends = self.ancestor.is_empty()
            || ancestors
                .iter()
                .any(|layers| view.record.layers.starts_with(layers));
        named
            && (self.id.is_empty() || self.id.iter().any(|re| re.is_match(view.id())))
            && labelled
            && exited
            && any(&self.status, view.state_word())
            && any(&self.health, view.health_word())
            && descends
    }

    /// The layers of each `ancestor=` image, to match containers made from it or from an
    /// image built on it. An image that does not exist matches nothing, as in docker.
    pub fn ancestor_layers(&self, store: &ImageStore) -> Vec<Vec<PathBuf>> {
        self.ancestor
            .iter()
            .filter_map(|reference| store.find_image(reference).ok())
            .map(|image| {
                image
                    .chain_ids()
                    .iter()
                    .map(|chain_id| store.layer_dir(chain_id))
                    .collect()
            })
            .collect()
    }
}

/// A `name=` or `id=` value: a regular expression, as docker's filters take them.
fn pattern(key: &str, value: &str) -> Result<Regex> {
    Regex::new(value).map_err(|e| {
        Error::invalid(
            format!("invalid filter '{key}={value}': {e}"),
            "the value is a regular expression; escape . * + ? ( ) [ ] with \\",
        )
    })
}

/// The containers `ps` shows for `selection`, newest first.
pub fn select(store: &ImageStore, selection: &Selection) -> Result<Vec<ContainerView>> {
    let filters = Filters::parse(&selection.filters)?;
    let ancestors = filters.ancestor_layers(store);
    let all = selection.all || selection.last.is_some() || filters.names_a_status();
    let chosen = list(store.containers())?
        .into_iter()
        .filter(|view| all || view.is_running())
        .filter(|view| filters.matches(view, &ancestors))
        .take(selection.last.unwrap_or(usize::MAX))
        .collect();
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use ch03_union_fs::{Driver, Record, State};

    use super::*;
    use crate::container::{Health, HealthStatus, HostConfig, RunState, Status};

    fn view(name: &str, status: Status, code: i32, labels: &[(&str, &str)]) -> ContainerView {
        let mut config = ch04_images::oci::ContainerConfig::default();
        for (k, v) in labels {
            config.labels.insert(k.to_string(), v.to_string());
        }
        ContainerView {
            record: Record {
                // An id of the name's length in hex digits, then zeros: unique per name here.
                id: format!("{:0<64}", format!("{:x}", name.len() * 0x1234)),
                name: Some(name.into()),
                created_ns: 0,
                command: vec!["true".into()],
                layers: vec!["/l/base".into(), "/l/app".into()],
                image: None,
                config: None,
                driver: Driver::Vfs,
                state: State::Created,
            },
            host: HostConfig::default(),
            config,
            state: RunState {
                status,
                exit_code: Some(code),
                health: Some(Health {
                    status: HealthStatus::Healthy,
                    ..Health::default()
                }),
                ..RunState::default()
            },
            status,
            paused: false,
            orphaned: false,
            endpoints: Vec::new(),
        }
    }

    fn passes(filters: &[&str], view: &ContainerView) -> bool {
        let arguments: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        Filters::parse(&arguments).unwrap().matches(view, &[])
    }

    #[test]
    fn filters_combine_as_dockers() {
        let web = view("web", Status::Running, 0, &[("tier", "front"), ("v", "1")]);
        let db = view("db", Status::Exited, 3, &[("tier", "back")]);
        assert!(passes(&[], &web));
        assert!(passes(&["name=we"], &web));
        assert!(passes(&["name=^/web$"], &web) && passes(&["name=^web$"], &web));
        assert!(!passes(&["name=^eb"], &web));
        assert!(
            passes(&["name=db", "name=web"], &web),
            "values of a key: any"
        );
        assert!(passes(&["label=tier"], &web) && passes(&["label=tier=front"], &web));
        assert!(
            !passes(&["label=tier=front", "label=v=2"], &web),
            "labels: all"
        );
        assert!(passes(&["status=running"], &web) && !passes(&["status=running"], &db));
        assert!(passes(&["status=running", "status=exited"], &db));
        assert!(passes(&["exited=3"], &db) && !passes(&["exited=0"], &db));
        assert!(
            !passes(&["exited=0"], &web),
            "only exited containers have exited="
        );
        assert!(passes(&["health=healthy"], &web) && passes(&["health=none"], &db));
        assert!(passes(&[&format!("id={}", &web.id()[..5])], &web));
        assert!(!passes(&["status=running", "name=db"], &web), "keys: all");
    }

    #[test]
    fn ancestors_are_layer_prefixes() {
        let web = view("web", Status::Running, 0, &[]);
        let filters = Filters::parse(&["ancestor=base".to_string()]).unwrap();
        let base = vec![PathBuf::from("/l/base")];
        let other = vec![PathBuf::from("/l/other")];
        assert!(filters.matches(&web, std::slice::from_ref(&base)));
        assert!(!filters.matches(&web, &[other]));
        assert!(!filters.matches(&web, &[]), "an image that is not there");
    }

    #[test]
    fn bad_filters_are_refused() {
        for bad in [
            "status=sleeping",
            "health=fine",
            "exited=x",
            "colour=red",
            "name",
        ] {
            let error = Filters::parse(&[bad.to_string()]).unwrap_err();
            assert!(matches!(error, Error::Invalid { .. }), "{bad}: {error}");
        }
        assert!(
            Filters::parse(&["status=exited".into()])
                .unwrap()
                .names_a_status()
        );
    }
}
