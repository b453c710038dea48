//! Reading and writing documents: JSON in two steps, shape then rules.
//!
//! serde checks the *shape* (every required field is there and has the right JSON type);
//! [`Document::validate`] then checks the *rules* serde cannot express (patterns, formats,
//! allowed values). Both report the path of the field to blame. Unknown fields are ignored,
//! as the spec asks of readers: Docker's configs carry many that OCI does not define.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::{DocumentKind, InvalidDocument};
use super::validate::FieldError;

/// A JSON document of the image format.
pub(crate) trait Document: Serialize + DeserializeOwned {
    /// What its errors call it.
    const KIND: DocumentKind;

    /// The spec's rules beyond the JSON shape.
    fn validate(&self) -> Result<(), FieldError>;
}

/// Deserializes `bytes` as a `T` and validates it.
pub(crate) fn parse<T: Document>(bytes: &[u8]) -> Result<T, InvalidDocument> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let document: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        // The path is "." when the document itself (not one of its fields) is to blame, and
        // "?" where the parser stopped before knowing the field: JSON that is not JSON.
        let syntax = err.inner().is_syntax() || err.inner().is_eof();
        let field = Some(err.path().to_string()).filter(|path| path != "." && !syntax);
        InvalidDocument::new(T::KIND, field, err.into_inner().to_string())
    })?;
    // Refuse trailing bytes after the document, as any JSON parser must.
    deserializer
        .end()
        .map_err(|err| InvalidDocument::new(T::KIND, None, err.to_string()))?;
    document
        .validate()
        .map_err(|FieldError { field, problem }| {
            InvalidDocument::new(T::KIND, Some(field), problem)
        })?;
    Ok(document)
}

/// `document` as compact JSON.
pub(crate) fn to_json<T: Serialize>(document: &T) -> Vec<u8> {
    serde_json::to_vec(document)
        .expect("image documents always serialize: every map key is a string")
}

/// Reads JSON `null` as the empty value, since Docker writes `null` for absent lists and maps.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}
