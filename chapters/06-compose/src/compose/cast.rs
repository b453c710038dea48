//! # Typed values from text
//!
//! Interpolation works on text, so `replicas: ${REPLICAS:-2}` becomes the string `"2"`; a
//! quoted `privileged: "true"` is text too. Compose reads such a string as the type its
//! attribute has: after interpolation, every string at one of the paths below is cast, and one
//! that does not read as that type is an error naming its path. (Durations and byte sizes stay
//! text: normalization reads them, in any spelling.)

use serde_json::{Number, Value};

/// What a string becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cast {
    Integer,
    Float,
    Boolean,
}

/// The attributes that are not text, as paths: `*` any mapping key, `[]` any list item.
const TYPED: &[(&str, Cast)] = &[
    ("services.*.configs.[].mode", Cast::Integer),
    ("services.*.cpu_count", Cast::Integer),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Integer),
    ("services.*.cpu_quota", Cast::Integer),
    ("services.*.cpu_rt_period", Cast::Integer),
    ("services.*.cpu_rt_runtime", Cast::Integer),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Integer),
    ("services.*.init", Cast::Boolean),
    ("services.*.deploy.replicas", Cast::Integer),
    ("services.*.deploy.resources.limits.cpus", Cast::Float),
    ("services.*.deploy.resources.limits.pids", Cast::Integer),
    (
        "services.*.deploy.restart_policy.max_attempts",
        Cast::Integer,
    ),
    ("services.*.healthcheck.retries", Cast::Integer),
    ("services.*.healthcheck.disable", Cast::Boolean),
    ("services.*.oom_kill_disable", Cast::Boolean),
    ("services.*.oom_score_adj", Cast::Integer),
    ("services.*.pids_limit", Cast::Integer),
    ("services.*.ports.[].target", Cast::Integer),
    ("services.*.privileged", Cast::Boolean),
    ("services.*.read_only", Cast::Boolean),
    ("services.*.scale", Cast::Integer),
    ("services.*.secrets.[].mode", Cast::Integer),
    ("services.*.stdin_open", Cast::Boolean),
    ("services.*.tty", Cast::Boolean),
    ("services.*.ulimits.*", Cast::Integer),
    ("services.*.ulimits.*.hard", Cast::Integer),
    ("services.*.ulimits.*.soft", Cast::Integer),
    ("services.*.volumes.[].read_only", Cast::Boolean),
    ("services.*.volumes.[].volume.nocopy", Cast::Boolean),
    ("services.*.depends_on.*.required", Cast::Boolean),
    ("services.*.depends_on.*.restart", Cast::Boolean),
    ("networks.*.external", Cast::Boolean),
    ("networks.*.internal", Cast::Boolean),
    ("networks.*.attachable", Cast::Boolean),
    ("networks.*.enable_ipv6", Cast::Boolean),
    ("volumes.*.external", Cast::Boolean),
    ("secrets.*.external", Cast::Boolean),
    ("configs.*.external", Cast::Boolean),
];

/// Casts the strings of a file's tree at the typed paths; the path and the reason of the
/// first that does not read as its type.
pub fn typed_values(tree: &mut Value) -> Result<(), (String, String)> {
    for (pattern, cast) in TYPED {
        let segments: Vec<&str> = pattern.split('.').collect();
        walk(tree, &segments, String::new(), *cast)?;
    }
    Ok(())
}

fn walk(
    value: &mut Value,
    segments: &[&str],
    path: String,
    cast: Cast,
) -> Result<(), (String, String)> {
    let Some((first, rest)) = segments.split_first() else {
        if let Value::String(text) = value {
            *value = convert(text, cast).ok_or_else(|| (path, invalid(text, cast)))?;
        }
        return Ok(());
    };
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (*first, value) {
        ("[]", Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, rest, format!("{path}[{i}]"), cast)?;
            }
        }
        ("*", Value::Object(map)) => {
            for (key, item) in map.iter_mut() {
                walk(item, rest, join(key), cast)?;
            }
        }
        (key, Value::Object(map)) => {
            if let Some(item) = map.get_mut(key) {
                walk(item, rest, join(key), cast)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `text` as `cast` reads it: Compose's booleans take YAML 1.1's words too.
fn convert(text: &str, cast: Cast) -> Option<Value> {
    let text = text.trim();
    match cast {
        Cast::Integer => integer(text).map(Value::from),
        Cast::Float => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
        Cast::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" => Some(Value::Bool(true)),
            "false" | "no" | "n" | "off" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

/// An integer as Go's `ParseInt(text, 0, 64)` reads it: `0x1F`, `0o17`, a leading zero for
/// octal (`mode: "0440"`), else decimal.
fn integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x").or(digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o").or(digits.strip_prefix("0O")) {
        (8, octal)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

fn invalid(text: &str, cast: Cast) -> String {
    let kind = match cast {
        Cast::Integer => "an integer",
        Cast::Float => "a number",
        Cast::Boolean => "a boolean",
    };
    format!("{text:?} is not {kind}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_at_typed_paths_become_their_type() {
        let mut tree = json!({
            "services": {"w": {
                "deploy": {"replicas": "3", "resources": {"limits": {"cpus": "0.5"}}},
                "privileged": "yes",
                "ports": [{"target": "80", "published": "8080"}],
                "command": ["2"],
            }},
            "networks": {"n": {"internal": "false"}},
        });
        typed_values(&mut tree).unwrap();
        assert_eq!(
            tree,
            json!({
                "services": {"w": {
                    "deploy": {"replicas": 3, "resources": {"limits": {"cpus": 0.5}}},
                    "privileged": true,
                    "ports": [{"target": 80, "published": "8080"}],
                    "command": ["2"],
                }},
                "networks": {"n": {"internal": false}},
            })
        );
    }

    #[test]
    fn integers_read_as_go_reads_them() {
        assert_eq!(integer("0440"), Some(0o440));
        assert_eq!(integer("0o17"), Some(15));
        assert_eq!(integer("0x1F"), Some(31));
        assert_eq!(integer("-12"), Some(-12));
        assert_eq!(integer("0"), Some(0));
        assert_eq!(integer("08"), None);
    }

    #[test]
    fn a_string_that_is_not_its_type_names_its_path() {
        let mut tree = json!({"services": {"w": {"scale": "many"}}});
        assert_eq!(
            typed_values(&mut tree).unwrap_err(),
            (
                "services.w.scale".to_owned(),
                "\"many\" is not an integer".to_owned()
            )
        );
    }
}
