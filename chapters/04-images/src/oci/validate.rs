//! The checks the spec's JSON schemas make on strings, written out as code.
//!
//! The OCI image spec ships JSON schemas (patterns like the one for media types, formats like
//! `uri` and `date-time`); its own validator adds a few rules in Go (registered digest
//! algorithms, `NAME=VALUE` environment entries, base64 that Go can decode). Each function here
//! is one of those rules. They are written by hand rather than with the `regex` crate: every
//! pattern is a few lines of code, the product needs no regex engine, and a hand-written check
//! can say *what* is wrong ("the subtype is 128 characters long") where a regex only says "no".
//!
//! Each check returns the problem as a sentence fragment; [`check`] pins it to a field.

/// What is wrong with which field of a document.
#[derive(Debug)]
pub(crate) struct FieldError {
    /// The field's path, such as `layers[0].mediaType`.
    pub(crate) field: String,
    /// What is wrong with it.
    pub(crate) problem: String,
}

/// The path of the field `name` inside the object at path `parent` (`""` for the document).
fn path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// Pins the outcome of one check to the field `name` of the object at `parent`.
pub(crate) fn check(
    parent: &str,
    name: &str,
    outcome: Result<(), String>,
) -> Result<(), FieldError> {
    outcome.map_err(|problem| FieldError {
        field: path(parent, name),
        problem,
    })
}

/// The fields a manifest and an index both open with: `schemaVersion`, their own `mediaType`
/// (which must be one of `kinds`, named `names` in the message) and `artifactType`.
pub(crate) fn header(
    schema_version: u32,
    own_media_type: Option<&str>,
    artifact_type: Option<&str>,
    is_kind: fn(&str) -> bool,
    names: &str,
) -> Result<(), FieldError> {
    check("", "schemaVersion", self::schema_version(schema_version))?;
    if let Some(own) = own_media_type {
        check("", "mediaType", media_type(own))?;
        if !is_kind(own) {
            return check("", "mediaType", Err(format!("{own:?} is not {names}")));
        }
    }
    if let Some(artifact_type) = artifact_type {
        check("", "artifactType", media_type(artifact_type))?;
    }
    Ok(())
}

/// `schemaVersion` of a manifest or index, which is 2 (the number goes on from Docker's
/// schema 1, the format before).
pub(crate) fn schema_version(version: u32) -> Result<(), String> {
    if version == 2 {
        Ok(())
    } else {
        Err(format!("must be 2, not {version}"))
    }
}

/// The longest type or subtype a media type may have (RFC 6838's restricted-name).
const MEDIA_TYPE_PART_MAX: usize = 127;

/// A media type, `type/subtype`, as the schema's pattern
/// `^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`.
pub(crate) fn media_type(value: &str) -> Result<(), String> {
    match value.split_once('/') {
        None => Err("there is no \"/\" between type and subtype".to_owned()),
        Some((type_, subtype)) => {
            media_type_part("type", type_).and_then(|()| media_type_part("subtype", subtype))
        }
    }
    .map_err(|reason| {
        format!("{value:?} is not a media type such as \"application/json\": {reason}")
    })
}

fn media_type_part(part: &str, name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err(format!("the {part} is empty"));
    };
    if !first.is_ascii_alphanumeric() {
        return Err(format!(
            "the {part} must start with a letter or a digit, not {first:?}"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c)))
    {
        return Err(format!("the {part} may not contain {bad:?}"));
    }
    if name.len() > MEDIA_TYPE_PART_MAX {
        return Err(format!(
            "the {part} is {} characters long, the most is {MEDIA_TYPE_PART_MAX}",
            name.len()
        ));
    }
    Ok(())
}

/// A URI (RFC 3986, the schema's `uri` format): a scheme, then only characters a URI may hold,
/// with `%` starting a two-digit escape, at most one `#`, and `[ ]` only around an IP literal
/// in the authority.
pub(crate) fn uri(value: &str) -> Result<(), String> {
    uri_problem(value).map_or(Ok(()), |reason| {
        Err(format!("{value:?} is not a URI: {reason}"))
    })
}

fn uri_problem(value: &str) -> Option<String> {
    let scheme_ok = |scheme: &str| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    };
    let Some(rest) = value
        .split_once(':')
        .filter(|(scheme, _)| scheme_ok(scheme))
        .map(|(_, rest)| rest)
    else {
        return Some("it does not start with a scheme such as \"https:\"".into());
    };
    let authority_len = rest.strip_prefix("//").map_or(0, |authority| {
        2 + authority.find(['/', '?', '#']).unwrap_or(authority.len())
    });
    let mut chars = rest.char_indices();
    let mut fragment = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '%' => {
                let escape: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                if escape.len() != 2 || !escape.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Some(
                        "\"%\" must start an escape of two hex digits, such as %20".into(),
                    );
                }
            }
            '#' if fragment => return Some("it has more than one \"#\"".into()),
            '#' => fragment = true,
            '[' | ']' if i >= authority_len => {
                return Some(format!("{c:?} may only enclose an IP address in the host"));
            }
            c if c.is_ascii_alphanumeric() || "-._~:/?[]@!$&'()*+,;=".contains(c) => {}
            c => return Some(format!("{c:?} must be percent-encoded")),
        }
    }
    None
}

/// Padded standard base64 (RFC 4648 section 4), what Go decodes into a descriptor's `data`.
pub(crate) fn base64(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    let fail = |reason: String| Err(format!("not padded standard base64: {reason}"));
    if !bytes.len().is_multiple_of(4) {
        return fail(format!(
            "its length, {}, is not a multiple of 4",
            bytes.len()
        ));
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return fail(format!("it ends in {padding} \"=\", the most is 2"));
    }
    // The padding is ASCII, so this slices at a character boundary.
    match value[..value.len() - padding]
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '+' || c == '/'))
    {
        Some('=') => fail("\"=\" may only pad the end".into()),
        Some(bad) => fail(format!("{bad:?} is not a base64 digit")),
        None => Ok(()),
    }
}

/// An RFC 3339 date-time as Go writes and reads it, such as `2015-10-31T22:22:56.015925234Z`
/// (the schema's `date-time` format, which Go's `time.Time` enforces with upper-case `T`/`Z`).
pub(crate) fn date_time(value: &str) -> Result<(), String> {
    if is_date_time(value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an RFC 3339 date-time such as \"2015-10-31T22:22:56.015925234Z\""
        ))
    }
}

fn is_date_time(value: &str) -> bool {
    let bytes = value.as_bytes();
    let number = |from: usize, to: usize| bytes.get(from..to).and_then(decimal);
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if !separators.iter().all(|&(i, c)| bytes.get(i) == Some(&c)) {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0, 4),
        number(5, 7),
        number(8, 10),
        number(11, 13),
        number(14, 16),
        number(17, 19),
    ) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut rest = &bytes[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest {
        b"Z" => true,
        [b'+' | b'-', hour @ .., b':', _, _] if hour.len() == 2 => {
            decimal(hour).is_some_and(|h| h <= 23) && decimal(&rest[4..]).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// The number that `digits` spell in decimal, if they are all digits (and not too many).
fn decimal(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u32::from(b - b'0')))
            .flatten()
    })
}

/// An environment entry, `NAME=VALUE`, as upstream's `^[^=]+=.*$` in Go's regexp syntax: a
/// name of at least one character without `=`, then `=`, then a value without a line break
/// (Go's `.` does not match `\n`).
pub(crate) fn env_entry(value: &str) -> Result<(), String> {
    let reason = match value.split_once('=') {
        None => return Err(format!("{value:?} is not NAME=VALUE")),
        Some(("", _)) => "the name is empty",
        Some((_, value)) if value.contains('\n') => "the value has a line break",
        Some(_) => return Ok(()),
    };
    Err(format!("{value:?} is not NAME=VALUE: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_with_dots() {
        assert_eq!(path("", "mediaType"), "mediaType");
        assert_eq!(path("layers[0]", "digest"), "layers[0].digest");
        let err = check("config", "Env[1]", Err("bad".into())).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.problem.as_str()),
            ("config.Env[1]", "bad")
        );
    }

    #[test]
    fn media_types() {
        let longest = format!("{0}/{0}", "a".repeat(127));
        for good in [
            "application/json",
            "application/vnd.oci.image.manifest.v1+json",
            "a/b",
            &longest,
        ] {
            assert_eq!(media_type(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("", "there is no \"/\""),
            ("application", "there is no \"/\""),
            ("/json", "the type is empty"),
            ("application/", "the subtype is empty"),
            (
                ".foo/bar",
                "the type must start with a letter or a digit, not '.'",
            ),
            ("foo/.bar", "the subtype must start"),
            ("foo/bar/baz", "the subtype may not contain '/'"),
            ("foo/bar baz", "may not contain ' '"),
            ("fóo/bar", "may not contain 'ó'"),
            (
                &format!("{}/bar", "a".repeat(128)),
                "the type is 128 characters long, the most is 127",
            ),
            (
                &format!("foo/{}", "a".repeat(128)),
                "the subtype is 128 characters long",
            ),
        ] {
            let problem = media_type(bad).unwrap_err();
            assert!(problem.contains(reason), "{bad:?}: {problem}");
        }
    }

    #[test]
    fn uris() {
        for good in [
            "https://example.com/foo",
            "http://[::1]:5000/v2/blobs/sha256:abc?x=1&y=%20#frag",
            "urn:oid:1.2",
            "file:///tmp/x",
        ] {
            assert_eq!(uri(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("value", "does not start with a scheme"),
            ("://example.com", "does not start with a scheme"),
            ("1http://example.com", "does not start with a scheme"),
            ("example.com/a:b", "does not start with a scheme"),
            ("https://example.com/a b", "' ' must be percent-encoded"),
            ("https://example.com/\"x\"", "'\"' must be percent-encoded"),
            ("https://example.com/é", "'é' must be percent-encoded"),
            ("https://example.com/%2", "\"%\" must start an escape"),
            ("https://example.com/%zz", "\"%\" must start an escape"),
            ("https://example.com/a#b#c", "more than one \"#\""),
            (
                "https://example.com/[x]",
                "'[' may only enclose an IP address",
            ),
        ] {
            let problem = uri(bad).unwrap_err();
            assert!(problem.contains(reason), "{bad:?}: {problem}");
        }
    }

    #[test]
    fn base64_must_be_padded_and_standard() {
        for good in ["", "e30=", "aGk=", "YQ==", "ab+/"] {
            assert_eq!(base64(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("e30", "its length, 3, is not a multiple of 4"),
            ("a===", "it ends in 3 \"=\""),
            ("a=bc", "\"=\" may only pad the end"),
            ("ab-_", "'-' is not a base64 digit"),
            ("abc\n", "'\\n' is not a base64 digit"),
        ] {
            let problem = base64(bad).unwrap_err();
            assert!(problem.contains(reason), "{bad:?}: {problem}");
        }
    }

    #[test]
    fn date_times() {
        for good in [
            "2015-10-31T22:22:56.015925234Z",
            "2015-10-31T22:22:56Z",
            "0001-01-01T00:00:00Z",
            "2024-02-29T23:59:59+01:00",
            "2024-02-29T23:59:59.5-08:30",
        ] {
            assert_eq!(date_time(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "2015-10-31",
            "2015-10-31 22:22:56Z",
            "2015-10-31t22:22:56z",
            "2015-10-31T22:22:56",
            "2015-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2015-10-31T24:00:00Z",
            "2015-10-31T22:22:60Z",
            "2015-10-31T22:22:56.Z",
            "2015-10-31T22:22:56+1:00",
            "2015-10-31T22:22:56+24:00",
            "2015-10-31T22:22:56+01:00x",
            "2015-10-31T22:22:56+0é:00",
            "2015-1é-31T22:22:56Z",
        ] {
            assert!(date_time(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_entries() {
        for good in ["PATH=/bin", "EMPTY=", "A=b=c", "MULTI\nNAME=x"] {
            assert_eq!(env_entry(good), Ok(()), "{good:?}");
        }
        assert_eq!(env_entry("FOO").unwrap_err(), r#""FOO" is not NAME=VALUE"#);
        assert_eq!(
            env_entry("=x").unwrap_err(),
            r#""=x" is not NAME=VALUE: the name is empty"#
        );
        assert_eq!(
            env_entry("A=b\nc").unwrap_err(),
            r#""A=b\nc" is not NAME=VALUE: the value has a line break"#
        );
    }
}
