//! Content digests: the names of content-addressed blobs.
//!
//! Every blob of an image (a layer, the config, a manifest) is named by a hash of its exact
//! bytes, written `algorithm:encoded`, for example
//! `sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855` (the digest of
//! zero bytes). A reader that hashes what it fetched and compares it with the digest knows it got
//! the right bytes, whoever served them.
//!
//! The OCI image spec (descriptor.md, "Digests") gives the grammar:
//!
//! ```text
//! digest                ::= algorithm ":" encoded
//! algorithm             ::= algorithm-component (algorithm-separator algorithm-component)*
//! algorithm-component   ::= [a-z0-9]+
//! algorithm-separator   ::= [+._-]
//! encoded               ::= [a-zA-Z0-9=_-]+
//! ```
//!
//! Registered algorithms restrict the encoded part further (`sha256` and `blake3`: 64 lowercase
//! hex digits, `sha512`: 128). A digest with an algorithm nobody registered is still valid if it
//! follows the grammar: implementations must let it pass, they just cannot verify it. The grammar
//! puts no bound on the algorithm's length.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use sha2::{Digest as _, Sha256};

/// A content digest, `algorithm:encoded`, checked against the OCI grammar when it is made.
///
/// Equality is on the exact string: `sha256:abc…` and `sha512:…` of the same bytes differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// The whole digest as written.
    repr: String,
    /// Where the `:` between algorithm and encoded part is in `repr`.
    colon: usize,
}

/// Why a string is not a digest. Its message names the string and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {digest:?}: {reason}")]
pub struct InvalidDigest {
    digest: String,
    reason: &'static str,
}

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        let hash = Sha256::digest(bytes);
        let mut repr = String::with_capacity(SHA256_PREFIX.len() + 64);
        repr.push_str(SHA256_PREFIX);
        for byte in hash {
            repr.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            repr.push(char::from(HEX_DIGITS[usize::from(byte & 0xf)]));
        }
        Digest {
            repr,
            colon: SHA256_PREFIX.len() - 1,
        }
    }

    /// The sha256 digest whose encoded part is `hex` (64 lowercase hex digits).
    pub fn from_sha256_hex(hex: &str) -> Result<Digest, InvalidDigest> {
        format!("{SHA256_PREFIX}{hex}").parse()
    }

    /// The algorithm part, before the `:` (for example `sha256`).
    pub fn algorithm(&self) -> &str {
        &self.repr[..self.colon]
    }

    /// The encoded part, after the `:` (for sha256, the hash in hex).
    pub fn encoded(&self) -> &str {
        &self.repr[self.colon + 1..]
    }

    /// Whether this is a sha256 digest, the one algorithm every implementation must verify.
    pub fn is_sha256(&self) -> bool {
        self.algorithm() == "sha256"
    }

    /// The digest as written, `algorithm:encoded`.
    pub fn as_str(&self) -> &str {
        &self.repr
    }
}

const SHA256_PREFIX: &str = "sha256:";
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

impl FromStr for Digest {
    type Err = InvalidDigest;

    fn from_str(s: &str) -> Result<Digest, InvalidDigest> {
        let invalid = |reason| InvalidDigest {
            digest: s.to_owned(),
            reason,
        };
        let (algorithm, encoded) = s.split_once(':').ok_or_else(|| {
            invalid("there is no \":\" between the algorithm and the encoded part")
        })?;
        if algorithm.is_empty() {
            return Err(invalid("the algorithm before the \":\" is missing"));
        }
        if !is_algorithm(algorithm) {
            return Err(invalid(
                "the algorithm must be lowercase letters and digits, joined by single + . _ or -",
            ));
        }
        if encoded.is_empty() {
            return Err(invalid("the encoded part after the \":\" is missing"));
        }
        if !encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
        {
            return Err(invalid(
                "the encoded part may only hold letters, digits, =, _ and -",
            ));
        }
        let registered = match algorithm {
            "sha256" => Some((64, "sha256 needs 64 lowercase hex digits")),
            "sha512" => Some((128, "sha512 needs 128 lowercase hex digits")),
            "blake3" => Some((64, "blake3 needs 64 lowercase hex digits")),
            _ => None,
        };
        if let Some((len, reason)) = registered
            && !(encoded.len() == len && encoded.bytes().all(|b| HEX_DIGITS.contains(&b)))
        {
            return Err(invalid(reason));
        }
        Ok(Digest {
            repr: s.to_owned(),
            colon: algorithm.len(),
        })
    }
}

/// `algorithm-component (algorithm-separator algorithm-component)*`: components of
/// `[a-z0-9]+`, so a separator is never first, last, or next to another separator.
fn is_algorithm(algorithm: &str) -> bool {
    algorithm.split(['+', '.', '_', '-']).all(|component| {
        !component.is_empty()
            && component
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9'))
    })
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.repr)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        // A visitor rather than `String::deserialize` and then `parse`: an error raised while
        // the deserializer still holds the string gets the string's position in the input.
        struct DigestVisitor;

        impl de::Visitor<'_> for DigestVisitor {
            type Value = Digest;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a digest, algorithm:encoded")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Digest, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(DigestVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn sha256_of_empty_input_is_the_well_known_digest() {
        let digest = Digest::sha256_of(b"");
        assert_eq!(digest.to_string(), format!("sha256:{EMPTY_SHA256}"));
        assert_eq!(digest.algorithm(), "sha256");
        assert_eq!(digest.encoded(), EMPTY_SHA256);
        assert!(digest.is_sha256());
        assert_eq!(Digest::from_sha256_hex(EMPTY_SHA256), Ok(digest));
    }

    #[test]
    fn parses_what_it_prints() {
        let digest = Digest::sha256_of(b"{}");
        assert_eq!(digest.to_string().parse::<Digest>(), Ok(digest));
    }

    #[test]
    fn accepts_unregistered_algorithms_that_follow_the_grammar() {
        for text in [
            "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
            "sha256.foo-bar:c86f7763873b6c0aae22d963bab59b4f5debbed6685761b5951584f6efb0633b",
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
            "sha256+b64u.unknownlength:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564=",
        ] {
            let digest: Digest = text.parse().unwrap();
            assert!(!digest.is_sha256());
            assert_eq!(digest.as_str(), text);
        }
    }

    #[test]
    fn checks_registered_algorithms_strictly() {
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        assert!(sha512.parse::<Digest>().is_ok());
        for text in [
            format!("sha256:{}", EMPTY_SHA256.to_uppercase()),
            format!("sha256:{}", &EMPTY_SHA256[1..]),
            format!("sha512:{EMPTY_SHA256}"),
            format!("blake3:{EMPTY_SHA256}0"),
        ] {
            assert!(text.parse::<Digest>().is_err(), "{text}");
        }
        assert!(Digest::from_sha256_hex("abc").is_err());
    }

    #[test]
    fn rejects_what_the_grammar_does_not_allow() {
        for text in [
            "",
            "sha256",
            ":abc",
            "sha256:",
            "SHA256:abc",
            "sha256+foo+-b:abc",
            "+sha256:abc",
            "sha256-:abc",
            "foo:a/b",
            "foo:a b",
        ] {
            assert!(text.parse::<Digest>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn error_names_the_digest_and_the_problem() {
        let err = "sha256:ABC".parse::<Digest>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid digest "sha256:ABC": sha256 needs 64 lowercase hex digits"#
        );
    }

    #[test]
    fn serde_uses_the_string_form_and_validates() {
        let digest = Digest::sha256_of(b"x");
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"{digest}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest);
        let err = serde_json::from_str::<Digest>(r#""sha256:nope""#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"invalid digest "sha256:nope""#),
            "{err}"
        );
    }
}
