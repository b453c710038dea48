//! # `depends_on`: the order services start in
//!
//! A service's `depends_on` names the services that must be up before it starts. Written
//! short, it is a list of names; written long, a mapping from each name to `condition`
//! (`service_started`, `service_healthy`, `service_completed_successfully`) and `required`
//! (`false`: start anyway when that service is not part of the project). The merge step
//! brings both to the long form.
//!
//! The dependencies make a graph, and `up` walks it: dependencies first. That only works when
//! the graph has no cycle (`a → b → a`, or `a → a`), and when every required dependency is a
//! service of the project, so both are checked when the project loads, with an error that
//! names the services. [`dependency_order`] is the walk itself: a topological sort, depth
//! first in name order so the order is the same every time.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// A `depends_on` graph that cannot be walked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    /// A required dependency that is not a service of the project.
    #[error("service {service:?} depends on undefined service {dependency:?}")]
    Undefined {
        /// The dependent service.
        service: String,
        /// The service it names.
        dependency: String,
    },
    /// A required dependency on a service that none of the active profiles enables: to
    /// Compose it is undefined too (the same message), but the profiles make a hint.
    #[error("service {service:?} depends on undefined service {dependency:?}")]
    Disabled {
        /// The dependent service.
        service: String,
        /// The service it names.
        dependency: String,
        /// The profiles that would enable it.
        profiles: Vec<String>,
    },
    /// Services that depend on each other, in a circle; the first name ends it again.
    #[error("dependency cycle detected: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// A `depends_on` that is neither a list of names nor a mapping.
    #[error("service {service:?}: depends_on must be a list of service names or a mapping")]
    Malformed {
        /// The service.
        service: String,
    },
}

/// The names a service's (long-form) `depends_on` lists, with whether each is required.
pub fn dependencies(service: &Value) -> Vec<(String, bool)> {
    match service.get("depends_on") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, long)| {
                let required = long
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                (name.clone(), required)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks every service's `depends_on` against the enabled `services` (and the `disabled`
/// ones, with their profiles), drops optional dependencies on services that are not there,
/// and refuses cycles. With `consistency` false, dependencies on services that are not there
/// stay, unchecked (`config --no-consistency`); cycles are still refused.
pub fn check(
    services: &mut BTreeMap<String, Value>,
    disabled: &BTreeMap<String, Vec<String>>,
    consistency: bool,
) -> Result<(), DependencyError> {
    let names: BTreeSet<String> = services.keys().cloned().collect();
    for (name, service) in services.iter_mut() {
        match service.get("depends_on") {
            None | Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(DependencyError::Malformed {
                    service: name.clone(),
                });
            }
        }
        for (dependency, required) in dependencies(service) {
            if names.contains(&dependency) || !consistency {
                continue;
            }
            if required {
                return Err(match disabled.get(&dependency) {
                    Some(profiles) => DependencyError::Disabled {
                        service: name.clone(),
                        dependency,
                        profiles: profiles.clone(),
                    },
                    None => DependencyError::Undefined {
                        service: name.clone(),
                        dependency,
                    },
                });
            }
            if let Some(Value::Object(map)) = service.get_mut("depends_on") {
                map.remove(&dependency);
            }
        }
    }
    dependency_order(services).map(|_| ())
}

/// The services in the order `up` starts them: each after everything it depends on. The walk
/// is depth-first, services and their dependencies taken by name, so the order is stable.
/// Dependencies on names that are not in `services` are ignored (see [`check`]).
pub fn dependency_order(
    services: &BTreeMap<String, Value>,
) -> Result<Vec<String>, DependencyError> {
    let mut order = Vec::with_capacity(services.len());
    let mut state: BTreeMap<&str, Visit> = BTreeMap::new();
    for name in services.keys() {
        visit(name, services, &mut state, &mut Vec::new(), &mut order)?;
    }
    Ok(order)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    InProgress,
    Done,
}

// ANCHOR: visit
/// Depth-first: a service is placed after its dependencies; meeting a service that is still
/// in progress means the path from it back to itself is a cycle.
fn visit<'a>(
    name: &'a str,
    services: &'a BTreeMap<String, Value>,
    state: &mut BTreeMap<&'a str, Visit>,
    path: &mut Vec<&'a str>,
    order: &mut Vec<String>,
) -> Result<(), DependencyError> {
    match state.get(name) {
        Some(Visit::Done) => return Ok(()),
        Some(Visit::InProgress) => {
            let start = path.iter().position(|&n| n == name).unwrap_or(0);
            let mut cycle: Vec<String> = path[start..].iter().map(|&n| n.to_owned()).collect();
            cycle.push(name.to_owned());
            return Err(DependencyError::Cycle(cycle));
        }
        None => {}
    }
    let Some((key, service)) = services.get_key_value(name) else {
        return Ok(());
    };
    state.insert(key, Visit::InProgress);
    path.push(key);
    let mut dependencies: Vec<String> = dependencies(service).into_iter().map(|(n, _)| n).collect();
    dependencies.sort();
    for dependency in &dependencies {
        if let Some((dependency, _)) = services.get_key_value(dependency.as_str()) {
            visit(dependency, services, state, path, order)?;
        }
    }
    path.pop();
    state.insert(key, Visit::Done);
    order.push(key.clone());
    Ok(())
}
// ANCHOR_END: visit

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn services(graph: &[(&str, &[&str])]) -> BTreeMap<String, Value> {
        graph
            .iter()
            .map(|(name, deps)| {
                let deps: serde_json::Map<String, Value> = deps
                    .iter()
                    .map(|d| (d.to_string(), json!({"required": true})))
                    .collect();
                (name.to_string(), json!({ "depends_on": deps }))
            })
            .collect()
    }

    #[test]
    fn dependencies_come_first() {
        let order = dependency_order(&services(&[
            ("web", &["db", "cache"]),
            ("db", &[]),
            ("cache", &["db"]),
        ]))
        .unwrap();
        assert_eq!(order, ["db", "cache", "web"]);
    }

    #[test]
    fn a_cycle_names_its_services() {
        let error = dependency_order(&services(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "dependency cycle detected: a -> b -> c -> a"
        );
        let error = dependency_order(&services(&[("a", &["a"])])).unwrap_err();
        assert_eq!(error.to_string(), "dependency cycle detected: a -> a");
    }
}
