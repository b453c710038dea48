//! The variables a word can refer to.
//!
//! A builder keeps a stage's environment the way an image config does, as a list of
//! `KEY=VALUE` entries: the base image's `Env`, then each `ARG` and `ENV` appended. Setting a
//! variable again appends it again, so a lookup takes the *last* entry for a name.
//!
//! On Linux names are compared exactly (`$path` is not `$PATH`). Windows images compare them
//! ignoring case, and so does BuildKit when it builds for Windows: [`KeyCase::Insensitive`].

/// Whether variable names compare exactly or ignoring case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyCase {
    /// `PATH` and `path` are two variables (Linux).
    #[default]
    Sensitive,
    /// `PATH` and `path` are one variable (Windows).
    Insensitive,
}

/// An environment: `KEY=VALUE` entries in order, a later entry for a key winning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    entries: Vec<(String, String)>,
    case: KeyCase,
}

impl Env {
    /// An environment of `KEY=VALUE` entries, names compared exactly. An entry without `=`
    /// sets its name to the empty value.
    pub fn new<I, S>(entries: I) -> Env
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries = entries
            .into_iter()
            .map(|entry| {
                let entry = entry.as_ref();
                let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
                (key.to_string(), value.to_string())
            })
            .collect();
        Env {
            entries,
            case: KeyCase::Sensitive,
        }
    }

    /// The same entries, names compared as `case` says.
    pub fn with_key_case(self, case: KeyCase) -> Env {
        Env { case, ..self }
    }

    /// The value of `name`: its last entry's, or `None` if it is unset (which is not the same
    /// as set to the empty string).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(key, _)| self.same_key(key, name))
            .map(|(_, value)| value.as_str())
    }

    fn same_key(&self, a: &str, b: &str) -> bool {
        match self.case {
            KeyCase::Sensitive => a == b,
            KeyCase::Insensitive => a.chars().map(upper).eq(b.chars().map(upper)),
        }
    }
}

/// A character's upper case, one character for one (BuildKit upper-cases names with Go's
/// `strings.ToUpper`, which maps each character alone: `ß` stays `ß`, not `SS`).
fn upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_entry_for_a_name_wins() {
        let env = Env::new(["A=1", "B=2", "A=3"]);
        assert_eq!(env.get("A"), Some("3"));
        assert_eq!(env.get("B"), Some("2"));
    }

    #[test]
    fn empty_is_set_and_missing_is_unset() {
        let env = Env::new(["EMPTY=", "BARE"]);
        assert_eq!(env.get("EMPTY"), Some(""));
        assert_eq!(env.get("BARE"), Some(""));
        assert_eq!(env.get("NOPE"), None);
    }

    #[test]
    fn a_value_keeps_its_equals_signs() {
        assert_eq!(Env::new(["A=b=c"]).get("A"), Some("b=c"));
    }

    #[test]
    fn case_matters_unless_told_otherwise() {
        let env = Env::new(["Path=/bin", "straße=x"]);
        assert_eq!(env.get("PATH"), None);
        let env = env.with_key_case(KeyCase::Insensitive);
        assert_eq!(env.get("PATH"), Some("/bin"));
        assert_eq!(env.get("STRAßE"), Some("x"));
        assert_eq!(env.get("STRASSE"), None);
    }
}
