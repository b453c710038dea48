//! Output as docker prints it: tables, `--format` templates, durations, sizes.

/// docker's `units.HumanDuration` (go-units): "Less than a second", "5 seconds", "About a
/// minute", "2 hours"... Hours are rounded to the nearest (1 h 31 min is "2 hours"), as
/// go-units rounds them; everything below an hour is cut, and so are years.
pub fn human_duration(seconds: u64) -> String {
    let minutes = seconds / 60;
    let hours = (seconds + 1800) / 3600;
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
        _ => format!("{} years", seconds / 3600 / 24 / 365),
    }
}

/// Sizes as `docker images` prints them: decimal units, three significant digits (`1.23kB`,
/// `45MB`; docker's `units.HumanSizeWithPrecision(size, 3)`).
pub fn human_size(bytes: u64) -> String {
    human_size_with_precision(bytes, 3)
}

/// Decimal units with `significant` digits at most, as go-units' `HumanSizeWithPrecision`
/// (`units.HumanSize`, which prune reports use, is 4).
pub fn human_size_with_precision(bytes: u64, significant: usize) -> String {
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
    let text = format!(
        "{value:.prec$}",
        prec = significant.saturating_sub(digits_before_point)
    );
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

/// docker's `units.BytesSize`: binary units, four significant digits, no space (`1.465MiB`,
/// `7.775GiB`), as `docker stats` shows memory.
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let digits_before_point = match value {
        v if v < 10.0 => 1,
        v if v < 100.0 => 2,
        v if v < 1000.0 => 3,
        _ => 4,
    };
    let text = format!("{value:.prec$}", prec = 4 - digits_before_point);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{}", UNITS[unit])
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
/// widest cell, three spaces between columns, the last column not padded. (Without docker's
/// minimal column width, [`DOCKER_MIN_WIDTH`]: the tables of chapters 03 to 05, and their
/// transcripts in the book, are laid out so.)
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    tabwriter(header, rows, 0)
}

/// The narrowest a column of docker's tables is, padding included: docker's formatters set
/// Go's tabwriter up with a minimal width of 10 and a padding of 3, so `IMAGE` takes ten
/// columns even when every image name is shorter.
pub const DOCKER_MIN_WIDTH: usize = 10;

/// Go's tabwriter with a padding of 3: each column as wide as its widest cell plus the
/// padding, and at least `min_width`; the last column is not padded. (`docker top` sets a
/// minimal width of 20, its other tables [`DOCKER_MIN_WIDTH`].)
pub fn tabwriter(header: &[&str], rows: &[Vec<String>], min_width: usize) -> String {
    // A value holding a tab makes a row longer than the header: every cell gets a column.
    let columns = rows.iter().map(Vec::len).fold(header.len(), usize::max);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    widths.resize(columns, 0);
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let widths: Vec<usize> = widths.iter().map(|w| (w + 3).max(min_width)).collect();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i] - cell.chars().count();
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
    let position = |placeholder: &str| {
        fields
            .iter()
            .position(|(field, _)| inside_braces(field) == placeholder)
    };
    let supported: Vec<&str> = fields.iter().map(|(field, _)| *field).collect();
    let columns = Columns {
        header: &|placeholder| position(placeholder).map(|i| fields[i].1.to_string()),
        value: &|row: &Vec<String>, placeholder| {
            position(placeholder).map(|i| row.get(i).cloned().unwrap_or_default())
        },
        supported: &supported,
        min_width: 0,
    };
    fill_template(template, rows, &columns)
}

/// What a template's placeholders stand for, for [`fill_template`]. A placeholder is what its
/// braces hold, trimmed: `.ID`, `.Label "com.example"`, `json .`.
pub struct Columns<'a, R> {
    /// A placeholder's column header, for `table`; `None` for a placeholder it does not know.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    /// A row's value for a placeholder; `None` for a placeholder it does not know.
    pub value: &'a dyn Fn(&R, &str) -> Option<String>,
    /// The placeholders it knows, for the message that refuses another.
    pub supported: &'a [&'a str],
    /// The narrowest a column may be when tabs align them (see [`DOCKER_MIN_WIDTH`]).
    pub min_width: usize,
}

impl<R> std::fmt::Debug for Columns<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("supported", &self.supported)
            .field("min_width", &self.min_width)
            .finish_non_exhaustive()
    }
}

/// One piece of a template: text as written, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'t> {
    Text(&'t str),
    Placeholder(&'t str),
}

/// docker's `--format`, for any rows: the template's text as written, each placeholder
/// replaced by what `columns` says for the row, one line per row. As docker's CLI does, `\t`
/// and `\n` written as two characters become a tab and a newline; `table` in front adds a
/// header row; tabs align columns as Go's tabwriter does. A placeholder `columns` does not
/// know is refused, with the message naming it.
pub fn fill_template<R>(
    template: &str,
    rows: &[R],
    columns: &Columns<R>,
) -> Result<String, String> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let (template, with_header) = match template.strip_prefix("table") {
        Some(rest) => (rest.trim_start().to_string(), true),
        None => (template, false),
    };
    let pieces = pieces(&template)?;
    let unknown = |placeholder: &str| {
        format!(
            "unsupported --format field {:?} (supported: {})",
            format!("{{{{{placeholder}}}}}"),
            columns.supported.join(" ")
        )
    };
    // Refused before any row is filled, as Go parses a template first: even with no rows.
    for piece in &pieces {
        if let Piece::Placeholder(placeholder) = piece {
            (columns.header)(placeholder).ok_or_else(|| unknown(placeholder))?;
        }
    }
    let fill = |resolve: &dyn Fn(&str) -> Option<String>| -> Result<String, String> {
        let mut line = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(text) => line.push_str(text),
                Piece::Placeholder(placeholder) => {
                    line.push_str(&resolve(placeholder).ok_or_else(|| unknown(placeholder))?)
                }
            }
        }
        Ok(line)
    };
    let mut lines = Vec::new();
    if with_header {
        lines.push(fill(columns.header)?);
    }
    for row in rows {
        lines.push(fill(&|placeholder| (columns.value)(row, placeholder))?);
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
    Ok(tabwriter(&head, body, columns.min_width))
}

/// The template cut into text and placeholders.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            format!("unclosed placeholder in --format {template:?}: a {{{{ without }}}}")
        })?;
        pieces.push(Piece::Placeholder(after[..close].trim()));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// What a field written `{{.Name}}` holds between its braces: `.Name`.
fn inside_braces(field: &str) -> &str {
    field
        .trim()
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim()
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
    fn memory_as_docker_stats_prints_it() {
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(512 << 10), "512KiB");
        assert_eq!(bytes_size(1_536_000), "1.465MiB");
        assert_eq!(bytes_size(8_348_520_448), "7.775GiB");
        assert_eq!(bytes_size(1023), "1023B");
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
    fn durations_follow_go_units() {
        // go-units' own table (duration_test.go), in seconds.
        let (minute, hour, day) = (60, 3600, 86_400);
        let (week, month, year) = (7 * day, 30 * day, 365 * day);
        for (seconds, text) in [
            (45, "45 seconds"),
            (35 * minute + 40, "35 minutes"),
            (59 * minute, "59 minutes"),
            (hour + 29 * minute, "About an hour"),
            (hour + 31 * minute, "2 hours"),
            (3 * hour + 29 * minute, "3 hours"),
            (3 * hour + 31 * minute, "4 hours"),
            (day + 12 * hour, "36 hours"),
            (2 * day, "2 days"),
            (13 * day + 5 * hour, "13 days"),
            (2 * week + 4 * day, "2 weeks"),
            (month, "4 weeks"),
            (month + 2 * week, "6 weeks"),
            (2 * month, "2 months"),
            (5 * month + 2 * week, "5 months"),
            (24 * month, "24 months"),
            (24 * month + 2 * week, "2 years"),
            (3 * year + 2 * month, "3 years"),
        ] {
            assert_eq!(human_duration(seconds), text, "{seconds} s");
        }
    }

    #[test]
    fn docker_tables_have_columns_ten_wide_at_least() {
        let rows = vec![vec!["ab".to_string(), "x".to_string(), "last".to_string()]];
        assert_eq!(
            tabwriter(&["ID", "A LONG HEADER", "NAMES"], &rows, DOCKER_MIN_WIDTH),
            "ID        A LONG HEADER   NAMES\nab        x               last\n"
        );
    }

    #[test]
    fn placeholders_may_take_arguments() {
        let rows = vec![("web", "v1"), ("db", "v2")];
        let columns = Columns {
            header: &|p| match p {
                ".Name" => Some("NAME".into()),
                p if p.starts_with(".Label ") => Some("LABEL".into()),
                _ => None,
            },
            value: &|row: &(&str, &str), p| match p {
                ".Name" => Some(row.0.to_string()),
                ".Label \"version\"" => Some(row.1.to_string()),
                p if p.starts_with(".Label ") => Some(String::new()),
                _ => None,
            },
            supported: &[".Name", ".Label"],
            min_width: DOCKER_MIN_WIDTH,
        };
        assert_eq!(
            fill_template(
                "table {{.Name}}\\t{{ .Label \"version\" }}",
                &rows,
                &columns
            )
            .unwrap(),
            "NAME      LABEL\nweb       v1\ndb        v2\n"
        );
        assert_eq!(
            fill_template("{{.Name}}={{.Label \"other\"}};", &rows, &columns).unwrap(),
            "web=;\ndb=;\n"
        );
        let error = fill_template("{{.Nope}}", &rows, &columns).unwrap_err();
        assert!(error.contains("\"{{.Nope}}\""), "{error}");
        let no_rows: [(&str, &str); 0] = [];
        assert!(fill_template("{{.Nope}}", &no_rows, &columns).is_err());
        let tabbed = [("a\tb", "v")];
        assert_eq!(
            fill_template("{{.Name}}\\t{{.Label \"version\"}}", &tabbed, &columns).unwrap(),
            "a         b         v\n"
        );
        assert!(fill_template("{{.Name", &rows, &columns).is_err());
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
