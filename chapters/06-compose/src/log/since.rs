//! `--since` and `--until`: the moments docker's client understands.
//!
//! `docker logs --since` takes a moment in any of three forms, tried in this order (docker's
//! `GetTimestamp`):
//!
//! 1. a Go duration, counted back from now and rounded down to the second: `10m`, `1h30m`,
//!    `1.5h`, `90s`, `-5m` (five minutes from now);
//! 2. an RFC 3339 date or time, in whole or cut short: `2026-12-03`,
//!    `2026-12-03T17`, `2026-12-03T17:52`, `2026-12-03T17:52:16`,
//!    `2026-12-03T17:52:16.123456789`, each with a zone (`Z`, `+01:00`) or without one,
//!    which means the local zone's offset as it is now;
//! 3. a Unix time, seconds with an optional fraction: `1700000000`, `1700000000.5`.
//!
//! A value with a `-` that is not a valid date is an error of its own ("month out of
//! range"), rather than a Unix time; `0` is the Unix time 0, not a duration.

use dockyard_support::clock::parse_rfc3339;

use crate::error::{Error, Result};

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The moment `value` names, in nanoseconds since the epoch, `now_ns` being now; `what` names
/// the option for the error (`since`, `until`).
///
/// ```
/// use ch06_compose::log::parse_timestamp;
///
/// let now = 1_700_000_000_000_000_000;
/// assert_eq!(parse_timestamp("since", "10m", now).unwrap(), 1_699_999_400_000_000_000);
/// assert_eq!(parse_timestamp("since", "1700000000.5", now).unwrap(), 1_700_000_000_500_000_000);
/// assert_eq!(parse_timestamp("since", "2023-11-14T22:13:20Z", now).unwrap(), 1_700_000_000_000_000_000);
/// ```
pub fn parse_timestamp(what: &str, value: &str, now_ns: u64) -> Result<i64> {
    let now_ns = i64::try_from(now_ns).unwrap_or(i64::MAX);
    let offset = local_offset_seconds(now_ns.div_euclid(NANOS_PER_SECOND));
    parse_with_offset(value, now_ns, offset).map_err(|message| {
        Error::invalid(
            format!("invalid value for \"{what}\": {message}"),
            "give a duration (10m, 1h30m), an RFC 3339 time (2026-12-03T17:52:16Z) or a Unix time (1700000000.5)",
        )
    })
}

/// [`parse_timestamp`] with the local zone's offset from UTC given, in seconds.
fn parse_with_offset(value: &str, now_ns: i64, local_offset: i64) -> Result<i64, String> {
    if value != "0"
        && let Some(duration) = parse_go_duration(value)
    {
        // Docker's client sends whole seconds: `reference.Add(-d).Unix()`.
        let then = i128::from(now_ns) - duration;
        let seconds = then.div_euclid(i128::from(NANOS_PER_SECOND));
        return i64::try_from(seconds * i128::from(NANOS_PER_SECOND))
            .map_err(|_| format!("duration out of range: {value:?}"));
    }
    match parse_time(value, local_offset) {
        Ok(time) => Ok(time),
        // With a dash it was meant as a date: its own error says what is wrong with it.
        Err(reason) if value.contains('-') => Err(format!("parsing time {value:?}: {reason}")),
        Err(_) => parse_unix_time(value)
            .ok_or_else(|| format!("failed to parse value as time or duration: {value:?}")),
    }
}

/// A Go duration (`time.ParseDuration`) in nanoseconds: an optional sign, then numbers
/// with units `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`: `1h30m`, `1.5h`, `-90s`, `0`.
fn parse_go_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let integer_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (integer, after) = rest.split_at(integer_end);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => {
                let end = after
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len());
                after.split_at(end)
            }
            None => ("", after),
        };
        if integer.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let unit_ns: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: i128 = if integer.is_empty() {
            0
        } else {
            integer.parse().ok()?
        };
        total = total.checked_add(whole.checked_mul(unit_ns)?)?;
        if !fraction.is_empty() {
            // Go scales the fraction in floating point, as done here.
            let digits = &fraction[..fraction.len().min(18)];
            let value: f64 = digits.parse::<u64>().ok()? as f64;
            total += (value * (unit_ns as f64 / 10f64.powi(digits.len() as i32))) as i128;
        }
        if total > i128::from(i64::MAX) {
            return None;
        }
        rest = after;
    }
    Some(if negative { -total } else { total })
}

/// An RFC 3339 date or time, whole or cut short, in the forms docker's client tries; a time
/// without a zone is in the local zone (`local_offset` seconds east of UTC).
fn parse_time(value: &str, local_offset: i64) -> Result<i64, &'static str> {
    // Docker's rule for "this value carries its zone": a Z, a +, or a third dash.
    let zoned = value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3;
    let mut cursor = Cursor(value);
    let year = cursor.number(4, 4).ok_or("cannot parse the year")?;
    cursor.expect('-')?;
    let month = cursor.number(2, 2).ok_or("cannot parse the month")?;
    cursor.expect('-')?;
    let day = cursor.number(2, 2).ok_or("cannot parse the day")?;
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if cursor.eat('T') {
        hour = cursor.number(1, 2).ok_or("cannot parse the hour")?;
        if cursor.eat(':') {
            minute = cursor.number(2, 2).ok_or("cannot parse the minute")?;
            if cursor.eat(':') {
                second = cursor.number(2, 2).ok_or("cannot parse the second")?;
                nanos = cursor.fraction();
            } else if value.contains('.') {
                return Err("a fraction needs the seconds before it");
            }
        } else if value.contains('.') {
            return Err("a fraction needs the seconds before it");
        }
    } else if value.contains(['.', 'T']) {
        return Err("cannot parse the time");
    }
    let offset = if zoned { cursor.zone()? } else { local_offset };
    if !cursor.0.is_empty() {
        return Err("extra text after the time");
    }
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range");
    }
    if hour > 23 {
        return Err("hour out of range");
    }
    if minute > 59 {
        return Err("minute out of range");
    }
    if second > 59 {
        return Err("second out of range");
    }
    let utc = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
    let seconds = parse_rfc3339(&utc).ok_or("not a time")? - offset;
    Ok(seconds * NANOS_PER_SECOND + nanos)
}

/// Reads a value left to right.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    /// Between `min` and `max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let len = self
            .0
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return None;
        }
        let (digits, rest) = self.0.split_at(len);
        self.0 = rest;
        digits.parse().ok()
    }

    fn eat(&mut self, c: char) -> bool {
        match self.0.strip_prefix(c) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), &'static str> {
        if self.eat(c) {
            Ok(())
        } else {
            Err("not a date of the form 2006-01-02")
        }
    }

    /// An optional fraction of a second (`.5`, `,5`; digits past the ninth dropped), in
    /// nanoseconds.
    fn fraction(&mut self) -> i64 {
        let mut chars = self.0.chars();
        let separator = chars.next();
        if !matches!(separator, Some('.' | ','))
            || !chars.next().is_some_and(|c| c.is_ascii_digit())
        {
            return 0;
        }
        let digits_len = self.0[1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.0.len() - 1);
        let digits = &self.0[1..1 + digits_len];
        self.0 = &self.0[1 + digits_len..];
        let kept = &digits[..digits.len().min(9)];
        kept.parse::<i64>().unwrap_or(0) * 10i64.pow(9 - kept.len() as u32)
    }

    /// A zone, `Z` or `±hh:mm`, as seconds east of UTC.
    fn zone(&mut self) -> Result<i64, &'static str> {
        if self.eat('Z') {
            return Ok(0);
        }
        let sign = if self.eat('+') {
            1
        } else if self.eat('-') {
            -1
        } else {
            return Err("cannot parse the zone (Z or +hh:mm)");
        };
        let hours = self.number(2, 2).ok_or("cannot parse the zone's hours")?;
        self.expect(':')
            .map_err(|_| "cannot parse the zone (Z or +hh:mm)")?;
        let minutes = self.number(2, 2).ok_or("cannot parse the zone's minutes")?;
        if hours > 24 || minutes > 60 {
            return Err("time zone offset out of range");
        }
        Ok(sign * (hours * 3600 + minutes * 60))
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A Unix time as docker's daemon reads it: whole seconds (a sign allowed), then optionally
/// a dot and up to 20 digits of fraction, of which the first nine count.
fn parse_unix_time(value: &str) -> Option<i64> {
    let (seconds, fraction) = match value.split_once('.') {
        Some((seconds, fraction)) => (seconds, Some(fraction)),
        None => (value, None),
    };
    let seconds: i64 = seconds.parse().ok()?;
    let nanos = match fraction {
        None => 0,
        Some(digits) => {
            if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let kept = &digits[..digits.len().min(9)];
            kept.parse::<i64>().ok()? * 10i64.pow(9 - kept.len() as u32)
        }
    };
    seconds.checked_mul(NANOS_PER_SECOND)?.checked_add(nanos)
}

/// How far east of UTC the local zone is at `seconds` since the epoch, in seconds (0 if the
/// C library cannot tell). Docker's client reads zoneless times in the offset of "now".
fn local_offset_seconds(seconds: i64) -> i64 {
    let time: libc::time_t = seconds;
    let mut broken_down = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: `localtime_r` reads `time` and fills `broken_down`, both valid for the call;
    // unlike `localtime` it uses no shared buffer, so other threads are no concern.
    let filled = unsafe { libc::localtime_r(&time, broken_down.as_mut_ptr()) };
    if filled.is_null() {
        return 0;
    }
    // SAFETY: `localtime_r` succeeded, so it initialized the structure (which, zeroed, was
    // a valid `tm` already).
    unsafe { broken_down.assume_init() }.tm_gmtoff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2023-11-14T22:13:20.25Z.
    const NOW: i64 = 1_700_000_000_250_000_000;
    const S: i64 = NANOS_PER_SECOND;

    fn utc(value: &str) -> Result<i64, String> {
        parse_with_offset(value, NOW, 0)
    }

    #[test]
    fn durations_count_back_from_now_in_whole_seconds() {
        let now_s = 1_700_000_000 * S;
        assert_eq!(utc("10m"), Ok(now_s - 600 * S));
        assert_eq!(utc("1h30m"), Ok(now_s - 5400 * S));
        assert_eq!(utc("1.5h"), Ok(now_s - 5400 * S));
        assert_eq!(utc("90s"), Ok(now_s - 90 * S));
        assert_eq!(utc("300ms"), Ok(now_s - S));
        assert_eq!(utc("-5m"), Ok(now_s + 300 * S));
        assert_eq!(utc("0s"), Ok(now_s));
        assert_eq!(parse_go_duration("1h2m3.5s"), Some(3_723_500_000_000));
        assert_eq!(parse_go_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_go_duration("2µs"), Some(2_000));
        for bad in ["", "10", "1x", "h", "1.", "1..5s", "-", "99999999999h"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
        // Go accepts a dot with no digits after it.
        assert_eq!(parse_go_duration("1.s"), Some(S as i128));
    }

    #[test]
    fn rfc3339_times_whole_or_cut_short() {
        let day = 1_764_720_000 * S; // 2025-12-03T00:00:00Z
        assert_eq!(utc("2025-12-03"), Ok(day));
        assert_eq!(utc("2025-12-03Z"), Ok(day));
        assert_eq!(utc("2025-12-03+01:00"), Ok(day - 3600 * S));
        assert_eq!(utc("2025-12-03T17"), Ok(day + 17 * 3600 * S));
        assert_eq!(utc("2025-12-03T17:52"), Ok(day + 64_320 * S));
        assert_eq!(utc("2025-12-03T17:52:16"), Ok(day + 64_336 * S));
        assert_eq!(utc("2025-12-03T17:52:16Z"), Ok(day + 64_336 * S));
        assert_eq!(utc("2025-12-03T17:52Z"), Ok(day + 64_320 * S));
        assert_eq!(utc("2025-12-03T17+02:00"), Ok(day + 15 * 3600 * S));
        assert_eq!(
            utc("2025-12-03T17:52:16.123456789Z"),
            Ok(day + 64_336 * S + 123_456_789)
        );
        assert_eq!(
            utc("2025-12-03T17:52:16.5-01:30"),
            Ok(day + (64_336 + 5400) * S + S / 2)
        );
        assert_eq!(
            utc("2025-12-03T17:52:16.1234567891"),
            Ok(day + 64_336 * S + 123_456_789)
        );
        // Without a zone: the local one, here one hour east of UTC.
        assert_eq!(
            parse_with_offset("2025-12-03T17:52:16", NOW, 3600),
            Ok(day + 60_736 * S)
        );
        assert_eq!(
            parse_with_offset("2025-12-03", NOW, -3600),
            Ok(day + 3600 * S)
        );
    }

    #[test]
    fn unix_times_with_or_without_fraction() {
        assert_eq!(utc("1700000000"), Ok(1_700_000_000 * S));
        assert_eq!(utc("1700000000.5"), Ok(1_700_000_000 * S + S / 2));
        assert_eq!(utc("1700000000.000000001"), Ok(1_700_000_000 * S + 1));
        assert_eq!(utc("0"), Ok(0));
        // A dash makes it a date to docker, and not a valid one.
        assert_eq!(
            utc("-5"),
            Err("parsing time \"-5\": cannot parse the year".to_owned())
        );
    }

    #[test]
    fn errors_read_as_dockers() {
        assert_eq!(
            utc("foo"),
            Err("failed to parse value as time or duration: \"foo\"".to_owned())
        );
        assert_eq!(
            utc("2024-13-01"),
            Err("parsing time \"2024-13-01\": month out of range".to_owned())
        );
        assert_eq!(
            utc("2023-02-29"),
            Err("parsing time \"2023-02-29\": day out of range".to_owned())
        );
        assert!(utc("2024-02-29").is_ok());
        for bad in [
            "2024-01-01T24:00",
            "2024-01-01T10:60",
            "2024-01-01T10:00:60",
            "2024-01-01T10:00.5",
            "2024-01-01T10:00:00+0100",
            "2024-01-01 10:00",
            "2024-1-01",
            "1700000000.",
            "1700000000.5x",
            "1700000000.123456789012345678901",
            "17e8",
        ] {
            assert!(utc(bad).is_err(), "{bad}");
        }
        let error = parse_timestamp("since", "foo", 0).unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid value for \"since\": failed to parse value as time or duration: \"foo\""
        );
    }
}
