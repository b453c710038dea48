//! Every compose file of the shared corpus reads as YAML.
//!
//! The corpus (`shared/conformance/compose`, beside the workspace) holds the 175 YAML blocks of
//! the Compose Specification (fragments, many not valid compose on their own, two with the
//! `!reset`/`!override` tags a plain YAML loader refuses), compose-go's loader test files, and
//! compose-go's "full example" with every attribute. Here they only have to parse: what they
//! mean is for the later steps, except that eight spec blocks repeat a key in one mapping,
//! which Compose refuses. The counts are asserted so that no file is skipped unnoticed.

use std::path::{Path, PathBuf};

use ch06_compose::compose::yaml::{self, OVERRIDE_TAG, RESET_TAG};
use serde_json::Value;

/// The Compose corpus (see `dockyard_tests::conformance_corpus`).
fn corpus() -> Option<PathBuf> {
    dockyard_tests::conformance_corpus("compose")
}

/// The files under `dir` (recursively) whose names end in `.yaml` or `.yml`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Spec blocks that list alternative values of one attribute as one mapping (`image: redis`,
/// `image: redis:5`, ...): a mapping with a key twice, which go-yaml, and so Docker Compose,
/// refuses ("mapping key already defined"), and so do we.
const SPEC_DUPLICATE_KEYS: [&str; 8] = [
    "006.yaml", "007.yaml", "060.yaml", "062.yaml", "069.yaml", "082.yaml", "090.yaml", "095.yaml",
];

/// Parses every file but those in `duplicate_keys`, which must fail on a duplicate key;
/// returns the trees, and reports every unexpected result at once.
fn parse_all(files: &[PathBuf], duplicate_keys: &[&str]) -> Vec<Value> {
    let mut trees = Vec::new();
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        match (yaml::parse(&text, file), duplicate_keys.contains(&name)) {
            (Ok(tree), false) => trees.push(tree),
            (Err(err), true) if err.message.starts_with("duplicate mapping key") => {}
            (Ok(_), true) => failures.push(format!("{}: parsed", file.display())),
            (Err(err), _) => failures.push(err.to_string()),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    trees
}

/// Whether a tree holds a `!reset` or `!override` node anywhere.
fn has_merge_tag(tree: &Value) -> bool {
    match tree {
        Value::Object(map) => {
            (map.len() == 1 && (map.contains_key(RESET_TAG) || map.contains_key(OVERRIDE_TAG)))
                || map.values().any(has_merge_tag)
        }
        Value::Array(items) => items.iter().any(has_merge_tag),
        _ => false,
    }
}

#[test]
fn every_spec_example_parses() {
    let Some(corpus) = corpus() else { return };
    let files = yaml_files(&corpus.join("compose-spec/spec-examples"));
    assert_eq!(files.len(), 175, "the spec's YAML blocks");
    let trees = parse_all(&files, &SPEC_DUPLICATE_KEYS);
    assert_eq!(trees.len(), 175 - SPEC_DUPLICATE_KEYS.len());
    // The two examples PyYAML refused: the tags are in the tree for the merge step.
    assert_eq!(trees.iter().filter(|t| has_merge_tag(t)).count(), 2);
}

#[test]
fn every_compose_go_loader_file_parses() {
    // None of them is broken YAML: the cycles (`*-cycle.yaml`, `depends-on-self`) and the
    // remote includes fail later, when includes, extends and dependencies are followed.
    let Some(corpus) = corpus() else { return };
    let files = yaml_files(&corpus.join("compose-go/loader/testdata"));
    assert_eq!(files.len(), 33, "compose-go's loader test files");
    let trees = parse_all(&files, &[]);
    assert_eq!(trees.len(), 33);
    assert_eq!(
        trees.iter().filter(|t| has_merge_tag(t)).count(),
        1,
        "extends/reset.yaml"
    );
}

#[test]
fn the_full_example_parses() {
    let Some(corpus) = corpus() else { return };
    let file = corpus.join("compose-go-full-example/loader/full-example.yml");
    let tree = &parse_all(std::slice::from_ref(&file), &[])[0];
    let services = tree["services"].as_object().expect("services");
    assert!(services.contains_key("foo"), "{:?}", services.keys());
    assert!(
        tree.as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("x-")),
        "x- extension fields stay"
    );
}
