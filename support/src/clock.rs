//! The clock: what time it is, and the RFC 3339 timestamps of image configs
//! (`2024-01-01T00:00:00Z`, `2023-05-19T20:19:22.873461397+02:00`), as seconds since the
//! epoch, and back.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Nanoseconds since the epoch (things made within one second still sort in order).
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Seconds since the epoch of an RFC 3339 timestamp, or `None` if it is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let (clock, offset) = split_offset(time)?;
    let mut clock = clock.splitn(3, ':');
    let hour: i64 = clock.next()?.parse().ok()?;
    let minute: i64 = clock.next()?.parse().ok()?;
    let second: i64 = clock.next()?.split('.').next()?.parse().ok()?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The clock part and the offset from UTC in seconds.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let at = time.rfind(['+', '-'])?;
    let (clock, offset) = time.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = offset[1..].split_once(':')?;
    Some((
        clock,
        sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60),
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// An RFC 3339 timestamp in UTC for seconds since the epoch.
pub fn format_rfc3339(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// docker's zero time, which `inspect` shows for "never" (Go's zero `time.Time`).
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An RFC 3339 timestamp in UTC with nanoseconds, as Go's `time.RFC3339Nano` writes it: the
/// fraction without its trailing zeros, none at all for a whole second
/// (`2024-01-01T00:00:00.5Z`). `docker inspect` shows its times so.
pub fn format_rfc3339_nano(nanoseconds: u64) -> String {
    let seconds = (nanoseconds / 1_000_000_000) as i64;
    let fraction = nanoseconds % 1_000_000_000;
    let whole = format_rfc3339(seconds);
    if fraction == 0 {
        return whole;
    }
    let digits = format!("{fraction:09}");
    let stem = whole.trim_end_matches('Z');
    format!("{stem}.{}Z", digits.trim_end_matches('0'))
}

/// A UTC time as Go's `time.Time.String()` writes it: `2024-01-01 12:00:00 +0000 UTC`
/// (`docker ps`'s `{{.CreatedAt}}`).
pub fn format_go_utc(seconds: i64) -> String {
    let text = format_rfc3339(seconds);
    format!(
        "{} {} +0000 UTC",
        &text[..10],
        text[11..].trim_end_matches('Z')
    )
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_image_configs_hold() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(
            parse_rfc3339("2024-01-01T02:00:00.123456789+02:00"),
            Some(1_704_067_200)
        );
        assert_eq!(parse_rfc3339("not a time"), None);
        assert_eq!(format_rfc3339(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            format_rfc3339_nano(1_704_067_200_000_000_000),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339_nano(1_704_067_200_120_000_000),
            "2024-01-01T00:00:00.12Z"
        );
        assert_eq!(
            format_rfc3339_nano(1_704_067_200_000_000_001),
            "2024-01-01T00:00:00.000000001Z"
        );
        assert_eq!(
            format_go_utc(1_704_110_400),
            "2024-01-01 12:00:00 +0000 UTC"
        );
    }
}
