//! The image manifest: one image, as a config and a stack of layers.
//!
//! A manifest is what a registry serves for `name:tag` on one platform. It holds no content,
//! only descriptors: one of the image's [config](super::ImageConfig) and one of each layer,
//! bottom layer first. Its own digest, the sha256 of its exact bytes, is the image's identity
//! in the registry (`name@sha256:…`). Docker's schema-2 manifest has exactly this shape under
//! another media type, so this one type reads both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::Descriptor;
use super::document::{self, Document, null_as_default};
use super::error::{DocumentKind, InvalidDocument};
use super::media_type::{self, DOCKER_MANIFEST, IMAGE_MANIFEST};
use super::validate::{self, FieldError, check};

/// An image manifest (`application/vnd.oci.image.manifest.v1+json`), or Docker's schema-2
/// manifest (`application/vnd.docker.distribution.manifest.v2+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an image manifest (an object)")]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2, for compatibility with Docker's format.
    pub schema_version: u32,
    /// The manifest's own media type, [`IMAGE_MANIFEST`] or [`DOCKER_MANIFEST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// For an artifact that is not an image, what kind of artifact it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config (or the artifact's configuration blob).
    pub config: Descriptor,
    /// The layers, from the bottom of the stack to the top.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to, when it is an artifact about another image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses and validates a manifest, OCI's or Docker's.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, InvalidDocument> {
        document::parse(bytes)
    }

    /// The manifest as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        document::to_json(self)
    }
}

impl Document for Manifest {
    const KIND: DocumentKind = DocumentKind::Manifest;

    fn validate(&self) -> Result<(), FieldError> {
        validate::header(
            self.schema_version,
            self.media_type.as_deref(),
            self.artifact_type.as_deref(),
            media_type::is_manifest,
            &format!("a manifest's media type ({IMAGE_MANIFEST} or {DOCKER_MANIFEST})"),
        )?;
        self.config.validate_at("config")?;
        if self.layers.is_empty() {
            return check(
                "",
                "layers",
                Err("the list is empty; a manifest needs at least one layer".into()),
            );
        }
        for (i, layer) in self.layers.iter().enumerate() {
            layer.validate_at(&format!("layers[{i}]"))?;
        }
        if let Some(subject) = &self.subject {
            subject.validate_at("subject")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    fn manifest() -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: Some(IMAGE_MANIFEST.into()),
            artifact_type: None,
            config: Descriptor::new(media_type::IMAGE_CONFIG, Digest::sha256_of(b"{}"), 2),
            layers: vec![Descriptor::new(
                media_type::LAYER_TAR_GZIP,
                Digest::sha256_of(b"layer"),
                5,
            )],
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    fn problem(edit: impl FnOnce(&mut Manifest)) -> String {
        let mut manifest = manifest();
        edit(&mut manifest);
        Manifest::parse(&manifest.to_json())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn round_trips() {
        let manifest = manifest();
        assert_eq!(Manifest::parse(&manifest.to_json()).unwrap(), manifest);
        let json = String::from_utf8(manifest.to_json()).unwrap();
        assert!(
            json.starts_with(r#"{"schemaVersion":2,"mediaType":"#),
            "{json}"
        );
        assert!(
            !json.contains("annotations") && !json.contains("subject"),
            "{json}"
        );
    }

    #[test]
    fn accepts_docker_and_absent_media_types() {
        let mut docker = manifest();
        docker.media_type = Some(DOCKER_MANIFEST.into());
        docker.layers[0].media_type = media_type::DOCKER_LAYER_GZIP.into();
        assert_eq!(Manifest::parse(&docker.to_json()).unwrap(), docker);
        docker.media_type = None;
        assert_eq!(Manifest::parse(&docker.to_json()).unwrap(), docker);
    }

    #[test]
    fn refuses_what_the_spec_forbids() {
        assert_eq!(
            problem(|m| m.schema_version = 1),
            "invalid image manifest: schemaVersion: must be 2, not 1"
        );
        assert_eq!(
            problem(|m| m.media_type = Some(media_type::IMAGE_INDEX.into())),
            format!(
                "invalid image manifest: mediaType: \"{}\" is not a manifest's media type ({IMAGE_MANIFEST} or {DOCKER_MANIFEST})",
                media_type::IMAGE_INDEX
            )
        );
        assert_eq!(
            problem(|m| m.layers.clear()),
            "invalid image manifest: layers: the list is empty; a manifest needs at least one layer"
        );
        assert!(
            problem(|m| m.layers[0].media_type = "tar".into())
                .starts_with("invalid image manifest: layers[0].mediaType: ")
        );
        assert!(
            problem(|m| m.artifact_type = Some("x".into()))
                .starts_with("invalid image manifest: artifactType: ")
        );
        assert!(
            problem(|m| m.config.urls = vec!["x".into()])
                .starts_with("invalid image manifest: config.urls[0]: ")
        );
        assert!(
            problem(|m| m.subject = Some(Descriptor::new("", Digest::sha256_of(b""), 0)))
                .starts_with("invalid image manifest: subject.mediaType: ")
        );
    }
}
