//! Signals as a user names them: `SIGTERM`, `TERM`, `term`, `15` (as `docker kill -s` and
//! `STOPSIGNAL` accept them).

use nix::sys::signal::Signal;

use crate::error::{Error, Result};

/// The signal `text` names.
pub fn parse(text: &str) -> Result<Signal> {
    let invalid = || {
        Error::invalid(
            format!("invalid signal: {text}"),
            "name a signal as SIGTERM, TERM or 15",
        )
    };
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| invalid());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        for text in ["SIGTERM", "TERM", "term", "15"] {
            assert_eq!(parse(text).unwrap(), Signal::SIGTERM, "{text}");
        }
        assert_eq!(parse("9").unwrap(), Signal::SIGKILL);
        assert!(parse("SIGNOPE").is_err());
        assert!(parse("999").is_err());
    }
}
