//! The `created_by` of each history entry, in the shapes docker's builder writes, which
//! `docker history` shows. They also serve as each step's description in its cache key: two
//! steps with the same `created_by` on the same state do the same thing.
//!
//! - a step that only edits the config is written as if the shell had run a comment:
//!   `/bin/sh -c #(nop)  ENV A=1` (`#(nop)` for "no operation"; the two spaces are docker's);
//! - `COPY` and `ADD` say what they copied by a digest of it: `/bin/sh -c #(nop) COPY
//!   file:3b1e… in /app/ `;
//! - `RUN` is the command as the shell ran it, after the build arguments it saw:
//!   `|2 A=1 B=2 /bin/sh -c make`.

use crate::parser::go_quote;

// ANCHOR: created_by
/// A config-only step: `/bin/sh -c #(nop)  KEYWORD args`.
pub fn nop(shell: &[String], text: &str) -> String {
    format!("{} #(nop)  {text}", shell.join(" "))
}

/// `COPY` or `ADD`: `/bin/sh -c #(nop) COPY file:… in /dest `; with `--chown`, docker
/// writes the flag glued to the digest: `COPY --chown=1000:1000file:… in /dest `.
pub fn copy(
    shell: &[String],
    keyword: &str,
    chown: Option<&str>,
    summary: &str,
    destination: &str,
) -> String {
    let chown = chown.map_or(String::new(), |owner| format!("--chown={owner}"));
    format!(
        "{} #(nop) {keyword} {chown}{summary} in {destination} ",
        shell.join(" ")
    )
}

/// `WORKDIR`: `/bin/sh -c #(nop) WORKDIR /app`.
pub fn workdir(shell: &[String], path: &str) -> String {
    format!("{} #(nop) WORKDIR {path}", shell.join(" "))
}

/// `RUN`: the command, after `|N NAME=value…` (sorted by name) when build arguments are
/// in scope.
pub fn run(args: &[(String, String)], command: &[String]) -> String {
    let command = command.join(" ");
    if args.is_empty() {
        return command;
    }
    let mut args: Vec<String> = args
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    args.sort();
    format!("|{} {} {command}", args.len(), args.join(" "))
}
// ANCHOR_END: created_by

/// A list as Go's `%q` prints a string slice: `["a" "b c"]`, as docker writes `CMD` and
/// `ENTRYPOINT` in history.
pub fn go_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| go_quote(item)).collect();
    format!("[{}]", quoted.join(" "))
}

/// A health check as docker's builder writes it in history: Go's `%q` of its
/// `HealthConfig` pointer, `&{["CMD" "true"] "5s" "3s" "1s" '\x02'}` (the durations are
/// the ones written, retries a rune literal: a quirk of `%q` on an integer).
pub fn go_healthcheck(check: &ch04_images::oci::Healthcheck) -> String {
    format!(
        "&{{{} {} {} {} {}}}",
        go_list(&check.test),
        go_quote(&go_duration(check.interval)),
        go_quote(&go_duration(check.timeout)),
        go_quote(&go_duration(check.start_period)),
        go_rune(check.retries),
    )
}

/// A duration in nanoseconds as Go's `time.Duration.String` prints it: `1m30s`, `1.5s`,
/// `500ms`, `0s`.
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        let (unit, size) = match n {
            0..1_000 => ("ns", 1),
            1_000..1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{sign}{}{unit}", fraction(n, size));
    }
    let hours = n / 3_600_000_000_000;
    let minutes = n / 60_000_000_000 % 60;
    let seconds = fraction(n % 60_000_000_000, 1_000_000_000);
    let mut text = sign.to_owned();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    text.push_str(&format!("{seconds}s"));
    text
}

/// `value / unit` with its decimals, trailing zeros dropped: `1.5`, `2`.
fn fraction(value: u64, unit: u64) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = unit.to_string().len() - 1;
    let decimals = format!("{rest:0digits$}");
    format!("{whole}.{}", decimals.trim_end_matches('0'))
}

/// An integer as Go's `%q` prints it: a quoted character, `'\x02'` for an unprintable one.
pub fn go_rune(value: i64) -> String {
    match u32::try_from(value).ok().and_then(char::from_u32) {
        Some(c) if c == '\'' || c == '\\' => format!("'\\{c}'"),
        Some(c) if (' '..='~').contains(&c) => format!("'{c}'"),
        Some('\u{7}') => "'\\a'".to_owned(),
        Some('\u{8}') => "'\\b'".to_owned(),
        Some('\u{c}') => "'\\f'".to_owned(),
        Some('\n') => "'\\n'".to_owned(),
        Some('\r') => "'\\r'".to_owned(),
        Some('\t') => "'\\t'".to_owned(),
        Some('\u{b}') => "'\\v'".to_owned(),
        Some(c) if (c as u32) < 0x80 => format!("'\\x{:02x}'", c as u32),
        Some(c) if !c.is_control() => format!("'{c}'"),
        _ => format!("'\\u{:04x}'", value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into()]
    }

    #[test]
    fn shapes_of_created_by() {
        assert_eq!(nop(&sh(), "ENV A=1"), "/bin/sh -c #(nop)  ENV A=1");
        assert_eq!(
            copy(&sh(), "COPY", None, "file:ab", "/app/"),
            "/bin/sh -c #(nop) COPY file:ab in /app/ "
        );
        assert_eq!(
            copy(&sh(), "ADD", Some("1:2"), "dir:ab", "x"),
            "/bin/sh -c #(nop) ADD --chown=1:2dir:ab in x "
        );
        let command = vec!["/bin/sh".into(), "-c".into(), "make".into()];
        assert_eq!(run(&[], &command), "/bin/sh -c make");
        let args = [("A".into(), "1".into()), ("B".into(), "2".into())];
        assert_eq!(run(&args, &command), "|2 A=1 B=2 /bin/sh -c make");
        let unsorted = [("B".into(), "2".into()), ("A".into(), "1".into())];
        assert_eq!(run(&unsorted, &command), "|2 A=1 B=2 /bin/sh -c make");
        assert_eq!(
            go_list(&["sh".into(), "-c".into(), "a \"b\"".into()]),
            r#"["sh" "-c" "a \"b\""]"#
        );
    }

    #[test]
    fn go_formats() {
        let cases = [
            (0, "0s"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (500_000_000, "500ms"),
            (3_600_000_000_000, "1h0m0s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(go_duration(nanos), text);
        }
        assert_eq!(go_rune(0), "'\\x00'");
        assert_eq!(go_rune(2), "'\\x02'");
        assert_eq!(go_rune(65), "'A'");
        let check = ch04_images::oci::Healthcheck {
            test: vec!["CMD".into(), "/bin/true".into()],
            interval: 5_000_000_000,
            timeout: 3_000_000_000,
            start_period: 1_000_000_000,
            retries: 2,
            ..Default::default()
        };
        assert_eq!(
            go_healthcheck(&check),
            r#"&{["CMD" "/bin/true"] "5s" "3s" "1s" '\x02'}"#
        );
    }
}
