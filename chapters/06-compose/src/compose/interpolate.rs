//! # Interpolation: `${VAR}` in a Compose file
//!
//! Before Compose validates a file it replaces variables in every string value with text from
//! the environment (the shell's variables, then the project's `.env` file). The syntax is a
//! small subset of the POSIX shell's parameter expansion, as compose-go's `template` package
//! implements it:
//!
//! | written              | gives                                                       |
//! |----------------------|-------------------------------------------------------------|
//! | `$VAR`, `${VAR}`     | the value, or an empty string when `VAR` is unset           |
//! | `${VAR:-default}`    | `default` when `VAR` is unset **or empty**                  |
//! | `${VAR-default}`     | `default` only when `VAR` is unset                          |
//! | `${VAR:?message}`    | an error naming `VAR` when it is unset or empty             |
//! | `${VAR?message}`     | an error naming `VAR` when it is unset                      |
//! | `${VAR:+alternate}`  | `alternate` when `VAR` is set and not empty, else empty     |
//! | `${VAR+alternate}`   | `alternate` when `VAR` is set (even empty), else empty      |
//! | `$$`                 | a literal `$`                                               |
//!
//! The colon makes the difference between "unset" and "set but empty". The text after the
//! operator is itself a template (`${A:-${B:-x}}`), expanded only when it is used, so a
//! default that names an unset variable costs nothing when it is not needed. A variable name
//! is a letter or `_` followed by letters, digits and `_`. A `$` that starts none of these
//! forms (`a $ sign`, `^REGEX$`, `$}`) stays as it is, but a `${` that does not continue as
//! one of the braced forms is an error: it is almost always a typo, and the fix is `$${`.
//!
//! Only values are interpolated, never keys: [`interpolate_value`] walks a parsed tree and
//! names the path of the string that failed (`services.web.image: required variable TAG is
//! missing a value`). Turning interpolated text back into numbers or booleans is the next
//! stage's job (compose-go casts by schema path after this step).
//!
//! Compose also warns when a variable is unset and defaults to a blank string; a library
//! doesn't print, so a caller that wants the warning records the misses in its `lookup`.

use serde_json::Value;

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// A `${` that is not a valid braced form (`${}`, `${ foo}`, `${foo!}`, no closing brace).
    #[error("Invalid template: {template:?} (write $$ for a literal $)")]
    InvalidTemplate {
        /// The whole string that held the bad expression.
        template: String,
    },
    /// `${VAR:?message}` or `${VAR?message}` with `VAR` missing.
    #[error("required variable {variable} is missing a value{}", colon_then(.reason))]
    MissingRequired {
        /// The variable's name.
        variable: String,
        /// The (expanded) message written after `?`; may be empty.
        reason: String,
    },
    /// An error in one string of a tree, with the path of that string.
    #[error("{path}: {source}")]
    AtPath {
        /// Where the string sits, e.g. `services.web.ports[0]`.
        path: String,
        /// What went wrong in it.
        source: Box<InterpolationError>,
    },
}

fn colon_then(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// Expands every `$` form in `template`; `lookup` gives a variable's value, `None` when unset.
pub fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    let invalid = || InterpolationError::InvalidTemplate {
        template: template.to_owned(),
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner_and_tail) = after.strip_prefix('{') {
            let (inner, tail) = split_braced(inner_and_tail).ok_or_else(invalid)?;
            let expansion = expand_braced(inner, lookup).map_err(|error| match error {
                // A nested template's error names the outer string, as the user wrote it.
                InterpolationError::InvalidTemplate { .. } => invalid(),
                other => other,
            })?;
            out.push_str(&expansion.ok_or_else(invalid)?);
            rest = tail;
        } else {
            let name_len = name_length(after);
            if name_len == 0 {
                // Not a variable: the `$` is plain text.
                out.push('$');
            } else {
                out.push_str(&lookup(&after[..name_len]).unwrap_or_default());
            }
            rest = &after[name_len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The length of the variable name that starts `text` (0 if none does).
fn name_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count(),
        _ => 0,
    }
}

/// Splits the text after `${` into the expression and what follows its closing brace.
///
/// The closing brace is the one that balances the opening one, so a default may hold
/// braces (`${A:-{"json":1}}`, `${A:-${B}}`). Like compose-go, an expression never spans
/// lines, and when the braces do not balance on the line the last `}` of the line closes it.
fn split_braced(text: &str) -> Option<(&str, &str)> {
    let line_end = text.find('\n').unwrap_or(text.len());
    let line = &text[..line_end];
    let mut depth = 1usize;
    let mut bytes = line.bytes().enumerate();
    while let Some((index, byte)) = bytes.next() {
        match byte {
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[..index], &text[index + 1..]));
                }
            }
            b'{' => {
                depth += 1;
                // compose-go skips the character after an opening brace, so `{}` nests.
                bytes.next();
            }
            _ => {}
        }
    }
    let close = line.rfind('}')?;
    Some((&text[..close], &text[close + 1..]))
}

// ANCHOR: expand_braced
/// Expands one braced expression (without its braces); `Ok(None)` when it is malformed.
fn expand_braced(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, InterpolationError> {
    let name_len = name_length(inner);
    if name_len == 0 {
        return Ok(None);
    }
    let (name, operation) = inner.split_at(name_len);
    let value = lookup(name);
    if operation.is_empty() {
        return Ok(Some(value.unwrap_or_default()));
    }
    let (colon, operation) = match operation.strip_prefix(':') {
        Some(operation) => (true, operation),
        None => (false, operation),
    };
    let Some(operator) = operation.chars().next() else {
        return Ok(None);
    };
    let argument = &operation[1..];
    // "Missing" means unset, or (with the colon) set to the empty string.
    let missing = match &value {
        None => true,
        Some(text) => colon && text.is_empty(),
    };
    let expanded = match operator {
        '-' if missing => substitute(argument, lookup)?,
        '-' => value.unwrap_or_default(),
        '+' if missing => String::new(),
        '+' => substitute(argument, lookup)?,
        '?' if missing => {
            return Err(InterpolationError::MissingRequired {
                variable: name.to_owned(),
                reason: substitute(argument, lookup)?,
            });
        }
        '?' => value.unwrap_or_default(),
        _ => return Ok(None),
    };
    Ok(Some(expanded))
}
// ANCHOR_END: expand_braced

/// Interpolates every string in `value` in place: mapping values and sequence items, never
/// mapping keys. `path` names `value` itself in errors (`""` for the root).
pub fn interpolate_value(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &str,
) -> Result<(), InterpolationError> {
    match value {
        Value::String(text) => {
            *text = substitute(text, lookup).map_err(|source| InterpolationError::AtPath {
                path: path.to_owned(),
                source: Box::new(source),
            })?;
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let item_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                interpolate_value(item, lookup, &item_path)?;
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                interpolate_value(item, lookup, &format!("{path}[{index}]"))?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "FOO" => Some("first".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn plain_and_braced_names() {
        assert_eq!(
            substitute("$FOO-${FOO}.$MISSING", &env).unwrap(),
            "first-first."
        );
    }

    #[test]
    fn escaped_dollar_is_literal() {
        assert_eq!(substitute("$$FOO $${FOO}", &env).unwrap(), "$FOO ${FOO}");
    }

    #[test]
    fn unclosed_brace_is_invalid() {
        let error = substitute("a ${FOO", &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"Invalid template: "a ${FOO" (write $$ for a literal $)"#
        );
    }

    #[test]
    fn expression_does_not_span_lines() {
        assert!(substitute("${FOO:-a\n}", &env).is_err());
        assert_eq!(substitute("${FOO}\n}", &env).unwrap(), "first\n}");
    }

    #[test]
    fn tree_errors_name_the_path() {
        let mut tree = serde_json::json!({
            "services": {"web": {"image": "app:${TAG:?}", "ports": ["${FOO}", 80]}}
        });
        let error = interpolate_value(&mut tree, &env, "").unwrap_err();
        assert_eq!(
            error.to_string(),
            "services.web.image: required variable TAG is missing a value"
        );
        let mut tree = serde_json::json!({"ports": ["${FOO}", 80, {"x": "${EMPTY:-d}"}]});
        interpolate_value(&mut tree, &env, "").unwrap();
        assert_eq!(
            tree,
            serde_json::json!({"ports": ["first", 80, {"x": "d"}]})
        );
        let mut tree = serde_json::json!(["${"]);
        let error = interpolate_value(&mut tree, &env, "x").unwrap_err();
        assert!(error.to_string().starts_with("x[0]: Invalid template"));
    }
}
