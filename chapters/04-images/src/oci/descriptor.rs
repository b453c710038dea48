//! Descriptors: typed, sized pointers to content.
//!
//! A descriptor is how one document refers to another blob: the blob's media type (what it
//! is), its digest (which bytes exactly) and its size (how many to expect, so a reader can
//! stop a blob that runs long before hashing it). A manifest holds descriptors of its config
//! and layers; an index holds descriptors of manifests, each optionally labelled with the
//! [`Platform`] it runs on.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, de};

use super::document::{self, Document, null_as_default};
use super::error::{DocumentKind, InvalidDocument};
use super::validate::{self, FieldError, check};
use crate::digest::Digest;

/// A content descriptor (`application/vnd.oci.descriptor.v1+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "a descriptor (an object with mediaType, digest and size)")]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the content is, such as [`IMAGE_CONFIG`](super::media_type::IMAGE_CONFIG).
    pub media_type: String,
    /// The digest of the content's bytes.
    pub digest: Digest,
    /// The content's length in bytes; the spec caps it at `i64::MAX`.
    #[serde(deserialize_with = "size")]
    pub size: u64,
    /// URIs the content may also be downloaded from.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    /// Arbitrary metadata, keyed by reverse-domain names such as `org.opencontainers.image.ref.name`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// The content itself, base64-encoded, for blobs small enough to embed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The platform the referenced manifest runs on (in an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The type of the artifact the descriptor points at, when it is not an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// The platform an image runs on: CPU architecture and operating system, as Go names them
/// (`amd64`, `arm64`, `linux`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "a platform (an object with architecture and os)")]
pub struct Platform {
    /// The CPU architecture, such as `amd64`.
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
    /// Reserved by the spec for future use; Docker's manifest lists may carry CPU features.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub features: Vec<String>,
}

impl Descriptor {
    /// A descriptor of `size` bytes of `media_type` content with this `digest`, and nothing else.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            data: None,
            platform: None,
            artifact_type: None,
        }
    }

    /// Parses and validates a descriptor on its own.
    pub fn parse(bytes: &[u8]) -> Result<Descriptor, InvalidDocument> {
        document::parse(bytes)
    }

    /// The descriptor as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        document::to_json(self)
    }

    /// Checks the rules serde cannot, for a descriptor at path `at` of its document.
    pub(crate) fn validate_at(&self, at: &str) -> Result<(), FieldError> {
        check(at, "mediaType", validate::media_type(&self.media_type))?;
        for (i, url) in self.urls.iter().enumerate() {
            check(at, &format!("urls[{i}]"), validate::uri(url))?;
        }
        if let Some(data) = &self.data {
            check(at, "data", validate::base64(data))?;
        }
        if let Some(artifact_type) = &self.artifact_type {
            check(at, "artifactType", validate::media_type(artifact_type))?;
        }
        Ok(())
    }
}

impl Document for Descriptor {
    const KIND: DocumentKind = DocumentKind::Descriptor;

    fn validate(&self) -> Result<(), FieldError> {
        self.validate_at("")
    }
}

/// Reads a size: a JSON integer from 0 to `i64::MAX` (the spec's type is int64, and it "MUST
/// NOT be negative"), with a clearer message than `u64`'s for the values it refuses.
fn size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct SizeVisitor;

    impl de::Visitor<'_> for SizeVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a size in bytes (a non-negative integer)")
        }

        fn visit_i64<E: de::Error>(self, size: i64) -> Result<u64, E> {
            u64::try_from(size).map_err(|_| E::custom(format!("{size} is negative")))
        }

        fn visit_u64<E: de::Error>(self, size: u64) -> Result<u64, E> {
            if i64::try_from(size).is_ok() {
                Ok(size)
            } else {
                Err(E::custom(format!(
                    "{size} is larger than the largest size allowed, {}",
                    i64::MAX
                )))
            }
        }
    }

    deserializer.deserialize_u64(SizeVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::media_type;

    const DIGEST: &str = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

    fn json(fields: &str) -> Vec<u8> {
        format!(r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{DIGEST}",{fields}}}"#)
            .into_bytes()
    }

    #[test]
    fn round_trips_compactly() {
        let descriptor = Descriptor::new(media_type::IMAGE_CONFIG, DIGEST.parse().unwrap(), 7);
        let bytes = descriptor.to_json();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                r#"{{"mediaType":"{}","digest":"{DIGEST}","size":7}}"#,
                media_type::IMAGE_CONFIG
            )
        );
        assert_eq!(Descriptor::parse(&bytes).unwrap(), descriptor);
    }

    #[test]
    fn reads_every_field_and_ignores_unknown_ones() {
        let descriptor = Descriptor::parse(&json(
            r#""size":1,"urls":["https://example.com/x"],"annotations":{"a":"b"},"data":"e30=",
               "artifactType":"application/vnd.example","unknown":[1,2],
               "platform":{"architecture":"arm64","os":"linux","variant":"v8","os.version":"1",
                           "os.features":["f"],"features":["sse4"]}"#,
        ))
        .unwrap();
        let platform = descriptor.platform.as_ref().unwrap();
        assert_eq!(
            (platform.architecture.as_str(), platform.variant.as_deref()),
            ("arm64", Some("v8"))
        );
        assert_eq!(
            (platform.os_version.as_deref(), platform.os_features.len()),
            (Some("1"), 1)
        );
        assert_eq!(platform.features, ["sse4"]);
        assert_eq!(descriptor.annotations["a"], "b");
        assert_eq!(
            Descriptor::parse(&descriptor.to_json()).unwrap(),
            descriptor
        );
    }

    #[test]
    fn reads_null_as_absent() {
        let descriptor = Descriptor::parse(&json(
            r#""size":1,"urls":null,"annotations":null,"data":null,"platform":null"#,
        ))
        .unwrap();
        assert_eq!(
            descriptor,
            Descriptor::new(media_type::IMAGE_MANIFEST, DIGEST.parse().unwrap(), 1)
        );
    }

    #[test]
    fn sizes_are_non_negative_int64() {
        let problem = |size: &str| {
            Descriptor::parse(&json(&format!(r#""size":{size}"#)))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            Descriptor::parse(&json(r#""size":9223372036854775807"#))
                .unwrap()
                .size,
            i64::MAX as u64
        );
        assert!(
            problem("-1").starts_with("invalid content descriptor: size: -1 is negative at line 1")
        );
        assert!(problem("9223372036854775808").contains("larger than the largest size allowed"));
        assert!(problem("1.5").contains("expected a size in bytes (a non-negative integer)"));
        assert!(problem(r#""1""#).contains("invalid type: string"));
    }

    #[test]
    fn errors_name_the_field() {
        let err =
            Descriptor::parse(&json(r#""size":1,"urls":["https://a/","no scheme"]"#)).unwrap_err();
        assert_eq!(err.field(), Some("urls[1]"));
        let err = Descriptor::parse(&json(r#""size":1,"platform":{"os":"linux"}"#)).unwrap_err();
        assert_eq!(err.field(), Some("platform"));
        assert!(
            err.problem().starts_with("missing field `architecture`"),
            "{err}"
        );
        let err =
            Descriptor::parse(br#"{"mediaType":"a/b","size":1,"digest":"sha256:x"}"#).unwrap_err();
        assert_eq!(err.field(), Some("digest"));
    }

    #[test]
    fn refuses_trailing_bytes() {
        let mut bytes = json(r#""size":1"#);
        bytes.extend_from_slice(b" {}");
        assert!(
            Descriptor::parse(&bytes)
                .unwrap_err()
                .to_string()
                .contains("trailing characters")
        );
    }
}
