//! `--log-opt KEY=VALUE`: how the json-file log is kept, read as docker reads it.
//!
//! Docker accepts, for its json-file driver, `max-size` (a size in docker's units: `10m` is
//! 10,000,000 bytes, the units are powers of 1000 whatever their spelling, `10MiB` included)
//! and `max-file` (how many files to keep, the current one included; it changes nothing
//! without `max-size`, since without it the file never rotates). It also knows options this
//! chapter does not implement (`compress`, and the `labels`, `env` and `tag` attributes
//! written into every entry); they are refused by name rather than silently ignored. Any
//! other key is refused with docker's message.

use crate::container::LogOptions;
use crate::error::{Error, Result};

/// Options docker's json-file driver knows that this chapter does not implement.
const UNSUPPORTED: &[&str] = &[
    "env",
    "env-regex",
    "labels",
    "labels-regex",
    "tag",
    "mode",
    "max-buffer-size",
];

/// Reads `--log-opt` values (`max-size=10m`, `max-file=3`…) into [`LogOptions`]. A key given
/// twice takes its last value, as docker's map of options does.
///
/// ```
/// use ch06_compose::log::parse_log_options;
///
/// let options = parse_log_options(["max-size=10m", "max-file=3"]).unwrap();
/// assert_eq!(options.max_size, Some(10_000_000));
/// assert_eq!(options.max_file, 3);
/// assert!(parse_log_options(["max-age=1d"]).is_err());
/// ```
pub fn parse_log_options<I, S>(values: I) -> Result<LogOptions>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut options = LogOptions::default();
    let mut compress = false;
    for value in values {
        // As docker's client: the key is what comes before the first '=', the rest its value
        // (`max-size` alone is the key `max-size` with an empty value).
        let (key, value) = value
            .as_ref()
            .split_once('=')
            .unwrap_or((value.as_ref(), ""));
        match key {
            "max-size" => options.max_size = Some(parse_max_size(value)?),
            "max-file" => options.max_file = parse_max_file(value)?,
            "compress" => compress = parse_go_bool(value)?,
            _ if UNSUPPORTED.contains(&key) => {
                return Err(Error::invalid(
                    format!("log opt '{key}' is not supported by this engine's json-file log"),
                    "only max-size and max-file are implemented",
                ));
            }
            _ => {
                return Err(Error::invalid(
                    format!("unknown log opt '{key}' for json-file log driver"),
                    "the json-file log takes max-size=SIZE and max-file=N",
                ));
            }
        }
    }
    if compress {
        return Err(if options.max_file < 2 || options.max_size.is_none() {
            Error::invalid(
                "compress cannot be true when max-file is less than 2 or max-size is not set",
                "compression applies to rotated files: set max-size and max-file=2 or more",
            )
        } else {
            Error::invalid(
                "log opt 'compress' is not supported by this engine's json-file log",
                "drop compress=true; rotated files stay uncompressed",
            )
        });
    }
    Ok(options)
}

/// `max-size`: a positive size in docker's units.
fn parse_max_size(value: &str) -> Result<u64> {
    let bytes = parse_size(value).ok_or_else(|| {
        Error::invalid(
            format!("invalid size: '{value}'"),
            "write a size such as 500k, 10m or 1g (powers of 1000)",
        )
    })?;
    if bytes == 0 {
        return Err(Error::invalid(
            "max-size must be a positive number",
            "write a size such as 500k, 10m or 1g",
        ));
    }
    Ok(bytes)
}

/// A size as docker's `units.FromHumanSize` reads it: digits with an optional fraction, an
/// optional space, then an optional unit `k`, `m`, `g`, `t` or `p` (any case, each a power of
/// 1000) with an optional `i` and an optional `b` (`10`, `1.5k`, `10 MB`, `10MiB`, `7b`).
/// The bytes are the product, its fraction dropped.
fn parse_size(text: &str) -> Option<u64> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    // The number must start and end with a digit, with single dots between digit runs.
    if number.is_empty() || number.split('.').any(str::is_empty) {
        return None;
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let mut unit = unit.as_str();
    let multiplier: f64 = match unit.chars().next() {
        Some('k') => 1e3,
        Some('m') => 1e6,
        Some('g') => 1e9,
        Some('t') => 1e12,
        Some('p') => 1e15,
        _ => 1.0,
    };
    if multiplier != 1.0 {
        unit = &unit[1..];
    }
    let unit = unit.strip_prefix('i').unwrap_or(unit);
    let unit = unit.strip_prefix('b').unwrap_or(unit);
    if !unit.is_empty() {
        return None;
    }
    // `1.2.3` matches docker's pattern but is no number: Go's ParseFloat refuses it too.
    let number: f64 = number.parse().ok()?;
    // Go converts with `int64(size)`: the fraction of a byte is dropped.
    Some((number * multiplier) as u64)
}

/// `max-file`: how many files to keep, at least 1.
fn parse_max_file(value: &str) -> Result<u32> {
    let count: i64 = value.parse().map_err(|_| {
        Error::invalid(
            format!("strconv.Atoi: parsing \"{value}\": invalid syntax"),
            "max-file takes a whole number, e.g. max-file=3",
        )
    })?;
    if count < 1 {
        return Err(Error::invalid(
            "max-file cannot be less than 1",
            "keep at least the current file: max-file=1 or more",
        ));
    }
    u32::try_from(count).map_err(|_| {
        Error::invalid(
            format!("strconv.Atoi: parsing \"{value}\": value out of range"),
            "max-file takes a whole number, e.g. max-file=3",
        )
    })
}

/// A boolean as Go's `strconv.ParseBool` reads it.
fn parse_go_bool(value: &str) -> Result<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(Error::invalid(
            format!("strconv.ParseBool: parsing \"{value}\": invalid syntax"),
            "write true or false",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(values: &[&str]) -> String {
        parse_log_options(values).unwrap_err().to_string()
    }

    #[test]
    fn sizes_read_as_docker_reads_them() {
        for (text, bytes) in [
            ("10", 10),
            ("10m", 10_000_000),
            ("10M", 10_000_000),
            ("10mb", 10_000_000),
            ("10MiB", 10_000_000),
            ("10 m", 10_000_000),
            ("1.5k", 1_500),
            ("7b", 7),
            ("1g", 1_000_000_000),
            ("2t", 2_000_000_000_000),
            ("1.0005k", 1_000),
            ("10 ", 10),
            ("10ib", 10),
        ] {
            assert_eq!(parse_size(text), Some(bytes), "{text}");
        }
        for text in [
            "", "abc", "-1", "1e3", "1kbb", " 10", "10  m", "1..5k", ".5k", "5.k", "1.2.3", "10x",
            "10bi",
        ] {
            assert_eq!(parse_size(text), None, "{text:?}");
        }
    }

    #[test]
    fn options_fill_log_options() {
        assert_eq!(
            parse_log_options::<_, &str>([]).unwrap(),
            LogOptions::default()
        );
        let options = parse_log_options(["max-size=1k", "max-file=3", "max-size=2k"]).unwrap();
        assert_eq!(
            options,
            LogOptions {
                max_size: Some(2_000),
                max_file: 3
            }
        );
        // As docker: max-file alone is accepted, and changes nothing (nothing rotates).
        let options = parse_log_options(["max-file=3"]).unwrap();
        assert_eq!(options.max_size, None);
        assert!(parse_log_options(["compress=false"]).is_ok());
    }

    #[test]
    fn errors_are_dockers() {
        assert_eq!(
            message(&["foo=bar"]),
            "unknown log opt 'foo' for json-file log driver"
        );
        assert_eq!(
            message(&["nokey"]),
            "unknown log opt 'nokey' for json-file log driver"
        );
        assert_eq!(message(&["max-size=abc"]), "invalid size: 'abc'");
        assert_eq!(message(&["max-size="]), "invalid size: ''");
        assert_eq!(
            message(&["max-size=0"]),
            "max-size must be a positive number"
        );
        assert_eq!(
            message(&["max-size=0.5"]),
            "max-size must be a positive number"
        );
        assert_eq!(message(&["max-file=0"]), "max-file cannot be less than 1");
        assert_eq!(
            message(&["max-file=x"]),
            "strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            message(&["compress=true"]),
            "compress cannot be true when max-file is less than 2 or max-size is not set"
        );
        assert!(message(&["max-size=1m", "max-file=2", "compress=1"]).contains("not supported"));
        assert!(message(&["tag={{.Name}}"]).contains("not supported"));
    }
}
