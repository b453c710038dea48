//! `COPY --chmod=…`: the mode copied files get.
//!
//! Either an octal number, as `chmod 644` takes it (at most `7777`: permissions, plus the
//! setuid, setgid and sticky bits), or a symbolic mode, as `chmod u+x,go-w` takes it:
//! clauses separated by commas, each naming *who* (`u`ser, `g`roup, `o`thers, `a`ll, none
//! meaning all) and then one or more *operations*: `+` adds, `-` removes, `=` sets
//! permissions (`r`, `w`, `x`, `X` for execute-if-a-directory-or-executable, `s`, `t`), or
//! copies another class's (`g=u`). BuildKit reads the symbolic form with a port of BSD's
//! `setmode`, whose grammar this follows.

use super::{InstructionError, Parsed};

/// The highest octal mode.
const MAX_OCTAL: u32 = 0o7777;

/// A `--chmod` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chmod {
    /// `--chmod=644`: the mode itself.
    Octal(u32),
    /// `--chmod=u+x,go-w`: changes to each file's current mode, checked but kept as text.
    Symbolic(String),
}

impl Chmod {
    /// Reads a `--chmod` value, with BuildKit's messages.
    pub fn parse(value: &str) -> Parsed<Chmod> {
        let non_octal = || {
            InstructionError::new(format!(
                "invalid chmod parameter: '{value}'. it should be octal string and between 0 \
                 and 07777"
            ))
            .with_hint("write an octal mode (0644) or a symbolic one (u+x,go-w)")
        };
        if value.starts_with(|c: char| c.is_ascii_digit()) {
            // A number, in octal: anything else starting with a digit is a bad number.
            return match u32::from_str_radix(value, 8) {
                Ok(mode) if mode <= MAX_OCTAL => Ok(Chmod::Octal(mode)),
                _ => Err(non_octal()),
            };
        }
        if is_symbolic_mode(value) {
            Ok(Chmod::Symbolic(value.to_owned()))
        } else {
            // BuildKit's mode parser says no more than this.
            Err(InstructionError::new("invalid syntax").with_hint(format!(
                "--chmod={value} is neither an octal mode (0644) nor a symbolic one (u+x,go-w)"
            )))
        }
    }
}

/// Whether `mode` is a symbolic mode: `clause[,clause…]`, each `[ugoa]*` followed by one
/// or more `[+-=][rwxXstugo]*`.
fn is_symbolic_mode(mode: &str) -> bool {
    let mut rest = mode.as_bytes();
    loop {
        // Who: any of u, g, o, a; then at least an operator must follow.
        while let [b'u' | b'g' | b'o' | b'a', after @ ..] = rest {
            rest = after;
        }
        // One or more operations, each an operator and its permissions.
        loop {
            let [b'+' | b'-' | b'=', after @ ..] = rest else {
                return false;
            };
            rest = after;
            while let [
                b'r' | b'w' | b'x' | b'X' | b's' | b't' | b'u' | b'g' | b'o',
                after @ ..,
            ] = rest
            {
                rest = after;
            }
            match rest {
                [] => return true,
                [b',', after @ ..] => {
                    rest = after;
                    break;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_modes() {
        assert_eq!(Chmod::parse("644"), Ok(Chmod::Octal(0o644)));
        assert_eq!(Chmod::parse("07777"), Ok(Chmod::Octal(0o7777)));
        for bad in ["10000", "0999", "8", "6 44", "1x"] {
            assert_eq!(
                Chmod::parse(bad).expect_err(bad).message,
                format!(
                    "invalid chmod parameter: '{bad}'. it should be octal string and between 0 and 07777"
                )
            );
        }
    }

    #[test]
    fn symbolic_modes() {
        for good in [
            "u+x",
            "+x",
            "-",
            "go-w",
            "a=rwx,o=",
            "u=g",
            "u+x-w",
            "ug+rwX,o-rwx",
        ] {
            assert_eq!(
                Chmod::parse(good),
                Ok(Chmod::Symbolic(good.to_owned())),
                "{good}"
            );
        }
        for bad in ["u", "x", "u+x,", "u+q", "u+x,,g-w", "+xy"] {
            assert_eq!(
                Chmod::parse(bad).expect_err(bad).message,
                "invalid syntax",
                "{bad}"
            );
        }
    }
}
