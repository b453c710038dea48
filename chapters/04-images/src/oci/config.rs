//! The image config: what the layers add up to, and how to run the result.
//!
//! The config says which platform the image is for, how to start a container from it (the
//! [`ContainerConfig`]: command, environment, user, working directory...), and, in `rootfs`,
//! the *diff IDs* of its layers: the digests of each layer's *uncompressed* tar, where the
//! manifest has the digests of the (usually compressed) blobs. The config's own digest is the
//! image ID that `docker images` shows.
//!
//! Docker's config has the same fields and many more (`Hostname`, `container_config`, ...);
//! they are ignored on reading. Docker writes `null` for absent lists and maps; that reads as
//! absent. The fields inside `config` are PascalCase, as Docker named them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use super::document::{self, Document, null_as_default};
use super::error::{DocumentKind, InvalidDocument};
use super::validate::{self, FieldError, check};
use crate::digest::Digest;

/// An image config (`application/vnd.oci.image.config.v1+json`), or Docker's
/// (`application/vnd.docker.container.image.v1+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an image config (an object)")]
pub struct ImageConfig {
    /// When the image was created, as an RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The CPU architecture the binaries in the image are for, such as `amd64`.
    pub architecture: String,
    /// The operating system, such as `linux`.
    pub os: String,
    /// The operating system's version (used for Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features (used for Windows).
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// The CPU variant, such as `v8` for `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The defaults for containers made from the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The layers' diff IDs.
    pub rootfs: RootFs,
    /// How each layer was made, oldest first, including steps that made no layer.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<History>,
}

/// The defaults for a container made from the image; `docker run` flags override them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "a container config (an object)")]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The user (and group) to run as: `name`, `uid`, `name:group` or `uid:gid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Ports the container listens on, as `port/tcp` or `port/udp` (the values are always `{}`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub exposed_ports: BTreeMap<String, EmptyObject>,
    /// Environment entries, `NAME=VALUE`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    /// The program to run, before `cmd`. `None` (absent) and `Some([])` (explicitly empty)
    /// differ in Docker's rules for overriding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The default arguments to `entrypoint`, or the command when there is no entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Directories to mount a volume on (the values are always `{}`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub volumes: BTreeMap<String, EmptyObject>,
    /// The working directory of the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// The signal that asks the container to stop, such as `SIGTERM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// How to tell that a container is healthy (Docker's field; OCI has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Whether `Cmd` was already escaped for Windows (Docker's field, set by builders of
    /// shell-form commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Instructions for a later build that starts `FROM` this image (Docker's `ONBUILD`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub on_build: Vec<String>,
    /// The shell that runs shell-form commands (Docker's `SHELL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// Docker's `Healthcheck`: a test command and how often to run it; durations in nanoseconds,
/// zero (absent) meaning "the default".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", prog, args…]` or `["CMD-SHELL", command]`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub test: Vec<String>,
    /// Time between two checks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    /// Time a check may take before it counts as failed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    /// Time a container may take to start, during which failures do not count.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    /// Time between checks during the start period.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    /// Failures in a row that make the container unhealthy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// `rootfs`: the diff IDs of the image's layers, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "a rootfs (an object with type and diff_ids)")]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The digest of each layer's uncompressed tar, in the manifest's order.
    pub diff_ids: Vec<Digest>,
}

/// One step of the image's build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "a history entry (an object)")]
pub struct History {
    /// When the step ran, as an RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command that made the step, such as a Dockerfile line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who made the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A free-form comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether the step made no layer (an `ENV` line, say), so it has no diff ID.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub empty_layer: bool,
}

/// The `{}` that stands for "present" in the maps Docker uses as sets (`ExposedPorts`,
/// `Volumes`). Any JSON object reads as one, anything else is refused; it writes as `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EmptyObject;

impl RootFs {
    /// The value `rootfs.type` must have.
    pub const LAYERS: &str = "layers";

    /// A `rootfs` of type `layers` with these diff IDs.
    pub fn layers(diff_ids: Vec<Digest>) -> RootFs {
        RootFs {
            type_: RootFs::LAYERS.to_owned(),
            diff_ids,
        }
    }
}

impl ImageConfig {
    /// Parses and validates an image config, OCI's or Docker's.
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, InvalidDocument> {
        document::parse(bytes)
    }

    /// The config as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        document::to_json(self)
    }
}

impl Document for ImageConfig {
    const KIND: DocumentKind = DocumentKind::Config;

    fn validate(&self) -> Result<(), FieldError> {
        if let Some(created) = &self.created {
            check("", "created", validate::date_time(created))?;
        }
        if let Some(config) = &self.config {
            for (i, entry) in config.env.iter().enumerate() {
                check("config", &format!("Env[{i}]"), validate::env_entry(entry))?;
            }
        }
        if self.rootfs.type_ != RootFs::LAYERS {
            let problem = format!("must be {:?}, not {:?}", RootFs::LAYERS, self.rootfs.type_);
            return check("rootfs", "type", Err(problem));
        }
        for (i, step) in self.history.iter().enumerate() {
            if let Some(created) = &step.created {
                check(
                    &format!("history[{i}]"),
                    "created",
                    validate::date_time(created),
                )?;
            }
        }
        Ok(())
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer
            .serialize_map(Some(0))
            .and_then(serde::ser::SerializeMap::end)
    }
}

impl<'de> Deserialize<'de> for EmptyObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EmptyObject, D::Error> {
        struct ObjectVisitor;

        impl<'de> de::Visitor<'de> for ObjectVisitor {
            type Value = EmptyObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object, such as {}")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<EmptyObject, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(EmptyObject)
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> ImageConfig {
        ImageConfig {
            created: None,
            author: None,
            architecture: "amd64".into(),
            os: "linux".into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
            config: None,
            rootfs: RootFs::layers(vec![Digest::sha256_of(b"layer")]),
            history: Vec::new(),
        }
    }

    #[test]
    fn minimal_config_round_trips_compactly() {
        let config = minimal();
        let json = String::from_utf8(config.to_json()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
                Digest::sha256_of(b"layer")
            )
        );
        assert_eq!(ImageConfig::parse(json.as_bytes()).unwrap(), config);
    }

    #[test]
    fn full_config_round_trips() {
        let mut config = minimal();
        config.created = Some("2015-10-31T22:22:56.015925234Z".into());
        config.config = Some(ContainerConfig {
            user: Some("1:1".into()),
            exposed_ports: BTreeMap::from([("8080/tcp".into(), EmptyObject)]),
            env: vec!["PATH=/bin".into()],
            entrypoint: Some(Vec::new()),
            cmd: Some(vec!["sh".into()]),
            volumes: BTreeMap::from([("/data".into(), EmptyObject)]),
            working_dir: Some("/".into()),
            labels: BTreeMap::from([("a".into(), "b".into())]),
            stop_signal: Some("SIGTERM".into()),
            healthcheck: Some(Healthcheck {
                test: vec!["CMD".into(), "true".into()],
                interval: 5_000_000_000,
                retries: 2,
                ..Healthcheck::default()
            }),
            args_escaped: Some(true),
            on_build: vec!["RUN echo child".into()],
            shell: Some(vec!["/bin/sh".into(), "-c".into()]),
        });
        config.history = vec![History {
            created_by: Some("ENV A=b".into()),
            empty_layer: true,
            ..History::default()
        }];
        let json = String::from_utf8(config.to_json()).unwrap();
        assert!(json.contains(r#""ExposedPorts":{"8080/tcp":{}}"#), "{json}");
        assert!(
            json.contains(r#""Entrypoint":[]"#),
            "an empty entrypoint stays explicit: {json}"
        );
        assert!(json.contains(r#""empty_layer":true"#), "{json}");
        assert_eq!(ImageConfig::parse(json.as_bytes()).unwrap(), config);
    }

    #[test]
    fn reads_dockers_nulls_and_extra_fields() {
        let json = br#"{"architecture":"amd64","os":"linux","os.features":null,"history":null,
            "container_config":{"Hostname":"x"},"docker_version":"1.12.1",
            "config":{"Hostname":"x","User":"","Env":null,"Cmd":null,"Entrypoint":null,
                      "Volumes":null,"ExposedPorts":null,"Labels":null,"OnBuild":null},
            "rootfs":{"type":"layers","diff_ids":[]}}"#;
        let config = ImageConfig::parse(json).unwrap();
        let container = config.config.unwrap();
        assert_eq!(container.user.as_deref(), Some(""));
        assert_eq!((container.entrypoint, container.cmd), (None, None));
        assert!(
            container.env.is_empty() && container.volumes.is_empty() && container.labels.is_empty()
        );
    }

    #[test]
    fn set_values_must_be_objects() {
        let json =
            br#"{"architecture":"amd64","os":"linux","config":{"Volumes":{"/a":{"x":1},"/b":[]}},
            "rootfs":{"type":"layers","diff_ids":[]}}"#;
        let err = ImageConfig::parse(json).unwrap_err();
        assert_eq!(err.field(), Some("config.Volumes./b"));
        assert!(
            err.problem().contains("expected an object, such as {}"),
            "{err}"
        );
    }

    #[test]
    fn refuses_what_the_spec_forbids() {
        let problem = |edit: fn(&mut ImageConfig)| {
            let mut config = minimal();
            edit(&mut config);
            ImageConfig::parse(&config.to_json())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            problem(|c| c.config = Some(ContainerConfig {
                env: vec!["A=1".into(), "FOO".into()],
                ..Default::default()
            })),
            r#"invalid image config: config.Env[1]: "FOO" is not NAME=VALUE"#
        );
        assert_eq!(
            problem(|c| c.rootfs.type_ = "tarball".into()),
            r#"invalid image config: rootfs.type: must be "layers", not "tarball""#
        );
        assert!(
            problem(|c| c.created = Some("yesterday".into()))
                .starts_with("invalid image config: created: ")
        );
        assert!(
            problem(|c| c.history = vec![History {
                created: Some("2015".into()),
                ..History::default()
            }])
            .starts_with("invalid image config: history[0].created: ")
        );
        let err = ImageConfig::parse(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:x"]}}"#)
            .unwrap_err();
        assert_eq!(err.field(), Some("rootfs.diff_ids[0]"));
    }
}
