//! Durations as Go writes them: `30s`, `1m30s`, `1.5h`, `250ms`.
//!
//! `HEALTHCHECK --interval=…` and its siblings are read with Go's `time.ParseDuration`, so
//! they accept exactly what it accepts: an optional sign, then one or more
//! `number unit` pairs (`1h30m`), the number possibly with a fraction (`1.5s`, `.5s`), the
//! unit one of `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. A plain `0` needs no unit. The
//! total must fit in 63 bits of nanoseconds (about 292 years).

use std::time::Duration;

/// Nanoseconds per unit.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The largest magnitude: Go's durations are signed 64-bit nanoseconds.
const LIMIT: u64 = 1 << 63;

/// A duration in nanoseconds (negative ones too), or Go's message for why it is not one.
pub fn parse_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", quote(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let (whole, after) = split_digits(rest);
        let whole = leading_int(whole).ok_or_else(invalid)?;
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => {
                let (digits, after) = split_digits(after);
                (Some(digits), after)
            }
            None => (None, after),
        };
        if whole.is_none() && fraction.is_none_or(str::is_empty) {
            return Err(invalid());
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(text)));
        }
        let (unit, after) = after.split_at(unit_len);
        let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                quote(unit),
                quote(text)
            ));
        };
        let amount =
            amount(whole.unwrap_or(0), fraction.unwrap_or(""), scale).ok_or_else(invalid)?;
        total = total
            .checked_add(amount)
            .filter(|total| *total <= LIMIT)
            .ok_or_else(invalid)?;
        rest = after;
    }
    if negative {
        Ok(-i128::from(total))
    } else if total < LIMIT {
        Ok(i128::from(total))
    } else {
        Err(invalid())
    }
}

/// A positive duration as a [`Duration`].
pub fn to_duration(nanoseconds: i128) -> Duration {
    Duration::from_nanos(u64::try_from(nanoseconds).unwrap_or(0))
}

/// The leading ASCII digits, and the rest.
fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// The digits' value (`Some(None)` for no digits), or `None` past 63 bits.
fn leading_int(digits: &str) -> Option<Option<u64>> {
    if digits.is_empty() {
        return Some(None);
    }
    let mut value: u64 = 0;
    for digit in digits.bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))
            .filter(|value| *value <= LIMIT)?;
    }
    Some(Some(value))
}

/// `whole.fraction` units in nanoseconds, as Go computes it (the fraction in floating
/// point, its digits read only while they fit).
fn amount(whole: u64, fraction: &str, scale: u64) -> Option<u64> {
    if whole > LIMIT / scale {
        return None;
    }
    let mut value = whole * scale;
    let (mut digits, mut divisor) = (0u64, 1f64);
    for digit in fraction.bytes() {
        match digits
            .checked_mul(10)
            .and_then(|d| d.checked_add(u64::from(digit - b'0')))
        {
            Some(next) if next <= LIMIT => {
                digits = next;
                divisor *= 10.0;
            }
            // Go stops reading digits that would overflow.
            _ => break,
        }
    }
    if digits > 0 {
        // Truncating, as Go's conversion does.
        value = value.checked_add((digits as f64 * (scale as f64 / divisor)) as u64)?;
        if value > LIMIT {
            return None;
        }
    }
    Some(value)
}

/// Go's `time` package quoting: `"…"`, with `"` and `\` escaped and anything else than
/// printable ASCII as `\x..` bytes.
fn quote(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        } else {
            for byte in c.to_string().bytes() {
                quoted.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i128 = 1_000_000_000;

    #[test]
    fn durations_go_accepts() {
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert_eq!(parse_duration("30s"), Ok(30 * SECOND));
        assert_eq!(parse_duration("1m30s"), Ok(90 * SECOND));
        assert_eq!(parse_duration("1.5h"), Ok(5400 * SECOND));
        assert_eq!(parse_duration(".5s"), Ok(SECOND / 2));
        assert_eq!(parse_duration("1.s"), Ok(SECOND));
        assert_eq!(parse_duration("-2ms"), Ok(-2_000_000));
        assert_eq!(parse_duration("3µs"), Ok(3_000));
        assert_eq!(
            parse_duration("2562047h47m16.854775807s"),
            Ok(i128::from(i64::MAX))
        );
    }

    #[test]
    fn durations_go_refuses() {
        assert_eq!(
            parse_duration(""),
            Err(r#"time: invalid duration """#.into())
        );
        assert_eq!(
            parse_duration("abc"),
            Err(r#"time: invalid duration "abc""#.into())
        );
        assert_eq!(
            parse_duration("."),
            Err(r#"time: invalid duration ".""#.into())
        );
        assert_eq!(
            parse_duration("10"),
            Err(r#"time: missing unit in duration "10""#.into())
        );
        assert_eq!(
            parse_duration("5d"),
            Err(r#"time: unknown unit "d" in duration "5d""#.into())
        );
        assert_eq!(
            parse_duration("é1s"),
            Err(r#"time: invalid duration "\xc3\xa91s""#.into())
        );
        assert!(parse_duration("2562047h47m16.854775808s").is_err());
        assert!(parse_duration("9999999999999999999h").is_err());
    }
}
