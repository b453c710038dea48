//! One line of comma-separated values, as `--mount` and `--device` are written.
//!
//! `type=bind,source=a,target=/b` is three fields. A field may be quoted, to hold commas:
//! `"target=/a,b",ro` is two, and `""` inside quotes is one `"`. A quote in the middle of
//! an unquoted field, or a quoted field that does not end at its closing quote, is an
//! error, with Go's `encoding/csv` wording (BuildKit reads these values with it).

/// The fields of `line`, or Go's message for why it is not CSV.
pub fn fields(line: &str) -> Result<Vec<String>, String> {
    let line = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line);
    if line.is_empty() {
        return Err("EOF".to_owned());
    }
    let mut fields = Vec::new();
    // Byte offset of what is left, for the error's column.
    let mut pos = 0;
    let mut rest = line;
    loop {
        let Some(quoted) = rest.strip_prefix('"') else {
            let (field, after) = rest.split_once(',').unwrap_or((rest, ""));
            if let Some(bare) = field.find('"') {
                return Err(parse_error(pos + bare, "bare \" in non-quoted-field"));
            }
            fields.push(field.to_owned());
            if field.len() == rest.len() {
                return Ok(fields);
            }
            pos += field.len() + 1;
            rest = after;
            continue;
        };
        pos += 1;
        let (field, used) = quoted_field(quoted, pos)?;
        fields.push(field);
        pos += used;
        rest = &quoted[used..];
        match rest.strip_prefix(',') {
            Some(after) => {
                pos += 1;
                rest = after;
            }
            None => return Ok(fields),
        }
    }
}

/// A quoted field's text (after its opening quote), and the bytes it took up to and with
/// its closing quote.
fn quoted_field(text: &str, start: usize) -> Result<(String, usize), String> {
    let mut field = String::new();
    let mut used = 0;
    loop {
        let Some(quote) = text[used..].find('"') else {
            return Err(parse_error(
                start + used,
                "extraneous or missing \" in quoted-field",
            ));
        };
        field.push_str(&text[used..used + quote]);
        used += quote + 1;
        let next = &text[used..];
        if next.starts_with('"') {
            // `""` is a quote character.
            field.push('"');
            used += 1;
        } else if next.is_empty() || next.starts_with(',') {
            return Ok((field, used));
        } else {
            return Err(parse_error(
                start + used - 1,
                "extraneous or missing \" in quoted-field",
            ));
        }
    }
}

/// Go's `csv.ParseError` text (the column counts from 1).
fn parse_error(pos: usize, what: &str) -> String {
    format!("parse error on line 1, column {}: {what}", pos + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_quotes() {
        assert_eq!(fields("a,b=c,,d").expect("valid"), ["a", "b=c", "", "d"]);
        assert_eq!(fields(r#""a,b",c"#).expect("valid"), ["a,b", "c"]);
        assert_eq!(fields(r#""say ""hi""""#).expect("valid"), [r#"say "hi""#]);
        assert_eq!(fields("a,").expect("valid"), ["a", ""]);
        assert_eq!(fields("").expect_err("empty"), "EOF");
        assert_eq!(
            fields(r#"ab"c"#).expect_err("bare quote"),
            "parse error on line 1, column 3: bare \" in non-quoted-field"
        );
        assert!(fields(r#""ab"c"#).is_err());
        assert_eq!(
            fields(r#""ab"#).expect_err("unterminated"),
            "parse error on line 1, column 2: extraneous or missing \" in quoted-field"
        );
    }
}
