//! # The canonical long form: what `docker compose config --format json` prints
//!
//! A compose file may say one thing in several ways: `ports: ["8080:80"]` or a mapping with
//! `target` and `published`; `command: npm start` or `[npm, start]`; `build: .` or
//! `build: {context: .}`; `90s` or `1m30s`. The engine should not have to know all of them,
//! so after the files are merged and the profiles applied, each service and each top-level
//! resource is brought to one form: the long form Docker Compose v2 (compose-go) prints with
//! `docker compose config --format json`, which the engine deserializes. That form is:
//!
//! - **one spelling per value**: ports, mounts, secrets, configs, devices, `extra_hosts` and
//!   healthcheck tests in their long form ([`super::short_syntax`] parses the short one);
//!   `command` and `entrypoint` as a list of words, split as a POSIX shell would; a
//!   string-or-list (`dns`, `tmpfs`, `label_file`, `env_file`) as a list; durations and byte
//!   sizes as Compose prints them ([`super::units`]); CPU counts as numbers; labels, options
//!   and `sysctls` with string values; mount targets cleaned (`/data/` → `/data`);
//! - **no relative paths**: a build context, a bind mount's source, an `env_file`, a
//!   `label_file`, a `develop.watch` path, a secret's or config's `file` are made absolute
//!   from the project directory (`~` from `$HOME`), because the engine runs with another
//!   working directory than the user's shell; a build context that is a URL (`https://…`,
//!   `git@…`) or another service's image (`service:…`) stays as it is;
//! - **files read**: each service's `env_file`s are read under its `environment`, and its
//!   `label_file`s under its `labels` ([`super::env_files`]), so the engine finds every
//!   variable and label in one mapping.
//!
//! compose-go's last step (`Normalize`) also fills in defaults; of those the loader does two
//! (a build argument without a value from the project environment, `pull_policy:
//! if_not_present` → `missing`) and leaves to the engine the others: a default `dockerfile`,
//! a default `default` network and resource names, `depends_on` entries for `links`,
//! `volumes_from` and `service:` namespaces, a default `target` for a service's secrets.

use serde_json::{Map, Value, json};

pub use super::context::Context;
use super::context::{error_at, string_values};
use super::env_files;
use super::error::ComposeError;
use super::short_syntax::{
    clean_path, parse_device, parse_extra_hosts, parse_port, parse_volume, scalar_text,
};
use super::units::{normalize_bytes, normalize_duration};

/// Brings the service `name` to its canonical long form (see the module's documentation).
pub fn service(name: &str, service: &mut Value, context: &Context) -> Result<(), ComposeError> {
    let Value::Object(service) = service else {
        return Ok(());
    };
    let at = |attribute: &str| format!("services.{name}.{attribute}");

    if let Some(build) = service.get_mut("build") {
        normalize_build(build, &at("build"), context)?;
    }
    // The old spelling of `missing`.
    if let Some(policy) = service.get_mut("pull_policy")
        && policy == "if_not_present"
    {
        *policy = "missing".into();
    }
    for attribute in ["command", "entrypoint"] {
        if let Some(Value::String(line)) = service.get(attribute) {
            let words = shell_words::split(line)
                .map_err(|why| format!("invalid command line {line:?}: {why}"))
                .map_err(error_at(at(attribute)))?;
            service.insert(attribute.into(), json!(words));
        }
    }
    for attribute in ["dns", "dns_search", "tmpfs", "label_file"] {
        if let Some(value @ Value::String(_)) = service.get_mut(attribute) {
            *value = Value::Array(vec![value.take()]);
        }
    }
    env_files::resolve_environment(service, &at("env_file"), context)?;
    env_files::resolve_labels(service, &at("label_file"), context)?;
    for attribute in ["annotations", "sysctls", "storage_opt"] {
        if let Some(value) = service.get_mut(attribute) {
            string_values(value, Some(""));
        }
    }
    if let Some(options) = service
        .get_mut("logging")
        .and_then(|logging| logging.get_mut("options"))
    {
        string_values(options, Some(""));
    }
    if let Some(Value::Object(blkio)) = service.get_mut("blkio_config") {
        // A throttle's `rate` is bytes per second (`10mb`); the `iops` ones are counts.
        for throttle in ["device_read_bps", "device_write_bps"] {
            if let Some(Value::Array(devices)) = blkio.get_mut(throttle) {
                for (index, device) in devices.iter_mut().enumerate() {
                    if let Value::Object(device) = device {
                        let at = format!("{}.{throttle}[{index}]", at("blkio_config"));
                        sizes(device, &["rate"], &at)?;
                    }
                }
            }
        }
    }
    if let Some(Value::Array(expose)) = service.get_mut("expose") {
        for port in expose.iter_mut() {
            *port = Value::String(scalar_text(port));
        }
    }
    // An attribute written with nothing under it (`ports:`) stays null: there is nothing to
    // bring to a long form.
    if let Some(hosts) = service.get_mut("extra_hosts").filter(|v| !v.is_null()) {
        *hosts = json!(parse_extra_hosts(hosts).map_err(error_at(at("extra_hosts")))?);
    }
    if let Some(Value::Object(healthcheck)) = service.get_mut("healthcheck") {
        if let Some(Value::String(test)) = healthcheck.get("test") {
            let test = json!(["CMD-SHELL", test]);
            healthcheck.insert("test".into(), test);
        }
        durations(
            healthcheck,
            &["interval", "timeout", "start_period", "start_interval"],
            &at("healthcheck"),
        )?;
    }
    if let Some(ports) = service.get_mut("ports").filter(|v| !v.is_null()) {
        normalize_ports(ports, &at("ports"))?;
    }
    if let Some(Value::Array(volumes)) = service.get_mut("volumes") {
        for (index, volume) in volumes.iter_mut().enumerate() {
            normalize_mount(volume, &format!("{}[{index}]", at("volumes")), context)?;
        }
    }
    if let Some(Value::Array(devices)) = service.get_mut("devices") {
        for (index, device) in devices.iter_mut().enumerate() {
            if let Value::String(spec) = device {
                *device =
                    parse_device(spec).map_err(error_at(format!("{}[{index}]", at("devices"))))?;
            }
        }
    }
    if let Some(Value::Array(watch)) = service
        .get_mut("develop")
        .and_then(|develop| develop.get_mut("watch"))
    {
        // The directories `watch` follows, from the project directory.
        for rule in watch.iter_mut() {
            if let Some(Value::String(path)) = rule.get_mut("path") {
                *path = context.absolute(path);
            }
        }
    }
    for attribute in ["secrets", "configs"] {
        if let Some(mounts) = service.get_mut(attribute) {
            file_mounts(mounts, &at(attribute))?;
        }
    }
    if let Some(Value::Object(deploy)) = service.get_mut("deploy") {
        normalize_deploy(deploy, &at("deploy"))?;
    }
    sizes(
        service,
        &["mem_limit", "mem_reservation", "memswap_limit", "shm_size"],
        &format!("services.{name}"),
    )?;
    if let Some(cpus) = service.get_mut("cpus") {
        cpus_number(cpus, &at("cpus"))?;
    }
    durations(service, &["stop_grace_period"], &format!("services.{name}"))?;
    Ok(())
}

/// `build: DIR` → `{context: DIR}`; the context (`.` when not given) and the
/// `additional_contexts` made absolute; list forms to mappings; `args` without a value
/// taken from the project environment; secrets in the long form.
fn normalize_build(build: &mut Value, path: &str, context: &Context) -> Result<(), ComposeError> {
    if let Value::String(dir) = build {
        *build = json!({"context": context.absolute_context(dir)});
        return Ok(());
    }
    let Value::Object(build) = build else {
        return Ok(());
    };
    let dir = build
        .get("context")
        .and_then(Value::as_str)
        .unwrap_or(".")
        .to_owned();
    build.insert("context".into(), context.absolute_context(&dir).into());
    if let Some(contexts) = build.get_mut("additional_contexts") {
        key_value_list_to_map(contexts);
        if let Value::Object(contexts) = contexts {
            for dir in contexts.values_mut() {
                if let Value::String(text) = dir {
                    *dir = context.absolute_context(text).into();
                }
            }
        }
    }
    if let Some(labels) = build.get_mut("labels") {
        key_value_list_to_map(labels);
        string_values(labels, Some(""));
    }
    if let Some(args) = build.get_mut("args") {
        string_values(args, None);
        // An argument named without a value takes the project environment's, as a
        // variable does; one found nowhere is left out (the Dockerfile's default applies).
        if let Value::Object(args) = args {
            args.retain(|name, value| {
                if value.is_null()
                    && let Some(found) = context.environment.get(name)
                {
                    *value = found.clone().into();
                }
                !value.is_null()
            });
        }
    }
    if let Some(secrets) = build.get_mut("secrets") {
        file_mounts(secrets, &format!("{path}.secrets"))?;
    }
    if let Some(hosts) = build.get_mut("extra_hosts").filter(|v| !v.is_null()) {
        *hosts = json!(parse_extra_hosts(hosts).map_err(error_at(format!("{path}.extra_hosts")))?);
    }
    sizes(build, &["shm_size"], path)
}

/// Every port in its long form: short ones parsed (a range gives one entry per port),
/// long ones given Compose's defaults (`protocol: tcp`, `mode: ingress`) and `published`
/// as a string.
fn normalize_ports(ports: &mut Value, path: &str) -> Result<(), ComposeError> {
    let Value::Array(items) = ports else {
        return Err(error_at(path)("must be a list".into()));
    };
    let mut long_forms = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = || format!("{path}[{index}]");
        match item {
            Value::String(_) | Value::Number(_) => {
                long_forms.extend(parse_port(&scalar_text(item)).map_err(error_at(at()))?);
            }
            Value::Object(long) => {
                let mut long = long.clone();
                long.entry("mode").or_insert_with(|| "ingress".into());
                long.entry("protocol").or_insert_with(|| "tcp".into());
                if let Some(published) = long.get_mut("published")
                    && published.is_number()
                {
                    *published = scalar_text(published).into();
                }
                if let Some(target) = long.get_mut("target")
                    && let Some(port) = target.as_str().and_then(|t| t.parse::<u16>().ok())
                {
                    *target = port.into();
                }
                long_forms.push(Value::Object(long));
            }
            other => return Err(error_at(at())(format!("invalid port {other}"))),
        }
    }
    *items = long_forms;
    Ok(())
}

/// A mount in its long form; a bind mount's source made absolute, its `bind` options given
/// Compose's default (`create_host_path: true`); a tmpfs size in bytes.
fn normalize_mount(volume: &mut Value, path: &str, context: &Context) -> Result<(), ComposeError> {
    if let Value::String(spec) = volume {
        *volume = parse_volume(spec).map_err(error_at(path))?;
    }
    let Value::Object(long) = volume else {
        return Err(error_at(path)(format!("invalid volume {volume}")));
    };
    if let Some(Value::String(target)) = long.get_mut("target")
        && !target.is_empty()
    {
        *target = clean_path(target);
    }
    if long.get("type").and_then(Value::as_str) == Some("bind") {
        let Some(Value::String(source)) = long.get("source") else {
            return Err(error_at(path)(
                "invalid mount config for type \"bind\": field source must not be empty".into(),
            ));
        };
        let source = context.absolute(source);
        long.insert("source".into(), source.into());
        if let Some(Value::Object(bind)) = long.get_mut("bind") {
            bind.entry("create_host_path").or_insert(Value::Bool(true));
        }
    }
    if let Some(Value::Object(tmpfs)) = long.get_mut("tmpfs") {
        sizes(tmpfs, &["size"], &format!("{path}.tmpfs"))?;
    }
    Ok(())
}

/// A service's (or a build's) `secrets`/`configs`: a name alone → `{source: NAME}`; a
/// `mode` as Compose prints a file mode: octal text (`0440`).
fn file_mounts(mounts: &mut Value, path: &str) -> Result<(), ComposeError> {
    let Value::Array(items) = mounts else {
        return Ok(());
    };
    for (index, item) in items.iter_mut().enumerate() {
        match item {
            Value::String(source) => *item = json!({"source": source}),
            Value::Object(long) => {
                if let Some(mode) = long.get_mut("mode") {
                    *mode = file_mode(mode).map_err(error_at(format!("{path}[{index}].mode")))?;
                }
            }
            other => {
                return Err(error_at(format!("{path}[{index}]"))(format!(
                    "invalid entry {other}"
                )));
            }
        }
    }
    Ok(())
}

/// A file mode as Compose prints it: `0` and octal digits. A number is the mode itself
/// (YAML's `0440` is octal); a string is read as octal.
fn file_mode(mode: &Value) -> Result<Value, String> {
    let bits = match mode {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => i64::from_str_radix(text, 8).ok(),
        _ => None,
    }
    .ok_or_else(|| format!("invalid file mode {mode}"))?;
    Ok(format!("0{bits:o}").into())
}

/// `deploy`: labels as a mapping of strings, CPU counts as numbers, memory in bytes, the
/// update, rollback and restart delays as durations.
fn normalize_deploy(deploy: &mut Map<String, Value>, path: &str) -> Result<(), ComposeError> {
    if let Some(labels) = deploy.get_mut("labels") {
        key_value_list_to_map(labels);
        string_values(labels, Some(""));
    }
    if let Some(Value::Object(resources)) = deploy.get_mut("resources") {
        for kind in ["limits", "reservations"] {
            if let Some(Value::Object(resource)) = resources.get_mut(kind) {
                let at = format!("{path}.resources.{kind}");
                if let Some(cpus) = resource.get_mut("cpus") {
                    cpus_number(cpus, &format!("{at}.cpus"))?;
                }
                sizes(resource, &["memory"], &at)?;
            }
        }
    }
    for config in ["update_config", "rollback_config"] {
        if let Some(Value::Object(config_map)) = deploy.get_mut(config) {
            durations(
                config_map,
                &["delay", "monitor"],
                &format!("{path}.{config}"),
            )?;
        }
    }
    if let Some(Value::Object(policy)) = deploy.get_mut("restart_policy") {
        durations(
            policy,
            &["delay", "window"],
            &format!("{path}.restart_policy"),
        )?;
    }
    Ok(())
}

/// A CPU count (`'0.5'` or `0.5`) as a number.
fn cpus_number(cpus: &mut Value, path: &str) -> Result<(), ComposeError> {
    if let Value::String(text) = cpus {
        let number = text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .ok_or_else(|| error_at(path)(format!("invalid cpus {text:?}")))?;
        *cpus = Value::Number(number);
    }
    Ok(())
}

/// The `keys` of `map` that hold a duration, in Compose's printed form.
fn durations(map: &mut Map<String, Value>, keys: &[&str], path: &str) -> Result<(), ComposeError> {
    for key in keys {
        if let Some(value) = map.get_mut(*key)
            && !value.is_null()
        {
            *value = normalize_duration(value).map_err(error_at(format!("{path}.{key}")))?;
        }
    }
    Ok(())
}

/// The `keys` of `map` that hold a byte size, in Compose's printed form.
fn sizes(map: &mut Map<String, Value>, keys: &[&str], path: &str) -> Result<(), ComposeError> {
    for key in keys {
        if let Some(value) = map.get_mut(*key)
            && !value.is_null()
        {
            *value = normalize_bytes(value).map_err(error_at(format!("{path}.{key}")))?;
        }
    }
    Ok(())
}

/// `["A=1", "B"]` → `{"A": "1", "B": null}`; a mapping stays as it is.
fn key_value_list_to_map(value: &mut Value) {
    let Value::Array(items) = value else {
        return;
    };
    let map = items
        .iter()
        .map(|item| {
            let text = scalar_text(item);
            match text.split_once('=') {
                Some((key, value)) => (key.to_owned(), Value::from(value)),
                None => (text, Value::Null),
            }
        })
        .collect();
    *value = Value::Object(map);
}

/// Brings the top-level resources (`networks`, `volumes`, `secrets`, `configs`) to their
/// canonical form: an entry written as a name alone (`some-network:`) is an empty mapping;
/// the deprecated `external: {name: N}` becomes `name: N` with `external: true`; labels
/// are a mapping of strings and driver options strings; a secret's or config's `file`, and
/// the device of a local volume bound to a host directory, are made absolute.
pub fn resources(
    kind: &str,
    resources: &mut Map<String, Value>,
    context: &Context,
) -> Result<(), ComposeError> {
    for (name, resource) in resources.iter_mut() {
        let path = format!("{kind}.{name}");
        if resource.is_null() {
            *resource = Value::Object(Map::new());
        }
        let Value::Object(resource) = resource else {
            continue;
        };
        if let Some(Value::Object(external)) = resource.get("external") {
            let legacy_name = external.get("name").cloned();
            resource.insert("external".into(), true.into());
            if let Some(legacy_name) = legacy_name {
                match resource.get("name") {
                    Some(own) if *own != legacy_name => {
                        return Err(error_at(path)(
                            "name and external.name conflict; only use name".into(),
                        ));
                    }
                    _ => {
                        resource.insert("name".into(), legacy_name);
                    }
                }
            }
        }
        if let Some(labels) = resource.get_mut("labels") {
            key_value_list_to_map(labels);
            string_values(labels, Some(""));
        }
        if let Some(options) = resource.get_mut("driver_opts") {
            string_values(options, Some(""));
        }
        if matches!(kind, "secrets" | "configs")
            && let Some(Value::String(file)) = resource.get("file")
        {
            let file = context.absolute(file);
            resource.insert("file".into(), file.into());
        }
        if kind == "volumes"
            && resource.get("driver").and_then(Value::as_str) == Some("local")
            && let Some(Value::Object(options)) = resource.get_mut("driver_opts")
            && options.get("o").and_then(Value::as_str) == Some("bind")
            && let Some(Value::String(device)) = options.get("device")
        {
            let device = context.absolute(device);
            options.insert("device".into(), device.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use std::path::PathBuf;

    use super::*;

    fn with_context<T>(run: impl FnOnce(&Context) -> T) -> T {
        let environment = BTreeMap::from([
            ("HOME".to_owned(), "/home/me".to_owned()),
            ("FROM_SHELL".to_owned(), "shell".to_owned()),
        ]);
        let dir = PathBuf::from("/srv/app");
        run(&Context {
            working_dir: &dir,
            environment: &environment,
        })
    }

    fn normalized(service_value: Value) -> Result<Value, String> {
        with_context(|context| {
            let mut value = service_value;
            service("web", &mut value, context).map_err(|e| e.to_string())?;
            Ok(value)
        })
    }

    #[test]
    fn paths_are_made_absolute() {
        with_context(|context| {
            assert_eq!(context.absolute("./data"), "/srv/app/data");
            assert_eq!(context.absolute("."), "/srv/app");
            assert_eq!(context.absolute("../x"), "/srv/x");
            assert_eq!(context.absolute("~/configs"), "/home/me/configs");
            assert_eq!(context.absolute("/abs/./x"), "/abs/./x");
            assert_eq!(
                context.absolute_context("https://github.com/a/b.git"),
                "https://github.com/a/b.git"
            );
            assert_eq!(context.absolute_context("service:base"), "service:base");
            assert_eq!(
                context.absolute_context("docker-image://alpine"),
                "docker-image://alpine"
            );
            assert_eq!(context.absolute_context("dir"), "/srv/app/dir");
        });
    }

    #[test]
    fn short_forms_become_long() {
        let service = normalized(json!({
            "build": ".",
            "command": "sh -c 'echo \"a b\"'",
            "entrypoint": null,
            "dns": "8.8.8.8",
            "ports": ["80", 8080, {"target": "81", "published": 9000}],
            "volumes": [
                "./data:/data:ro",
                "cache:/cache",
                {"type": "bind", "source": "src", "target": "/src/", "bind": {}}
            ],
            "secrets": ["token", {"source": "key", "mode": 288}],
            "configs": [{"source": "c", "mode": "440"}],
            "healthcheck": {"test": "curl -f localhost", "interval": "90s"},
            "stop_grace_period": "1.5s",
            "mem_limit": "1g",
            "cpus": "0.5",
            "expose": [3000, "4000"],
            "extra_hosts": {"db": "10.0.0.2"},
            "sysctls": {"net.core.somaxconn": 1024},
            "develop": {"watch": [{"path": "./src", "action": "sync", "target": "/app"}]},
            "logging": {"driver": "json-file", "options": {"max-file": 3}},
            "storage_opt": {"size": "20G"},
            "blkio_config": {"device_read_bps": [{"path": "/dev/sda", "rate": "1mb"}],
                             "device_read_iops": [{"path": "/dev/sda", "rate": 100}]},
        }))
        .unwrap();
        assert_eq!(service["build"], json!({"context": "/srv/app"}));
        assert_eq!(service["command"], json!(["sh", "-c", "echo \"a b\""]));
        assert_eq!(service["entrypoint"], Value::Null);
        assert_eq!(service["dns"], json!(["8.8.8.8"]));
        assert_eq!(
            service["ports"],
            json!([
                {"mode": "ingress", "target": 80, "protocol": "tcp"},
                {"mode": "ingress", "target": 8080, "protocol": "tcp"},
                {"mode": "ingress", "target": 81, "published": "9000", "protocol": "tcp"},
            ])
        );
        assert_eq!(
            service["volumes"],
            json!([
                {"type": "bind", "source": "/srv/app/data", "target": "/data", "read_only": true,
                 "bind": {"create_host_path": true}},
                {"type": "volume", "source": "cache", "target": "/cache", "volume": {}},
                {"type": "bind", "source": "/srv/app/src", "target": "/src",
                 "bind": {"create_host_path": true}},
            ])
        );
        assert_eq!(
            service["secrets"],
            json!([{"source": "token"}, {"source": "key", "mode": "0440"}])
        );
        assert_eq!(service["configs"], json!([{"source": "c", "mode": "0440"}]));
        assert_eq!(
            service["healthcheck"],
            json!({"test": ["CMD-SHELL", "curl -f localhost"], "interval": "1m30s"})
        );
        assert_eq!(service["stop_grace_period"], "1.5s");
        assert_eq!(service["mem_limit"], "1073741824");
        assert_eq!(service["cpus"], json!(0.5));
        assert_eq!(service["expose"], json!(["3000", "4000"]));
        assert_eq!(service["extra_hosts"], json!(["db=10.0.0.2"]));
        assert_eq!(service["sysctls"], json!({"net.core.somaxconn": "1024"}));
        assert_eq!(service["develop"]["watch"][0]["path"], "/srv/app/src");
        assert_eq!(service["logging"]["options"], json!({"max-file": "3"}));
        assert_eq!(service["storage_opt"], json!({"size": "20G"}));
        assert_eq!(
            service["blkio_config"],
            json!({"device_read_bps": [{"path": "/dev/sda", "rate": "1048576"}],
                   "device_read_iops": [{"path": "/dev/sda", "rate": 100}]})
        );
        let service = normalized(json!({
            "build": {"context": "../lib", "args": {"FROM_SHELL": null, "UNSET": null, "N": 1},
                      "labels": ["a=b"],
                      "additional_contexts": ["base=./base", "img=docker-image://alpine"]},
            "pull_policy": "if_not_present",
        }))
        .unwrap();
        assert_eq!(
            service["build"],
            json!({"context": "/srv/lib", "args": {"FROM_SHELL": "shell", "N": "1"},
                   "labels": {"a": "b"},
                   "additional_contexts": {"base": "/srv/app/base",
                                           "img": "docker-image://alpine"}})
        );
        assert_eq!(service["pull_policy"], "missing");
    }

    #[test]
    fn an_empty_attribute_stays_null() {
        let empty = json!({"ports": null, "extra_hosts": null, "env_file": null, "command": null,
                           "volumes": null, "build": null, "environment": null});
        assert_eq!(normalized(empty.clone()).unwrap(), empty);
    }

    #[test]
    fn errors_name_the_path() {
        for (service, message) in [
            (
                json!({"ports": ["80", "80:x"]}),
                "services.web.ports[1]: invalid port \"80:x\"",
            ),
            (
                json!({"volumes": ["/a", "a::b"]}),
                "services.web.volumes[1]: invalid volume \"a::b\": empty section between colons",
            ),
            (
                json!({"command": "echo 'unclosed"}),
                "services.web.command: invalid command line \"echo 'unclosed\": \
                 missing closing quote",
            ),
            (
                json!({"healthcheck": {"interval": "10"}}),
                "services.web.healthcheck.interval: invalid duration \"10\": missing unit",
            ),
            (
                json!({"mem_limit": "lots"}),
                "services.web.mem_limit: invalid size \"lots\"",
            ),
            (
                json!({"deploy": {"resources": {"limits": {"cpus": "many"}}}}),
                "services.web.deploy.resources.limits.cpus: invalid cpus \"many\"",
            ),
            (
                json!({"extra_hosts": ["db"]}),
                "services.web.extra_hosts: invalid additional host, missing IP: db",
            ),
            (
                json!({"env_file": ["missing.env"]}),
                "services.web.env_file[0]: env file /srv/app/missing.env not found",
            ),
            (
                json!({"secrets": [{"source": "s", "mode": "rw"}]}),
                "services.web.secrets[0].mode: invalid file mode \"rw\"",
            ),
        ] {
            assert_eq!(normalized(service).unwrap_err(), message);
        }
    }

    #[test]
    fn top_level_resources() {
        with_context(|context| {
            let mut networks = json!({
                "plain": null,
                "legacy": {"external": {"name": "real"}},
                "opts": {"driver_opts": {"mtu": 1500}, "labels": ["a=b"]},
            });
            resources("networks", networks.as_object_mut().unwrap(), context).unwrap();
            assert_eq!(
                networks,
                json!({
                    "plain": {},
                    "legacy": {"name": "real", "external": true},
                    "opts": {"driver_opts": {"mtu": "1500"}, "labels": {"a": "b"}},
                })
            );
            let mut secrets = json!({"s": {"file": "./s.txt"}, "h": {"file": "~/h"}});
            resources("secrets", secrets.as_object_mut().unwrap(), context).unwrap();
            assert_eq!(
                secrets,
                json!({"s": {"file": "/srv/app/s.txt"}, "h": {"file": "/home/me/h"}})
            );
            let mut conflict = json!({"v": {"name": "a", "external": {"name": "b"}}});
            assert_eq!(
                resources("volumes", conflict.as_object_mut().unwrap(), context)
                    .unwrap_err()
                    .to_string(),
                "volumes.v: name and external.name conflict; only use name"
            );
        });
    }
}
