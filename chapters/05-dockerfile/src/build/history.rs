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

// ANCHOR: created_by
/// A config-only step: `/bin/sh -c #(nop)  KEYWORD args`.
pub fn nop(shell: &[String], text: &str) -> String {
    format!("{} #(nop)  {text}", shell.join(" "))
}

/// `COPY` or `ADD`: `/bin/sh -c #(nop) COPY file:… in /dest `.
pub fn copy(shell: &[String], keyword: &str, summary: &str, destination: &str) -> String {
    format!(
        "{} #(nop) {keyword} {summary} in {destination} ",
        shell.join(" ")
    )
}

/// `WORKDIR`: `/bin/sh -c #(nop) WORKDIR /app`.
pub fn workdir(shell: &[String], path: &str) -> String {
    format!("{} #(nop) WORKDIR {path}", shell.join(" "))
}

/// `RUN`: the command, after `|N NAME=value…` when build arguments are in scope.
pub fn run(args: &[(String, String)], command: &[String]) -> String {
    let command = command.join(" ");
    if args.is_empty() {
        return command;
    }
    let args: Vec<String> = args
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!("|{} {} {command}", args.len(), args.join(" "))
}
// ANCHOR_END: created_by

/// A list as Go's `%q` prints a string slice: `["a" "b c"]`, as docker writes `CMD` and
/// `ENTRYPOINT` in history.
pub fn go_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| go_quote(item)).collect();
    format!("[{}]", quoted.join(" "))
}

/// A string as Go's `%q` quotes it.
pub fn go_quote(text: &str) -> String {
    crate::parser::go_quote(text)
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
            copy(&sh(), "COPY", "file:ab", "/app/"),
            "/bin/sh -c #(nop) COPY file:ab in /app/ "
        );
        let command = vec!["/bin/sh".into(), "-c".into(), "make".into()];
        assert_eq!(run(&[], &command), "/bin/sh -c make");
        let args = [("A".into(), "1".into()), ("B".into(), "2".into())];
        assert_eq!(run(&args, &command), "|2 A=1 B=2 /bin/sh -c make");
        assert_eq!(
            go_list(&["sh".into(), "-c".into(), "a \"b\"".into()]),
            r#"["sh" "-c" "a \"b\""]"#
        );
    }
}
