//! The `oci-layout` file: the marker of an OCI image layout directory.
//!
//! An image layout is a directory that holds images as files: `blobs/sha256/<hex>` for every
//! blob, `index.json` (an [`ImageIndex`](super::ImageIndex)) naming the images, and `oci-layout`, this
//! small document, saying which version of the layout the directory follows.

use serde::{Deserialize, Serialize};

use super::document::{self, Document};
use super::error::{DocumentKind, InvalidDocument};
use super::validate::{FieldError, check};

/// The `oci-layout` file (`application/vnd.oci.layout.header.v1+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an oci-layout file (an object with imageLayoutVersion)")]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// The layout's version; [`Layout::VERSION`] is the only one there is.
    pub image_layout_version: String,
}

impl Layout {
    /// The version of the image layout this crate reads and writes.
    pub const VERSION: &str = "1.0.0";

    /// Parses and validates an `oci-layout` file.
    pub fn parse(bytes: &[u8]) -> Result<Layout, InvalidDocument> {
        document::parse(bytes)
    }

    /// The file's contents, as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        document::to_json(self)
    }
}

/// The layout of the current version, [`Layout::VERSION`].
impl Default for Layout {
    fn default() -> Layout {
        Layout {
            image_layout_version: Layout::VERSION.to_owned(),
        }
    }
}

impl Document for Layout {
    const KIND: DocumentKind = DocumentKind::Layout;

    fn validate(&self) -> Result<(), FieldError> {
        if self.image_layout_version == Layout::VERSION {
            return Ok(());
        }
        let problem = format!(
            "must be {:?}, not {:?}",
            Layout::VERSION,
            self.image_layout_version
        );
        check("", "imageLayoutVersion", Err(problem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_the_current_version() {
        let layout = Layout::default();
        assert_eq!(layout.to_json(), br#"{"imageLayoutVersion":"1.0.0"}"#);
        assert_eq!(Layout::parse(&layout.to_json()).unwrap(), layout);
    }

    #[test]
    fn refuses_other_versions() {
        let err = Layout::parse(br#"{"imageLayoutVersion":"2.0.0"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid oci-layout file: imageLayoutVersion: must be "1.0.0", not "2.0.0""#
        );
        let err = Layout::parse(b"{}").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid oci-layout file: missing field `imageLayoutVersion`"),
            "{err}"
        );
    }
}
