//! The one error every document parser returns.

use std::fmt;

/// Which kind of document failed to parse; it opens every [`InvalidDocument`] message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A [`Descriptor`](super::Descriptor) on its own.
    Descriptor,
    /// A [`Manifest`](super::Manifest), OCI's or Docker's.
    Manifest,
    /// An [`ImageIndex`](super::ImageIndex), or Docker's manifest list.
    Index,
    /// An [`ImageConfig`](super::ImageConfig), OCI's or Docker's.
    Config,
    /// The `oci-layout` file, a [`Layout`](super::Layout).
    Layout,
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DocumentKind::Descriptor => "content descriptor",
            DocumentKind::Manifest => "image manifest",
            DocumentKind::Index => "image index",
            DocumentKind::Config => "image config",
            DocumentKind::Layout => "oci-layout file",
        })
    }
}

/// A document that is not valid JSON, does not have the spec's shape, or breaks one of its rules.
///
/// The message is one line: the kind of document, the field (as a path such as
/// `layers[0].digest`, when one is to blame), and what is wrong, for example
/// `invalid image config: config.Env[1]: "FOO" is not NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {}{problem}", FieldPrefix(.field.as_deref()))]
pub struct InvalidDocument {
    kind: DocumentKind,
    field: Option<String>,
    problem: String,
}

impl InvalidDocument {
    pub(crate) fn new(kind: DocumentKind, field: Option<String>, problem: String) -> Self {
        InvalidDocument {
            kind,
            field,
            problem,
        }
    }

    /// The kind of document that was refused.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The path of the field to blame, such as `manifests[0].platform`, or `None` when the
    /// document as a whole is wrong (for example, it is not JSON).
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What is wrong, without the kind and the field.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// Shows `field: `, or nothing when no field is to blame.
struct FieldPrefix<'a>(Option<&'a str>);

impl fmt::Display for FieldPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(field) => write!(f, "{field}: "),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_kind_field_and_problem() {
        let err = InvalidDocument::new(
            DocumentKind::Config,
            Some("config.Env[1]".into()),
            r#""FOO" is not NAME=VALUE"#.into(),
        );
        assert_eq!(
            err.to_string(),
            r#"invalid image config: config.Env[1]: "FOO" is not NAME=VALUE"#
        );
        let err = InvalidDocument::new(DocumentKind::Layout, None, "not JSON".into());
        assert_eq!(err.to_string(), "invalid oci-layout file: not JSON");
        assert_eq!(
            (err.kind(), err.field(), err.problem()),
            (DocumentKind::Layout, None, "not JSON")
        );
    }
}
