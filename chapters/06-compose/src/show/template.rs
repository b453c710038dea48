//! `inspect -f`: the small part of Go's `text/template` that scripts use on docker's inspect
//! documents, over a JSON value. The template's text and placeholders are
//! [`dockyard_support::format::fill_template`]'s; this module says what a placeholder is:
//!
//! - `.` (the whole document) or a path of fields, `.State.Status`, `.Config.Labels`;
//! - `json PATH`: the value as compact JSON (`{{json .Mounts}}`);
//! - `index PATH "KEY"` or `index PATH N`: a map's entry or a list's item
//!   (`{{index .Config.Labels "com.example.role"}}`).
//!
//! Values print as Go prints them: strings bare, `<nil>` for null, lists as `[a b]`, objects
//! as `map[k:v]` (keys sorted), a field the document does not have as `<no value>` (as for a
//! Go map), and `index` of an entry it does not have as nothing. Anything else (`range`, `if`,
//! pipes, other functions) is refused.

use serde_json::Value;

/// The placeholders it understands, for the message that refuses another.
pub const SUPPORTED: [&str; 3] = [".Path.To.Field", "json PATH", "index PATH \"KEY\""];

/// The text of placeholder `placeholder` for `document`, or `None` if it is not one this
/// module understands.
pub fn resolve(document: &Value, placeholder: &str) -> Option<String> {
    let words = words(placeholder)?;
    match words.as_slice() {
        [path] => lookup(document, path).map(|v| go_text(v.as_ref())),
        [function, path] if function == "json" => {
            lookup(document, path).map(|v| v.map_or_else(|| "null".to_string(), |v| v.to_string()))
        }
        [function, path, keys @ ..] if function == "index" && !keys.is_empty() => {
            let mut value = lookup(document, path)?;
            for key in keys {
                value = value.and_then(|v| entry(v, key));
            }
            // Go's `index` of a key a map lacks is the value type's zero: an empty string.
            Some(value.map_or_else(String::new, |v| go_text(Some(&v))))
        }
        _ => None,
    }
}

/// The placeholder's words: bare words, and double-quoted strings unquoted.
fn words(placeholder: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut rest = placeholder.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            words.push(format!("\"{}", &quoted[..end]));
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            words.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    Some(words)
}

/// The value at a field path (`.`, `.A.B`): `Some(None)` when a field is missing, `None`
/// when the word is not a path.
fn lookup(document: &Value, path: &str) -> Option<Option<Value>> {
    let fields = path.strip_prefix('.')?;
    if fields.is_empty() {
        return Some(Some(document.clone()));
    }
    let mut value = document;
    for field in fields.split('.') {
        if field.is_empty() || !field.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        match value.get(field) {
            Some(inner) => value = inner,
            None => return Some(None),
        }
    }
    Some(Some(value.clone()))
}

/// `index`'s step: a quoted key into an object, a number into a list.
fn entry(value: Value, key: &str) -> Option<Value> {
    match key.strip_prefix('"') {
        Some(key) => value.get(key).cloned(),
        None => value.get(key.parse::<usize>().ok()?).cloned(),
    }
}

/// A value as Go's `fmt.Print` writes it.
fn go_text(value: Option<&Value>) -> String {
    match value {
        None => "<no value>".into(),
        Some(Value::Null) => "<nil>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => {
            let items: Vec<String> = items.iter().map(|v| go_text(Some(v))).collect();
            format!("[{}]", items.join(" "))
        }
        Some(Value::Object(map)) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_text(Some(v))))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_functions_and_go_printing() {
        let document = json!({
            "State": { "Status": "running", "Pid": 42, "Running": true, "Health": null },
            "Config": { "Labels": { "role": "web", "a b": "c" }, "Cmd": ["sleep", "1000"] },
        });
        let text = |placeholder| resolve(&document, placeholder);
        assert_eq!(text(".State.Status").as_deref(), Some("running"));
        assert_eq!(text(".State.Pid").as_deref(), Some("42"));
        assert_eq!(text(".State.Running").as_deref(), Some("true"));
        assert_eq!(text(".State.Health").as_deref(), Some("<nil>"));
        assert_eq!(text(".State.Nope").as_deref(), Some("<no value>"));
        assert_eq!(text(".Config.Cmd").as_deref(), Some("[sleep 1000]"));
        assert_eq!(
            text(".Config.Labels").as_deref(),
            Some("map[a b:c role:web]")
        );
        assert_eq!(
            text("json .Config.Cmd").as_deref(),
            Some(r#"["sleep","1000"]"#)
        );
        assert_eq!(text("index .Config.Labels \"a b\"").as_deref(), Some("c"));
        assert_eq!(text("index .Config.Cmd 1").as_deref(), Some("1000"));
        assert_eq!(text("index .Config.Cmd 5").as_deref(), Some(""));
        assert_eq!(text("index .Config.Labels \"nope\"").as_deref(), Some(""));
        for unsupported in ["range .Mounts", "State", ".State | upper", "index .A \"x"] {
            assert_eq!(text(unsupported), None, "{unsupported}");
        }
    }
}
