//! BuildKit's dump of the AST: `(from "busybox")`, one line per instruction.
//!
//! BuildKit's parser tests compare a Dockerfile's AST with an expected text, and the text is
//! what `Node.Dump()` prints: each instruction in parentheses, its keyword in lowercase, its
//! flags as a Go list of quoted strings, then each argument quoted, an `ONBUILD`'s
//! instruction nested in its own parentheses:
//!
//! ```text
//! (from "busybox")
//! (copy ["--from=build"] "/out" "/usr/bin/")
//! (onbuild (run "echo" "test"))
//! ```
//!
//! The quoting is Go's `strconv.Quote`, so reproducing the dump byte for byte means
//! reproducing Go's rules for which characters print as they are and which are escaped.

use super::Dockerfile;
use super::node::Node;
use super::text;

// ANCHOR: dump
impl Node {
    /// The instruction as BuildKit's `Node.Dump()` prints it, without the parentheses a
    /// whole file's dump puts around each instruction: `run "echo hi"`,
    /// `onbuild (run "echo" "test")`.
    pub fn dump(&self) -> String {
        let mut out = text::to_lower(&self.instruction);
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|flag| go_quote(flag)).collect();
            out.push_str(&format!(" [{}]", flags.join(" ")));
        }
        for arg in &self.args {
            out.push(' ');
            out.push_str(&go_quote(arg));
        }
        // BuildKit keeps an instruction it does not know with a single, empty argument.
        if self.keyword().is_none() {
            out.push_str(" \"\"");
        }
        if let Some(nested) = &self.nested {
            out.push_str(&format!(" ({})", nested.dump()));
        }
        // Only an instruction with an empty keyword (a line of nothing but escaped
        // whitespace) has anything to trim; BuildKit trims every dump.
        out.trim().to_owned()
    }
}

impl Dockerfile {
    /// The whole file as BuildKit's `Node.Dump()` prints the root: one parenthesised
    /// instruction per line, without a final newline (`parse --dump` adds one, as BuildKit's
    /// `result` files have it).
    pub fn dump(&self) -> String {
        let lines: Vec<String> = self
            .nodes
            .iter()
            .map(|node| format!("({})", node.dump()))
            .collect();
        lines.join("\n")
    }
}
// ANCHOR_END: dump

/// A string in double quotes as Go's `strconv.Quote` writes it: `"` and `\` escaped,
/// printable characters (any script) as they are, `\a \b \f \n \r \t \v` by name, other
/// control characters as `\xNN`, other unprintable characters as `\uNNNN` or `\UNNNNNNNN`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if text::is_printable(c) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_go_does() {
        assert_eq!(go_quote("a \"b\" \\c"), r#""a \"b\" \\c""#);
        assert_eq!(
            go_quote("\" \\ / \u{8} \u{c} \n \r \t \0"),
            r#""\" \\ / \b \f \n \r \t \x00""#
        );
        assert_eq!(go_quote("\x07\x0b\x1b\x7f"), r#""\a\v\x1b\x7f""#);
        assert_eq!(go_quote("♥ ☃ é"), "\"♥ ☃ é\"");
        assert_eq!(
            go_quote("\u{a0}\u{200b}\u{feff}"),
            r#""\u00a0\u200b\ufeff""#
        );
        assert_eq!(go_quote("\u{e0001}"), r#""\U000e0001""#);
        assert_eq!(go_quote("\u{85}"), r#""\u0085""#);
    }
}
