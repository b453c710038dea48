//! One log entry as docker writes it, and the times it carries.
//!
//! Docker does not hand its entries to Go's general JSON encoder: it writes the three fields
//! itself, always in the same order (`log`, `stream`, `time`), with a string escaper copied
//! from a fast JSON library. Its rules are Go's `encoding/json` rules with HTML escaping on:
//!
//! - `"` and `\` get a backslash; newline and carriage return become `\n` and `\r`;
//! - every other byte below 0x20 (a tab too) and `<`, `>`, `&` become `\u00XX`, lowercase
//!   hex, so that a log pasted into a web page cannot open a tag;
//! - U+2028 and U+2029, which end a line in JavaScript, become `\u2028` and `\u2029`;
//! - each byte that is not part of valid UTF-8 becomes `\ufffd`: a program that prints
//!   binary junk still leaves a file of valid JSON, at the price of the junk's exact bytes;
//! - everything else, multi-byte characters included, is copied as it is.
//!
//! Times are Go's `RFC3339Nano` in UTC: the fraction loses its trailing zeros and its dot
//! when it is zero (`…16.1234548Z`, `…16Z`). `docker logs -t` prints them with all nine
//! digits instead ([`format_time_fixed`]).

use dockyard_support::clock::{format_rfc3339, parse_rfc3339};

use super::Stream;

const NANOS_PER_SECOND: u64 = 1_000_000_000;

// ANCHOR: encode_entry
/// Appends one entry, its closing newline included, to `out`: what docker writes for a
/// line `log` (its own newline, if it has one, included) of `stream` at `time_ns`.
///
/// ```
/// use ch06_compose::log::{Stream, encode::encode_entry};
///
/// let mut out = Vec::new();
/// encode_entry(&mut out, b"<b>\n", Stream::Stdout, 1_700_000_000_500_000_000);
/// assert_eq!(
///     out,
///     b"{\"log\":\"\\u003cb\\u003e\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20.5Z\"}\n"
/// );
/// ```
pub fn encode_entry(out: &mut Vec<u8>, log: &[u8], stream: Stream, time_ns: u64) {
    out.push(b'{');
    // Docker leaves out an empty log field; its copier never makes one, but a caller could.
    if !log.is_empty() {
        out.extend_from_slice(b"\"log\":");
        escape_string(out, log);
        out.push(b',');
    }
    out.extend_from_slice(b"\"stream\":\"");
    out.extend_from_slice(stream.as_str().as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(format_time(time_ns).as_bytes());
    out.extend_from_slice(b"\"}\n");
}
// ANCHOR_END: encode_entry

/// Appends `bytes` as a JSON string, quotes included, escaped as docker escapes it.
pub fn escape_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    // `utf8_chunks` splits the bytes into runs of valid UTF-8, each followed by the invalid
    // bytes after it (a lone byte, or the start of a sequence cut short).
    for chunk in bytes.utf8_chunks() {
        escape_valid(out, chunk.valid().as_bytes());
        // Go replaces each bad byte on its own, so a cut three-byte sequence gives two.
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// Escapes text already known to be valid UTF-8.
fn escape_valid(out: &mut Vec<u8>, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        let escape: Option<&[u8]> = match byte {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            0..0x20 | b'<' | b'>' | b'&' => Some(b""),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; in valid UTF-8, E2 always starts
            // a three-byte character, so the two bytes after it are there.
            0xe2 if text[i + 1] == 0x80 && matches!(text[i + 2], 0xa8 | 0xa9) => {
                out.extend_from_slice(&text[start..i]);
                out.extend_from_slice(b"\\u202");
                out.push(HEX[usize::from(text[i + 2] & 0xf)]);
                i += 3;
                start = i;
                continue;
            }
            _ => None,
        };
        if let Some(escape) = escape {
            out.extend_from_slice(&text[start..i]);
            if escape.is_empty() {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            } else {
                out.extend_from_slice(escape);
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&text[start..]);
}

/// A time as the log writes it: RFC 3339 in UTC, the fraction without trailing zeros.
pub fn format_time(time_ns: u64) -> String {
    let (seconds, nanos) = split(time_ns);
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_owned()
    };
    with_fraction(seconds, &fraction)
}

/// A time as `docker logs -t` prints it: RFC 3339 in UTC, always nine digits of fraction.
pub fn format_time_fixed(time_ns: u64) -> String {
    let (seconds, nanos) = split(time_ns);
    with_fraction(seconds, &format!(".{nanos:09}"))
}

fn split(time_ns: u64) -> (i64, u64) {
    let seconds = i64::try_from(time_ns / NANOS_PER_SECOND).expect("u64 seconds fit in i64");
    (seconds, time_ns % NANOS_PER_SECOND)
}

/// `2026-12-03T17:52:16Z` with the fraction put before the `Z`.
fn with_fraction(seconds: i64, fraction: &str) -> String {
    let mut text = format_rfc3339(seconds);
    text.insert_str(text.len() - 1, fraction);
    text
}

/// The nanoseconds since the epoch of an entry's time (RFC 3339 with a fraction of up to
/// nine digits and any offset); `None` if it is not one, or is before 1970.
pub fn parse_time(text: &str) -> Option<u64> {
    let seconds = u64::try_from(parse_rfc3339(text)?).ok()?;
    let nanos = match text.split_once('.') {
        None => 0,
        Some((_, rest)) => {
            let digits = &rest[..rest.find(|c: char| !c.is_ascii_digit())?];
            if digits.is_empty() || digits.len() > 9 {
                return None;
            }
            digits.parse::<u64>().ok()? * 10u64.pow(9 - digits.len() as u32)
        }
    };
    seconds.checked_mul(NANOS_PER_SECOND)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        escape_string(&mut out, bytes);
        String::from_utf8(out).expect("escaped text is valid UTF-8")
    }

    #[test]
    fn escapes_as_go_with_html_escaping() {
        assert_eq!(escaped(b"plain"), r#""plain""#);
        assert_eq!(
            escaped(b"<a href=\"x\">&amp;</a>\n"),
            r#""\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e\n""#
        );
        assert_eq!(escaped(b"tab\there\r\n"), r#""tab\u0009here\r\n""#);
        assert_eq!(
            escaped(b"back\\slash \x01\x1f\x7f"),
            "\"back\\\\slash \\u0001\\u001f\x7f\""
        );
        assert_eq!(
            escaped("é \u{2028} \u{2029} \u{2027}".as_bytes()),
            "\"é \\u2028 \\u2029 \u{2027}\""
        );
    }

    #[test]
    fn every_invalid_byte_becomes_a_replacement_character() {
        assert_eq!(escaped(b"bad \xff\xfe end"), r#""bad \ufffd\ufffd end""#);
        // A three-byte sequence cut after two bytes: two replacements, then the rest.
        assert_eq!(escaped(b"\xe2\x80a"), r#""\ufffd\ufffda""#);
        // Half of a character at either end, as a 16 KiB cut leaves it.
        assert_eq!(escaped(b"aa\xc3"), r#""aa\ufffd""#);
        assert_eq!(escaped(b"\xa9bb"), r#""\ufffdbb""#);
        // A surrogate encoded in UTF-8 is not valid UTF-8 for Go either.
        assert_eq!(escaped(b"\xed\xa0\x80"), r#""\ufffd\ufffd\ufffd""#);
    }

    #[test]
    fn entries_have_docker_field_order() {
        let mut out = Vec::new();
        encode_entry(&mut out, b"hi\n", Stream::Stderr, 1_796_320_336_123_456_789);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"time\":\"2026-12-03T17:52:16.123456789Z\"}\n"
        );
        let mut out = Vec::new();
        encode_entry(&mut out, b"", Stream::Stdout, 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"stream\":\"stdout\",\"time\":\"1970-01-01T00:00:00Z\"}\n"
        );
    }

    #[test]
    fn times_drop_trailing_zeros_unless_fixed() {
        let t = 1_796_320_336_111_454_800;
        assert_eq!(format_time(t), "2026-12-03T17:52:16.1114548Z");
        assert_eq!(format_time_fixed(t), "2026-12-03T17:52:16.111454800Z");
        assert_eq!(
            format_time(1_796_320_336_000_000_000),
            "2026-12-03T17:52:16Z"
        );
        assert_eq!(
            format_time_fixed(1_796_320_336_000_000_000),
            "2026-12-03T17:52:16.000000000Z"
        );
        for t in [0, 1, 1_796_320_336_111_454_800, 1_796_320_336_000_000_000] {
            assert_eq!(parse_time(&format_time(t)), Some(t));
            assert_eq!(parse_time(&format_time_fixed(t)), Some(t));
        }
        assert_eq!(
            parse_time("2026-12-03T18:52:16.5+01:00"),
            Some(1_796_320_336_500_000_000)
        );
        assert_eq!(parse_time("2026-12-03T17:52:16.Z"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
