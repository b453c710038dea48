//! Output as docker prints it: tables, durations, sizes.

/// docker's `units.HumanDuration`: "Less than a second", "5 seconds", "About a minute", ...
pub fn human_duration(seconds: u64) -> String {
    let (minutes, hours) = (seconds / 60, seconds / 3600);
    match () {
        _ if seconds < 1 => "Less than a second".into(),
        _ if seconds == 1 => "1 second".into(),
        _ if seconds < 60 => format!("{seconds} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// docker's `units.HumanSize`: decimal units, three significant digits (`1.23kB`, `45MB`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let digits_before_point = if value < 10.0 {
        1
    } else if value < 100.0 {
        2
    } else {
        3
    };
    let text = format!("{value:.prec$}", prec = 3 - digits_before_point);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{}", UNITS[unit])
}

/// Bytes in binary units, as Docker prints memory limits and usage (`32 MiB`, `1.5 GiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// docker's ellipsis: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// A table laid out as docker's (Go's tabwriter, padding 3): every column as wide as its
/// widest cell, three spaces between columns, the last column not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i] - cell.chars().count() + 3;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// docker's `--format`: a Go-template-like string whose placeholders (`{{.Repository}}`) are
/// replaced by each row's values, a line per row. `table` in front adds a header row, and tabs
/// (`\t`) align columns as docker's tabwriter does. `fields` names each placeholder and its
/// header; each row holds a value per field, in that order. A placeholder that is not one of
/// `fields` is refused, with the message saying which.
pub fn template(
    template: &str,
    fields: &[(&str, &str)],
    rows: &[Vec<String>],
) -> Result<String, String> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let (template, with_header) = match template.strip_prefix("table") {
        Some(rest) => (rest.trim_start().to_string(), true),
        None => (template, false),
    };
    let fill = |values: &dyn Fn(usize) -> String| {
        let mut line = template.clone();
        for (i, (field, _)) in fields.iter().enumerate() {
            line = line.replace(field, &values(i));
        }
        line
    };
    let mut lines = Vec::new();
    if with_header {
        lines.push(fill(&|i| fields[i].1.to_string()));
    }
    for row in rows {
        lines.push(fill(&|i| row.get(i).cloned().unwrap_or_default()));
    }
    if let Some(unknown) = lines.iter().find_map(|l| l.find("{{").map(|at| &l[at..])) {
        let supported: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
        return Err(format!(
            "unsupported --format field in {unknown:?} (supported: {})",
            supported.join(" ")
        ));
    }
    if !template.contains('\t') {
        return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
    }
    // With tabs, docker aligns columns; a table of the cells does the same here.
    let cells: Vec<Vec<String>> = lines
        .iter()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let (head, body) = cells
        .split_first()
        .map_or((Vec::new(), &[][..]), |(h, b)| (h.clone(), b));
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    Ok(table(&head, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_docker_prints_them() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(12), "12B");
        assert_eq!(human_size(1234), "1.23kB");
        assert_eq!(human_size(100_000), "100kB");
        assert_eq!(human_size(1_500_000), "1.5MB");
    }

    #[test]
    fn bytes_read_like_docker_prints_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(32 << 20), "32 MiB");
        assert_eq!(human_bytes(1536 << 10), "1.5 MiB");
        assert_eq!(human_bytes(3 << 30), "3 GiB");
    }

    #[test]
    fn durations_as_docker_prints_them() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(3 * 86400), "3 days");
    }

    #[test]
    fn templates_fill_in_fields_with_an_optional_header() {
        let fields = [("{{.A}}", "A"), ("{{.B}}", "BEE")];
        let rows = vec![vec!["1".to_string(), "two".to_string()]];
        assert_eq!(
            template("{{.A}}-{{.B}}", &fields, &rows).unwrap(),
            "1-two\n"
        );
        assert_eq!(
            template("table {{.A}}\\t{{.B}}", &fields, &rows).unwrap(),
            "A   BEE\n1   two\n"
        );
        let error = template("{{.C}}", &fields, &rows).unwrap_err();
        assert!(error.contains("\"{{.C}}\""), "{error}");
    }

    #[test]
    fn ellipsis_cuts_with_a_mark() {
        assert_eq!(ellipsis("/bin/sh", 20), "/bin/sh");
        assert_eq!(
            ellipsis("/bin/sh -c 'echo hello world'", 20),
            "/bin/sh -c 'echo he…"
        );
    }
}
