//! # Durations and byte sizes, as Compose prints them
//!
//! A compose file writes a duration the way a person would (`90s`, `1m30s`, `1.5s`, `2d`) and
//! a size the way `docker run` takes it (`50M`, `1.5g`, `1024`). `docker compose config`
//! prints both in one spelling each, and the engine reads that spelling back, so the loader
//! brings every duration and size to it:
//!
//! - a **duration** is printed as Go's `time.Duration` prints itself: hours, minutes and
//!   seconds, each shown once a larger unit is (`1m30s`, `1h0m0s`, `2m0s`), the seconds with
//!   a decimal fraction only when there is one (`1.5s`); under a second, in the largest of
//!   `ms`, `µs`, `ns` that keeps an integer part (`500ms`, `1.5ms`); zero is `0s`.
//!   The input units are Go's (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`) and the two compose-go
//!   adds (`d`, `w`); a number without a unit is only allowed for zero.
//! - a **size** is a count of bytes, printed as a string of digits (`"52428800"`): compose-go
//!   prints its `UnitBytes` that way so that a size stays a string in both JSON and YAML.
//!   Units are binary (`k` = 1024), as `docker run --memory` reads them, with an optional
//!   `b`/`ib` (`50M`, `50mb`, `50MiB`); `-1` (no limit) stays `-1`.

use serde_json::Value;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// The number of nanoseconds one unit of a duration holds.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3_600 * NANOS_PER_SECOND,
        "d" => 86_400 * NANOS_PER_SECOND,
        "w" => 7 * 86_400 * NANOS_PER_SECOND,
        _ => return None,
    })
}

/// Parses a duration (`1m30s`, `1.5s`, `-2h`) to signed nanoseconds.
pub fn parse_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("invalid duration {text:?}");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(|| format!("invalid duration {text:?}: missing unit"))?;
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit = unit_nanos(unit).ok_or_else(invalid)?;
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(invalid());
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let mut part = whole.checked_mul(unit).ok_or_else(invalid)?;
        if !fraction.is_empty() {
            // Digits past the nanosecond do not count; keep 30 of them at most.
            let fraction = &fraction[..fraction.len().min(30)];
            let numerator: u128 = fraction.parse().map_err(|_| invalid())?;
            part += numerator * unit / 10u128.pow(fraction.len() as u32);
        }
        total = total.checked_add(part).ok_or_else(invalid)?;
        rest = after;
    }
    if total > i64::MAX as u128 {
        return Err(format!("invalid duration {text:?}: out of range"));
    }
    let total = total as i128;
    Ok(if negative { -total } else { total })
}

/// `nanos` as Go's `time.Duration` prints itself (see the module's documentation).
pub fn format_duration(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    if u == 0 {
        return "0s".into();
    }
    if u < NANOS_PER_SECOND {
        let (scaled, digits, unit) = match u {
            u if u < 1_000 => return format!("{sign}{u}ns"),
            u if u < 1_000_000 => (u, 3, "µs"),
            u => (u, 6, "ms"),
        };
        return format!("{sign}{}{unit}", with_fraction(scaled, digits));
    }
    let seconds = with_fraction(u % (60 * NANOS_PER_SECOND), 9);
    let minutes_total = u / (60 * NANOS_PER_SECOND);
    if minutes_total == 0 {
        return format!("{sign}{seconds}s");
    }
    let hours = minutes_total / 60;
    let minutes = minutes_total % 60;
    if hours == 0 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    }
}

/// `value / 10^digits` in decimal, without trailing zeros in the fraction (`1500, 3` → `1.5`).
fn with_fraction(value: u128, digits: u32) -> String {
    let scale = 10u128.pow(digits);
    let (whole, fraction) = (value / scale, value % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0width$}", width = digits as usize);
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// A duration attribute's value in Compose's printed form; a number is read as its text
/// (`10` is an error: no unit; `0` is `0s`).
pub fn normalize_duration(value: &Value) -> Result<Value, String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => return Err(format!("invalid duration {other}")),
    };
    Ok(Value::String(format_duration(parse_duration(&text)?)))
}

/// Parses a size (`50M`, `1.5g`, `1024`, `-1`) to bytes.
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size {text:?}");
    if let Ok(bytes) = text.parse::<i64>() {
        return Ok(bytes);
    }
    let number_len = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_len);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(invalid());
    }
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let suffix = suffix
        .strip_prefix(' ')
        .unwrap_or(suffix)
        .to_ascii_lowercase();
    let mut chars = suffix.chars();
    let multiplier: f64 = match chars.next() {
        None | Some('b') if suffix.len() <= 1 => 1.0,
        Some('k') => 1024f64,
        Some('m') => 1024f64.powi(2),
        Some('g') => 1024f64.powi(3),
        Some('t') => 1024f64.powi(4),
        Some('p') => 1024f64.powi(5),
        _ => return Err(invalid()),
    };
    // After the unit letter: nothing, `b`, `i` or `ib`.
    if !matches!(chars.as_str(), "" | "b" | "i" | "ib") {
        return Err(invalid());
    }
    let bytes = number * multiplier;
    if bytes >= i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes as i64)
}

/// A size attribute's value in Compose's printed form: the bytes as a string of digits.
pub fn normalize_bytes(value: &Value) -> Result<Value, String> {
    let bytes = match value {
        Value::Number(number) => number
            .as_i64()
            .ok_or_else(|| format!("invalid size {number}"))?,
        Value::String(text) => parse_bytes(text)?,
        other => return Err(format!("invalid size {other}")),
    };
    Ok(Value::String(bytes.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_does() {
        for (given, printed) in [
            ("10s", "10s"),
            ("60s", "1m0s"),
            ("90s", "1m30s"),
            ("1m30s", "1m30s"),
            ("120s", "2m0s"),
            ("1.5s", "1.5s"),
            ("1h", "1h0m0s"),
            ("1h1m1.25s", "1h1m1.25s"),
            ("2d", "48h0m0s"),
            ("1w", "168h0m0s"),
            ("500ms", "500ms"),
            ("1500us", "1.5ms"),
            ("1µs", "1µs"),
            ("42ns", "42ns"),
            ("0", "0s"),
            ("0s", "0s"),
            ("-1.5s", "-1.5s"),
            (".5s", "500ms"),
        ] {
            assert_eq!(
                format_duration(parse_duration(given).unwrap()),
                printed,
                "{given}"
            );
        }
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in ["", "10", "s", "1x", "1.2.3s", "1s2", "-", "1..s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalize_duration(&Value::from(10)).unwrap_err(),
            "invalid duration \"10\": missing unit"
        );
        assert_eq!(normalize_duration(&Value::from(0)).unwrap(), "0s");
    }

    #[test]
    fn sizes_are_binary_bytes() {
        for (given, bytes) in [
            ("1024", 1024),
            ("-1", -1),
            ("50M", 52_428_800),
            ("20M", 20_971_520),
            ("50mb", 52_428_800),
            ("50MiB", 52_428_800),
            ("1.5g", 1_610_612_736),
            ("64k", 65_536),
            ("10 kb", 10_240),
            ("100b", 100),
            ("2t", 2 * 1024i64.pow(4)),
        ] {
            assert_eq!(parse_bytes(given), Ok(bytes), "{given}");
        }
        for bad in ["", "M", "50x", "50mx", "1.2.3m", "-5m", "5 5m", ".5m"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalize_bytes(&Value::from(10000)).unwrap(), "10000");
        assert_eq!(normalize_bytes(&Value::from("50M")).unwrap(), "52428800");
        assert!(normalize_bytes(&Value::Bool(true)).is_err());
    }
}
