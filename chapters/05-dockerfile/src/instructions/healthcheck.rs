//! `HEALTHCHECK [--interval=…] [--timeout=…] [--start-period=…] [--start-interval=…]
//! [--retries=N] CMD command`, or `HEALTHCHECK NONE`.
//!
//! The engine runs the command in the container every `interval` (default 30s); a run that
//! fails or outlasts `timeout` (default 30s) is a failure, and `retries` failures in a row
//! (default 3) make the container unhealthy. During `start-period` failures do not count,
//! and checks run every `start-interval`. `NONE` turns off a check the base image set.
//!
//! The durations are Go's ([`super::duration`]); 0 means the default, and anything else
//! under a millisecond is refused.

use std::time::Duration;

use super::duration::{parse_duration, to_duration};
use super::flags::{FlagKind, FlagValues, read_flags};
use super::{CommandLine, InstructionError, Parsed, at_least_one_argument};
use crate::parser::{Node, go_quote};

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: no check, not even the base image's.
    None,
    /// `HEALTHCHECK CMD …`.
    Check(HealthcheckTest),
}

/// A health check's command and timings; `None` and 0 mean the engine's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthcheckTest {
    /// The command (`CMD` exec form, or `CMD-SHELL` for the shell form).
    pub command: CommandLine,
    /// `--interval`.
    pub interval: Option<Duration>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--start-period`.
    pub start_period: Option<Duration>,
    /// `--start-interval`.
    pub start_interval: Option<Duration>,
    /// `--retries`.
    pub retries: u32,
}

/// Parses a `HEALTHCHECK` node.
pub fn parse(node: &Node) -> Parsed<Healthcheck> {
    let Some((kind, command)) = node.args.split_first() else {
        return Err(at_least_one_argument("HEALTHCHECK").with_hint("write HEALTHCHECK CMD …"));
    };
    let kind = kind.to_uppercase();
    if kind == "NONE" {
        // Flags are not even read after NONE.
        if !command.is_empty() {
            return Err(InstructionError::new("HEALTHCHECK NONE takes no arguments"));
        }
        return Ok(Healthcheck::None);
    }
    let flags = read_flags(
        &node.flags,
        &[
            ("interval", FlagKind::String),
            ("timeout", FlagKind::String),
            ("start-period", FlagKind::String),
            ("start-interval", FlagKind::String),
            ("retries", FlagKind::String),
        ],
    )?;
    if kind != "CMD" {
        return Err(InstructionError::new(format!(
            "Unknown type {} in HEALTHCHECK (try CMD)",
            go_quote(&kind)
        )));
    }
    let command = if node.json {
        CommandLine::Exec(command.to_vec())
    } else {
        CommandLine::Shell(command.join(" "))
    };
    if matches!(&command, CommandLine::Exec(args) if args.is_empty())
        || matches!(&command, CommandLine::Shell(text) if text.is_empty())
    {
        return Err(InstructionError::new(
            "Missing command after HEALTHCHECK CMD",
        ));
    }
    Ok(Healthcheck::Check(HealthcheckTest {
        command,
        interval: interval(&flags, "interval")?,
        timeout: interval(&flags, "timeout")?,
        start_period: interval(&flags, "start-period")?,
        start_interval: interval(&flags, "start-interval")?,
        retries: retries(&flags)?,
    }))
}

/// The smallest duration a check's timing may have, besides 0.
const MINIMUM: i128 = 1_000_000;

/// A timing flag: none if absent or 0, refused under a millisecond.
fn interval(flags: &FlagValues, name: &str) -> Parsed<Option<Duration>> {
    let Some(text) = flags.string(name).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let nanoseconds = parse_duration(text).map_err(|message| {
        InstructionError::new(message).with_hint("write a duration such as 30s, 1m30s or 500ms")
    })?;
    if nanoseconds == 0 {
        return Ok(None);
    }
    if nanoseconds < MINIMUM {
        return Err(InstructionError::new(format!(
            "Interval {} cannot be less than 1ms",
            go_quote(name)
        ))
        .with_hint(format!("--{name} is 0 (the default) or at least 1ms")));
    }
    Ok(Some(to_duration(nanoseconds)))
}

/// `--retries`: Go's `strconv.ParseInt(text, 10, 32)`, and not negative.
fn retries(flags: &FlagValues) -> Parsed<u32> {
    let Some(text) = flags.string("retries").filter(|text| !text.is_empty()) else {
        return Ok(0);
    };
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InstructionError::new(format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            go_quote(text)
        )));
    }
    let value: i32 = text.parse().map_err(|_| {
        InstructionError::new(format!(
            "strconv.ParseInt: parsing {}: value out of range",
            go_quote(text)
        ))
    })?;
    u32::try_from(value)
        .map_err(|_| InstructionError::new(format!("--retries cannot be negative ({value})")))
}
