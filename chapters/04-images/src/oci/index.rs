//! The image index: one name, many images.
//!
//! An index lists manifests, usually the same image built for several platforms; a client
//! picks the entry whose [`Platform`](super::Platform) matches the machine it runs on. An
//! index may also list other indexes, and an OCI image layout's `index.json` is one, naming its
//! images with the `org.opencontainers.image.ref.name` annotation. Docker's manifest list has
//! this shape under another media type, so this one type reads both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::Descriptor;
use super::document::{self, Document, null_as_default};
use super::error::{DocumentKind, InvalidDocument};
use super::media_type::{self, DOCKER_MANIFEST_LIST, IMAGE_INDEX};
use super::validate::{self, FieldError};

/// An image index (`application/vnd.oci.image.index.v1+json`), or Docker's manifest list
/// (`application/vnd.docker.distribution.manifest.list.v2+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an image index (an object)")]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2, for compatibility with Docker's format.
    pub schema_version: u32,
    /// The index's own media type, [`IMAGE_INDEX`] or [`DOCKER_MANIFEST_LIST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// For an index of artifacts, what kind of artifact it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests (or indexes) listed; entries of unknown media types are allowed.
    pub manifests: Vec<Descriptor>,
    /// The manifest this index refers to, when it is an artifact about another image.
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

impl ImageIndex {
    /// Parses and validates an index, or a Docker manifest list.
    pub fn parse(bytes: &[u8]) -> Result<ImageIndex, InvalidDocument> {
        document::parse(bytes)
    }

    /// The index as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        document::to_json(self)
    }
}

impl Document for ImageIndex {
    const KIND: DocumentKind = DocumentKind::Index;

    fn validate(&self) -> Result<(), FieldError> {
        validate::header(
            self.schema_version,
            self.media_type.as_deref(),
            self.artifact_type.as_deref(),
            media_type::is_index,
            &format!("an index's media type ({IMAGE_INDEX} or {DOCKER_MANIFEST_LIST})"),
        )?;
        for (i, manifest) in self.manifests.iter().enumerate() {
            manifest.validate_at(&format!("manifests[{i}]"))?;
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
    use crate::oci::Platform;

    fn index() -> ImageIndex {
        let mut manifest = Descriptor::new(media_type::IMAGE_MANIFEST, Digest::sha256_of(b"m"), 1);
        manifest.platform = Some(Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
            features: Vec::new(),
        });
        ImageIndex {
            schema_version: 2,
            media_type: Some(IMAGE_INDEX.into()),
            artifact_type: None,
            manifests: vec![manifest],
            subject: None,
            annotations: BTreeMap::from([(
                "org.opencontainers.image.ref.name".into(),
                "latest".into(),
            )]),
        }
    }

    #[test]
    fn round_trips_compactly() {
        let index = index();
        assert_eq!(ImageIndex::parse(&index.to_json()).unwrap(), index);
        let json = String::from_utf8(index.to_json()).unwrap();
        assert!(
            json.contains(r#""platform":{"architecture":"amd64","os":"linux"}"#),
            "{json}"
        );
    }

    #[test]
    fn an_empty_index_is_valid() {
        let mut index = index();
        index.manifests.clear();
        assert_eq!(ImageIndex::parse(&index.to_json()).unwrap(), index);
    }

    #[test]
    fn refuses_what_the_spec_forbids() {
        let mut index = index();
        index.media_type = Some(DOCKER_MANIFEST_LIST.into());
        assert!(ImageIndex::parse(&index.to_json()).is_ok());
        index.media_type = Some(media_type::IMAGE_MANIFEST.into());
        let err = ImageIndex::parse(&index.to_json()).unwrap_err();
        assert_eq!(err.field(), Some("mediaType"));
        assert!(
            err.to_string().contains("is not an index's media type"),
            "{err}"
        );
        let err = ImageIndex::parse(br#"{"schemaVersion":3,"manifests":[]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid image index: schemaVersion: must be 2, not 3"
        );
        let err = ImageIndex::parse(br#"{"schemaVersion":2,"manifests":null}"#).unwrap_err();
        assert_eq!(err.field(), Some("manifests"));
        let err = ImageIndex::parse(br#"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","size":1,"digest":"x:y","data":"e30"}]}"#)
            .unwrap_err();
        assert_eq!(err.field(), Some("manifests[0].data"));
    }
}
