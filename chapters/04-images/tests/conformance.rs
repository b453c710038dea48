//! The OCI image spec's own validation cases, run through this crate's parsers.
//!
//! The corpus (`shared/conformance/oci-image-spec`, beside the workspace) holds every valid and
//! invalid document of upstream's schema tests and the examples of the spec's pages, listed in
//! `cases/INDEX.json`. Upstream's rule is ours: a case passes when `parse` fails exactly for the
//! cases marked `expect_fail`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ch04_images::digest::Digest;
use ch04_images::oci::{
    Descriptor, DocumentKind, ImageConfig, ImageIndex, InvalidDocument, Layout, Manifest,
    media_type,
};
use serde::Deserialize;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/oci-image-spec"
);

/// Upstream's backwards-compatibility test turns Docker's media types into OCI's before it
/// validates; our parsers take both, so we check both forms.
const DOCKER_TO_OCI: [(&str, &str); 4] = [
    (media_type::DOCKER_MANIFEST_LIST, media_type::IMAGE_INDEX),
    (media_type::DOCKER_MANIFEST, media_type::IMAGE_MANIFEST),
    (media_type::DOCKER_LAYER_GZIP, media_type::LAYER_TAR_GZIP),
    (media_type::DOCKER_CONFIG, media_type::IMAGE_CONFIG),
];

/// One entry of `cases/INDEX.json`.
#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    validator_mediatype: String,
    expect_fail: bool,
    expected_sha256_digest_of_file_bytes: Option<String>,
    preprocess: Option<String>,
}

impl Case {
    fn bytes(&self, corpus: &Path) -> Vec<u8> {
        let path = corpus.join(&self.file);
        std::fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
    }

    /// The file's path inside `cases/`, as the listings show it.
    fn name(&self) -> &str {
        self.file.strip_prefix("cases/").unwrap_or(&self.file)
    }
}

/// The corpus's cases, or `None` (after saying so) when the corpus is missing outside CI.
fn cases() -> Option<(PathBuf, Vec<Case>)> {
    let corpus = PathBuf::from(CORPUS);
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the OCI image-spec conformance corpus is missing: {CORPUS}"
        );
        println!("SKIPPED OCI image-spec conformance: no corpus at {CORPUS}");
        return None;
    }
    let index = std::fs::read(corpus.join("cases/INDEX.json")).expect("reading cases/INDEX.json");
    let cases: Vec<Case> = serde_json::from_slice(&index).expect("parsing cases/INDEX.json");
    assert!(!cases.is_empty(), "cases/INDEX.json lists no case");
    Some((corpus, cases))
}

/// The kind of document upstream's validator for `media_type` checks.
fn kind_of(validator_media_type: &str) -> DocumentKind {
    match validator_media_type {
        media_type::DESCRIPTOR => DocumentKind::Descriptor,
        media_type::IMAGE_MANIFEST => DocumentKind::Manifest,
        media_type::IMAGE_INDEX => DocumentKind::Index,
        media_type::IMAGE_CONFIG => DocumentKind::Config,
        media_type::LAYOUT_HEADER => DocumentKind::Layout,
        other => panic!("no parser for validator media type {other}"),
    }
}

/// Parses `bytes` as a `kind` document; when it is valid, also checks that what we write
/// parses back to the same value.
fn parse(kind: DocumentKind, bytes: &[u8]) -> Result<(), InvalidDocument> {
    fn round_trip<T: PartialEq + std::fmt::Debug>(
        bytes: &[u8],
        parse: fn(&[u8]) -> Result<T, InvalidDocument>,
        to_json: fn(&T) -> Vec<u8>,
    ) -> Result<(), InvalidDocument> {
        let document = parse(bytes)?;
        let written = to_json(&document);
        assert_eq!(
            parse(&written).as_ref(),
            Ok(&document),
            "{}",
            String::from_utf8_lossy(&written)
        );
        Ok(())
    }
    match kind {
        DocumentKind::Descriptor => round_trip(bytes, Descriptor::parse, Descriptor::to_json),
        DocumentKind::Manifest => round_trip(bytes, Manifest::parse, Manifest::to_json),
        DocumentKind::Index => round_trip(bytes, ImageIndex::parse, ImageIndex::to_json),
        DocumentKind::Config => round_trip(bytes, ImageConfig::parse, ImageConfig::to_json),
        DocumentKind::Layout => round_trip(bytes, Layout::parse, Layout::to_json),
    }
}

/// How `outcome` disagrees with `expect_fail`, if it does.
fn mismatch(
    name: &str,
    expect_fail: bool,
    outcome: &Result<(), InvalidDocument>,
) -> Option<String> {
    match (expect_fail, outcome) {
        (true, Ok(())) => Some(format!("{name}: expected invalid, but it parsed")),
        (false, Err(err)) => Some(format!("{name}: expected valid, got: {err}")),
        _ => None,
    }
}

#[test]
fn every_case_passes_or_fails_as_upstream_expects() {
    let Some((corpus, cases)) = cases() else {
        return;
    };
    let mut mismatches = Vec::new();
    for case in &cases {
        let bytes = case.bytes(&corpus);
        let kind = kind_of(&case.validator_mediatype);
        if let Some(expected) = &case.expected_sha256_digest_of_file_bytes {
            let actual = Digest::sha256_of(&bytes).to_string();
            if &actual != expected {
                mismatches.push(format!(
                    "{}: the file's digest is {actual}, expected {expected}",
                    case.name()
                ));
            }
        }
        if case.preprocess.is_some() {
            // Our parsers read Docker's documents as they are...
            mismatches.extend(mismatch(
                &format!("{} (as is)", case.name()),
                false,
                &parse(kind, &bytes),
            ));
            // ... and, as upstream checks them, with OCI's media types.
            let mut converted = String::from_utf8(bytes).expect("the Docker documents are UTF-8");
            for (docker, oci) in DOCKER_TO_OCI {
                converted = converted.replace(docker, oci);
            }
            let outcome = parse(kind, converted.as_bytes());
            mismatches.extend(mismatch(
                &format!("{} (OCI media types)", case.name()),
                case.expect_fail,
                &outcome,
            ));
        } else {
            mismatches.extend(mismatch(
                case.name(),
                case.expect_fail,
                &parse(kind, &bytes),
            ));
        }
    }
    let invalid = cases.iter().filter(|case| case.expect_fail).count();
    println!(
        "{} OCI image-spec cases ({} valid, {invalid} invalid), {} mismatches",
        cases.len(),
        cases.len() - invalid,
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} cases disagree with upstream:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn errors_are_one_line_and_name_the_document_kind() {
    let Some((corpus, cases)) = cases() else {
        return;
    };
    for case in cases.iter().filter(|case| case.expect_fail) {
        let kind = kind_of(&case.validator_mediatype);
        let Err(err) = parse(kind, &case.bytes(&corpus)) else {
            continue;
        };
        let message = err.to_string();
        assert_eq!(err.kind(), kind, "{}: {message}", case.name());
        assert!(
            !message.contains('\n'),
            "{}: the message has more than one line: {message}",
            case.name()
        );
        assert!(
            message.starts_with(&format!("invalid {kind}: ")),
            "{}: {message}",
            case.name()
        );
    }
}

#[test]
fn error_messages_of_the_invalid_cases() {
    let Some((corpus, cases)) = cases() else {
        return;
    };
    let mut listing = String::new();
    for case in cases.iter().filter(|case| case.expect_fail) {
        let outcome = parse(kind_of(&case.validator_mediatype), &case.bytes(&corpus));
        let message = outcome
            .err()
            .map_or_else(|| "(parsed)".to_owned(), |err| err.to_string());
        writeln!(listing, "{}: {message}", case.name()).unwrap();
    }
    insta::assert_snapshot!(listing);
}
