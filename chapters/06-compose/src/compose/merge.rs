//! # Several compose files: one project
//!
//! `docker compose -f compose.yaml -f compose.override.yaml` reads both files and lays the
//! second over the first, the way compose-go's `override` package does:
//!
//! - **mappings** merge key by key, recursively: a key only in the later file is added, a key
//!   in both is merged again one level down;
//! - **scalars** (and a value whose type changed): the later file's value wins, and so does
//!   an `x-*` extension's whole value, and a service's `logging` that names another driver;
//! - **sequences** are appended, skipping an item equal to one already there (`ports`,
//!   `volumes`, `dns`…) — except `command`, `entrypoint` and `healthcheck.test`, which are
//!   one command line each and are replaced whole;
//! - attributes that may be written as a list or a mapping (`environment`, `labels`,
//!   `annotations`, `build.args`, `sysctls`, a service's `networks` and `depends_on`) are first
//!   brought to their mapping form ([`canonical_service`]), so `FOO=1` in one file and
//!   `FOO: 2` in the next meet as the same key;
//! - a value tagged `!reset` removes what earlier files set for that key, and one tagged
//!   `!override` replaces it instead of merging into it (the YAML step keeps the tags as
//!   one-entry objects, [`RESET_TAG`] / [`OVERRIDE_TAG`]).
//!
//! compose-go also merges some sequences by a key (`volumes` by target, `ports` by their
//! whole published form, `secrets` by source); here equal items are merged, different ones
//! kept, which differs only when two files mount different sources on one target.

use serde_json::{Map, Value};

use super::yaml::{OVERRIDE_TAG, RESET_TAG};

/// What a `!reset` / `!override` wrapper holds, if `value` is one.
enum Tagged<'a> {
    Reset,
    Override(&'a Value),
    Plain,
}

fn tag_of(value: &Value) -> Tagged<'_> {
    match value {
        Value::Object(map) if map.len() == 1 => {
            if map.contains_key(RESET_TAG) {
                Tagged::Reset
            } else if let Some(inner) = map.get(OVERRIDE_TAG) {
                Tagged::Override(inner)
            } else {
                Tagged::Plain
            }
        }
        _ => Tagged::Plain,
    }
}

/// The value a tagged node stands for when nothing earlier is there: `!override x` is `x`,
/// a `!reset` entry disappears. Applied through the whole tree.
pub fn strip_tags(value: Value) -> Option<Value> {
    match tag_of(&value) {
        Tagged::Reset => return None,
        Tagged::Override(inner) => return strip_tags(inner.clone()),
        Tagged::Plain => {}
    }
    Some(match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter_map(|(key, item)| strip_tags(item).map(|item| (key, item)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().filter_map(strip_tags).collect()),
        other => other,
    })
}

/// Lays `over` (a later file) over `base` (what the earlier files made).
pub fn merge(base: &mut Value, over: Value) {
    merge_at(base, over, &mut Vec::new());
}

fn merge_at(base: &mut Value, over: Value, path: &mut Vec<String>) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, item) in over {
                match tag_of(&item) {
                    Tagged::Reset => {
                        base.remove(&key);
                        continue;
                    }
                    Tagged::Override(inner) => {
                        match strip_tags(inner.clone()) {
                            Some(inner) => base.insert(key, inner),
                            None => base.remove(&key),
                        };
                        continue;
                    }
                    Tagged::Plain => {}
                }
                match base.get_mut(&key) {
                    // An extension is the user's own value: compose never merges into one.
                    Some(existing) if key.starts_with("x-") => {
                        if let Some(item) = strip_tags(item) {
                            *existing = item;
                        }
                    }
                    Some(existing) if is_logging(path, &key) && other_driver(existing, &item) => {
                        if let Some(item) = strip_tags(item) {
                            *existing = item;
                        }
                    }
                    Some(existing) => {
                        path.push(key);
                        merge_at(existing, item, path);
                        path.pop();
                    }
                    None => {
                        if let Some(item) = strip_tags(item) {
                            base.insert(key, item);
                        }
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(over)) if !replaces_whole(path) => {
            for item in over.into_iter().filter_map(strip_tags) {
                if !base.contains(&item) {
                    base.push(item);
                }
            }
        }
        (base, over) => {
            if let Some(over) = strip_tags(over) {
                *base = over;
            }
        }
    }
}

fn is_logging(path: &[String], key: &str) -> bool {
    key == "logging" && matches!(path, [services, _] if services == "services")
}

/// Logging options belong to their driver: a later file that names another driver replaces
/// the whole `logging` instead of mixing two drivers' options.
fn other_driver(existing: &Value, item: &Value) -> bool {
    match (existing.get("driver"), item.get("driver")) {
        (Some(before), Some(after)) => before != after,
        _ => false,
    }
}

/// A service's sequences that are one value, not a set of values.
fn replaces_whole(path: &[String]) -> bool {
    match path {
        [services, _, attribute] if services == "services" => {
            matches!(attribute.as_str(), "command" | "entrypoint")
        }
        [services, _, healthcheck, test] if services == "services" => {
            healthcheck == "healthcheck" && test == "test"
        }
        _ => false,
    }
}

/// Brings a service's list-or-mapping attributes to their mapping form, in place:
/// `environment: [A=1, B]` → `{A: "1", B: null}`, `networks: [front]` → `{front: null}`,
/// `depends_on: [db]` → `{db: {condition: service_started, required: true}}`.
pub fn canonical_service(service: &mut Value) {
    let Value::Object(service) = service else {
        return;
    };
    for attribute in ["environment", "labels", "annotations", "sysctls"] {
        if let Some(value) = service.get_mut(attribute).and_then(untagged_mut) {
            key_value_list_to_map(value);
        }
    }
    if let Some(Value::Object(build)) = service.get_mut("build").and_then(untagged_mut)
        && let Some(args) = build.get_mut("args").and_then(untagged_mut)
    {
        key_value_list_to_map(args);
    }
    if let Some(networks) = service.get_mut("networks").and_then(untagged_mut) {
        names_to_map(networks, |_| Value::Null);
    }
    if let Some(depends_on) = service.get_mut("depends_on").and_then(untagged_mut) {
        names_to_map(depends_on, |_| Value::Object(Map::new()));
        if let Value::Object(dependencies) = depends_on {
            for dependency in dependencies.values_mut() {
                if let Value::Object(long) = dependency {
                    long.entry("condition")
                        .or_insert_with(|| Value::from("service_started"));
                    long.entry("required").or_insert(Value::Bool(true));
                }
            }
        }
    }
}

/// The value to bring to its canonical form: the one under an `!override` (it replaces a
/// value in that form), none for a `!reset`, else `value` itself.
fn untagged_mut(value: &mut Value) -> Option<&mut Value> {
    match tag_of(value) {
        Tagged::Reset => None,
        Tagged::Override(_) => value.get_mut(OVERRIDE_TAG),
        Tagged::Plain => Some(value),
    }
}

/// `["A=1", "B"]` → `{"A": "1", "B": null}` (a name alone: its value comes from elsewhere).
fn key_value_list_to_map(value: &mut Value) {
    let Value::Array(items) = value else {
        return;
    };
    let mut map = Map::new();
    for item in items.iter() {
        let text = match item {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match text.split_once('=') {
            Some((key, value)) => map.insert(key.to_owned(), Value::from(value)),
            None => map.insert(text, Value::Null),
        };
    }
    *value = Value::Object(map);
}

/// `["a", "b"]` → `{"a": default, "b": default}`; a mapping stays as it is.
fn names_to_map(value: &mut Value, default: impl Fn(&str) -> Value) {
    let Value::Array(items) = value else {
        return;
    };
    let map = items
        .iter()
        .filter_map(Value::as_str)
        .map(|name| (name.to_owned(), default(name)))
        .collect();
    *value = Value::Object(map);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mappings_merge_and_sequences_append() {
        let mut base =
            json!({"services": {"web": {"image": "a", "ports": ["80"], "command": ["x", "y"]}}});
        merge(
            &mut base,
            json!({"services": {"web": {"image": "b", "ports": ["80", "443"], "command": ["z"]}, "db": {}}}),
        );
        assert_eq!(
            base,
            json!({"services": {
                "web": {"image": "b", "ports": ["80", "443"], "command": ["z"]},
                "db": {}
            }})
        );
    }

    #[test]
    fn extensions_and_another_logging_driver_replace() {
        let mut base = json!({"x-a": {"k": 1}, "services": {"web": {"logging": {"driver": "json-file", "options": {"max-size": "1m"}}}}});
        merge(
            &mut base,
            json!({"x-a": {"j": 2}, "services": {"web": {"logging": {"driver": "syslog"}}}}),
        );
        assert_eq!(
            base,
            json!({"x-a": {"j": 2}, "services": {"web": {"logging": {"driver": "syslog"}}}})
        );
        let mut base =
            json!({"services": {"web": {"logging": {"driver": "local", "options": {"a": "1"}}}}});
        merge(
            &mut base,
            json!({"services": {"web": {"logging": {"options": {"b": "2"}}}}}),
        );
        assert_eq!(
            base["services"]["web"]["logging"],
            json!({"driver": "local", "options": {"a": "1", "b": "2"}})
        );
    }

    #[test]
    fn reset_removes_and_override_replaces() {
        let mut base = json!({"web": {"ports": ["80"], "environment": {"A": "1", "B": "2"}}});
        merge(
            &mut base,
            json!({"web": {"ports": {"!reset": []}, "environment": {"!override": {"C": "3"}}}}),
        );
        assert_eq!(base, json!({"web": {"environment": {"C": "3"}}}));
    }

    #[test]
    fn list_forms_under_override_become_mappings_too() {
        let mut service = json!({
            "depends_on": {"!override": ["db"]}, "environment": {"!reset": null}
        });
        canonical_service(&mut service);
        assert_eq!(
            service,
            json!({
                "depends_on": {"!override": {"db": {"condition": "service_started", "required": true}}},
                "environment": {"!reset": null}
            })
        );
    }

    #[test]
    fn list_forms_become_mappings() {
        let mut service = json!({
            "environment": ["A=1", "B"], "networks": ["front"], "depends_on": ["db"]
        });
        canonical_service(&mut service);
        assert_eq!(
            service,
            json!({
                "environment": {"A": "1", "B": null},
                "networks": {"front": null},
                "depends_on": {"db": {"condition": "service_started", "required": true}}
            })
        );
    }
}
