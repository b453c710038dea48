//! Image references, as docker reads them: `busybox`, `busybox:1.36`, `user/app`,
//! `registry.example:5000/team/app:v2`, `busybox@sha256:...`.
//!
//! A reference is normalized the way docker does it: no registry means Docker Hub
//! (`docker.io`), and a one-part name on Docker Hub is an official image under `library/`;
//! no tag means `latest`. So `busybox` is `docker.io/library/busybox:latest`, and docker shows
//! it back in its *familiar* form, `busybox:latest`.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::Error;

/// Docker Hub, the registry of references that name none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The tag of references that name none.
pub const DEFAULT_TAG: &str = "latest";
/// Docker's limit on a whole name (registry and path).
const MAX_NAME: usize = 255;
/// Docker's limit on a tag.
const MAX_TAG: usize = 128;

/// A normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// The registry host, with its port if any: `docker.io`, `localhost:5000`.
    pub registry: String,
    /// The repository path inside the registry: `library/busybox`, `team/app`.
    pub repository: String,
    /// The tag, if the reference names one (or is given the default).
    pub tag: Option<String>,
    /// The manifest digest, if the reference pins one.
    pub digest: Option<Digest>,
}

impl Reference {
    /// The repository with its registry, as the store records it: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The repository as docker shows it: `busybox`, `user/app`, `localhost:5000/app`.
    pub fn familiar_name(&self) -> String {
        if self.registry != DEFAULT_REGISTRY {
            return self.name();
        }
        match self.repository.strip_prefix("library/") {
            Some(official) if !official.contains('/') => official.to_string(),
            _ => self.repository.clone(),
        }
    }

    /// The whole reference as docker shows it: `busybox:latest`, `app@sha256:...`.
    pub fn familiar(&self) -> String {
        let mut text = self.familiar_name();
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(&digest.to_string());
        }
        text
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }
}

/// The fully qualified form: `docker.io/library/busybox:latest`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(text: &str) -> Result<Reference, Error> {
        let invalid = |reason: &str| Error::InvalidReference {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (
                rest,
                Some(
                    digest
                        .parse::<Digest>()
                        .map_err(|e| invalid(&e.to_string()))?,
                ),
            ),
            None => (text, None),
        };
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(|reason| invalid(&reason))?;
        }
        if path.is_empty() {
            return Err(invalid("no repository name"));
        }
        if path.len() > MAX_NAME {
            return Err(invalid("the name is longer than 255 characters"));
        }
        let (registry, repository) = match path.split_once('/') {
            Some((first, remainder)) if is_registry(first) => (first.to_string(), remainder),
            _ => (DEFAULT_REGISTRY.to_string(), path),
        };
        if registry != DEFAULT_REGISTRY {
            check_registry(&registry).map_err(|reason| invalid(&reason))?;
        }
        for component in repository.split('/') {
            check_component(component).map_err(|reason| invalid(&reason))?;
        }
        let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_string()),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

/// The first part of a name is a registry if it looks like a host: it has a dot or a port,
/// or is `localhost` (docker's rule; `user/app` is a Docker Hub user's repository).
fn is_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !host_ok {
        return Err(format!("registry host {host:?} is not a host name"));
    }
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(format!("registry port {port:?} is not a number"));
    }
    Ok(())
}

/// A path component: lowercase letters and digits, separated by `.`, `_`, `__` or dashes.
fn check_component(component: &str) -> Result<(), String> {
    if component.is_empty() {
        return Err("empty path component (a doubled or trailing '/')".into());
    }
    if component.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository name must be lowercase".into());
    }
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(format!(
            "path component {component:?} must start and end with a letter or digit"
        ));
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: one '.', one '_', two '_', or any number of '-'.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return Err(format!(
                "path component {component:?} has the separator {separator:?} (allowed: '.', '_', '__', dashes)"
            ));
        }
    }
    Ok(())
}

/// A tag: a word character, then up to 127 word characters, dots and dashes.
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    let ok = chars.next().is_some_and(word)
        && chars.all(|c| word(c) || c == '.' || c == '-')
        && tag.len() <= MAX_TAG;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Reference {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn normalizes_as_docker() {
        let cases = [
            (
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            ("user/app", "docker.io/user/app:latest", "user/app:latest"),
            (
                "docker.io/library/alpine:3",
                "docker.io/library/alpine:3",
                "alpine:3",
            ),
            (
                "localhost/app",
                "localhost/app:latest",
                "localhost/app:latest",
            ),
            ("host:5000/a/b:v2", "host:5000/a/b:v2", "host:5000/a/b:v2"),
            (
                "my.registry/x",
                "my.registry/x:latest",
                "my.registry/x:latest",
            ),
            (
                "user/a__b--c.d",
                "docker.io/user/a__b--c.d:latest",
                "user/a__b--c.d:latest",
            ),
        ];
        for (input, full, familiar) in cases {
            let reference = parse(input);
            assert_eq!(reference.to_string(), full, "{input}");
            assert_eq!(reference.familiar(), familiar, "{input}");
        }
    }

    #[test]
    fn digests_pin_without_a_default_tag() {
        let hex = "a".repeat(64);
        let reference = parse(&format!("busybox@sha256:{hex}"));
        assert_eq!(reference.tag, None);
        assert_eq!(reference.familiar(), format!("busybox@sha256:{hex}"));
    }

    #[test]
    fn refuses_malformed_references() {
        let cases = [
            ("", "no repository name"),
            ("Busybox", "lowercase"),
            ("busybox:", "tag \"\""),
            ("busybox:-x", "tag"),
            ("a//b", "empty path component"),
            ("a/b/", "empty path component"),
            ("-a", "start and end"),
            ("a..b", "separator"),
            ("host:x/app", "port"),
            ("busybox@sha256:123", "digest"),
        ];
        for (input, reason) in cases {
            let error = input.parse::<Reference>().unwrap_err().to_string();
            assert!(error.contains(reason), "{input:?}: {error}");
        }
    }
}
