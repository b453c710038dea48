//! `-v`, `--mount` and `--tmpfs`, read as docker reads them: three syntaxes for the same three
//! things, a volume (named or anonymous), a bind of a host path, and a tmpfs.
//!
//! - `-v SOURCE:TARGET[:MODES]`: a source starting with `/` is a host path (`./x` is made
//!   absolute first, as the docker command line does), anything else a volume name; `-v
//!   TARGET` alone is an anonymous volume. `MODES` is a comma list with at most one of each
//!   kind: `ro`/`rw`, `nocopy`, a propagation (`rprivate`…), an SELinux label (`z`/`Z`) and a
//!   consistency (`cached`…, which means nothing on Linux).
//! - `--mount type=volume|bind|tmpfs,source=…,target=…,readonly,…`: `key=value` fields; the
//!   type defaults to `volume`, and each type has its own `volume-*`, `bind-*` or `tmpfs-*`
//!   fields that the others refuse.
//! - `--tmpfs TARGET[:OPTIONS]`: `mount -t tmpfs` options (`size=64m,mode=1777,exec`).
//!
//! Docker checks these in two places, its command line and its daemon, and its messages say
//! which (`invalid argument "…" for "--mount" flag: …` comes from the command line, `invalid
//! mount config for type "bind": …` from the daemon); both are here, with the same words.
//! Where this engine cannot do what docker would (a shared propagation, a non-recursive
//! bind, tmpfs owned by another user), the spec is refused with a message saying so rather
//! than quietly mounted otherwise.

use std::path::{Component, Path, PathBuf};

use ch01_namespaces::{Mount, MountKind};

use super::error::{Error, Result};
use super::name;
use crate::container::VolumeUse;

/// One mount a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// A volume, named or anonymous (its random name already chosen).
    Volume(VolumeUse),
    /// A host path bound, or a tmpfs (chapter 01's mounts).
    Mount(Mount),
}

impl Requested {
    /// Where it appears in the container.
    pub fn target(&self) -> &Path {
        match self {
            Requested::Volume(volume) => &volume.target,
            Requested::Mount(mount) => &mount.target,
        }
    }
}

/// The hint for a `-v` that cannot be read.
const VOLUME_HINT: &str = "write -v NAME:/path[:ro], -v /host/path:/path[:ro] or -v /path";

/// `-v SPEC` (`--volume`). `cwd` is where a `./relative` host path starts from.
pub fn parse_volume(spec: &str, cwd: &Path) -> Result<Requested> {
    if spec.is_empty() {
        return Err(Error::invalid("invalid empty volume spec", VOLUME_HINT));
    }
    if spec.starts_with(':') || spec.ends_with(':') {
        return Err(Error::invalid(
            format!("invalid spec: {spec}: empty section between colons"),
            VOLUME_HINT,
        ));
    }
    let invalid_spec = || {
        Error::invalid(
            format!("invalid volume specification: '{spec}'"),
            VOLUME_HINT,
        )
    };
    if spec.matches(':').count() > 2 {
        return Err(invalid_spec());
    }
    let mut parts = spec.splitn(3, ':');
    let first = parts.next().unwrap_or_default();
    let (source, target, mode) = match (parts.next(), parts.next()) {
        (None, _) => (None, first, ""),
        // `/data:ro` is a target and a mode with no source: docker refuses it.
        (Some(second), None) if Modes::parse(second).is_some() => return Err(invalid_spec()),
        (Some(second), None) => (Some(first), second, ""),
        (Some(second), Some(mode)) => (Some(first), second, mode),
    };
    let modes = Modes::parse(mode).ok_or_else(|| {
        Error::invalid(
            format!("invalid mode: {mode}"),
            "modes are ro or rw, nocopy, a propagation, z or Z, each at most once",
        )
    })?;
    // The docker command line makes `./x` absolute before the daemon sees it.
    let source = source.map(|s| {
        if s.starts_with('.') {
            clean(&cwd.join(s)).display().to_string()
        } else {
            s.to_owned()
        }
    });
    let is_bind = source.as_deref().is_some_and(|s| s.starts_with('/'));
    let kind = if is_bind { "bind" } else { "volume" };
    let config = |why: &str| {
        Error::invalid(
            format!(
                "invalid volume specification: '{spec}': invalid mount config for type \"{kind}\": {why}"
            ),
            VOLUME_HINT,
        )
    };
    let target = checked_target(target).map_err(|why| config(&why))?;
    match source {
        Some(source) if is_bind => {
            if modes.no_copy {
                return Err(config("field VolumeOptions must not be specified"));
            }
            supported_propagation(modes.propagation)?;
            Ok(Requested::Mount(Mount::bind(
                source,
                target,
                modes.read_only,
            )))
        }
        _ if modes.propagation.is_some() => Err(config("field BindOptions must not be specified")),
        Some(name) => {
            name::validate(&name)?;
            Ok(Requested::Volume(VolumeUse {
                name,
                target,
                read_only: modes.read_only,
                anonymous: false,
                no_copy: modes.no_copy,
            }))
        }
        None => Ok(Requested::Volume(anonymous(target, modes.no_copy)?)),
    }
}

/// An anonymous volume on `target`, with a fresh name.
pub fn anonymous(target: PathBuf, no_copy: bool) -> Result<VolumeUse> {
    Ok(VolumeUse {
        name: name::random()?,
        target,
        read_only: false,
        anonymous: true,
        no_copy,
    })
}

/// The modes after a `-v`'s second colon.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Modes<'a> {
    read_only: bool,
    no_copy: bool,
    propagation: Option<&'a str>,
}

/// Bind propagations docker knows.
const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

impl<'a> Modes<'a> {
    /// The modes in `text`, or `None` if docker would call them invalid: an unknown word, or
    /// two of one kind (`ro,rw`).
    fn parse(text: &'a str) -> Option<Modes<'a>> {
        let mut modes = Modes::default();
        if text.is_empty() {
            return Some(modes);
        }
        let mut counts = [0u8; 5];
        for word in text.split(',') {
            let kind = match word {
                "ro" | "rw" => {
                    modes.read_only = word == "ro";
                    0
                }
                "z" | "Z" => 1,
                "nocopy" => {
                    modes.no_copy = true;
                    2
                }
                "consistent" | "cached" | "delegated" => 3,
                _ if PROPAGATIONS.contains(&word) => {
                    modes.propagation = Some(word);
                    4
                }
                _ => return None,
            };
            counts[kind] += 1;
        }
        counts.iter().all(|n| *n <= 1).then_some(modes)
    }
}

/// Chapter 01's binds are recursive and private: a propagation other than that is refused
/// rather than ignored.
fn supported_propagation(propagation: Option<&str>) -> Result<()> {
    match propagation {
        None | Some("private" | "rprivate") => Ok(()),
        Some(other) => Err(Error::invalid(
            format!("bind propagation {other} is not supported here"),
            "binds here are private (rprivate): drop the propagation mode",
        )),
    }
}

/// A mount's target, checked as docker's daemon does (messages without its prefix) and made
/// clean (`/data/` is `/data`).
fn checked_target(target: &str) -> std::result::Result<PathBuf, String> {
    if clean(Path::new(target)) == Path::new("/") {
        return Err("invalid specification: destination can't be '/'".into());
    }
    if !target.starts_with('/') {
        return Err(format!(
            "invalid mount path: '{target}' mount path must be absolute"
        ));
    }
    Ok(clean(Path::new(target)))
}

/// `path` without `.`, `..` and repeated or trailing slashes, as Go's `path.Clean` (`..`
/// above the root stays at the root).
pub fn clean(path: &Path) -> PathBuf {
    let mut clean = PathBuf::from(if path.is_absolute() { "/" } else { "" });
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::Normal(name) => {
                clean.push(name);
                depth += 1;
            }
            Component::ParentDir if depth > 0 => {
                clean.pop();
                depth -= 1;
            }
            Component::ParentDir if !path.is_absolute() => clean.push(".."),
            _ => {}
        }
    }
    clean
}

/// The fields `--mount` knows, for the message refusing another.
const MOUNT_HINT: &str = "write --mount type=volume|bind|tmpfs,source=…,target=…[,readonly]";

/// `--mount SPEC`. `cwd` is where a `./relative` source starts from.
pub fn parse_mount(spec: &str, cwd: &Path) -> Result<Requested> {
    let flag = |why: String| {
        Error::invalid(
            format!("invalid argument \"{spec}\" for \"--mount\" flag: {why}"),
            MOUNT_HINT,
        )
    };
    let mut fields = MountFields {
        kind: "volume".into(),
        ..MountFields::default()
    };
    for field in spec.split(',') {
        fields.read(field, cwd).map_err(flag)?;
    }
    let MountFields {
        kind,
        source,
        target,
        read_only,
        ..
    } = &fields;
    if kind.is_empty() {
        return Err(flag("type is required".into()));
    }
    let Some(target) = target else {
        return Err(flag("target is required".into()));
    };
    for (given, family) in [
        (fields.volume_options, "volume"),
        (fields.bind_options, "bind"),
        (fields.tmpfs_options, "tmpfs"),
    ] {
        if given && kind != family {
            return Err(flag(format!(
                "cannot mix '{family}-*' options with mount type '{kind}'"
            )));
        }
    }
    // From here on, docker's daemon speaks.
    let config = |why: &str| {
        Error::invalid(
            format!("invalid mount config for type \"{kind}\": {why}"),
            MOUNT_HINT,
        )
    };
    let target = checked_target(target).map_err(|why| config(&why))?;
    match kind.as_str() {
        "bind" => {
            let Some(source) = source else {
                return Err(config("field Source must not be empty"));
            };
            if let Some(propagation) = &fields.propagation
                && !PROPAGATIONS.contains(&propagation.as_str())
            {
                return Err(config(&format!("invalid propagation mode: {propagation}")));
            }
            supported_propagation(fields.propagation.as_deref())?;
            if !source.starts_with('/') {
                return Err(config(&format!(
                    "invalid mount path: '{source}' mount path must be absolute"
                )));
            }
            // Unlike -v, --mount never creates the host path.
            if std::fs::symlink_metadata(source).is_err() {
                return Err(config(&format!(
                    "bind source path does not exist: {source}"
                )));
            }
            Ok(Requested::Mount(Mount::bind(source, target, *read_only)))
        }
        "volume" => match source {
            None if *read_only => Err(config(
                "must not set ReadOnly mode when using anonymous volumes",
            )),
            None => Ok(Requested::Volume(anonymous(target, fields.no_copy)?)),
            Some(name) => {
                name::validate(name)?;
                Ok(Requested::Volume(VolumeUse {
                    name: name.clone(),
                    target,
                    read_only: *read_only,
                    anonymous: false,
                    no_copy: fields.no_copy,
                }))
            }
        },
        "tmpfs" => {
            if source.is_some() {
                return Err(config("field Source must not be specified"));
            }
            if *read_only {
                return Err(Error::invalid(
                    "a read-only tmpfs would stay empty",
                    "drop readonly from the tmpfs mount",
                ));
            }
            Ok(Requested::Mount(Mount {
                source: None,
                target,
                kind: MountKind::Tmpfs {
                    size: fields.size,
                    mode: fields.mode,
                    // Docker's tmpfs mounts are noexec.
                    no_exec: true,
                },
            }))
        }
        _ => Err(config("mount type unknown")),
    }
}

/// What the fields of a `--mount` said.
#[derive(Debug, Default)]
struct MountFields {
    kind: String,
    source: Option<String>,
    target: Option<String>,
    read_only: bool,
    no_copy: bool,
    propagation: Option<String>,
    size: Option<u64>,
    mode: Option<u32>,
    volume_options: bool,
    bind_options: bool,
    tmpfs_options: bool,
}

impl MountFields {
    /// Reads one `key=value` field (or a lone `readonly`/`volume-nocopy`); the error is
    /// docker's command line's reason.
    fn read(&mut self, field: &str, cwd: &Path) -> std::result::Result<(), String> {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (key.to_ascii_lowercase(), Some(value)),
            None => (field.to_ascii_lowercase(), None),
        };
        let invalid_value = || format!("invalid value for {key}: {}", value.unwrap_or(""));
        let boolean = || {
            value
                .map_or(Some(true), parse_bool)
                .ok_or_else(invalid_value)
        };
        let unsupported = |what: &str| Err(format!("{what} is not supported here"));
        let Some(text) = value else {
            return match key.as_str() {
                "readonly" | "ro" => {
                    self.read_only = true;
                    Ok(())
                }
                "volume-nocopy" => {
                    self.volume_options = true;
                    self.no_copy = true;
                    Ok(())
                }
                "bind-nonrecursive" => unsupported("bind-nonrecursive (binds here are recursive)"),
                _ => Err(format!("invalid field '{field}' must be a key=value pair")),
            };
        };
        match key.as_str() {
            "type" => self.kind = text.to_ascii_lowercase(),
            // Empty is no source, as docker takes `src=`.
            "source" | "src" if text.is_empty() => self.source = None,
            "source" | "src" if text.starts_with('.') => {
                self.source = Some(clean(&cwd.join(text)).display().to_string());
            }
            "source" | "src" => self.source = Some(text.to_owned()),
            "target" | "dst" | "destination" => {
                self.target = Some(text.to_owned()).filter(|t| !t.is_empty());
            }
            "readonly" | "ro" => self.read_only = boolean()?,
            "consistency" => {}
            "bind-propagation" => {
                self.bind_options = true;
                self.propagation = Some(text.to_ascii_lowercase());
            }
            "bind-nonrecursive" | "bind-recursive" => {
                return unsupported(&format!("{key} (binds here are recursive)"));
            }
            "volume-nocopy" => {
                self.volume_options = true;
                self.no_copy = boolean()?;
            }
            "volume-driver" if text == super::record::LOCAL_DRIVER => self.volume_options = true,
            "volume-driver" => {
                return Err(format!(
                    "error looking up volume plugin {text}: plugin \"{text}\" not found"
                ));
            }
            "volume-label" | "volume-opt" => {
                return unsupported(&format!(
                    "{key} (create the volume first: volume create --label K=V -o K=V NAME)"
                ));
            }
            "volume-subpath" => return unsupported("volume-subpath"),
            "tmpfs-size" => {
                self.tmpfs_options = true;
                self.size = Some(ram_in_bytes(text).ok_or_else(invalid_value)?);
            }
            "tmpfs-mode" => {
                self.tmpfs_options = true;
                let mode = u32::from_str_radix(text, 8).ok().filter(|m| *m <= 0o7777);
                self.mode = Some(mode.ok_or_else(invalid_value)?);
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
        Ok(())
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A size as docker's `units.RAMInBytes` reads it: a decimal number, then an optional binary
/// unit (`k`, `m`, `g`, `t`, `p`, with optional `i` and `b`): `64m`, `1.5g`, `512kb`.
pub fn ram_in_bytes(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.strip_suffix('b').unwrap_or(&lower);
    rest = rest.strip_suffix('i').unwrap_or(rest);
    let mut shift = 0;
    if let Some(unit) = rest.chars().last().and_then(|c| "kmgtp".find(c)) {
        shift = 10 * (unit + 1);
        rest = &rest[..rest.len() - 1];
    }
    let number = rest.strip_suffix(' ').unwrap_or(rest);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let bytes = number.parse::<f64>().ok()? * (1u64 << shift) as f64;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// `--tmpfs TARGET[:OPTIONS]`.
pub fn parse_tmpfs(spec: &str) -> Result<Requested> {
    let (target, options) = spec.split_once(':').unwrap_or((spec, ""));
    let target = checked_target(target)
        .map_err(|why| Error::invalid(why, "write --tmpfs /path[:size=64m,mode=1777]"))?;
    let TmpfsOptions {
        size,
        mode,
        no_exec,
    } = tmpfs_options(options, true)?;
    Ok(Requested::Mount(Mount {
        source: None,
        target,
        kind: MountKind::Tmpfs {
            size,
            mode,
            no_exec,
        },
    }))
}

/// What chapter 01's tmpfs can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TmpfsOptions {
    /// `size=`, in bytes.
    pub size: Option<u64>,
    /// `mode=`, octal.
    pub mode: Option<u32>,
    /// `noexec` (or not `exec`).
    pub no_exec: bool,
}

/// `mount -t tmpfs -o OPTIONS` options: `size=` (bytes, or with a `k`, `m`, `g` suffix),
/// `mode=` (octal), `exec`/`noexec` (the default is `no_exec`), and `rw`, `nosuid`, `nodev`,
/// which are always so. What else tmpfs takes (`uid=`, `nr_inodes=`…) is refused.
pub fn tmpfs_options(text: &str, no_exec: bool) -> Result<TmpfsOptions> {
    let supported = "tmpfs options here: size=, mode=, exec, noexec, rw, nosuid, nodev";
    let mut options = TmpfsOptions {
        size: None,
        mode: None,
        no_exec,
    };
    for option in text.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", size)) => {
                options.size = Some(kernel_size(size).ok_or_else(|| {
                    Error::invalid(
                        format!("invalid tmpfs size {size:?}"),
                        "write size=BYTES, or with a k, m or g suffix: size=64m",
                    )
                })?);
            }
            Some(("mode", mode)) => {
                let parsed = u32::from_str_radix(mode, 8).ok().filter(|m| *m <= 0o7777);
                options.mode = Some(parsed.ok_or_else(|| {
                    Error::invalid(
                        format!("invalid tmpfs mode {mode:?}"),
                        "write mode=OCTAL, e.g. mode=1777",
                    )
                })?);
            }
            None if option == "exec" => options.no_exec = false,
            None if option == "noexec" => options.no_exec = true,
            None if matches!(option, "rw" | "nosuid" | "nodev") => {}
            None if option == "ro" => {
                return Err(Error::invalid(
                    "a read-only tmpfs would stay empty",
                    "drop ro from the tmpfs options",
                ));
            }
            _ => {
                return Err(Error::invalid(
                    format!("tmpfs option {option} is not supported here"),
                    supported,
                ));
            }
        }
    }
    Ok(options)
}

/// A size as the kernel's `memparse` reads `size=`: a whole number with an optional binary
/// suffix (`k`, `m`, `g`, `t`, `p`, `e`, either case).
fn kernel_size(text: &str) -> Option<u64> {
    let (digits, shift) = match text.chars().last()? {
        c if c.is_ascii_digit() => (text, 0),
        c => {
            let shift = "kmgtpe".find(c.to_ascii_lowercase())?;
            (&text[..text.len() - 1], 10 * (shift as u32 + 1))
        }
    };
    digits.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cwd() -> &'static Path {
        Path::new("/work/here")
    }

    fn volume_error(spec: &str) -> String {
        parse_volume(spec, cwd()).unwrap_err().to_string()
    }

    fn mount_error(spec: &str) -> String {
        parse_mount(spec, cwd()).unwrap_err().to_string()
    }

    fn volume(spec: &str) -> VolumeUse {
        match parse_volume(spec, cwd()).unwrap() {
            Requested::Volume(volume) => volume,
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn v_reads_names_host_paths_and_anonymous_targets() {
        let named = volume("data:/srv/data:ro,nocopy");
        assert_eq!(
            (named.name.as_str(), named.target.as_path()),
            ("data", Path::new("/srv/data"))
        );
        assert!(named.read_only && named.no_copy && !named.anonymous);
        let anonymous = volume("/cache/");
        assert!(anonymous.anonymous && !anonymous.read_only);
        assert_eq!(anonymous.target, Path::new("/cache"));
        assert_eq!(anonymous.name.len(), 64);
        assert_eq!(
            parse_volume("/srv:/data:ro", cwd()).unwrap(),
            Requested::Mount(Mount::bind("/srv", "/data", true))
        );
        assert_eq!(
            parse_volume("./site/../conf:/etc/app", cwd()).unwrap(),
            Requested::Mount(Mount::bind("/work/here/conf", "/etc/app", false))
        );
        // Modes docker accepts that change nothing here.
        assert!(parse_volume("data:/d:Z,cached,rw", cwd()).is_ok());
        assert!(parse_volume("/srv:/d:rprivate", cwd()).is_ok());
    }

    #[test]
    fn v_refuses_with_dockers_messages() {
        assert_eq!(volume_error(""), "invalid empty volume spec");
        assert_eq!(
            volume_error(":/data"),
            "invalid spec: :/data: empty section between colons"
        );
        assert_eq!(
            volume_error("/data:ro"),
            "invalid volume specification: '/data:ro'"
        );
        assert_eq!(
            volume_error("a:b:c:d"),
            "invalid volume specification: 'a:b:c:d'"
        );
        assert_eq!(volume_error("/h:/data:xx"), "invalid mode: xx");
        assert_eq!(volume_error("/h:/data:ro,rw"), "invalid mode: ro,rw");
        assert_eq!(volume_error("a::/d"), "invalid mode: /d");
        assert_eq!(
            volume_error("vol:data"),
            "invalid volume specification: 'vol:data': invalid mount config for type \"volume\": \
             invalid mount path: 'data' mount path must be absolute"
        );
        assert_eq!(
            volume_error("/data:/"),
            "invalid volume specification: '/data:/': invalid mount config for type \"bind\": \
             invalid specification: destination can't be '/'"
        );
        assert_eq!(
            volume_error("/h:/data:nocopy"),
            "invalid volume specification: '/h:/data:nocopy': invalid mount config for type \
             \"bind\": field VolumeOptions must not be specified"
        );
        assert_eq!(
            volume_error("a1:/data:ro,z,rshared"),
            "invalid volume specification: 'a1:/data:ro,z,rshared': invalid mount config for \
             type \"volume\": field BindOptions must not be specified"
        );
        assert!(
            volume_error("rel/x:/data").starts_with("create rel/x: \"rel/x\" includes invalid")
        );
        assert!(volume_error("a:/data").starts_with("create a: volume name is too short"));
        assert_eq!(
            volume_error("/h:/d:rshared"),
            "bind propagation rshared is not supported here"
        );
    }

    #[test]
    fn mount_reads_the_three_types() {
        let named = match parse_mount("type=volume,src=data,dst=/d,readonly,volume-nocopy", cwd())
            .unwrap()
        {
            Requested::Volume(volume) => volume,
            other => panic!("{other:?}"),
        };
        assert!(named.read_only && named.no_copy && named.name == "data");
        // The type defaults to volume; no source is an anonymous one.
        match parse_mount("target=/t", cwd()).unwrap() {
            Requested::Volume(volume) => assert!(volume.anonymous),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_mount("TYPE=BIND,source=/tmp,target=/x,ro=true", cwd()).unwrap(),
            Requested::Mount(Mount::bind("/tmp", "/x", true))
        );
        assert_eq!(
            parse_mount("type=tmpfs,dst=/t,tmpfs-size=1.5g,tmpfs-mode=1770", cwd()).unwrap(),
            Requested::Mount(Mount {
                source: None,
                target: "/t".into(),
                kind: MountKind::Tmpfs {
                    size: Some(3 << 29),
                    mode: Some(0o1770),
                    no_exec: true
                }
            })
        );
    }

    #[test]
    fn mount_refuses_with_dockers_messages() {
        let flag = |spec: &str, why: &str| {
            assert_eq!(
                mount_error(spec),
                format!("invalid argument \"{spec}\" for \"--mount\" flag: {why}")
            );
        };
        flag("type", "invalid field 'type' must be a key=value pair");
        flag("type=", "type is required");
        flag("type=volume,src=vv", "target is required");
        flag(
            "type=volume,src=vv,dst=/x,bogus=1",
            "unexpected key 'bogus' in 'bogus=1'",
        );
        flag(
            "type=volume,src=vv,dst=/x,readonly=maybe",
            "invalid value for readonly: maybe",
        );
        flag(
            "type=bind,src=/tmp,dst=/x,volume-nocopy",
            "cannot mix 'volume-*' options with mount type 'bind'",
        );
        flag(
            "type=volume,src=vv,dst=/x,tmpfs-size=1m",
            "cannot mix 'tmpfs-*' options with mount type 'volume'",
        );
        flag(
            "type=tmpfs,target=/t,tmpfs-size=abc",
            "invalid value for tmpfs-size: abc",
        );
        flag(
            "type=tmpfs,target=/t,tmpfs-size=-1",
            "invalid value for tmpfs-size: -1",
        );
        flag(
            "type=tmpfs,target=/t,tmpfs-mode=999",
            "invalid value for tmpfs-mode: 999",
        );
        let config = |spec: &str, kind: &str, why: &str| {
            assert_eq!(
                mount_error(spec),
                format!("invalid mount config for type \"{kind}\": {why}")
            );
        };
        config(
            "type=bind,source=/no/such/dir,target=/data",
            "bind",
            "bind source path does not exist: /no/such/dir",
        );
        config(
            "type=bind,target=/data",
            "bind",
            "field Source must not be empty",
        );
        config(
            "type=volume,target=/data,readonly",
            "volume",
            "must not set ReadOnly mode when using anonymous volumes",
        );
        config(
            "type=tmpfs,source=x,target=/t",
            "tmpfs",
            "field Source must not be specified",
        );
        config("type=foo,target=/t", "foo", "mount type unknown");
        config(
            "type=volume,src=vv,dst=rel",
            "volume",
            "invalid mount path: 'rel' mount path must be absolute",
        );
        config(
            "type=volume,src=vv,dst=/",
            "volume",
            "invalid specification: destination can't be '/'",
        );
        config(
            "type=bind,src=rel,dst=/x",
            "bind",
            "invalid mount path: 'rel' mount path must be absolute",
        );
        config(
            "type=bind,src=/tmp,dst=/x,bind-propagation=bogus",
            "bind",
            "invalid propagation mode: bogus",
        );
        assert!(mount_error("type=volume,src=a/b,dst=/x").starts_with("create a/b:"));
    }

    #[test]
    fn tmpfs_reads_mount_options() {
        assert_eq!(
            parse_tmpfs("/run:size=64m,mode=1777,exec").unwrap(),
            Requested::Mount(Mount {
                source: None,
                target: "/run".into(),
                kind: MountKind::Tmpfs {
                    size: Some(64 << 20),
                    mode: Some(0o1777),
                    no_exec: false
                }
            })
        );
        match parse_tmpfs("/t").unwrap() {
            Requested::Mount(Mount {
                kind: MountKind::Tmpfs { no_exec, .. },
                ..
            }) => assert!(no_exec, "docker's tmpfs is noexec"),
            other => panic!("{other:?}"),
        }
        let error = |spec: &str| parse_tmpfs(spec).unwrap_err().to_string();
        assert_eq!(
            error("rel"),
            "invalid mount path: 'rel' mount path must be absolute"
        );
        assert_eq!(
            error("/:size=1m"),
            "invalid specification: destination can't be '/'"
        );
        assert_eq!(
            error("/t:uid=1000"),
            "tmpfs option uid=1000 is not supported here"
        );
        assert_eq!(error("/t:size=lots"), "invalid tmpfs size \"lots\"");
    }

    #[test]
    fn sizes_read_as_docker_and_the_kernel_read_them() {
        assert_eq!(ram_in_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_in_bytes("1kb"), Some(1024));
        assert_eq!(ram_in_bytes("2MiB"), Some(2 << 20));
        assert_eq!(ram_in_bytes("1.5g"), Some(3 << 29));
        assert_eq!(ram_in_bytes("0"), Some(0));
        assert_eq!(ram_in_bytes("10 k"), Some(10 << 10));
        for bad in ["", "m", "64x", "-1", "1.2.3", "1.", "abc"] {
            assert_eq!(ram_in_bytes(bad), None, "{bad}");
        }
        assert_eq!(kernel_size("65536k"), Some(65536 << 10));
        assert_eq!(kernel_size("1G"), Some(1 << 30));
        assert_eq!(kernel_size("50%"), None);
    }

    #[test]
    fn paths_are_cleaned_as_go_cleans_them() {
        for (path, cleaned) in [
            ("/data/", "/data"),
            ("/a//b/./c/..", "/a/b"),
            ("/..", "/"),
            ("/../x", "/x"),
        ] {
            assert_eq!(clean(Path::new(path)), Path::new(cleaned), "{path}");
        }
    }
}
