//! Volume names: docker's rule for the names a user gives, and the random names of anonymous
//! volumes.
//!
//! A name becomes a directory under `<root>/volumes/`, so it must be one path element that
//! cannot climb out (`..`) or hide (`.x`): docker's local driver allows
//! `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, which rules out both. Anything else on the left of a `-v`
//! colon is taken as a host path, which is why docker's message suggests an absolute path.

use super::error::{Error, Result};

/// Checks `name` against docker's rule for local volume names.
pub fn validate(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !(first_ok && rest_ok) {
        return Err(Error::invalid(
            format!(
                "create {name}: {name:?} includes invalid characters for a local volume name, \
                 only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host \
                 directory, use absolute path"
            ),
            "a volume name is letters, digits and _ . - (not first); a host path starts with /",
        ));
    }
    if name.len() < 2 {
        return Err(Error::invalid(
            format!(
                "create {name}: volume name is too short, names should be at least two \
                 alphanumeric characters"
            ),
            "give the volume a name of two characters or more",
        ));
    }
    Ok(())
}

/// A fresh name for an anonymous volume: 64 random hex digits, as docker's (and as container
/// ids, from the same generator).
pub fn random() -> Result<String> {
    Ok(ch01_namespaces::ContainerId::random()?.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        for good in ["data", "a1", "my_vol.v2-x", "0abc"] {
            assert!(validate(good).is_ok(), "{good}");
        }
        let message = |name: &str| validate(name).unwrap_err().to_string();
        assert_eq!(
            message("a"),
            "create a: volume name is too short, names should be at least two alphanumeric characters"
        );
        assert_eq!(
            message("a/b"),
            "create a/b: \"a/b\" includes invalid characters for a local volume name, only \
             \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, \
             use absolute path"
        );
        for bad in ["", ".hidden", "..", "-x", "_x", "a b", "ü1"] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn anonymous_names_are_64_hex_digits() {
        let name = random().unwrap();
        assert_eq!(name.len(), 64);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(validate(&name).is_ok());
        assert_ne!(name, random().unwrap());
    }
}
