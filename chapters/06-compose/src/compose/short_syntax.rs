//! # Short syntax: one string for a port, a mount, a host, a device
//!
//! Several service attributes can be written as one string, the way `docker run`'s flags
//! take them (`-p 127.0.0.1:8080:80/udp`, `-v ./data:/data:ro`, `--add-host db:10.0.0.2`,
//! `--device /dev/ttyUSB0`). The engine reads only the long form, a mapping with one key per
//! part, so the loader parses each short string here. Each parser is a pure function of the
//! string: no path is resolved and nothing is looked up (that is [`super::normalize`]'s job),
//! and an error says what is wrong with the string, for the caller to prefix with where it
//! stands (`services.web.ports[1]`).

use serde_json::{Map, Value, json};

/// Parses a short port (`80`, `8080:80`, `127.0.0.1:8080:80/udp`, `[::1]:80:80`,
/// `8080-8081:80-81`) into its long forms: one per container port, as `docker run -p` does,
/// so a range gives one entry for each of its ports.
///
/// `published` is a string (it may be a host range: `8000-8010:80` publishes container port
/// 80 on the first free one of eleven host ports); `host_ip` and `published` are left out when
/// not given. Entries come in the order Compose gives them: by the text `PORT/PROTOCOL`.
pub fn parse_port(spec: &str) -> Result<Vec<Value>, String> {
    let invalid = || format!("invalid port {spec:?}");
    let parts: Vec<&str> = spec.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [container] => ("", "", *container),
        [host, container] => ("", *host, *container),
        [ip, host, container] => (*ip, *host, *container),
        // An IPv6 address without brackets: everything before the last two parts.
        [.., host, container] => (
            &spec[..spec.len() - host.len() - container.len() - 2],
            *host,
            *container,
        ),
        [] => unreachable!("split gives one part at least"),
    };
    let (container, protocol) = match container.split_once('/') {
        Some((port, "")) => (port, "tcp"),
        Some((port, protocol)) => (port, protocol),
        None => (container, "tcp"),
    };
    let protocol = protocol.to_ascii_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(invalid());
    }
    let ip = match ip.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']').ok_or_else(invalid)?,
        None => ip,
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(invalid());
    }
    let (start, end) = port_range(container).ok_or_else(invalid)?;
    let host_range = if host.is_empty() {
        None
    } else {
        let (host_start, host_end) = port_range(host).ok_or_else(invalid)?;
        // Two ranges must be as long as each other; one container port may take a host range.
        if end - start != host_end - host_start && end != start {
            return Err(invalid());
        }
        Some((host_start, host_end))
    };
    let mut ports: Vec<(String, Value)> = (start..=end)
        .map(|port| {
            let mut long = Map::new();
            long.insert("mode".into(), "ingress".into());
            if !ip.is_empty() {
                long.insert("host_ip".into(), ip.into());
            }
            long.insert("target".into(), port.into());
            if let Some((host_start, host_end)) = host_range {
                let published = if start == end && host_start != host_end {
                    format!("{host_start}-{host_end}")
                } else {
                    (host_start + (port - start)).to_string()
                };
                long.insert("published".into(), published.into());
            }
            long.insert("protocol".into(), protocol.clone().into());
            (format!("{port}/{protocol}"), Value::Object(long))
        })
        .collect();
    ports.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ports.into_iter().map(|(_, long)| long).collect())
}

/// `80` or `80-81`: the first and last port, each a 16-bit number, in order.
fn port_range(text: &str) -> Option<(u32, u32)> {
    let port = |text: &str| {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<u16>().ok().map(u32::from)
    };
    let (start, end) = match text.split_once('-') {
        Some((start, end)) => (port(start)?, port(end)?),
        None => (port(text)?, port(text)?),
    };
    (start <= end).then_some((start, end))
}

/// Parses a short mount: `SOURCE:TARGET[:OPTIONS]` or `TARGET` alone.
///
/// A source that starts with `.`, `/` or `~` is a host path: a `bind` mount, whose host path
/// is created when missing, as the first Compose did (`bind.create_host_path: true`). Any
/// other source names a volume; a target alone is an anonymous volume. The options are a
/// comma-separated list: `ro`/`rw`, `nocopy` (a volume's), a bind propagation (`rshared`…)
/// or SELinux relabelling (`z`, `Z`); others are ignored, as Compose ignores them. The
/// source is returned as written; the target is cleaned (`/data/` → `/data`).
pub fn parse_volume(spec: &str) -> Result<Value, String> {
    let invalid = |why: &str| format!("invalid volume {spec:?}: {why}");
    if spec.is_empty() {
        return Err(invalid("empty volume spec"));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return Err(invalid("empty section between colons"));
    }
    let (source, target, options) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [source, target] => (*source, *target, ""),
        [source, target, options] => (*source, *target, *options),
        _ => return Err(invalid("too many colons")),
    };
    let mut read_only = false;
    let mut nocopy = false;
    let mut bind = Map::new();
    for option in options.split(',') {
        match option {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => nocopy = true,
            "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                bind.insert("propagation".into(), option.into());
            }
            "z" | "Z" => {
                bind.insert("selinux".into(), option.into());
            }
            _ => {}
        }
    }
    let mut long = Map::new();
    let is_bind = source.starts_with(['.', '/', '~']);
    long.insert(
        "type".into(),
        if is_bind { "bind" } else { "volume" }.into(),
    );
    if !source.is_empty() {
        long.insert("source".into(), source.into());
    }
    long.insert("target".into(), clean_path(target).into());
    if read_only {
        long.insert("read_only".into(), true.into());
    }
    if is_bind {
        bind.insert("create_host_path".into(), true.into());
        long.insert("bind".into(), Value::Object(bind));
    }
    if nocopy {
        long.insert("volume".into(), json!({"nocopy": true}));
    } else if !is_bind {
        long.insert("volume".into(), json!({}));
    }
    Ok(Value::Object(long))
}

/// `extra_hosts` as a list (`host:ip`, `host=ip`, `host=ip1,ip2`) or a mapping (`host: ip`
/// or `host: [ip1, ip2]`) to Compose's printed form: `host=ip`, one entry per address,
/// sorted, with an IPv6 address's brackets removed (`[::1]` → `::1`).
pub fn parse_extra_hosts(value: &Value) -> Result<Vec<String>, String> {
    let mut hosts: Vec<(String, String)> = Vec::new();
    let mut add = |host: &str, ips: Vec<String>| -> Result<(), String> {
        if host.is_empty() || host.contains([':', '=']) {
            return Err(format!("bad host name {host:?}"));
        }
        for ip in ips {
            let ip = match ip.strip_prefix('[').and_then(|ip| ip.strip_suffix(']')) {
                Some(inner) if !inner.is_empty() => inner.to_owned(),
                _ => ip,
            };
            hosts.push((host.to_owned(), ip));
        }
        Ok(())
    };
    match value {
        Value::Array(items) => {
            for item in items {
                let text = scalar_text(item);
                // `=` first: an IPv6 address is full of `:`.
                let (host, ips) = text
                    .split_once('=')
                    .or_else(|| text.split_once(':'))
                    .ok_or_else(|| format!("invalid additional host, missing IP: {text}"))?;
                add(host, ips.split(',').map(str::to_owned).collect())?;
            }
        }
        Value::Object(map) => {
            for (host, ips) in map {
                let ips = match ips {
                    Value::Array(ips) => ips.iter().map(scalar_text).collect(),
                    Value::Null => vec![String::new()],
                    ip => vec![scalar_text(ip)],
                };
                add(host, ips)?;
            }
        }
        other => return Err(format!("invalid extra_hosts {other}")),
    }
    let mut list: Vec<String> = hosts
        .into_iter()
        .map(|(host, ip)| format!("{host}={ip}"))
        .collect();
    list.sort();
    Ok(list)
}

/// A device (`/dev/a`, `/dev/a:/dev/b`, `/dev/a:/dev/b:rw`) in its long form; the target
/// is the source when not given, the permissions `rwm` (all).
pub fn parse_device(spec: &str) -> Result<Value, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, permissions) = match parts.as_slice() {
        [source] => (*source, *source, "rwm"),
        [source, target] => (*source, *target, "rwm"),
        [source, target, permissions] => (*source, *target, *permissions),
        _ => {
            return Err(format!(
                "confusing device mapping {spec:?}, use the long syntax"
            ));
        }
    };
    let target = if target.is_empty() { source } else { target };
    Ok(json!({"source": source, "target": target, "permissions": permissions}))
}

/// A scalar as the text it stands for (`8000` → `"8000"`), as Go's `fmt.Sprint` gives it: a
/// float with nothing after the point without one (YAML reads `08` as the float 8: `"8"`).
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if !number.is_i64()
                    && !number.is_u64()
                    && float.fract() == 0.0
                    && float.abs() < 1e21 =>
            {
                format!("{float:.0}")
            }
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

/// A slash-separated path without `.`, `..` (where it can go up), empty parts or a trailing
/// slash, as Go's `path.Clean` makes it: `/data/./x/../y/` → `/data/y`, `` → `.`. Chapter 05's
/// `.dockerignore` matching has the same function; this is it, owned.
pub fn clean_path(path: &str) -> String {
    ch05_dockerfile::dockerignore::path::clean(path).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(host_ip: Option<&str>, target: u32, published: Option<&str>, protocol: &str) -> Value {
        let mut long = json!({"mode": "ingress", "target": target, "protocol": protocol});
        if let Some(ip) = host_ip {
            long["host_ip"] = ip.into();
        }
        if let Some(published) = published {
            long["published"] = published.into();
        }
        long
    }

    #[test]
    fn ports_in_every_short_form() {
        assert_eq!(parse_port("80"), Ok(vec![port(None, 80, None, "tcp")]));
        assert_eq!(
            parse_port("8080:80"),
            Ok(vec![port(None, 80, Some("8080"), "tcp")])
        );
        assert_eq!(
            parse_port("127.0.0.1:8080:80"),
            Ok(vec![port(Some("127.0.0.1"), 80, Some("8080"), "tcp")])
        );
        assert_eq!(
            parse_port("127.0.0.1::80"),
            Ok(vec![port(Some("127.0.0.1"), 80, None, "tcp")])
        );
        assert_eq!(parse_port("80/udp"), Ok(vec![port(None, 80, None, "udp")]));
        assert_eq!(
            parse_port("53:53/UDP"),
            Ok(vec![port(None, 53, Some("53"), "udp")])
        );
        assert_eq!(
            parse_port("8080-8081:80-81"),
            Ok(vec![
                port(None, 80, Some("8080"), "tcp"),
                port(None, 81, Some("8081"), "tcp"),
            ])
        );
        assert_eq!(
            parse_port("3001-3002"),
            Ok(vec![
                port(None, 3001, None, "tcp"),
                port(None, 3002, None, "tcp")
            ])
        );
        // One container port, a range of host ports: the first free one is taken.
        assert_eq!(
            parse_port("8000-8010:80"),
            Ok(vec![port(None, 80, Some("8000-8010"), "tcp")])
        );
        assert_eq!(
            parse_port("[::1]:8080:80"),
            Ok(vec![port(Some("::1"), 80, Some("8080"), "tcp")])
        );
        assert_eq!(
            parse_port("::1:8080:80"),
            Ok(vec![port(Some("::1"), 80, Some("8080"), "tcp")])
        );
        // Compose orders by the text `PORT/PROTOCOL`: 10 before 9.
        let targets: Vec<_> = parse_port("9-10")
            .unwrap()
            .iter()
            .map(|p| p["target"].clone())
            .collect();
        assert_eq!(targets, [json!(10), json!(9)]);
    }

    #[test]
    fn bad_ports_are_refused() {
        for bad in [
            "",
            "x",
            "80:x",
            "x:80",
            "80/icmp",
            "70000",
            "80-79",
            "8080-8082:80-81",
            ":80:",
            "1.2.3:80:80",
            "[::1:80:80",
            "80:",
            "-80",
        ] {
            assert_eq!(
                parse_port(bad),
                Err(format!("invalid port {bad:?}")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn volumes_in_every_short_form() {
        assert_eq!(
            parse_volume("/data"),
            Ok(json!({"type": "volume", "target": "/data", "volume": {}}))
        );
        assert_eq!(
            parse_volume("/opt/data:/var/lib/data/"),
            Ok(
                json!({"type": "bind", "source": "/opt/data", "target": "/var/lib/data",
                      "bind": {"create_host_path": true}})
            )
        );
        assert_eq!(
            parse_volume("./static:/srv:ro"),
            Ok(
                json!({"type": "bind", "source": "./static", "target": "/srv", "read_only": true,
                      "bind": {"create_host_path": true}})
            )
        );
        assert_eq!(
            parse_volume("~/configs:/etc/configs:rw,rshared,z"),
            Ok(
                json!({"type": "bind", "source": "~/configs", "target": "/etc/configs",
                      "bind": {"create_host_path": true, "propagation": "rshared", "selinux": "z"}})
            )
        );
        assert_eq!(
            parse_volume("data:/var/lib/data"),
            Ok(
                json!({"type": "volume", "source": "data", "target": "/var/lib/data", "volume": {}})
            )
        );
        assert_eq!(
            parse_volume("data:/d:ro,nocopy"),
            Ok(
                json!({"type": "volume", "source": "data", "target": "/d", "read_only": true,
                      "volume": {"nocopy": true}})
            )
        );
    }

    #[test]
    fn bad_volumes_are_refused() {
        assert_eq!(
            parse_volume(""),
            Err("invalid volume \"\": empty volume spec".into())
        );
        assert_eq!(
            parse_volume("a::b"),
            Err("invalid volume \"a::b\": empty section between colons".into())
        );
        assert_eq!(
            parse_volume("/a:/b:ro:x"),
            Err("invalid volume \"/a:/b:ro:x\": too many colons".into())
        );
        assert!(parse_volume(":/b").is_err());
    }

    #[test]
    fn extra_hosts_as_list_or_mapping() {
        assert_eq!(
            parse_extra_hosts(&json!([
                "somehost:162.242.195.82",
                "otherhost=50.31.209.229"
            ])),
            Ok(vec![
                "otherhost=50.31.209.229".into(),
                "somehost=162.242.195.82".into()
            ])
        );
        assert_eq!(
            parse_extra_hosts(&json!(["v6=[::1]", "v6b:::2", "multi=1.1.1.1,2.2.2.2"])),
            Ok(vec![
                "multi=1.1.1.1".to_string(),
                "multi=2.2.2.2".into(),
                "v6=::1".into(),
                "v6b=::2".into()
            ])
        );
        assert_eq!(
            parse_extra_hosts(&json!({"b": "10.0.0.2", "a": ["10.0.0.1", "::1"]})),
            Ok(vec![
                "a=10.0.0.1".to_string(),
                "a=::1".into(),
                "b=10.0.0.2".into()
            ])
        );
        assert_eq!(
            parse_extra_hosts(&json!(["nohost"])),
            Err("invalid additional host, missing IP: nohost".into())
        );
        assert_eq!(
            parse_extra_hosts(&json!(["=1.2.3.4"])),
            Err("bad host name \"\"".into())
        );
        assert!(parse_extra_hosts(&json!("a:1.2.3.4")).is_err());
    }

    #[test]
    fn devices_in_every_short_form() {
        assert_eq!(
            parse_device("/dev/a"),
            Ok(json!({"source": "/dev/a", "target": "/dev/a", "permissions": "rwm"}))
        );
        assert_eq!(
            parse_device("/dev/a:/dev/b:r"),
            Ok(json!({"source": "/dev/a", "target": "/dev/b", "permissions": "r"}))
        );
        assert!(parse_device("/a:/b:r:x").is_err());
    }

    #[test]
    fn scalars_as_go_prints_them() {
        for (value, text) in [
            (json!("a"), "a"),
            (json!(null), ""),
            (json!(8000), "8000"),
            (json!(-1), "-1"),
            (json!(8.0), "8"),
            (json!(0.5), "0.5"),
            (json!(true), "true"),
        ] {
            assert_eq!(scalar_text(&value), text, "{value}");
        }
    }

    #[test]
    fn paths_are_cleaned_as_go_does() {
        for (given, clean) in [
            ("/data/./x/../y/", "/data/y"),
            ("/../a", "/a"),
            ("a/../../b", "../b"),
            ("", "."),
            ("./", "."),
            ("//a//b", "/a/b"),
        ] {
            assert_eq!(clean_path(given), clean, "{given:?}");
        }
    }
}
