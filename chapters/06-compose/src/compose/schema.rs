//! # Which keys a compose file may have
//!
//! Compose validates every file, after interpolation and before merging, against the JSON
//! schema of the Compose Specification (compose-go's `schema/compose-spec.json`). Its first
//! and most useful rule: a mapping accepts only the attributes the specification defines, plus
//! extensions whose name starts with `x-`. A typo (`imgae:`) or an attribute from another tool
//! is refused with the path where it stands, instead of being silently ignored.
//!
//! This module checks that rule for the top level and for each service, with the lists of
//! keys taken from the schema (a test reads the schema file and compares). The schema's other
//! rules (types, formats, `oneOf`s) are not checked yet.

use serde_json::Value;

/// The keys the top level of a compose file may have (besides `x-*`).
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "version", "name", "include", "services", "models", "networks", "volumes", "secrets", "configs",
];

/// The attributes a service may have (besides `x-*`), as `$defs.service.properties` lists them.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// A rule of the schema that a file breaks, with the path where (`services.web`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A key the specification does not define.
    #[error("{}additional property {key:?} is not allowed", at(.path))]
    UnknownKey {
        /// The mapping that holds it (`""` for the top level).
        path: String,
        /// The key.
        key: String,
    },
    /// A mapping expected, something else found.
    #[error("{path} must be a mapping")]
    NotAMapping {
        /// Where.
        path: String,
    },
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Checks one file's (interpolated) tree: its top-level keys and each service's keys.
pub fn check(tree: &Value) -> Result<(), SchemaError> {
    let Value::Object(top) = tree else {
        return Err(SchemaError::NotAMapping {
            path: "top level".into(),
        });
    };
    check_keys(top, TOP_LEVEL_KEYS, "")?;
    match top.get("services").map(untagged) {
        None | Some(Value::Null) => {}
        Some(Value::Object(services)) => {
            for (name, service) in services {
                let path = format!("services.{name}");
                match untagged(service) {
                    Value::Object(service) => check_keys(service, SERVICE_KEYS, &path)?,
                    // `web:` alone, or `web: !reset null`: nothing to check.
                    Value::Null => {}
                    _ => return Err(SchemaError::NotAMapping { path }),
                }
            }
        }
        Some(_) => {
            return Err(SchemaError::NotAMapping {
                path: "services".into(),
            });
        }
    }
    Ok(())
}

/// The value under a `!reset` / `!override` tag, or the value itself.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Object(map) if map.len() == 1 => map
            .get(super::yaml::OVERRIDE_TAG)
            .or_else(|| map.get(super::yaml::RESET_TAG))
            .unwrap_or(value),
        _ => value,
    }
}

fn check_keys(
    map: &serde_json::Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), SchemaError> {
    match map
        .keys()
        .find(|key| !key.starts_with("x-") && !allowed.contains(&key.as_str()))
    {
        Some(key) => Err(SchemaError::UnknownKey {
            path: path.to_owned(),
            key: key.clone(),
        }),
        None => Ok(()),
    }
}
