//! `RUN --mount=type=…,…`: what a `RUN` sees besides the stage's filesystem.
//!
//! A mount is written as comma-separated `key=value` fields (see `csv`):
//!
//! | type     | what the command sees at `target`                         | default access |
//! |----------|-----------------------------------------------------------|----------------|
//! | `bind`   | a directory of the context or of another stage (`from=`)  | read-only      |
//! | `cache`  | a directory kept between builds, by `id` (package caches) | read-write     |
//! | `tmpfs`  | an empty in-memory directory (`size=`)                    | read-write     |
//! | `secret` | a file holding a secret the build was given (`id=`)       | read-only      |
//! | `ssh`    | a socket to the SSH agent the build was given             | read-only      |
//!
//! `type` defaults to `bind`. The values may hold variables, which BuildKit expands field by
//! field after cutting the fields; [`Mount::parse`] takes the expansion as a function for
//! that reason (the identity for a mount written out).

use super::{InstructionError, Parsed, csv, suggest};
use crate::shell::ShellError;

/// The kinds of mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    /// A directory of the context or of another stage.
    Bind,
    /// A persistent cache directory.
    Cache,
    /// An in-memory directory.
    Tmpfs,
    /// A secret file.
    Secret,
    /// The SSH agent's socket.
    Ssh,
}

const MOUNT_TYPES: [(&str, MountType); 5] = [
    ("bind", MountType::Bind),
    ("cache", MountType::Cache),
    ("tmpfs", MountType::Tmpfs),
    ("secret", MountType::Secret),
    ("ssh", MountType::Ssh),
];

impl MountType {
    /// Its name in a `--mount`.
    pub fn as_str(self) -> &'static str {
        MOUNT_TYPES
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("bind", |(name, _)| name)
    }
}

/// How builds running at once share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// All use it at once (the default).
    Shared,
    /// Each gets a copy of its own.
    Private,
    /// One at a time.
    Locked,
}

/// One `--mount`, its values expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// What is mounted.
    pub kind: MountType,
    /// The stage or image a bind or cache mount takes its source from.
    pub from: Option<String>,
    /// The path in the source (`source=`, `src=`).
    pub source: Option<String>,
    /// Where it appears (`target=`, `dst=`, `destination=`).
    pub target: Option<String>,
    /// Read-only: the type's default, unless `ro`/`rw` said.
    pub read_only: bool,
    /// A tmpfs's size in bytes (`size=64m`).
    pub size: Option<u64>,
    /// A cache's or a secret's id.
    pub id: Option<String>,
    /// How a cache is shared.
    pub sharing: Option<Sharing>,
    /// A secret or SSH mount that must be provided.
    pub required: bool,
    /// The environment variable a secret is also given in (`env=`).
    pub env: Option<String>,
    /// The mode, owner and group of a cache's, secret's or socket's files.
    pub mode: Option<u32>,
    /// See `mode`.
    pub uid: Option<u32>,
    /// See `mode`.
    pub gid: Option<u32>,
}

/// The keys a mount knows, for "did you mean".
const KEYS: [&str; 19] = [
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

impl Mount {
    /// Parses a `--mount` value, expanding each field's value with `expand` first.
    pub fn parse(
        spec: &str,
        expand: &mut dyn FnMut(&str) -> Result<String, ShellError>,
    ) -> Parsed<Mount> {
        let fields = csv::fields(spec).map_err(|error| {
            InstructionError::new(format!("failed to parse csv mounts: {error}"))
        })?;
        let mut mount = Mount::new();
        let mut access_given = false;
        for field in &fields {
            let Some((key, value)) = field.split_once('=') else {
                access_given |= mount.set_flag(&field.to_ascii_lowercase(), field)?;
                continue;
            };
            let key = key.to_ascii_lowercase();
            let value = expand(value)?;
            access_given |= mount.set(&key, value, field)?;
        }
        if !access_given {
            mount.read_only = !matches!(mount.kind, MountType::Cache | MountType::Tmpfs);
        }
        mount.check()?;
        Ok(mount)
    }

    /// BuildKit's checks of a mount written with variables, before they are known: the
    /// fields are CSV, and `from` holds none (a stage cannot be chosen by a variable).
    pub fn check_unexpanded(spec: &str) -> Parsed<()> {
        let fields = csv::fields(spec).map_err(|error| {
            InstructionError::new(format!("failed to parse csv mounts: {error}"))
        })?;
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let dollar = value.find('$');
            if key.eq_ignore_ascii_case("from") && dollar.is_some_and(|at| at + 1 != value.len()) {
                return Err(InstructionError::new(
                    "'from' doesn't support variable expansion, define alias stage instead",
                ));
            }
        }
        Ok(())
    }

    fn new() -> Mount {
        Mount {
            kind: MountType::Bind,
            from: None,
            source: None,
            target: None,
            read_only: true,
            size: None,
            id: None,
            sharing: None,
            required: false,
            env: None,
            mode: None,
            uid: None,
            gid: None,
        }
    }

    /// A field without `=`: `ro`, `rw`, `required`. Whether it set the access.
    fn set_flag(&mut self, key: &str, field: &str) -> Parsed<bool> {
        match key {
            "readonly" | "ro" => self.read_only = true,
            "readwrite" | "rw" => self.read_only = false,
            "required" => {
                self.required = self.allows_required(key)?;
                return Ok(false);
            }
            _ => {
                return Err(InstructionError::new(format!(
                    "invalid field '{field}' must be a key=value pair"
                )));
            }
        }
        Ok(true)
    }

    /// A `key=value` field. Whether it set the access.
    fn set(&mut self, key: &str, value: String, field: &str) -> Parsed<bool> {
        let invalid = |key: &str, value: &str| {
            InstructionError::new(format!("invalid value for {key}: {value}"))
        };
        let empty_is_none = |value: String| (!value.is_empty()).then_some(value);
        match key {
            "type" => self.kind = mount_type(&value)?,
            "from" => self.from = empty_is_none(value),
            "source" | "src" => self.source = empty_is_none(value),
            "target" | "dst" | "destination" => self.target = empty_is_none(value),
            "readonly" | "ro" => {
                self.read_only = go_bool(&value).ok_or_else(|| invalid(key, &value))?;
                return Ok(true);
            }
            "readwrite" | "rw" => {
                self.read_only = !go_bool(&value).ok_or_else(|| invalid(key, &value))?;
                return Ok(true);
            }
            "required" => {
                self.allows_required(key)?;
                self.required = go_bool(&value).ok_or_else(|| invalid(key, &value))?;
            }
            "size" if self.kind == MountType::Tmpfs => {
                self.size = Some(ram_in_bytes(&value).ok_or_else(|| invalid(key, &value))?);
            }
            "size" => return Err(self.unexpected(key)),
            "id" => self.id = empty_is_none(value),
            "sharing" => self.sharing = Some(sharing(&value)?),
            "mode" => self.mode = Some(number(&value, 8, "mode")?),
            "uid" => self.uid = Some(number(&value, 10, "uid")?),
            "gid" => self.gid = Some(number(&value, 10, "gid")?),
            "env" => self.env = Some(value),
            _ => {
                let mut message = format!("unexpected key '{key}' in '{field}'");
                if let Some(close) = suggest::closest(key, &KEYS, true) {
                    message.push_str(&format!(" (did you mean {close}?)"));
                }
                return Err(InstructionError::new(message));
            }
        }
        Ok(false)
    }

    /// `required` is for secrets and SSH sockets only.
    fn allows_required(&self, key: &str) -> Parsed<bool> {
        match self.kind {
            MountType::Secret | MountType::Ssh => Ok(true),
            _ => Err(self.unexpected(key)),
        }
    }

    fn unexpected(&self, key: &str) -> InstructionError {
        InstructionError::new(format!(
            "unexpected key '{key}' for mount type '{}'",
            self.kind.as_str()
        ))
    }

    /// The rules between fields, once all are read.
    fn check(&self) -> Parsed<()> {
        let kind = self.kind.as_str();
        let file_info = matches!(
            self.kind,
            MountType::Secret | MountType::Ssh | MountType::Cache
        );
        if !file_info {
            for (name, value) in [("mode", self.mode), ("uid", self.uid), ("gid", self.gid)] {
                if value.is_some() {
                    let message = format!("{name} not allowed for \"{kind}\" type mounts");
                    return Err(InstructionError::new(message));
                }
            }
        }
        if self.kind == MountType::Secret {
            let problem = if self.from.is_some() {
                Some("secret mount should not have a from")
            } else if self.sharing.is_some() {
                Some("secret mount should not define sharing")
            } else if self.source.is_none() && self.target.is_none() && self.id.is_none() {
                Some("invalid secret mount. one of source, target required")
            } else if self.source.is_some() && self.id.is_some() {
                Some("both source and id can't be set")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(InstructionError::new(problem));
            }
        }
        if self.sharing.is_some() && self.kind != MountType::Cache {
            let message = format!("invalid cache sharing set for {kind} mount");
            return Err(InstructionError::new(message));
        }
        Ok(())
    }
}

fn mount_type(value: &str) -> Parsed<MountType> {
    let lowered = value.to_ascii_lowercase();
    if let Some((_, kind)) = MOUNT_TYPES.iter().find(|(name, _)| *name == lowered) {
        return Ok(*kind);
    }
    let names = MOUNT_TYPES.map(|(name, _)| name);
    Err(with_suggestion(
        format!("unsupported mount type {}", crate::parser::go_quote(value)),
        value,
        &names,
    ))
}

fn sharing(value: &str) -> Parsed<Sharing> {
    match value.to_ascii_lowercase().as_str() {
        "shared" => Ok(Sharing::Shared),
        "private" => Ok(Sharing::Private),
        "locked" => Ok(Sharing::Locked),
        _ => Err(with_suggestion(
            format!(
                "unsupported sharing value {}",
                crate::parser::go_quote(value)
            ),
            value,
            &["shared", "private", "locked"],
        )),
    }
}

fn with_suggestion(mut message: String, value: &str, options: &[&str]) -> InstructionError {
    if let Some(close) = suggest::closest(value, options, true) {
        message.push_str(&format!(" (did you mean {close}?)"));
    }
    InstructionError::new(message)
}

/// Go's `strconv.ParseUint(value, radix, 32)`, with BuildKit's message.
fn number(value: &str, radix: u32, name: &str) -> Parsed<u32> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if value.starts_with('+') || digits.is_empty() {
        return Err(InstructionError::new(format!(
            "invalid value {value} for {name}"
        )));
    }
    u32::from_str_radix(digits, radix)
        .map_err(|_| InstructionError::new(format!("invalid value {value} for {name}")))
}

/// Go's `strconv.ParseBool`.
pub(crate) fn go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A size as Docker's `units.RAMInBytes` reads it: `64m`, `1.5GiB`, `512 kb`, `100`, in
/// powers of 1024.
fn ram_in_bytes(value: &str) -> Option<u64> {
    let number_end = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(number_end);
    // The number is digits, then groups of `.digits`.
    if !number.starts_with(|c: char| c.is_ascii_digit())
        || number.ends_with('.')
        || number.contains("..")
    {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    // Go converts the product to int64 the same way: truncating.
    Some((number * 1024f64.powi(power)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Parsed<Mount> {
        Mount::parse(spec, &mut |value| Ok(value.to_owned()))
    }

    fn message(spec: &str) -> String {
        parse(spec).expect_err("an error").message
    }

    #[test]
    fn defaults_follow_the_type() {
        let bind = parse("target=/src").expect("valid");
        assert_eq!((bind.kind, bind.read_only), (MountType::Bind, true));
        let cache = parse("type=cache,target=/root/.cache,sharing=locked,uid=1000").expect("ok");
        assert_eq!((cache.kind, cache.read_only), (MountType::Cache, false));
        assert_eq!(
            (cache.sharing, cache.uid),
            (Some(Sharing::Locked), Some(1000))
        );
        let tmpfs = parse("type=tmpfs,target=/t,size=64m,ro").expect("valid");
        assert_eq!((tmpfs.size, tmpfs.read_only), (Some(64 << 20), true));
        let secret = parse("type=secret,id=token,required,env=TOKEN").expect("valid");
        assert!(secret.required && secret.read_only);
        assert_eq!(
            parse("type=cache,target=/c,mode=0755").expect("ok").mode,
            Some(0o755)
        );
    }

    #[test]
    fn mistakes_have_buildkits_messages() {
        assert_eq!(
            message("type=bindd"),
            "unsupported mount type \"bindd\" (did you mean bind?)"
        );
        assert_eq!(
            message("target=/a,foo"),
            "invalid field 'foo' must be a key=value pair"
        );
        assert_eq!(
            message("tagret=/a"),
            "unexpected key 'tagret' in 'tagret=/a' (did you mean target?)"
        );
        assert_eq!(
            message("required"),
            "unexpected key 'required' for mount type 'bind'"
        );
        assert_eq!(
            message("size=1m"),
            "unexpected key 'size' for mount type 'bind'"
        );
        assert_eq!(message("uid=1"), "uid not allowed for \"bind\" type mounts");
        assert_eq!(message("type=cache,mode=9"), "invalid value 9 for mode");
        assert_eq!(message("ro=maybe"), "invalid value for ro: maybe");
        assert_eq!(
            message("type=secret"),
            "invalid secret mount. one of source, target required"
        );
        assert_eq!(
            message("sharing=locked"),
            "invalid cache sharing set for bind mount"
        );
        assert_eq!(message(""), "failed to parse csv mounts: EOF");
    }

    #[test]
    fn variables_in_from_are_refused_before_expansion() {
        assert!(Mount::check_unexpanded("from=$STAGE,target=/a").is_err());
        assert!(Mount::check_unexpanded("from=a$,target=$T").is_ok());
    }

    #[test]
    fn sizes() {
        assert_eq!(ram_in_bytes("100"), Some(100));
        assert_eq!(ram_in_bytes("1.5k"), Some(1536));
        assert_eq!(ram_in_bytes("2 GiB"), Some(2 << 30));
        assert_eq!(ram_in_bytes("1x"), None);
        assert_eq!(ram_in_bytes("m"), None);
    }
}
